package dev.apiary.pxe.dhcp;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@link FullDhcpService} on port 67 in a child JVM that {@link NetnsUdhcpcTest} starts inside
 * a network namespace (a JVM cannot enter one), or {@link ProxyDhcpService} on 67 and 4011 when
 * the fourth argument is "proxy". Args: interface, server address, lease file [, mode].
 * Prints READY, then serves until stdin closes or 60 s pass.
 */
public final class NetnsServerMain {
    public static void main(String[] args) throws Exception {
        FullDhcpService.Config c = FullDhcpService.Config.standard(args[0], DhcpMessage.ip(args[1]),
                DhcpMessage.ip("255.255.255.0"), DhcpMessage.ip("10.99.0.50"), DhcpMessage.ip("10.99.0.59"),
                Path.of(args[2]), BootFiles.defaults("http://" + args[1] + ":8080"));
        boolean proxy = args.length > 3 && args[3].equals("proxy");
        try (AutoCloseable s = proxy
                ? new ProxyDhcpService(ProxyDhcpService.Config.standard(DhcpMessage.ip(args[1]), c.bootFiles()),
                        m -> Optional.of("#!ipxe\n")).start()
                : new FullDhcpService(c, m -> Optional.of("#!ipxe\n")).start()) {
            System.out.println("READY");
            System.out.flush();
            Thread t = new Thread(() -> {
                try {
                    while (System.in.read() >= 0) {
                        // wait for EOF
                    }
                } catch (java.io.IOException ignored) {
                    // parent gone
                }
            });
            t.setDaemon(true);
            t.start();
            t.join(TimeUnit.SECONDS.toMillis(60));
        }
        System.exit(0);
    }
}
