package dev.apiary.pxe.dhcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * busybox udhcpc against {@link FullDhcpService} over a veth pair between two network namespaces
 * this test creates and removes; nothing touches the host's interfaces. Skips itself unless run as
 * root with {@code ip netns} and busybox available.
 */
class NetnsUdhcpcTest {
    static final String SUFFIX = Long.toHexString(ProcessHandle.current().pid());
    static final String SRV = "apiary-dhcp-s-" + SUFFIX, CLI = "apiary-dhcp-c-" + SUFFIX;
    static final String CLIENT_MAC = "52:54:00:99:00:01";

    @TempDir
    Path dir;
    Process server;

    static int run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }

    @BeforeEach
    void netns() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/busybox")) || Files.isExecutable(Path.of("/bin/busybox")),
                "needs busybox");
        assumeTrue(run("ip", "netns", "add", SRV) == 0, "ip netns add failed");
        assumeTrue(run("ip", "netns", "add", CLI) == 0, "ip netns add failed");
        String[][] setup = {
            {"ip", "link", "add", "vs", "netns", SRV, "type", "veth", "peer", "name", "vc", "netns", CLI},
            {"ip", "-n", SRV, "addr", "add", "10.99.0.1/24", "dev", "vs"},
            {"ip", "-n", SRV, "link", "set", "vs", "up"},
            {"ip", "-n", SRV, "link", "set", "lo", "up"},
            {"ip", "-n", CLI, "link", "set", "vc", "address", CLIENT_MAC},
            {"ip", "-n", CLI, "link", "set", "vc", "up"},
            {"ip", "-n", CLI, "link", "set", "lo", "up"},
        };
        for (String[] cmd : setup) {
            assumeTrue(run(cmd) == 0, "setup failed: " + String.join(" ", cmd));
        }
    }

    @AfterEach
    void cleanup() throws Exception {
        if (server != null) {
            server.getOutputStream().close();
            if (!server.waitFor(10, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
        run("ip", "netns", "del", SRV); // removes the veth pair too
        run("ip", "netns", "del", CLI);
    }

    Path startServer(String mode) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Path serverLog = dir.resolve("server.log");
        server = new ProcessBuilder("ip", "netns", "exec", SRV, java, "-cp", System.getProperty("java.class.path"),
                NetnsServerMain.class.getName(), "vs", "10.99.0.1", dir.resolve("leases.txt").toString(), mode)
                .redirectErrorStream(true).redirectOutput(serverLog.toFile()).start();
        for (int i = 0; i < 200 && !Files.readString(serverLog).contains("READY"); i++) {
            Thread.sleep(100);
        }
        assertThat(Files.readString(serverLog)).contains("READY");
        return serverLog;
    }

    @Test
    void aPxeClientGetsAProxyOfferByBroadcastAndAnAckOn4011() throws Exception {
        // The client already has an address from "another" DHCP server, as proxyDHCP assumes.
        assertThat(run("ip", "-n", CLI, "addr", "add", "10.99.0.77/24", "dev", "vc")).isZero();
        assertThat(run("ip", "-n", CLI, "route", "add", "255.255.255.255/32", "dev", "vc")).isZero();
        Path serverLog = startServer("proxy");
        String java = ProcessHandle.current().info().command().orElse("java");
        Path clientLog = dir.resolve("client.log");
        Process c = new ProcessBuilder("ip", "netns", "exec", CLI, java, "-cp", System.getProperty("java.class.path"),
                NetnsPxeClientMain.class.getName(), "10.99.0.1")
                .redirectErrorStream(true).redirectOutput(clientLog.toFile()).start();
        if (!c.waitFor(30, TimeUnit.SECONDS)) {
            c.destroyForcibly();
        }
        String out = Files.readString(clientLog);
        assertThat(c.exitValue()).as("client: %s\nserver: %s", out, Files.readString(serverLog)).isZero();
        assertThat(out).contains("OFFER from=10.99.0.1 yiaddr=0.0.0.0 siaddr=10.99.0.1 file=snponly.efi type=2",
                "ACK file=snponly.efi type=5");
    }

    @Test
    void udhcpcGetsAnAddressAndTheBiosBootFileTwice() throws Exception {
        Path leases = dir.resolve("leases.txt");
        Path serverLog = startServer("full");
        Path events = dir.resolve("events.txt");
        Path script = dir.resolve("udhcpc.sh");
        Files.writeString(script, "#!/bin/sh\necho \"$1 ip=$ip mask=$subnet siaddr=$siaddr boot_file=$boot_file"
                + " serverid=$serverid\" >> " + events + "\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        for (int i = 0; i < 2; i++) {
            Process c = new ProcessBuilder("ip", "netns", "exec", CLI, "busybox", "udhcpc", "-f", "-q", "-n",
                    "-i", "vc", "-t", "3", "-T", "1", "-s", script.toString(),
                    "-V", "PXEClient:Arch:00000:UNDI:002001", "-x", "0x5d:0000")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("udhcpc" + i + ".log").toFile()).start();
            boolean done = c.waitFor(20, TimeUnit.SECONDS);
            if (!done) {
                c.destroyForcibly();
            }
            assertThat(c.exitValue()).as("udhcpc: %s\nserver: %s", Files.readString(dir.resolve("udhcpc" + i + ".log")),
                    Files.readString(serverLog))
                    .isZero();
        }
        List<String> bound = Files.readAllLines(events).stream().filter(l -> l.startsWith("bound")).toList();
        assertThat(bound).hasSize(2).allSatisfy(l -> assertThat(l)
                .contains("ip=10.99.0.50", "mask=255.255.255.0", "siaddr=10.99.0.1", "boot_file=undionly.kpxe",
                        "serverid=10.99.0.1"));
        assertThat(Files.readString(leases)).contains(CLIENT_MAC + " 10.99.0.50 ");
    }
}
