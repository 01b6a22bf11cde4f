package dev.apiary.iscsi.scsi;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * How a logical unit names itself in INQUIRY: a unit serial number (VPD 0x80) and a 64-bit NAA
 * "locally assigned" designator (SPC-4 §7.8.6.6.4, NAA 3) derived from the serial, so the same
 * volume keeps the same WWID on every gateway and across restarts (what dm-multipath keys on).
 */
public record LunIdentity(String serial, long naa) {
    public static final String VENDOR = "APIARY";
    public static final String PRODUCT = "Apiary LUN";
    public static final String REVISION = "0001";

    public static LunIdentity fromSerial(String serial) {
        if (serial.isEmpty() || serial.length() > 64) {
            throw new IllegalArgumentException("unit serial must be 1 to 64 characters");
        }
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(serial.getBytes(StandardCharsets.UTF_8));
            long v = 0;
            for (int i = 0; i < 8; i++) {
                v = v << 8 | (h[i] & 0xff);
            }
            // NAA field 3 (locally assigned) in the top nibble, 60 bits of the hash below it.
            return new LunIdentity(serial, (3L << 60) | (v & 0x0fffffffffffffffL));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
