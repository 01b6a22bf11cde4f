package dev.apiary.iscsi.pdu;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;

/**
 * What the codecs need from a connection's negotiation, and the one place they read it from (a
 * channel attribute, Netty's habit for MQTT's protocol version). Digests and the receive limit
 * change once, when login moves to full feature phase (RFC 7143 §13.1, §13.12); before that a
 * login PDU may carry at most 8192 bytes of data (§13.12 default).
 */
public final class WireSettings {
    public static final AttributeKey<WireSettings> KEY = AttributeKey.valueOf("apiary.iscsi.wire");
    public static final int LOGIN_MAX_DATA = 8192;

    private volatile boolean headerDigest;
    private volatile boolean dataDigest;
    /** The largest data segment this target accepts (its declared MaxRecvDataSegmentLength). */
    private volatile int maxRecvDataSegmentLength = LOGIN_MAX_DATA;

    public static WireSettings of(Channel channel) {
        WireSettings s = channel.attr(KEY).get();
        if (s == null) {
            s = new WireSettings();
            WireSettings prev = channel.attr(KEY).setIfAbsent(s);
            if (prev != null) {
                s = prev;
            }
        }
        return s;
    }

    public boolean headerDigest() {
        return headerDigest;
    }

    public boolean dataDigest() {
        return dataDigest;
    }

    public int maxRecvDataSegmentLength() {
        return maxRecvDataSegmentLength;
    }

    /** Applied by the login handler right after it queues the final login response. */
    public void enterFullFeature(boolean headerDigest, boolean dataDigest, int maxRecvDataSegmentLength) {
        this.headerDigest = headerDigest;
        this.dataDigest = dataDigest;
        this.maxRecvDataSegmentLength = maxRecvDataSegmentLength;
    }
}
