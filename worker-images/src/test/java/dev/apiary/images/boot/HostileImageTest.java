package dev.apiary.images.boot;

import static dev.apiary.images.boot.TestImages.MiB;
import static dev.apiary.images.boot.TestImages.inodeOffset;
import static dev.apiary.images.boot.TestImages.patch16;
import static dev.apiary.images.boot.TestImages.patch32;
import static dev.apiary.images.boot.TestImages.random;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.apiary.images.boot.TestImages.Part;
import dev.apiary.lun.Volume;
import dev.apiary.lun.file.FileVolume;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A good image with one structure corrupted, as a crafted image could be: each must end within a
 * second in a BootImageException naming the problem (or in empty, where that is what the damage
 * means), never another exception, a huge allocation or a hang.
 */
class HostileImageTest {
    static final int BLOCK = 4096;
    static final String KERNEL = "/boot/vmlinuz";
    static final String CONFIG = "LABEL l\nLINUX /boot/vmlinuz\nINITRD /boot/initrd.img\nAPPEND ro\n";

    @TempDir
    Path dir;

    @BeforeAll
    static void e2fsprogs() {
        assumeTrue(TestImages.tool("mkfs.ext4").isPresent(), "mkfs.ext4 (e2fsprogs) is not installed");
    }

    /** A good 4 KiB-block filesystem with {@code config}, a 200 KB kernel, a 100 KB initrd and symlinks. */
    private Path fs(String mkfs, String config) throws IOException {
        Path root = Files.createDirectories(dir.resolve("root/boot/extlinux")).getParent().getParent();
        Files.writeString(root.resolve("boot/extlinux/extlinux.conf"), config);
        Files.write(root.resolve("boot/vmlinuz"), random(1, 200_000));
        Files.write(root.resolve("boot/initrd.img"), random(2, 100_000));
        Files.createSymbolicLink(root.resolve("a"), Path.of("b"));
        Files.createSymbolicLink(root.resolve("b"), Path.of("/a"));
        for (int i = 1; i <= 9; i++) {
            Files.createSymbolicLink(root.resolve("l" + i), Path.of(i < 9 ? "l" + (i + 1) : "boot/vmlinuz"));
        }
        return TestImages.mkfs(mkfs, root, dir.resolve("fs.img"), "32M", "-b", String.valueOf(BLOCK));
    }

    private Path fs() throws IOException {
        return fs("mkfs.ext4", CONFIG);
    }

    /** The worker layout: p1 a 1 MiB non-ext partition, p2 (active) the filesystem. */
    private Path disk(Path fs) throws IOException {
        Path esp = Files.write(dir.resolve("esp"), random(3, MiB));
        return TestImages.mbrDisk(dir.resolve("disk.img"), new Part(0xEF, false, esp), new Part(0x83, true, fs));
    }

    private Optional<BootEntry> read(Path disk) throws IOException {
        try (Volume v = FileVolume.open(disk, true)) {
            return BootEntry.read(v);
        }
    }

    private void assertRefused(Path disk, String message) {
        assertTimeoutPreemptively(Duration.ofSeconds(1), () -> assertThatThrownBy(() -> read(disk))
                .isExactlyInstanceOf(BootImageException.class)
                .hasMessageContaining(message));
    }

    @Test
    void theGoodImageReads() throws IOException {
        BootEntry e = read(disk(fs())).orElseThrow();
        assertThat(e.kernel().size()).isEqualTo(200_000);
        assertThat(e.append()).isEqualTo("ro");
    }

    @Test
    void superblockMagicGoneMeansNoFilesystem() throws IOException {
        Path fs = fs();
        patch16(fs, 1024 + 0x38, 0);
        Path disk = disk(fs);
        assertTimeoutPreemptively(Duration.ofSeconds(1), () -> assertThat(read(disk)).isEmpty());
    }

    @Test
    void blockSizeExponent30() throws IOException {
        Path fs = fs();
        patch32(fs, 1024 + 0x18, 30);
        assertRefused(disk(fs), "block size exponent 30");
    }

    @Test
    void metaBgIsRefused() throws IOException {
        Path fs = TestImages.mkfs("mkfs.ext4", Files.createDirectories(dir.resolve("empty")), dir.resolve("fs.img"), "32M",
                "-O", "meta_bg,^resize_inode");
        assertRefused(disk(fs), "meta_bg is not supported");
    }

    @Test
    void journalNeedingRecoveryIsReadAnyway() throws IOException {
        Path fs = fs();
        try (FileChannel c = FileChannel.open(fs, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            c.read(b, 1024 + 0x60);
            c.write(b.putInt(0, b.getInt(0) | 0x4).clear(), 1024 + 0x60); // INCOMPAT_RECOVER
        }
        assertThat(read(disk(fs))).isPresent();
    }

    @Test
    void groupDescriptorPointingPastTheEnd() throws IOException {
        Path fs = fs();
        patch32(fs, BLOCK + 0x8, 0xFFFFFF00L); // group 0's bg_inode_table_lo; the table follows block 0
        assertRefused(disk(fs), "group 0: inode table at block 4294967040 is outside");
    }

    @Test
    void extentHeaderMagic() throws IOException {
        Path fs = fs();
        patch16(fs, inodeOffset(fs, KERNEL, BLOCK) + 0x28, 0); // i_block starts with the tree's header
        assertRefused(disk(fs), "extent header magic 0x0000, want 0xF30A");
    }

    @Test
    void extentTreeTooDeep() throws IOException {
        Path fs = fs();
        patch16(fs, inodeOffset(fs, KERNEL, BLOCK) + 0x28 + 6, 6);
        assertRefused(disk(fs), "extent node at depth 6");
    }

    @Test
    void extentPointingPastBlocksCount() throws IOException {
        Path fs = fs();
        patch32(fs, inodeOffset(fs, KERNEL, BLOCK) + 0x28 + 12 + 8, 0x7FFFFFF0L); // first extent's ee_start_lo
        assertRefused(disk(fs), "outside the filesystem's 8192 blocks");
    }

    @Test
    void blockPointerPastTheEnd() throws IOException {
        Path fs = fs("mkfs.ext2", CONFIG);
        patch32(fs, inodeOffset(fs, KERNEL, BLOCK) + 0x28 + 12 * 4, 0xFFFFFFF0L); // the single indirect block
        assertRefused(disk(fs), "outside the filesystem's 8192 blocks");
    }

    @Test
    void directoryEntryWithRecLenZero() throws IOException {
        Path fs = fs();
        patch16(fs, TestImages.firstBlock(fs, "/boot/extlinux") * BLOCK + 4, 0); // "."'s rec_len
        assertRefused(disk(fs), "rec_len 0 with name_len 1 is invalid");
    }

    @Test
    void kernelOfTwoToTheSixtyBytes() throws IOException {
        Path fs = fs();
        patch32(fs, inodeOffset(fs, KERNEL, BLOCK) + 0x6C, 1L << 28); // i_size_high: 2^60
        assertRefused(disk(fs), "/boot/vmlinuz (inode");
        assertRefused(disk(fs), (1L << 60) + 200_000 + " bytes, more than the 536870912 allowed");
    }

    @Test
    void symlinkLoop() throws IOException {
        assertRefused(disk(fs("mkfs.ext4", "LABEL l\nLINUX /a\nINITRD /boot/initrd.img\n")), "/a: too many symbolic links");
    }

    @Test
    void symlinkChainOfNine() throws IOException {
        assertRefused(disk(fs("mkfs.ext4", "LABEL l\nLINUX /l1\nINITRD /boot/initrd.img\n")), "/l1: too many symbolic links");
    }

    @Test
    void symlinkChainOfEightIsFine() throws IOException {
        assertThat(read(disk(fs("mkfs.ext4", "LABEL l\nLINUX /l2\nINITRD /boot/initrd.img\n")))).isPresent();
    }

    @Test
    void configurationLargerThan64KiB() throws IOException {
        assertRefused(disk(fs("mkfs.ext4", CONFIG + "# padding\n".repeat(7000))), "more than the 65536 allowed");
    }

    @Test
    void aSymlinkThatRescansABigDirectoryWithoutEnd() throws IOException {
        // /big: 1200 entries of 250-byte names (hard links, so mkfs is quick), then /big/zzzz, last
        // once e2fsck has sorted the linear directory. Each "zzzz" in the link scans all of /big.
        Path root = Files.createDirectories(dir.resolve("root/big/zzzz")).getParent().getParent();
        Path file = Files.writeString(root.resolve("f"), "x");
        for (int i = 0; i < 1200; i++) {
            Files.createLink(root.resolve("big/" + "n".repeat(245) + i), file);
        }
        Files.createSymbolicLink(root.resolve("vmlinuz"), Path.of("big/" + "zzzz/../".repeat(505) + "../f"));
        Files.createDirectories(root.resolve("boot/extlinux"));
        Files.writeString(root.resolve("boot/extlinux/extlinux.conf"), "LABEL l\nLINUX /vmlinuz\nINITRD /f\n");
        Path fs = TestImages.mkfs("mkfs.ext4", root, dir.resolve("fs.img"), "32M", "-b", "4096", "-O", "^dir_index");
        TestImages.e2fsckOptimizeDirectories(fs);
        assertThat(TestImages.debugfs(fs, "ls /big").strip()).endsWith("zzzz");
        assertRefused(disk(fs), "bytes of metadata read");
    }

    @Test
    void gptWithAMillionEntries() throws IOException {
        Path disk = TestImages.gptDisk(dir.resolve("disk.img"), fs());
        try (FileChannel c = FileChannel.open(disk, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer header = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
            c.read(header, 512);
            header.putInt(80, 1_000_000);
            TestImages.fixGptHeaderCrc(header);
            c.write(header.clear(), 512);
        }
        assertRefused(disk, "1000000 partition entries, more than the 128 allowed");
    }

    @Test
    void gptHeaderWithABadChecksum() throws IOException {
        Path disk = TestImages.gptDisk(dir.resolve("disk.img"), fs());
        patch32(disk, 512 + 80, 1_000_000);
        assertRefused(disk, "header CRC32");
    }

    @Test
    void partitionBeyondTheDiskEnd() throws IOException {
        Path disk = disk(fs());
        patch32(disk, 446 + 16 + 12, 0x7FFFFFFFL); // p2's sector count
        assertRefused(disk, "MBR partition 2: sectors 4096..");
    }
}
