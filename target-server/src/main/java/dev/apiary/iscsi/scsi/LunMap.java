package dev.apiary.iscsi.scsi;

import static dev.apiary.iscsi.scsi.Cdb.u32;
import static dev.apiary.iscsi.scsi.Cdb.u8;

import java.util.Collections;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.TreeMap;

/**
 * The logical units of one target by LUN number. It answers what is not any one unit's business:
 * REPORT LUNS, and commands to a LUN that does not exist (SPC-4 §6.4.2, SAM-5 §5.9.5).
 */
public final class LunMap {
    /** SAM-5 §4.7.7: flat space addressing reaches LUNs up to 16383. */
    public static final int MAX_LUN = 16383;

    private final SortedMap<Integer, LogicalUnit> units;

    public LunMap(SortedMap<Integer, LogicalUnit> units) {
        for (int lun : units.keySet()) {
            if (lun < 0 || lun > MAX_LUN) {
                throw new IllegalArgumentException("LUN " + lun + " is outside 0.." + MAX_LUN);
            }
        }
        this.units = Collections.unmodifiableSortedMap(new TreeMap<>(units));
    }

    public SortedMap<Integer, LogicalUnit> units() {
        return units;
    }

    /** The unit a LUN field addresses, or null (SAM-5 §4.7: peripheral or flat single-level addresses). */
    public LogicalUnit unit(long lunField) {
        int lun = decode(lunField);
        return lun < 0 ? null : units.get(lun);
    }

    static int decode(long lunField) {
        if ((lunField & 0x0000ffffffffffffL) != 0) {
            return -1; // a second level: this target has a single-level LUN space
        }
        int method = (int) (lunField >>> 62);
        int hi = (int) (lunField >>> 56) & 0x3f;
        int lo = (int) (lunField >>> 48) & 0xff;
        if (method == 0) {
            return hi == 0 ? lo : -1; // peripheral device addressing, bus 0
        }
        if (method == 1) {
            return hi << 8 | lo; // flat space addressing
        }
        return -1;
    }

    static long encode(int lun) {
        return lun < 256 ? (long) lun << 48 : (0x4000L | lun) << 48;
    }

    /** {@link #submit}, waiting for the result. */
    public ScsiResult execute(ScsiRequest r) {
        return submit(r).toCompletableFuture().join();
    }

    /** Whether {@link #submit} returns without blocking for this command ({@link LogicalUnit#submitsWithoutWaiting}). */
    public boolean submitsWithoutWaiting(ScsiRequest r) {
        LogicalUnit lu = unit(r.lun());
        return lu != null && lu.submitsWithoutWaiting(r);
    }

    /** Runs a command on its unit ({@link LogicalUnit#submit}), or answers it here. */
    public CompletionStage<ScsiResult> submit(ScsiRequest r) {
        ScsiOpcode op = ScsiOpcode.of(r.cdb());
        if (op == ScsiOpcode.REPORT_LUNS) {
            return CompletableFuture.completedFuture(reportLuns(r));
        }
        LogicalUnit lu = unit(r.lun());
        return lu != null ? lu.submit(r) : CompletableFuture.completedFuture(missingLun(r, op));
    }

    /** A command to a LUN that does not exist. */
    private ScsiResult missingLun(ScsiRequest r, ScsiOpcode op) {
        byte[] cdb = r.cdb();
        if (op == ScsiOpcode.INQUIRY && (cdb[1] & 0x03) == 0 && cdb[2] == 0) {
            // SPC-4 §6.4.2: INQUIRY to a missing LUN answers peripheral qualifier 011b.
            return DataIn.put(r, InquiryPages.standard(InquiryPages.NO_LUN), Cdb.u16(cdb, 3));
        }
        if (op == ScsiOpcode.REQUEST_SENSE) {
            byte[] s = SenseEncoder.encode(SenseReason.LUN_NOT_SUPPORTED, false, 0, (cdb[1] & 1) != 0);
            return DataIn.put(r, s, u8(cdb, 4));
        }
        return ScsiResult.check(SenseEncoder.encode(SenseReason.LUN_NOT_SUPPORTED, false, 0, false));
    }

    /** SPC-4 §6.33: SELECT REPORT 0, 1 or 2; an allocation length under 16 is an invalid field. */
    private ScsiResult reportLuns(ScsiRequest r) {
        byte[] cdb = r.cdb();
        int select = u8(cdb, 2);
        long allocation = u32(cdb, 6);
        if (select > 2 || allocation < 16) {
            return ScsiResult.check(SenseEncoder.encode(SenseReason.INVALID_FIELD_IN_CDB, false, 0, false));
        }
        int count = select == 1 ? 0 : units.size(); // 1: well-known LUNs only, of which there are none
        byte[] d = new byte[8 + 8 * count];
        Cdb.put32(d, 0, 8L * count);
        int at = 8;
        if (count > 0) {
            for (int lun : units.keySet()) {
                Cdb.put64(d, at, encode(lun));
                at += 8;
            }
        }
        return DataIn.put(r, d, allocation);
    }
}
