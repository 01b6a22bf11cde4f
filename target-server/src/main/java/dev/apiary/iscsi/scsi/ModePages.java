package dev.apiary.iscsi.scsi;

/**
 * Mode parameters (SPC-4 §7.5, SBC-3 §6.4): the pages this unit reports and the two fields an
 * initiator may change, WCE (caching page) and D_SENSE (control page). Changes are not savable
 * (SP = 1 is refused), and a logical unit reset restores the defaults.
 */
final class ModePages {
    static final int READ_WRITE_ERROR_RECOVERY = 0x01;
    static final int CACHING = 0x08;
    static final int CONTROL = 0x0a;
    static final int INFORMATIONAL_EXCEPTIONS = 0x1c;
    static final int ALL = 0x3f;
    static final int[] PAGES = {READ_WRITE_ERROR_RECOVERY, CACHING, CONTROL, INFORMATIONAL_EXCEPTIONS};

    /** Page control (SPC-4 §6.11.1). */
    static final int CURRENT = 0;
    static final int CHANGEABLE = 1;
    static final int DEFAULT = 2;

    private volatile boolean writeCache = true;
    private volatile boolean descriptorSense;

    boolean writeCacheEnabled() {
        return writeCache;
    }

    boolean descriptorSense() {
        return descriptorSense;
    }

    void reset() {
        writeCache = true;
        descriptorSense = false;
    }

    /** Page {@code code} (subpage 0) as the page control asks, or null when there is no such page. */
    byte[] page(int code, int pageControl) {
        boolean changeable = pageControl == CHANGEABLE;
        boolean current = pageControl == CURRENT;
        return switch (code) {
            case READ_WRITE_ERROR_RECOVERY -> {
                byte[] p = header(code, 0x0a);
                if (!changeable) {
                    p[2] = (byte) 0x80; // AWRE: writes reallocate on their own
                }
                yield p;
            }
            case CACHING -> {
                byte[] p = header(code, 0x12);
                if (changeable) {
                    p[2] = 0x04; // WCE may be changed
                } else {
                    p[2] = (byte) ((current ? writeCache : true) ? 0x04 : 0);
                }
                yield p;
            }
            case CONTROL -> {
                byte[] p = header(code, 0x0a);
                if (changeable) {
                    p[2] = 0x04; // D_SENSE may be changed
                } else {
                    p[2] = (byte) (current && descriptorSense ? 0x04 : 0);
                    p[3] = 0x10; // QUEUE ALGORITHM MODIFIER 1: unrestricted reordering
                    p[5] = 0x40; // TAS: aborted commands of other nexuses get TASK ABORTED
                    Cdb.put16(p, 8, 0xffff); // BUSY TIMEOUT PERIOD: unlimited
                }
                yield p;
            }
            case INFORMATIONAL_EXCEPTIONS -> header(code, 0x0a);
            default -> null;
        };
    }

    private static byte[] header(int code, int length) {
        byte[] p = new byte[2 + length];
        p[0] = (byte) code;
        p[1] = (byte) length;
        return p;
    }

    /**
     * Applies one page from MODE SELECT. Any field other than WCE and D_SENSE must equal its current
     * value (SPC-4 §6.9: "shall terminate ... INVALID FIELD IN PARAMETER LIST").
     */
    void select(byte[] page) throws SenseException {
        int code = page[0] & 0x3f;
        byte[] current = page(code, CURRENT);
        byte[] changeable = page(code, CHANGEABLE);
        if (current == null || (page[0] & 0x40) != 0 || page.length != current.length
                || (page[1] & 0xff) != current.length - 2) {
            throw new SenseException(SenseReason.INVALID_FIELD_IN_PARAMETER_LIST);
        }
        for (int i = 2; i < current.length; i++) {
            if (((page[i] ^ current[i]) & ~changeable[i]) != 0) {
                throw new SenseException(SenseReason.INVALID_FIELD_IN_PARAMETER_LIST);
            }
        }
        if (code == CACHING) {
            writeCache = (page[2] & 0x04) != 0;
        } else if (code == CONTROL) {
            descriptorSense = (page[2] & 0x04) != 0;
        }
    }
}
