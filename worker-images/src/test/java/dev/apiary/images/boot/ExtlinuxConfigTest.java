package dev.apiary.images.boot;

import static dev.apiary.images.boot.TestImages.MiB;
import static dev.apiary.images.boot.TestImages.random;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.apiary.images.boot.TestImages.Part;
import dev.apiary.lun.Volume;
import dev.apiary.lun.file.FileVolume;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which entry a configuration boots, where it may be, and when there is nothing to boot (empty). */
class ExtlinuxConfigTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void e2fsprogs() {
        assumeTrue(TestImages.tool("mkfs.ext4").isPresent(), "mkfs.ext4 (e2fsprogs) is not installed");
    }

    /** A whole-disk ext4 holding {@code files} (path to content) and kernels k1, k2 and initrds i1, i2 at the root. */
    private Optional<BootEntry> boot(Map<String, String> files) throws IOException {
        Path root = Files.createDirectories(dir.resolve("root"));
        for (String name : new String[] {"k1", "k2", "i1", "i2", "boot/vmlinuz", "boot/initrd.img"}) {
            Files.createDirectories(root.resolve(name).getParent());
            Files.writeString(root.resolve(name), name);
        }
        for (Map.Entry<String, String> f : files.entrySet()) {
            Files.createDirectories(root.resolve(f.getKey()).getParent());
            Files.writeString(root.resolve(f.getKey()), f.getValue());
        }
        Path fs = TestImages.mkfs("mkfs.ext4", root, dir.resolve("fs.img"), "8M");
        try (Volume v = FileVolume.open(fs, true)) {
            return BootEntry.read(v);
        }
    }

    private Optional<BootEntry> boot(String configPath, String config) throws IOException {
        return boot(Map.of(configPath, config));
    }

    @Test
    void keywordsAnyCaseCommentsAndTheDefaultLabel() throws IOException {
        BootEntry e = boot("boot/extlinux/extlinux.conf", """
                # a comment
                default second
                Append quiet global=1
                label first
                  kernel /k1
                  initrd /i1
                \tLABEL second
                \t  LiNuX /k2   ignored words
                \t  INITRD /i2
                """).orElseThrow();
        assertThat(e.kernel().path()).isEqualTo("/k2");
        assertThat(e.initrd().path()).isEqualTo("/i2");
        assertThat(e.append()).as("the global APPEND serves labels without one").isEqualTo("quiet global=1");
    }

    @Test
    void theFirstLabelWithoutDefault() throws IOException {
        BootEntry e = boot("extlinux.conf", "LABEL a\nLINUX /k1\nINITRD /i1\nAPPEND  x=1  \nLABEL b\nLINUX /k2\nINITRD /i2\n").orElseThrow();
        assertThat(e.kernel().path()).isEqualTo("/k1");
        assertThat(e.append()).isEqualTo("x=1");
    }

    @Test
    void initrdFromAppendWhenThereIsNoInitrdLine() throws IOException {
        BootEntry e = boot("boot/extlinux.conf", "LABEL a\nKERNEL vmlinuz\nAPPEND root=/dev/sda2 initrd=initrd.img quiet\n").orElseThrow();
        assertThat(e.kernel().path()).as("relative to the configuration's directory").isEqualTo("/boot/vmlinuz");
        assertThat(e.initrd().path()).isEqualTo("/boot/initrd.img");
        assertThat(e.append()).isEqualTo("root=/dev/sda2 quiet");
    }

    @Test
    void syslinuxConfigWithPathsRelativeToIt() throws IOException {
        BootEntry e = boot("boot/syslinux/syslinux.cfg", "LABEL a\nLINUX ../vmlinuz\nINITRD ../../i2\nAPPEND -\n").orElseThrow();
        assertThat(e.kernel().path()).isEqualTo("/boot/syslinux/../vmlinuz");
        assertThat(e.kernel().size()).isEqualTo("boot/vmlinuz".length());
        assertThat(e.initrd().size()).isEqualTo("i2".length());
        assertThat(e.append()).isEmpty();
    }

    @Test
    void theFirstConfigurationFoundWins() throws IOException {
        BootEntry e = boot(Map.of(
                "extlinux.conf", "LABEL a\nLINUX /k1\nINITRD /i1\n",
                "boot/extlinux/extlinux.conf", "LABEL b\nLINUX /k2\nINITRD /i2\n")).orElseThrow();
        assertThat(e.kernel().path()).isEqualTo("/k2");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "LABEL a\nLINUX /k1\nAPPEND quiet\n", // no initrd: fall back
        "LABEL a\nINITRD /i1\n", // no kernel
        "DEFAULT menu.c32\nLABEL a\nLINUX /k1\nINITRD /i1\n", // DEFAULT is a command line, not a label
        "LABEL a\nKERNEL menu.c32\nINITRD /i1\n", // a COM32 module, not Linux
        "LABEL a\nLINUX /k1\nINITRD /i1,/i2\n", // two initrds
        "LABEL a\nLOCALBOOT 0\n",
        "# nothing but a comment\n",
    })
    void nothingToServeIsEmpty(String config) throws IOException {
        assertThat(boot("boot/extlinux/extlinux.conf", config)).isEmpty();
    }

    @Test
    void noConfigurationIsEmpty() throws IOException {
        assertThat(boot(Map.of("boot/grub/grub.cfg", "menuentry x {}\n"))).isEmpty();
    }

    @Test
    void aDiskWithoutAnExtFilesystemIsEmpty() throws IOException {
        Path noise = Files.write(dir.resolve("noise.img"), random(42, 8 * MiB));
        try (Volume v = FileVolume.open(noise, true)) {
            assertThat(BootEntry.read(v)).isEmpty();
        }
        Path p1 = Files.write(dir.resolve("p1"), random(43, MiB));
        Path p2 = Files.write(dir.resolve("p2"), new byte[2 * MiB]);
        Path disk = TestImages.mbrDisk(dir.resolve("disk.img"), new Part(0xEF, true, p1), new Part(0x83, false, p2));
        try (Volume v = FileVolume.open(disk, true)) {
            assertThat(BootEntry.read(v)).isEmpty();
        }
        Path tiny = Files.write(dir.resolve("tiny.img"), new byte[100]);
        try (Volume v = FileVolume.open(tiny, true)) {
            assertThat(BootEntry.read(v)).isEmpty();
        }
    }

    @Test
    void aKernelTheConfigurationNamesButTheDiskLacksIsAnError() throws IOException {
        assertThatThrownBy(() -> boot("extlinux.conf", "LABEL a\nLINUX /nope\nINITRD /i1\n"))
                .isExactlyInstanceOf(BootImageException.class)
                .hasMessageContaining("/extlinux.conf: kernel /nope does not exist");
    }
}
