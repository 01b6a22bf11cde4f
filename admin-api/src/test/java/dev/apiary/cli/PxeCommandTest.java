package dev.apiary.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code apiary pxe}: what a user sees when something is wrong, and Wake-on-LAN on loopback. */
class PxeCommandTest {
    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {}

    Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = new CommandLine(new Main()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void serveSaysWhichBootFileIsMissing() throws Exception {
        Files.createDirectories(dir.resolve("scripts"));
        Path config = dir.resolve("pxe.yaml");
        Files.writeString(config, "pxe:\n  dhcp: off\n  address: 127.0.0.1\n  http-port: 0\n  tftp-port: 0\n"
                + "  ipxe-dir: no-ipxe-here\n  files: .\n  scripts: scripts\n");
        Run r = run("pxe", "serve", "--config", config.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("apiary pxe serve: boot file " + dir.resolve("no-ipxe-here/snponly.efi"))
                .contains("apt-get install ipxe");
    }

    @Test
    void serveRefusesABadConfigFile() throws Exception {
        Path config = dir.resolve("pxe.yaml");
        Files.writeString(config, "pxe:\n  address: 127.0.0.1\n  scripts: scripts\n  dhcp: sometimes\n");
        Run r = run("pxe", "serve", "--config", config.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("pxe.dhcp: expected proxy, full or off");

        Files.writeString(config, "pxe:\n  address: 127.0.0.1\n  scripts: scripts\n");
        r = run("pxe", "serve", "--config", config.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("pxe.scripts: " + dir.resolve("scripts") + " is not a directory");
        assertThat(r.out()).doesNotContain("ready");

        r = run("pxe", "serve", "--config", dir.resolve("missing.yaml").toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("missing.yaml");
    }

    @Test
    void wakeSendsTheMagicPacket() throws Exception {
        try (DatagramSocket listener = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            listener.setSoTimeout(5000);
            Run r = run("pxe", "wake", "--broadcast", "127.0.0.1", "--port", String.valueOf(listener.getLocalPort()),
                    "52:54:00:12:34:56");
            assertThat(r.exit()).as(r.err()).isZero();
            DatagramPacket p = new DatagramPacket(new byte[200], 200);
            listener.receive(p);
            assertThat(p.getLength()).isEqualTo(102);
            assertThat(p.getData()[6]).isEqualTo((byte) 0x52);
            assertThat(p.getData()[101]).isEqualTo((byte) 0x56);
        }
        assertThat(run("pxe", "wake", "--broadcast", "127.0.0.1", "not-a-mac").err()).contains("not a MAC address");
        assertThat(run("pxe", "wake", "--broadcast", "everyone", "52:54:00:12:34:56").err())
                .contains("--broadcast wants an IPv4 address");
    }
}
