package dev.apiary.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/**
 * One whole PDU as it came off the wire: the basic header segment (48 bytes), any additional header
 * segments, and the data segment, in one buffer that the PDU owns. Digests and padding are already
 * checked and stripped from the view that {@link #data()} gives.
 */
public record Frame(ByteBuf buf, int ahsLength, int dataOffset, int dataLength) {
    public static final int BHS_LENGTH = 48;

    /** The 48-byte basic header segment (a view; not retained). */
    public ByteBuf bhs() {
        return buf.slice(0, BHS_LENGTH);
    }

    /** Additional header segments (a view; may be empty). */
    public ByteBuf ahs() {
        return buf.slice(BHS_LENGTH, ahsLength);
    }

    /** The data segment without padding (a view; not retained). */
    public ByteBuf data() {
        return buf.slice(dataOffset, dataLength);
    }

    public void release() {
        buf.release();
    }
}
