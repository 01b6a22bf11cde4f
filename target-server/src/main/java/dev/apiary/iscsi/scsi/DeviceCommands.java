package dev.apiary.iscsi.scsi;

import static dev.apiary.iscsi.scsi.Cdb.u16;
import static dev.apiary.iscsi.scsi.Cdb.u32;
import static dev.apiary.iscsi.scsi.Cdb.u8;

import java.io.ByteArrayOutputStream;
import java.util.List;

/**
 * SPC-4 commands about the device rather than its blocks: TEST UNIT READY, REQUEST SENSE, INQUIRY,
 * MODE SENSE/SELECT, START STOP UNIT, REPORT SUPPORTED OPERATION CODES and REPORT TARGET PORT
 * GROUPS.
 */
final class DeviceCommands {
    private final LogicalUnit lu;

    DeviceCommands(LogicalUnit lu) {
        this.lu = lu;
    }

    ScsiResult testUnitReady(Command c) {
        return ScsiResult.good(0);
    }

    /** SPC-4 §6.39: a pending unit attention, else NO SENSE; DESC picks the format. */
    ScsiResult requestSense(Command c) throws SenseException {
        byte[] cdb = c.cdb();
        boolean descriptor = (cdb[1] & 0x01) != 0;
        SenseReason pending = lu.attentions.take(c.nexus());
        byte[] sense = SenseEncoder.encode(pending != null ? pending : SenseReason.NO_SENSE, false, 0, descriptor);
        return DataIn.put(c.request(), sense, u8(cdb, 4));
    }

    /** SPC-4 §6.4.1: EVPD selects a VPD page; a page code without EVPD, or CMDDT, is an invalid field. */
    ScsiResult inquiry(Command c) throws SenseException {
        byte[] cdb = c.cdb();
        boolean evpd = (cdb[1] & 0x01) != 0;
        int pageCode = u8(cdb, 2);
        int allocation = u16(cdb, 3);
        if ((cdb[1] & 0x02) != 0 || (!evpd && pageCode != 0)) {
            throw new SenseException(SenseReason.INVALID_FIELD_IN_CDB);
        }
        if (!evpd) {
            return DataIn.put(c.request(), InquiryPages.standard(0x00), allocation);
        }
        byte[] page = InquiryPages.vpd(pageCode, lu, c.nexus(), c.nexus().targetName());
        if (page == null) {
            throw new SenseException(SenseReason.INVALID_FIELD_IN_CDB);
        }
        return DataIn.put(c.request(), page, allocation);
    }

    /** SPC-4 §6.11/§6.12: header, an optional short block descriptor, then the asked pages. */
    ScsiResult modeSense(Command c) throws SenseException {
        byte[] cdb = c.cdb();
        boolean ten = c.op() == ScsiOpcode.MODE_SENSE_10;
        boolean dbd = (cdb[1] & 0x08) != 0;
        int pageControl = (cdb[2] >> 6) & 0x03;
        int pageCode = cdb[2] & 0x3f;
        int subpage = u8(cdb, 3);
        int allocation = ten ? u16(cdb, 7) : u8(cdb, 4);
        if (pageControl == 3) {
            throw new SenseException(SenseReason.SAVING_PARAMETERS_NOT_SUPPORTED);
        }
        ByteArrayOutputStream pages = new ByteArrayOutputStream();
        if (pageCode == ModePages.ALL) {
            if (subpage != 0 && subpage != 0xff) {
                throw new SenseException(SenseReason.INVALID_FIELD_IN_CDB);
            }
            for (int code : ModePages.PAGES) {
                pages.writeBytes(lu.modePages.page(code, pageControl));
            }
        } else {
            byte[] p = lu.modePages.page(pageCode, pageControl);
            if (p == null || (subpage != 0 && subpage != 0xff)) {
                throw new SenseException(SenseReason.INVALID_FIELD_IN_CDB);
            }
            pages.writeBytes(p);
        }
        int header = ten ? 8 : 4;
        int descriptor = dbd ? 0 : 8;
        byte[] d = new byte[header + descriptor + pages.size()];
        // Device-specific parameter (SBC-3 §6.4.1): WP for a read-only volume, DPOFUA: FUA is honoured.
        int deviceSpecific = (lu.volume.readOnly() ? 0x80 : 0) | 0x10;
        if (ten) {
            Cdb.put16(d, 0, d.length - 2);
            d[3] = (byte) deviceSpecific;
            Cdb.put16(d, 6, descriptor);
        } else {
            d[0] = (byte) (d.length - 1);
            d[2] = (byte) deviceSpecific;
            d[3] = (byte) descriptor;
        }
        if (!dbd) {
            Cdb.put32(d, header, Math.min(lu.blocks(), 0xffffffffL));
            Cdb.put32(d, header + 4, lu.blockSize); // density code 0, then a 3-byte block length
        }
        byte[] p = pages.toByteArray();
        System.arraycopy(p, 0, d, header + descriptor, p.length);
        return DataIn.put(c.request(), d, allocation);
    }

    /** SPC-4 §6.9/§6.10: PF must be set; SP (save) is not supported; each page goes to {@link ModePages}. */
    ScsiResult modeSelect(Command c) throws SenseException {
        byte[] cdb = c.cdb();
        boolean ten = c.op() == ScsiOpcode.MODE_SELECT_10;
        int listLength = ten ? u16(cdb, 7) : u8(cdb, 4);
        if ((cdb[1] & 0x01) != 0) {
            throw new SenseException(SenseReason.INVALID_FIELD_IN_CDB); // SP
        }
        if (listLength == 0) {
            return ScsiResult.good(0);
        }
        if ((cdb[1] & 0x10) == 0) {
            throw new SenseException(SenseReason.INVALID_FIELD_IN_CDB); // PF = 0: vendor-specific pages
        }
        byte[] p = DataIn.parameters(c.request(), listLength);
        int header = ten ? 8 : 4;
        if (p.length < header) {
            throw new SenseException(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
        }
        int descriptor = ten ? u16(p, 6) : u8(p, 3);
        int at = header + descriptor;
        while (at < p.length) {
            if (at + 2 > p.length || at + 2 + u8(p, at + 1) > p.length) {
                throw new SenseException(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
            }
            int length = 2 + u8(p, at + 1);
            byte[] page = new byte[length];
            System.arraycopy(p, at, page, 0, length);
            lu.modePages.select(page);
            at += length;
        }
        return ScsiResult.good(listLength);
    }

    /** SBC-3 §5.25: power conditions are accepted; there is no medium to load or eject. */
    ScsiResult startStopUnit(Command c) throws SenseException {
        byte[] cdb = c.cdb();
        boolean loej = (cdb[4] & 0x02) != 0;
        boolean start = (cdb[4] & 0x01) != 0;
        if (loej && !start) {
            throw new SenseException(SenseReason.INVALID_FIELD_IN_CDB); // not a removable medium
        }
        return ScsiResult.good(0);
    }

    ScsiResult reportSupportedOpcodes(Command c) throws SenseException {
        return DataIn.put(c.request(), SupportedOpcodes.report(c.cdb()), u32(c.cdb(), 6));
    }

    /**
     * SPC-4 §6.36: every target port group the unit is reached through, each with the unit's
     * access state there and its relative port. The active/optimized group is the preferred one
     * (PREF); the states a group may take are all but offline and logical-block dependent.
     */
    ScsiResult reportTargetPortGroups(Command c) {
        boolean extended = ((c.cdb()[1] >> 5) & 0x07) == 1;
        int header = extended ? 8 : 4;
        List<PortGroups.Group> groups = lu.portGroups(c.nexus()).groups();
        byte[] d = new byte[header + 12 * groups.size()];
        Cdb.put32(d, 0, d.length - 4);
        if (extended) {
            d[4] = 0x10; // FORMAT TYPE 1: extended header
        }
        int at = header;
        for (PortGroups.Group g : groups) {
            d[at] = (byte) ((g.state() == AccessState.ACTIVE_OPTIMIZED ? 0x80 : 0) | g.state().code);
            d[at + 1] = (byte) 0x8f; // T_SUP, U_SUP, S_SUP, AN_SUP, AO_SUP
            Cdb.put16(d, at + 2, g.id());
            d[at + 7] = 1; // one target port in the group
            Cdb.put16(d, at + 10, g.relativePort());
            at += 12;
        }
        return DataIn.put(c.request(), d, u32(c.cdb(), 6));
    }
}
