package dev.apiary.images.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32;

/**
 * Builds disk images for the tests with the real tools: e2fsprogs makes and edits the filesystems,
 * and the partition tables (MBR, GPT) are written here, byte by byte, from their specifications.
 */
final class TestImages {
    static final int MiB = 1 << 20;

    private TestImages() {}

    /** The absolute path of an e2fsprogs tool (they live in /sbin, often not on a user's PATH), if any. */
    static Optional<Path> tool(String name) {
        Stream<String> dirs = Stream.concat(Stream.of("/usr/sbin", "/sbin"),
                Stream.of(System.getenv().getOrDefault("PATH", "").split(":")));
        return dirs.filter(d -> !d.isEmpty()).map(d -> Path.of(d, name)).filter(Files::isExecutable).findFirst();
    }

    /** {@code mkfs -q -F [options] -d root fs size}: a filesystem image filled from a directory. */
    static Path mkfs(String mkfs, Path root, Path fs, String size, String... options) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(tool(mkfs).orElseThrow().toString(), "-q", "-F"));
        cmd.addAll(List.of(options));
        cmd.addAll(List.of("-d", root.toString(), fs.toString(), size));
        run(cmd, true);
        return fs;
    }

    /** {@code e2fsck -fyD}: rebuilds directories, indexing the large ones (htree). */
    static void e2fsckOptimizeDirectories(Path fs) throws IOException {
        Process p = new ProcessBuilder(tool("e2fsck").orElseThrow().toString(), "-fyD", fs.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            int rc = p.waitFor();
            assertThat(rc).as("e2fsck exit status (0: clean, 1: corrected)").isLessThanOrEqualTo(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    /** Runs debugfs requests that change the filesystem ({@code debugfs -w -f commands}). */
    static void debugfsWrite(Path fs, String... requests) throws IOException {
        Path cmds = Files.createTempFile(fs.getParent(), "debugfs", ".cmd");
        Files.write(cmds, List.of(requests));
        String out = run(List.of(tool("debugfs").orElseThrow().toString(), "-w", "-f", cmds.toString(), fs.toString()), true);
        assertThat(out).as("debugfs output").doesNotContain("rror", "not found", "Could not");
    }

    /** One read-only debugfs request's output ({@code debugfs -R request}). */
    static String debugfs(Path fs, String request) throws IOException {
        return run(List.of(tool("debugfs").orElseThrow().toString(), "-R", request, fs.toString()), false);
    }

    /** The byte offset in the filesystem image of the inode at {@code path} (debugfs imap). */
    static long inodeOffset(Path fs, String path, int blockSize) throws IOException {
        Matcher m = Pattern.compile("located at block (\\d+), offset 0x([0-9a-f]+)").matcher(debugfs(fs, "imap " + path));
        assertThat(m.find()).as("imap %s", path).isTrue();
        return Long.parseLong(m.group(1)) * blockSize + Long.parseLong(m.group(2), 16);
    }

    /** The first data block of the file or directory at {@code path} (debugfs blocks). */
    static long firstBlock(Path fs, String path) throws IOException {
        return Long.parseLong(debugfs(fs, "blocks " + path).strip().split("\\s+")[0]);
    }

    static void patch32(Path file, long offset, long value) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, (int) value);
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE)) {
            c.write(b, offset);
        }
    }

    static void patch16(Path file, long offset, int value) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort(0, (short) value);
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE)) {
            c.write(b, offset);
        }
    }

    static byte[] random(long seed, int size) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    /**
     * Asserts that {@code file} holds exactly the bytes of {@code expected}: read whole, in odd-sized
     * chunks, at random odd offsets into heap and direct buffers; and that reads past the end are refused.
     */
    static void assertContent(BootFile file, Path expected) throws IOException {
        byte[] want = Files.readAllBytes(expected);
        assertThat(file.size()).as("size of %s", file.path()).isEqualTo(want.length);
        ByteBuffer all = ByteBuffer.allocate(want.length);
        file.read(0, all);
        assertThat(all.hasRemaining()).isFalse();
        assertThat(Arrays.mismatch(all.array(), want)).as("first differing byte of %s", file.path()).isEqualTo(-1);
        int chunk = 65_537;
        for (long at = 0; at < want.length; at += chunk) {
            ByteBuffer b = ByteBuffer.allocateDirect((int) Math.min(chunk, want.length - at));
            file.read(at, b);
            assertSame(b.flip(), want, at, file);
        }
        Random r = new Random(want.length);
        for (int i = 0; i < 300; i++) {
            int len = r.nextInt(Math.min(want.length, 3 * MiB) + 1);
            long at = r.nextLong(want.length - len + 1);
            ByteBuffer b = i % 2 == 0 ? ByteBuffer.allocate(len + 7).position(3).limit(3 + len) : ByteBuffer.allocateDirect(len);
            int start = b.position();
            file.read(at, b);
            assertThat(b.hasRemaining()).isFalse();
            assertSame(b.position(start), want, at, file);
        }
        assertThatThrownBy(() -> file.read(want.length - 10, ByteBuffer.allocate(11))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> file.read(-1, ByteBuffer.allocate(1))).isInstanceOf(IllegalArgumentException.class);
    }

    private static void assertSame(ByteBuffer got, byte[] want, long at, BootFile file) {
        byte[] g = new byte[got.remaining()];
        got.get(g);
        int diff = Arrays.mismatch(g, 0, g.length, want, (int) at, (int) at + g.length);
        assertThat(diff).as("first differing byte of %s reading %d bytes at %d", file.path(), g.length, at).isEqualTo(-1);
    }

    /** A partition for {@link #mbrDisk}: its MBR type, active flag and content (a file, padded to whole MiB). */
    record Part(int type, boolean active, Path content) {}

    /**
     * A disk with an MBR (4 entries of 16 bytes at 446, signature 0x55 0xAA at 510) and the given
     * partitions one after another from 1 MiB, each padded to a whole MiB.
     */
    static Path mbrDisk(Path out, Part... parts) throws IOException {
        ByteBuffer mbr = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
        long at = MiB;
        try (FileChannel disk = FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            for (int i = 0; i < parts.length; i++) {
                long size = Files.size(parts[i].content());
                long padded = (size + MiB - 1) / MiB * MiB;
                int e = 446 + 16 * i;
                mbr.put(e, (byte) (parts[i].active() ? 0x80 : 0));
                mbr.put(e + 4, (byte) parts[i].type());
                mbr.putInt(e + 8, (int) (at / 512));
                mbr.putInt(e + 12, (int) (padded / 512));
                copy(parts[i].content(), disk, at);
                at += padded;
            }
            mbr.put(510, (byte) 0x55).put(511, (byte) 0xAA);
            disk.write(mbr, 0);
            disk.truncate(at);
            disk.write(ByteBuffer.allocate(1), at - 1);
        }
        return out;
    }

    /**
     * A disk with a GPT (UEFI spec §5.3): protective MBR, header at LBA 1, 128 entries of 128 bytes
     * from LBA 2, one Linux partition holding {@code fs} from 1 MiB with the Legacy BIOS Bootable
     * attribute, and 1 MiB at the end where the backup table would be (left empty).
     */
    static Path gptDisk(Path out, Path fs) throws IOException {
        long fsSectors = Files.size(fs) / 512;
        long sectors = 2 * 2048 + fsSectors;
        ByteBuffer entries = ByteBuffer.allocate(128 * 128).order(ByteOrder.LITTLE_ENDIAN);
        entries.put(0, guid("0FC63DAF-8483-4772-8E79-3D69D8477DE4")); // Linux filesystem data
        entries.put(16, guid("6A8D3C1E-0E1F-4C53-9B4A-7A1C2B3D4E5F"));
        entries.putLong(32, 2048).putLong(40, 2048 + fsSectors - 1).putLong(48, 4);
        entries.put(56, "root".getBytes(StandardCharsets.UTF_16LE));
        ByteBuffer header = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
        header.put(0, "EFI PART".getBytes(StandardCharsets.US_ASCII)).putInt(8, 0x00010000).putInt(12, 92);
        header.putLong(24, 1).putLong(32, sectors - 1).putLong(40, 34).putLong(48, sectors - 34);
        header.put(56, guid("11223344-5566-7788-99AA-BBCCDDEEFF00"));
        header.putLong(72, 2).putInt(80, 128).putInt(84, 128).putInt(88, (int) crc(entries, entries.capacity()));
        fixGptHeaderCrc(header);
        ByteBuffer mbr = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
        mbr.put(446 + 4, (byte) 0xEE).putInt(446 + 8, 1).putInt(446 + 12, (int) Math.min(sectors - 1, 0xFFFFFFFFL));
        mbr.put(510, (byte) 0x55).put(511, (byte) 0xAA);
        try (FileChannel disk = FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            disk.write(mbr, 0);
            disk.write(header, 512);
            disk.write(entries, 1024);
            copy(fs, disk, MiB);
            disk.write(ByteBuffer.allocate(1), sectors * 512 - 1);
        }
        return out;
    }

    /** Recomputes a GPT header's CRC32 (over its first 92 bytes with the CRC field zero). */
    static void fixGptHeaderCrc(ByteBuffer header) {
        header.putInt(16, 0);
        header.putInt(16, (int) crc(header, 92));
    }

    /** A whole disk image: no partition table, the filesystem from byte 0. */
    static Path wholeDisk(Path out, Path fs) throws IOException {
        return Files.copy(fs, out);
    }

    /** A sparse file of {@code size} bytes with random data only at {@code dataAt} (64 KiB each). */
    static Path sparse(Path out, long size, long seed, long... dataAt) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(out.toFile(), "rw")) {
            f.setLength(size);
            for (long at : dataAt) {
                f.seek(at);
                f.write(random(seed + at, (int) Math.min(64 << 10, size - at)));
            }
        }
        return out;
    }

    private static void copy(Path from, FileChannel to, long at) throws IOException {
        try (FileChannel in = FileChannel.open(from)) {
            long done = 0;
            while (done < in.size()) {
                done += in.transferTo(done, in.size() - done, to.position(at + done));
            }
        }
    }

    private static long crc(ByteBuffer b, int length) {
        CRC32 crc = new CRC32();
        crc.update(b.duplicate().clear().limit(length));
        return crc.getValue();
    }

    /** A GUID in its on-disk form: the first three fields little-endian, the rest as written. */
    private static byte[] guid(String s) {
        String hex = s.replace("-", "");
        byte[] b = new byte[16];
        for (int i = 0; i < 16; i++) {
            b[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        }
        byte[] out = b.clone();
        int[] order = {3, 2, 1, 0, 5, 4, 7, 6};
        for (int i = 0; i < 8; i++) {
            out[i] = b[order[i]];
        }
        return out;
    }

    /** Runs {@code cmd}: its standard output, and its error output too when {@code withErrors}. */
    private static String run(List<String> cmd, boolean withErrors) throws IOException {
        Path err = Files.createTempFile("apiary-test", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException(String.join(" ", cmd) + " failed:\n" + out + Files.readString(err));
            }
            return withErrors ? out + Files.readString(err) : out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        } finally {
            Files.delete(err);
        }
    }
}
