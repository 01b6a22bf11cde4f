package dev.apiary.images.boot;

import static dev.apiary.images.boot.TestImages.MiB;
import static dev.apiary.images.boot.TestImages.assertContent;
import static dev.apiary.images.boot.TestImages.debugfs;
import static dev.apiary.images.boot.TestImages.debugfsWrite;
import static dev.apiary.images.boot.TestImages.random;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import dev.apiary.images.boot.TestImages.Part;
import dev.apiary.lun.Volume;
import dev.apiary.lun.file.FileVolume;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Real filesystems made by e2fsprogs, in real partition layouts, read back byte for byte. */
class BootEntryTest {
    static final String KERNEL = "vmlinuz-6.1.0-1-amd64";
    static final String INITRD = "initrd.img-6.1.0-1-amd64";
    static final String APPEND = "root=UUID=0b0e5c7a-3d2f-4a61-9f0e-6a7c2d1b9e44 ro console=ttyS0,115200n8";
    /** worker-images/recipes/files/boot/extlinux.conf.in, its command line filled in. */
    static final String CONFIG = """
            SERIAL 0 115200
            DEFAULT apiary
            PROMPT 0
            TIMEOUT 0
            LABEL apiary
              LINUX /vmlinuz
              INITRD /initrd.img
              APPEND %s
            """.formatted(APPEND);

    @TempDir
    Path dir;
    Path hostKernel;
    Path hostInitrd;

    @BeforeAll
    static void e2fsprogs() {
        assumeTrue(TestImages.tool("mkfs.ext4").isPresent(), "mkfs.ext4 (e2fsprogs) is not installed");
    }

    /**
     * The worker image's tree: the configuration, the initrd under /boot, Debian's relative symlinks
     * /vmlinuz and /initrd.img, and 300 small filler files. The kernel itself is written later.
     */
    private Path workerTree() throws IOException {
        Path root = dir.resolve("root");
        Files.createDirectories(root.resolve("boot/extlinux"));
        Files.writeString(root.resolve("boot/extlinux/extlinux.conf"), CONFIG);
        hostKernel = Files.write(dir.resolve("kernel"), random(1, 3 * MiB + 12345));
        hostInitrd = Files.write(root.resolve("boot/" + INITRD), random(2, 9 * MiB + 777));
        Files.createSymbolicLink(root.resolve("vmlinuz"), Path.of("boot/" + KERNEL));
        Files.createSymbolicLink(root.resolve("initrd.img"), Path.of("boot/" + INITRD));
        Files.createDirectories(root.resolve("filler"));
        for (int i = 0; i < 300; i++) {
            Files.write(root.resolve("filler/" + i), random(100 + i, 8192));
        }
        return root;
    }

    /**
     * The worker's root filesystem, fragmented on purpose: every other filler file is deleted and
     * the kernel written afterwards (debugfs), so it fills the gaps and needs a deep map: an extent
     * tree of depth 1 on ext4, indirect blocks on ext2/3.
     */
    private Path workerFs(String mkfs, String... options) throws IOException {
        Path fs = TestImages.mkfs(mkfs, workerTree(), dir.resolve("fs.img"), "64M", options);
        List<String> requests = new ArrayList<>();
        for (int i = 0; i < 300; i += 2) {
            requests.add("rm /filler/" + i);
        }
        requests.add("cd /boot");
        requests.add("write " + hostKernel + " " + KERNEL);
        debugfsWrite(fs, requests.toArray(String[]::new));
        return fs;
    }

    static Stream<Arguments> flavors() {
        return Stream.of(
                arguments("ext4 as the worker image recipe makes it", "mkfs.ext4", "-b 4096 -O ^64bit,^metadata_csum", "has_journal extent"),
                arguments("ext4 defaults: 64bit, metadata_csum, flex_bg", "mkfs.ext4", "-b 4096", "extent 64bit flex_bg"),
                arguments("ext4 with 1 KiB blocks", "mkfs.ext4", "-b 1024", "extent"),
                arguments("ext3 with 1 KiB blocks", "mkfs.ext3", "-b 1024", "has_journal"),
                arguments("ext2", "mkfs.ext2", "-b 4096", "filetype"),
                arguments("ext2 with 1 KiB blocks", "mkfs.ext2", "-b 1024", "filetype"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("flavors")
    void readsTheWorkerImageLayout(String flavor, String mkfs, String options, String features) throws IOException {
        Path fs = workerFs(mkfs, options.split(" "));
        assertThat(debugfs(fs, "stats")).contains(features.split(" "));
        if (mkfs.equals("mkfs.ext4")) {
            assertThat(debugfs(fs, "ex /boot/" + KERNEL)).as("a depth-1 extent tree").contains(" 1/ 1 ");
        } else {
            assertThat(debugfs(fs, "stat /boot/" + KERNEL)).contains(options.contains("1024") ? "(DIND)" : "(IND)");
        }
        // p1: the ESP (not ext), p2: the ext root, active, as build-worker-image.sh lays them out.
        Path esp = Files.write(dir.resolve("esp"), random(3, MiB));
        Path disk = TestImages.mbrDisk(dir.resolve("disk.img"), new Part(0xEF, false, esp), new Part(0x83, true, fs));
        try (Volume v = FileVolume.open(disk, true)) {
            BootEntry e = BootEntry.read(v).orElseThrow();
            assertThat(e.append()).isEqualTo(APPEND);
            assertThat(e.kernel().path()).isEqualTo("/vmlinuz");
            assertThat(e.initrd().path()).isEqualTo("/initrd.img");
            assertContent(e.kernel(), hostKernel);
            assertContent(e.initrd(), hostInitrd);
        }
    }

    @Test
    void readsAGptDisk() throws IOException {
        Path disk = TestImages.gptDisk(dir.resolve("disk.img"), workerFs("mkfs.ext4", "-b", "4096"));
        try (Volume v = FileVolume.open(disk, true)) {
            BootEntry e = BootEntry.read(v).orElseThrow();
            assertThat(e.append()).isEqualTo(APPEND);
            assertContent(e.kernel(), hostKernel);
            assertContent(e.initrd(), hostInitrd);
        }
    }

    @Test
    void readsAWholeDiskFilesystemWithoutPartitionTable() throws IOException {
        Path disk = TestImages.wholeDisk(dir.resolve("disk.img"), workerFs("mkfs.ext2", "-b", "1024"));
        try (Volume v = FileVolume.open(disk, true)) {
            BootEntry e = BootEntry.read(v).orElseThrow();
            assertContent(e.kernel(), hostKernel);
            assertContent(e.initrd(), hostInitrd);
        }
    }

    @Test
    void streamsEachContiguousStretchInOneDiskRead() throws IOException {
        Path fs = workerFs("mkfs.ext4", "-b", "4096", "-O", "^64bit,^metadata_csum");
        long kernelExtents = debugfs(fs, "ex /boot/" + KERNEL).lines().filter(l -> l.startsWith(" 1/ 1")).count();
        try (ReadCountingVolume v = new ReadCountingVolume(FileVolume.open(TestImages.wholeDisk(dir.resolve("disk.img"), fs), true))) {
            BootEntry e = BootEntry.read(v).orElseThrow();
            v.reads.set(0);
            e.initrd().read(0, ByteBuffer.allocate((int) e.initrd().size()));
            assertThat(v.reads).as("reads for the initrd, written in one piece by mkfs").hasValue(1);
            v.reads.set(0);
            e.kernel().read(0, ByteBuffer.allocate((int) e.kernel().size()));
            assertThat(v.reads.get()).as("reads for the kernel's %d extents", kernelExtents)
                    .isPositive().isLessThanOrEqualTo((int) kernelExtents);
        }
    }

    static Stream<Arguments> sparseFlavors() {
        return Stream.of(
                arguments("ext2 with 1 KiB blocks: triple indirect", "mkfs.ext2", "-b 1024", "(TIND)"),
                arguments("ext4: extents with gaps", "mkfs.ext4", "-b 4096", "EXTENTS"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sparseFlavors")
    void readsHolesAsZeros(String flavor, String mkfs, String options, String mapping) throws IOException {
        Path root = Files.createDirectories(dir.resolve("root/boot/extlinux")).getParent().getParent();
        Files.writeString(root.resolve("boot/extlinux/extlinux.conf"), "LABEL l\nLINUX /boot/vmlinuz\nINITRD /boot/initrd\n");
        Path kernel = Files.write(root.resolve("boot/vmlinuz"), random(5, 100_000));
        long size = 70L * MiB + 4321;
        Path initrd = TestImages.sparse(root.resolve("boot/initrd"), size, 6, 0, 200_000, 5 * MiB + 3, 66 * MiB, size - 5000);
        Path fs = TestImages.mkfs(mkfs, root, dir.resolve("fs.img"), "32M", options.split(" "));
        assertThat(debugfs(fs, "stat /boot/initrd")).contains(mapping);
        try (Volume v = FileVolume.open(TestImages.wholeDisk(dir.resolve("disk.img"), fs), true)) {
            BootEntry e = BootEntry.read(v).orElseThrow();
            assertThat(e.append()).isEmpty();
            assertContent(e.kernel(), kernel);
            assertContent(e.initrd(), initrd);
        }
    }

    @Test
    void readsUnwrittenExtentsAsZerosWhateverTheBlocksHold() throws IOException {
        Path root = Files.createDirectories(dir.resolve("root/boot/extlinux")).getParent().getParent();
        Files.writeString(root.resolve("boot/extlinux/extlinux.conf"), "LABEL l\nLINUX /boot/vmlinuz\nINITRD /boot/initrd\n");
        Path kernel = Files.write(root.resolve("boot/vmlinuz"), random(7, 50_000));
        Path initrd = TestImages.sparse(root.resolve("boot/initrd"), MiB + 5000, 8, MiB);
        Path fs = TestImages.mkfs("mkfs.ext4", root, dir.resolve("fs.img"), "32M", "-b", "4096");
        debugfsWrite(fs, "fallocate /boot/initrd 0 255");
        Matcher m = Pattern.compile("0 - +255 +(\\d+) - +(\\d+) +256 Uninit").matcher(debugfs(fs, "ex /boot/initrd"));
        assertThat(m.find()).as("an unwritten extent for blocks 0..255").isTrue();
        byte[] ones = new byte[256 * 4096];
        Arrays.fill(ones, (byte) 0xFF);
        try (FileChannel c = FileChannel.open(fs, StandardOpenOption.WRITE)) {
            c.write(ByteBuffer.wrap(ones), Long.parseLong(m.group(1)) * 4096);
        }
        try (Volume v = FileVolume.open(fs, true)) {
            BootEntry e = BootEntry.read(v).orElseThrow();
            assertContent(e.kernel(), kernel);
            assertContent(e.initrd(), initrd);
        }
    }

    @Test
    void readsHashedDirectoriesLinearly() throws IOException {
        Path root = Files.createDirectories(dir.resolve("root/boot/extlinux")).getParent().getParent();
        for (int i = 0; i < 3000; i++) {
            Files.writeString(root.resolve("boot/extlinux/a-file-with-a-fairly-long-name-" + i), "x");
        }
        Files.writeString(root.resolve("boot/extlinux/extlinux.conf"), "DEFAULT l\nLABEL l\nLINUX vmlinuz\nINITRD initrd\n");
        Path kernel = Files.write(root.resolve("boot/extlinux/vmlinuz"), random(9, 70_000));
        Path initrd = Files.write(root.resolve("boot/extlinux/initrd"), random(10, 30_000));
        Path fs = TestImages.mkfs("mkfs.ext4", root, dir.resolve("fs.img"), "64M", "-b", "4096");
        TestImages.e2fsckOptimizeDirectories(fs);
        assertThat(debugfs(fs, "htree /boot/extlinux")).contains("Root node dump");
        try (Volume v = FileVolume.open(fs, true)) {
            BootEntry e = BootEntry.read(v).orElseThrow();
            assertThat(e.kernel().path()).isEqualTo("/boot/extlinux/vmlinuz");
            assertContent(e.kernel(), kernel);
            assertContent(e.initrd(), initrd);
        }
    }

    @Test
    void followsSlowRelativeAndChainedSymlinks() throws IOException {
        Path root = Files.createDirectories(dir.resolve("root/boot/extlinux")).getParent().getParent();
        String longDir = "a-directory-whose-name-is-long-enough-that-links-to-it-need-a-data-block";
        Files.createDirectories(root.resolve("boot").resolve(longDir));
        Path kernel = Files.write(root.resolve("boot").resolve(longDir).resolve(KERNEL), random(11, 80_000));
        Path initrd = Files.write(root.resolve("boot/" + INITRD), random(12, 40_000));
        // Relative to the configuration's directory, through "..", ".", a slow symlink (target > 60 bytes).
        Files.writeString(root.resolve("boot/extlinux/extlinux.conf"), "LABEL l\nLINUX kernel\nINITRD ./../extlinux/initrd\n");
        Files.createSymbolicLink(root.resolve("boot/extlinux/kernel"), Path.of("../" + longDir + "/./" + KERNEL));
        // An absolute symlink, then a chain: 8 links in all, the most allowed.
        Files.createSymbolicLink(root.resolve("boot/extlinux/initrd"), Path.of("/l1"));
        for (int i = 1; i < 7; i++) {
            Files.createSymbolicLink(root.resolve("l" + i), Path.of("l" + (i + 1)));
        }
        Files.createSymbolicLink(root.resolve("l7"), Path.of("boot/" + INITRD));
        Path fs = TestImages.mkfs("mkfs.ext4", root, dir.resolve("fs.img"), "32M", "-b", "4096");
        assertThat(debugfs(fs, "stat /boot/extlinux/kernel")).contains("EXTENTS");
        try (Volume v = FileVolume.open(fs, true)) {
            BootEntry e = BootEntry.read(v).orElseThrow();
            assertThat(e.kernel().path()).isEqualTo("/boot/extlinux/kernel");
            assertThat(e.initrd().path()).isEqualTo("/boot/extlinux/./../extlinux/initrd");
            assertContent(e.kernel(), kernel);
            assertContent(e.initrd(), initrd);
        }
    }
}
