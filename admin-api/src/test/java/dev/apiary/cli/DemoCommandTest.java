package dev.apiary.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code apiary demo}: what is refused before anything starts, and the VM's command line. */
class DemoCommandTest {
    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {}

    /** Runs the CLI with {@code apiary demo} believing it is (not) root. */
    Run run(boolean root, String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                K k = CommandLine.defaultFactory().create(cls);
                if (k instanceof DemoCommand d) {
                    d.root = () -> root;
                }
                return k;
            }
        };
        CommandLine cl = new CommandLine(new Main(), factory).setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void withoutAnImageANonRootUserIsToldHowToBuildOne() {
        Run r = run(false, "demo", "--workdir", dir.resolve("w").toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("apiary demo: no --image, and building one needs root")
                .contains("sudo worker-images/recipes/build-worker-image.sh --out worker.img --version demo-1")
                .contains("./apiary demo --image worker.img");
        assertThat(dir.resolve("w")).doesNotExist(); // nothing was started or made
    }

    @Test
    void aMissingImageOrABadTimeoutIsRefusedBeforeAnythingStarts() throws Exception {
        Run r = run(true, "demo", "--image", dir.resolve("none.img").toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("apiary demo: no readable image at " + dir.resolve("none.img"));

        Path img = Files.createFile(dir.resolve("worker.img"));
        r = run(false, "demo", "--image", img.toString(), "--timeout", "0");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--timeout must be a positive number of seconds");
    }

    @Test
    void uefiAndBiosTogetherAreRefused() {
        Run r = run(false, "demo", "--uefi", "--bios");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("mutually exclusive");
    }

    @Test
    void theVmHasOnlyUserModeNetworkingAndItsOwnFirmwareFiles() {
        List<String> uefi = DemoVm.command(dir, true, DemoCommand.MAC);
        assertThat(uefi).containsSequence("-accel", "tcg").containsSequence("-machine", "q35")
                .contains("if=pflash,format=raw,readonly=on,file=" + DemoVm.OVMF_CODE,
                        "if=pflash,format=raw,file=" + dir.resolve("vars.fd"))
                .contains("-no-reboot");
        List<String> bios = DemoVm.command(dir, false, DemoCommand.MAC);
        assertThat(bios).doesNotContain("q35").contains("name=etc/sercon-port,file=" + dir.resolve("sercon-port"));
        for (List<String> cmd : List.of(uefi, bios)) {
            assertThat(cmd.stream().filter(a -> a.contains("netdev") || a.startsWith("user,") || a.startsWith("tap")))
                    .containsExactly("-netdev", "user,id=n0,ipv4=on,ipv6=on,tftp=" + dir.resolve("tftp") + ",bootfile=boot.ipxe",
                            "virtio-net-pci,netdev=n0,mac=52:54:00:de:00:01,bootindex=1");
        }
    }
}
