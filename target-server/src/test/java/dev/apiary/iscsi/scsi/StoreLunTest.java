package dev.apiary.iscsi.scsi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.apiary.lun.Volume;
import dev.apiary.lun.file.FileStore;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Store volumes as SCSI logical units: what an initiator sees of a resize and of a full disk. */
class StoreLunTest {
    static final Nexus A = Nexus.iscsi("iqn.2026-11.test:a", 1, "iqn.2026-11.test:t", 1, 1);

    @TempDir
    Path dir;

    static ScsiResult run(LogicalUnit lu, byte[] cdb, byte[] out, int in) {
        return lu.execute(new ScsiRequest(A, 0, cdb, out == null ? null : ByteBuffer.wrap(out),
                in == 0 ? null : ByteBuffer.allocate(in)));
    }

    static byte[] cdb(int... b) {
        byte[] c = new byte[16];
        for (int i = 0; i < b.length; i++) {
            c[i] = (byte) b[i];
        }
        return c;
    }

    static byte[] write10(long lba, int blocks) {
        byte[] c = cdb(0x2a);
        Cdb.put32(c, 2, lba);
        Cdb.put16(c, 7, blocks);
        return c;
    }

    @Test
    void growingAnExportedCloneRaisesCapacityDataHasChanged() throws Exception {
        try (FileStore store = FileStore.open(dir.resolve("s"))) {
            store.create("golden", 8 << 20);
            store.snapshot("golden", "v1");
            store.clone("golden", "v1", "w1");
            try (Volume v = store.open("w1")) {
                LogicalUnit lu = new LogicalUnit(v, LunIdentity.fromSerial("w1"), 512);
                assertThat(run(lu, cdb(0x00), null, 0).status()).isEqualTo(ScsiStatus.GOOD);
                store.resize("w1", 16 << 20);
                ScsiResult ua = run(lu, cdb(0x00), null, 0);
                assertThat(ua.status()).isEqualTo(ScsiStatus.CHECK_CONDITION);
                assertThat(new int[] {ua.sense()[2], ua.sense()[12], ua.sense()[13]}).containsExactly(0x6, 0x2a, 0x09);
                byte[] rc16 = cdb(0x9e, 0x10);
                Cdb.put32(rc16, 10, 32);
                ScsiRequest r = new ScsiRequest(A, 0, rc16, null, ByteBuffer.allocate(32));
                assertThat(lu.execute(r).status()).isEqualTo(ScsiStatus.GOOD);
                assertThat(r.dataIn().getLong(0)).as("last LBA").isEqualTo((16L << 20) / 512 - 1);
            }
        }
    }

    @Test
    void aFullDiskFailsTheWriteWithSpaceAllocationFailedAndKeepsWhatWasFlushed() throws Exception {
        Path mnt = dir.resolve("small");
        Files.createDirectories(mnt);
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", mnt.toString())
                .redirectErrorStream(true).start();
        assumeTrue(mount.waitFor(10, TimeUnit.SECONDS) && mount.exitValue() == 0, "needs root to mount a small tmpfs");
        try {
            byte[] first = new byte[512 * 8];
            java.util.Arrays.fill(first, (byte) 0x3c);
            try (FileStore store = FileStore.open(mnt.resolve("s"))) {
                store.create("golden", 64 << 20);
                store.snapshot("golden", "v1");
                store.clone("golden", "v1", "w1");
                try (Volume v = store.open("w1")) {
                    LogicalUnit lu = new LogicalUnit(v, LunIdentity.fromSerial("w1"), 512);
                    assertThat(run(lu, write10(0, 8), first, 0).status()).isEqualTo(ScsiStatus.GOOD);
                    assertThat(run(lu, cdb(0x35), null, 0).status()).as("SYNCHRONIZE CACHE").isEqualTo(ScsiStatus.GOOD);
                    ScsiResult full = null;
                    byte[] chunk = new byte[1 << 20];
                    for (int i = 1; i < 64 && full == null; i++) {
                        ScsiResult r = run(lu, write10((long) i * 2048, 2048), chunk.clone(), 0);
                        if (r.status() != ScsiStatus.GOOD) {
                            full = r;
                        }
                        java.util.Arrays.fill(chunk, (byte) i);
                    }
                    assertThat(full).as("a write failed once the 3 MiB filesystem filled").isNotNull();
                    assertThat(new int[] {full.sense()[2], full.sense()[12], full.sense()[13]})
                            .as("DATA PROTECT / SPACE ALLOCATION FAILED WRITE PROTECT").containsExactly(0x7, 0x27, 0x07);
                }
            }
            try (FileStore store = FileStore.open(mnt.resolve("s")); Volume v = store.open("w1")) {
                ByteBuffer b = ByteBuffer.allocate(first.length);
                v.read(0, b);
                assertThat(b.array()).as("the flushed write survived").isEqualTo(first);
            }
        } finally {
            new ProcessBuilder("umount", mnt.toString()).start().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
