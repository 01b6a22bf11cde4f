package dev.apiary.iscsi.wire;

import java.util.Map;

/**
 * What a login agreed (RFC 7143 §13), as the test initiator works by it: the target's declared
 * receive limit bounds our Data-Out, ours bounds every PDU the target may send us.
 */
public record Negotiated(int targetMaxRecv, int ourMaxRecv, int firstBurst, int maxBurst, boolean immediateData,
        boolean initialR2T) {
    /** §13.12: before full feature phase both sides receive at most 8192 bytes per PDU. */
    static final Negotiated LOGIN = new Negotiated(8192, 8192, 65536, 262144, false, true);

    /** From the keys we sent and the keys the target answered (RFC defaults for anything missing). */
    static Negotiated of(Map<String, String> sent, Map<String, String> answered) {
        return new Negotiated(
                number(answered, "MaxRecvDataSegmentLength", 8192),
                number(sent, "MaxRecvDataSegmentLength", 8192),
                number(answered, "FirstBurstLength", 65536),
                number(answered, "MaxBurstLength", 262144),
                "Yes".equals(answered.getOrDefault("ImmediateData", "Yes")),
                "Yes".equals(answered.getOrDefault("InitialR2T", "Yes")));
    }

    private static int number(Map<String, String> m, String key, int dflt) {
        String v = m.get(key);
        return v == null ? dflt : Integer.parseInt(v);
    }
}
