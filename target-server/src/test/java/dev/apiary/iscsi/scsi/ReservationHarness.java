package dev.apiary.iscsi.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.lun.file.FileVolume;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A logical unit over a temporary file, and the CDBs and parameter lists the reservation tests
 * send to it through {@link LogicalUnit#execute}, the way the transport does.
 */
final class ReservationHarness implements AutoCloseable {
    static final String TARGET = "iqn.2026-11.dev.apiary:test";

    // PERSISTENT RESERVE OUT service actions (SPC-4 Table 213) and IN ones (Table 201).
    static final int REGISTER = 0, RESERVE = 1, RELEASE = 2, CLEAR = 3, PREEMPT = 4, PREEMPT_AND_ABORT = 5,
            REGISTER_AND_IGNORE = 6, REGISTER_AND_MOVE = 7;
    static final int READ_KEYS = 0, READ_RESERVATION = 1, REPORT_CAPABILITIES = 2, READ_FULL_STATUS = 3;
    // Reservation types (SPC-4 Table 204).
    static final int WE = 1, EA = 3, WERO = 5, EARO = 6, WEAR = 7, EAAR = 8;

    final LogicalUnit lu;
    private final FileVolume volume;

    ReservationHarness(Path dir) throws IOException {
        volume = FileVolume.openOrCreate(dir.resolve("lun.img"), 1 << 20);
        lu = new LogicalUnit(volume, LunIdentity.fromSerial("pr-test"), 512);
    }

    @Override
    public void close() throws IOException {
        volume.close();
    }

    static Nexus nexus(String initiatorName, long isid) {
        return Nexus.iscsi(initiatorName, isid, TARGET, 1, 1);
    }

    /** What a command returned: its result and the data-in bytes it wrote. */
    record Reply(ScsiResult result, byte[] data) {
        int status() {
            return result.status();
        }

        Reply isGood() {
            assertThat(result.status()).as("status (sense %s)", senseText()).isEqualTo(ScsiStatus.GOOD);
            return this;
        }

        Reply isConflict() {
            assertThat(result.status()).as("status").isEqualTo(ScsiStatus.RESERVATION_CONFLICT);
            return this;
        }

        /** CHECK CONDITION with fixed-format sense: key in byte 2, ASC/ASCQ in bytes 12/13. */
        Reply isCheck(int key, int asc, int ascq) {
            assertThat(result.status()).as("status").isEqualTo(ScsiStatus.CHECK_CONDITION);
            byte[] s = result.sense();
            assertThat(new int[] {s[2] & 0x0f, s[12] & 0xff, s[13] & 0xff}).as("key/ASC/ASCQ")
                    .containsExactly(key, asc, ascq);
            return this;
        }

        Reply isCheck(SenseReason r) {
            return isCheck(r.key.code, r.asc, r.ascq);
        }

        private String senseText() {
            byte[] s = result.sense();
            return s == null ? "none" : String.format("%x/%02x/%02x", s[2] & 0x0f, s[12] & 0xff, s[13] & 0xff);
        }
    }

    Reply run(Nexus n, byte[] cdb, byte[] dataOut, int dataInLength) {
        ByteBuffer in = dataInLength > 0 ? ByteBuffer.allocate(dataInLength) : null;
        ScsiResult r = lu.execute(new ScsiRequest(n, 0L, cdb, dataOut == null ? null : ByteBuffer.wrap(dataOut), in));
        byte[] data = in == null ? new byte[0] : Arrays.copyOf(in.array(), in.position());
        return new Reply(r, data);
    }

    // ---- PERSISTENT RESERVE OUT -----------------------------------------------------------------

    static byte[] proutCdb(int serviceAction, int scopeAndType, long parameterListLength) {
        byte[] cdb = {0x5f, (byte) serviceAction, (byte) scopeAndType, 0, 0, 0, 0, 0, 0, 0};
        Cdb.put32(cdb, 5, parameterListLength);
        return cdb;
    }

    /** The 24-byte basic parameter list (SPC-4 Table 214); {@code flags} is byte 20. */
    static byte[] parameters(long key, long serviceActionKey, int flags) {
        byte[] p = new byte[24];
        Cdb.put64(p, 0, key);
        Cdb.put64(p, 8, serviceActionKey);
        p[20] = (byte) flags;
        return p;
    }

    Reply prout(Nexus n, int serviceAction, int type, long key, long serviceActionKey) {
        return run(n, proutCdb(serviceAction, type, 24), parameters(key, serviceActionKey, 0), 0);
    }

    Reply register(Nexus n, long key, long newKey) {
        return prout(n, REGISTER, 0, key, newKey);
    }

    Reply registerAndIgnore(Nexus n, long newKey) {
        return prout(n, REGISTER_AND_IGNORE, 0, 0, newKey);
    }

    Reply reserve(Nexus n, long key, int type) {
        return prout(n, RESERVE, type, key, 0);
    }

    Reply release(Nexus n, long key, int type) {
        return prout(n, RELEASE, type, key, 0);
    }

    Reply clear(Nexus n, long key) {
        return prout(n, CLEAR, 0, key, 0);
    }

    Reply preempt(Nexus n, long key, long victimKey, int type) {
        return prout(n, PREEMPT, type, key, victimKey);
    }

    // ---- PERSISTENT RESERVE IN ------------------------------------------------------------------

    Reply prin(Nexus n, int serviceAction, int allocationLength) {
        byte[] cdb = {0x5e, (byte) serviceAction, 0, 0, 0, 0, 0, 0, 0, 0};
        Cdb.put16(cdb, 7, allocationLength);
        return run(n, cdb, null, allocationLength);
    }

    long[] keys(Nexus n) {
        byte[] d = prin(n, READ_KEYS, 8192).isGood().data();
        long[] keys = new long[(int) Cdb.u32(d, 4) / 8];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = Cdb.u64(d, 8 + 8 * i);
        }
        return keys;
    }

    long generation(Nexus n) {
        return Cdb.u32(prin(n, READ_KEYS, 8).isGood().data(), 0);
    }

    /** READ RESERVATION: null when there is none, else {key, type}. */
    long[] reservation(Nexus n) {
        byte[] d = prin(n, READ_RESERVATION, 8192).isGood().data();
        if (Cdb.u32(d, 4) == 0) {
            assertThat(d).hasSize(8);
            return null;
        }
        assertThat(Cdb.u32(d, 4)).isEqualTo(16);
        assertThat(d[21] & 0xf0).as("scope").isZero();
        return new long[] {Cdb.u64(d, 8), d[21] & 0x0f};
    }

    // ---- ordinary commands ----------------------------------------------------------------------

    Reply testUnitReady(Nexus n) {
        return run(n, new byte[6], null, 0);
    }

    Reply read10(Nexus n) {
        return run(n, new byte[] {0x28, 0, 0, 0, 0, 1, 0, 0, 1, 0}, null, 512);
    }

    Reply write10(Nexus n) {
        return run(n, new byte[] {0x2a, 0, 0, 0, 0, 1, 0, 0, 1, 0}, new byte[512], 0);
    }

    Reply modeSense6(Nexus n) {
        return run(n, new byte[] {0x1a, 0, 0x3f, 0, (byte) 255, 0}, null, 255);
    }

    Reply reserve6(Nexus n) {
        return run(n, new byte[] {0x16, 0, 0, 0, 0, 0}, null, 0);
    }

    Reply release6(Nexus n) {
        return run(n, new byte[] {0x17, 0, 0, 0, 0, 0}, null, 0);
    }

    /** Takes the pending unit attention of {@code n}, or null. */
    SenseReason unitAttention(Nexus n) {
        return lu.attentions.take(n);
    }
}
