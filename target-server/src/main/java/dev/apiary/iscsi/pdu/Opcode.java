package dev.apiary.iscsi.pdu;

/**
 * iSCSI opcodes (RFC 7143 §11.2.1.2): six bits in byte 0 of every basic header segment.
 * Initiator opcodes are 0x00-0x1f, target opcodes 0x20-0x3f.
 */
public enum Opcode {
    NOP_OUT(0x00),
    SCSI_COMMAND(0x01),
    TASK_MGMT_REQUEST(0x02),
    LOGIN_REQUEST(0x03),
    TEXT_REQUEST(0x04),
    DATA_OUT(0x05),
    LOGOUT_REQUEST(0x06),
    SNACK_REQUEST(0x10),

    NOP_IN(0x20),
    SCSI_RESPONSE(0x21),
    TASK_MGMT_RESPONSE(0x22),
    LOGIN_RESPONSE(0x23),
    TEXT_RESPONSE(0x24),
    DATA_IN(0x25),
    LOGOUT_RESPONSE(0x26),
    R2T(0x31),
    ASYNC_MESSAGE(0x32),
    REJECT(0x3f);

    private static final Opcode[] BY_CODE = new Opcode[64];

    static {
        for (Opcode o : values()) {
            BY_CODE[o.code] = o;
        }
    }

    public final int code;

    Opcode(int code) {
        this.code = code;
    }

    /** The opcode for the low six bits of {@code byte0}, or null for a code RFC 7143 does not define. */
    public static Opcode of(int byte0) {
        return BY_CODE[byte0 & 0x3f];
    }

    public boolean fromInitiator() {
        return code < 0x20;
    }
}
