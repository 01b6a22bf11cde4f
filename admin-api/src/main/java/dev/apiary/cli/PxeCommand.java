package dev.apiary.cli;

import dev.apiary.pxe.PxeServer;
import dev.apiary.pxe.WakeOnLan;
import dev.apiary.server.ConfigFile;
import dev.apiary.server.PxeSettings;
import io.vertx.core.Vertx;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code apiary pxe}: the network boot services on their own, without the fleet. */
@Command(name = "pxe", mixinStandardHelpOptions = true,
        description = "Network boot: DHCP (proxy or full), TFTP and HTTP boot scripts; Wake-on-LAN.",
        subcommands = {PxeCommand.Serve.class, PxeCommand.Wake.class})
public final class PxeCommand extends CommandGroup {

    @Command(name = "serve", mixinStandardHelpOptions = true,
            description = "Run DHCP, TFTP and HTTP for one boot network from the pxe: section of a YAML file"
                    + " (docs/boot.md): what each machine boots comes from its machines: mapping or scripts directory.")
    static final class Serve implements Callable<Integer> {
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Option(names = "--config", paramLabel = "FILE", required = true, description = "The YAML configuration file.")
        Path config;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            PxeSettings settings;
            try {
                settings = PxeSettings.from(ConfigFile.load(config, Set.of("pxe")).section("pxe"));
            } catch (ConfigFile.ConfigException | java.io.IOException e) {
                err.println("apiary pxe serve: " + e.getMessage());
                return 2;
            }
            Vertx vertx = Vertx.vertx();
            PxeServer server = new PxeServer(settings.server(), settings.machines(), vertx);
            try {
                server.start();
            } catch (Exception e) {
                err.println("apiary pxe serve: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
                vertx.close().await();
                return 2;
            }
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                server.close();
                vertx.close().await();
                stopped.countDown();
            }, "apiary-pxe-stop"));
            out.println("ready dhcp=" + settings.server().dhcp().name().toLowerCase(java.util.Locale.ROOT)
                    + " tftp=" + server.tftpAddress().getAddress().getHostAddress() + ":"
                    + server.tftpAddress().getPort() + " http=" + server.httpBase());
            out.flush();
            stopped.await();
            return 0;
        }
    }

    @Command(name = "wake", mixinStandardHelpOptions = true,
            description = "Send a Wake-on-LAN magic packet for MAC to a broadcast address of its network.")
    static final class Wake implements Callable<Integer> {
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Option(names = "--broadcast", paramLabel = "ADDRESS", required = true,
                description = "Where the packet goes, e.g. the workers' LAN broadcast 192.168.1.255.")
        String broadcast;

        @Option(names = "--port", paramLabel = "PORT", defaultValue = "9", description = "UDP port (default ${DEFAULT-VALUE}).")
        int port;

        @Parameters(paramLabel = "MAC", description = "The worker's MAC address.")
        String mac;

        @Override
        public Integer call() {
            try {
                if (!broadcast.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
                    throw new IllegalArgumentException("--broadcast wants an IPv4 address, got '" + broadcast + "'");
                }
                WakeOnLan.wake(mac, new InetSocketAddress(InetAddress.getByName(broadcast), port));
            } catch (IllegalArgumentException | java.io.IOException e) {
                spec.commandLine().getErr().println("apiary pxe wake: " + e.getMessage());
                return 2;
            }
            spec.commandLine().getOut().println("sent a magic packet for " + mac + " to " + broadcast + ":" + port);
            return 0;
        }
    }
}
