package dev.apiary.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.lun.Volume;
import dev.apiary.lun.file.FileStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data volumes made formatted, checked with e2fsprogs' own tools on what the volume reads (a real
 * file store, the host's mkfs.ext4), and made blank when formatting cannot be done.
 */
class DataVolumesTest {
    private static final long SIZE = 256L << 20;

    @TempDir
    Path dir;

    FileStore store;

    @BeforeEach
    void open() throws IOException {
        store = FileStore.open(dir.resolve("store"));
    }

    @AfterEach
    void close() throws IOException {
        store.close();
    }

    @Test
    void eachVolumeHoldsACleanEmptyExt4OfItsOwnWithNothingLeftForTheWorkerToInitialise() throws Exception {
        DataVolumes volumes = new DataVolumes(store);
        volumes.create("a.data", SIZE);
        volumes.create("b.data", SIZE);

        assertThat(store.info("a.data").orElseThrow().size()).isEqualTo(SIZE);
        assertThat(store.usage("a.data").allocatedBytes()).as("only the metadata is written").isLessThan(16L << 20);
        Superblock a = superblock("a.data");
        Superblock b = superblock("b.data");
        assertThat(a.magic).isEqualTo(0xef53);
        assertThat(a.label).isEqualTo("apiary-data"); // the worker image's DATA_LABEL
        assertThat(a.uuid).as("each worker's filesystem has its own UUID").isNotEqualTo(b.uuid);

        Path raw = copyOut("a.data");
        Tools.Result fsck = Tools.run(DataVolumes.locate("e2fsck"), "-fn", raw.toString());
        assertThat(fsck.exit()).as(fsck.output()).isZero();
        Tools.Result dump = Tools.run(DataVolumes.locate("dumpe2fs"), raw.toString());
        assertThat(dump.exit()).as(dump.output()).isZero();
        assertThat(dump.output()).contains("Filesystem volume name:   apiary-data")
                .contains("Filesystem UUID:          " + a.uuid);
        // Every group's inode table is marked zeroed: the worker's kernel starts no ext4lazyinit.
        long groups = dump.output().lines().filter(l -> l.matches("Group \\d+:.*")).count();
        long zeroed = dump.output().lines().filter(l -> l.matches("Group \\d+:.*") && l.contains("ITABLE_ZEROED")).count();
        assertThat(groups).isPositive();
        assertThat(zeroed).isEqualTo(groups);
    }

    @Test
    void withoutAWorkingMkfsTheVolumeIsMadeBlankForTheWorkerToFormat() throws Exception {
        new DataVolumes(store, dir.resolve("no-such-mkfs").toString()).create("missing.data", SIZE);
        new DataVolumes(store, "false").create("failing.data", SIZE);
        for (String name : new String[] {"missing.data", "failing.data"}) {
            assertThat(store.info(name).orElseThrow().size()).isEqualTo(SIZE);
            assertThat(superblock(name).magic).as(name).isZero();
            assertThat(store.usage(name).allocatedBytes()).as(name).isZero();
        }
    }

    @Test
    void mkfsIsFoundInSbinToo() {
        assertThat(DataVolumes.locate("mkfs.ext4")).as("Debian keeps it in /usr/sbin, off a user's PATH")
                .startsWith("/").endsWith("/mkfs.ext4");
        assertThat(DataVolumes.locate("no-such-tool-here")).isEqualTo("no-such-tool-here");
    }

    private record Superblock(int magic, String label, String uuid) {}

    /** The fields of the primary superblock (1024 bytes in) that say whose filesystem it is. */
    private Superblock superblock(String volume) throws IOException {
        ByteBuffer sb = ByteBuffer.allocate(1024).order(ByteOrder.LITTLE_ENDIAN);
        try (Volume v = store.open(volume)) {
            v.read(1024, sb);
        }
        byte[] uuid = new byte[16];
        sb.get(0x68, uuid);
        byte[] name = new byte[16];
        sb.get(0x78, name);
        String hex = HexFormat.of().formatHex(uuid);
        return new Superblock(sb.getShort(0x38) & 0xffff, new String(name, StandardCharsets.US_ASCII).replace("\0", ""),
                hex.replaceFirst("(.{8})(.{4})(.{4})(.{4})(.{12})", "$1-$2-$3-$4-$5"));
    }

    /** What the volume reads, as a raw file e2fsprogs can check. */
    private Path copyOut(String volume) throws IOException {
        Path raw = dir.resolve(volume + ".raw");
        ByteBuffer buf = ByteBuffer.allocate(1 << 20);
        try (Volume v = store.open(volume);
                FileChannel out = FileChannel.open(raw, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long pos = 0; pos < v.size(); pos += buf.capacity()) {
                v.read(pos, buf.clear());
                out.write(buf.flip(), pos);
            }
        }
        return raw;
    }

    /** Runs one of e2fsprogs' tools, output and exit. */
    private static final class Tools {
        record Result(int exit, String output) {}

        static Result run(String... cmd) throws IOException, InterruptedException {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return new Result(p.waitFor(), out);
        }
    }
}
