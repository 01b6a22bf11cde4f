package dev.apiary.iscsi.scsi;

/**
 * The persistent reservation types this target supports (SPC-4 §6.15.3.4, Table 204), with the
 * bit each one has in the REPORT CAPABILITIES type mask (§6.15.4, Table 209). The obsolete codes
 * 0, 2 and 4 are not supported.
 */
enum ReservationType {
    WRITE_EXCLUSIVE(0x1, 0x0200, Access.WRITE_EXCLUSIVE, Holders.ONE),
    EXCLUSIVE_ACCESS(0x3, 0x0800, Access.EXCLUSIVE_ACCESS, Holders.ONE),
    WRITE_EXCLUSIVE_REGISTRANTS_ONLY(0x5, 0x2000, Access.WRITE_EXCLUSIVE, Holders.ONE_REGISTRANTS_ONLY),
    EXCLUSIVE_ACCESS_REGISTRANTS_ONLY(0x6, 0x4000, Access.EXCLUSIVE_ACCESS, Holders.ONE_REGISTRANTS_ONLY),
    WRITE_EXCLUSIVE_ALL_REGISTRANTS(0x7, 0x8000, Access.WRITE_EXCLUSIVE, Holders.ALL_REGISTRANTS),
    EXCLUSIVE_ACCESS_ALL_REGISTRANTS(0x8, 0x0001, Access.EXCLUSIVE_ACCESS, Holders.ALL_REGISTRANTS);

    /** What the type keeps from others: only writes, or all access to the medium. */
    enum Access {
        WRITE_EXCLUSIVE,
        EXCLUSIVE_ACCESS
    }

    /** Who holds the reservation (SPC-4 §5.13.10) and whether registered I_T nexuses get through. */
    enum Holders {
        /** The one I_T nexus that reserved; everyone else meets the restrictions. */
        ONE,
        /** The one I_T nexus that reserved; other registered I_T nexuses get through too. */
        ONE_REGISTRANTS_ONLY,
        /** Every registered I_T nexus is a holder. */
        ALL_REGISTRANTS
    }

    /** The PERSISTENT RESERVATION TYPE MASK of REPORT CAPABILITIES: every type above (0xea01). */
    static final int SUPPORTED_MASK;

    static {
        int mask = 0;
        for (ReservationType t : values()) {
            mask |= t.maskBit;
        }
        SUPPORTED_MASK = mask;
    }

    final int code;
    final int maskBit;
    final Access access;
    final Holders holders;

    ReservationType(int code, int maskBit, Access access, Holders holders) {
        this.code = code;
        this.maskBit = maskBit;
        this.access = access;
        this.holders = holders;
    }

    boolean allRegistrants() {
        return holders == Holders.ALL_REGISTRANTS;
    }

    /** A "registrants only" or "all registrants" type ("RR" in SPC-4 Table 65). */
    boolean registrantsRestricted() {
        return holders != Holders.ONE;
    }

    /** The type with this TYPE field code, or null if it is obsolete, reserved or unsupported. */
    static ReservationType of(int code) {
        for (ReservationType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return null;
    }
}
