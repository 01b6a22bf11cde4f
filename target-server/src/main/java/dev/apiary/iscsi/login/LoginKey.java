package dev.apiary.iscsi.login;

import java.util.HashMap;
import java.util.Map;

/**
 * Operational text keys and how each is negotiated (RFC 7143 §13), as a table in the manner of
 * tgt's {@code session_keys[]}: the RFC's result function is declared per key, not coded per key.
 * {@code offer} is what this target proposes; {@code rfcDefault} applies when a key is never sent.
 */
public enum LoginKey {
    HEADER_DIGEST("HeaderDigest", Rule.LIST, "None", "CRC32C,None", 0, 0),        // §13.1
    DATA_DIGEST("DataDigest", Rule.LIST, "None", "CRC32C,None", 0, 0),            // §13.1
    MAX_CONNECTIONS("MaxConnections", Rule.MIN, "1", "1", 1, 65535),               // §13.2
    INITIAL_R2T("InitialR2T", Rule.OR, "Yes", "No", 0, 0),                          // §13.10
    IMMEDIATE_DATA("ImmediateData", Rule.AND, "Yes", "Yes", 0, 0),                  // §13.11
    MAX_RECV_DATA_SEGMENT_LENGTH(
            "MaxRecvDataSegmentLength", Rule.DECLARATIVE, "8192", "262144", 512, 16777215), // §13.12
    MAX_BURST_LENGTH("MaxBurstLength", Rule.MIN, "262144", "1048576", 512, 16777215), // §13.13
    FIRST_BURST_LENGTH("FirstBurstLength", Rule.MIN, "65536", "262144", 512, 16777215), // §13.14
    DEFAULT_TIME2WAIT("DefaultTime2Wait", Rule.MAX, "2", "2", 0, 3600),            // §13.15
    DEFAULT_TIME2RETAIN("DefaultTime2Retain", Rule.MIN, "20", "0", 0, 3600),       // §13.16
    MAX_OUTSTANDING_R2T("MaxOutstandingR2T", Rule.MIN, "1", "8", 1, 65535),        // §13.17
    DATA_PDU_IN_ORDER("DataPDUInOrder", Rule.OR, "Yes", "Yes", 0, 0),               // §13.18
    DATA_SEQUENCE_IN_ORDER("DataSequenceInOrder", Rule.OR, "Yes", "Yes", 0, 0),     // §13.19
    ERROR_RECOVERY_LEVEL("ErrorRecoveryLevel", Rule.MIN, "0", "0", 0, 2),          // §13.20
    // RFC 3720 §A.3.2 markers, removed by RFC 7143 but still sent by older initiators: always off.
    IF_MARKER("IFMarker", Rule.AND, "No", "No", 0, 0),
    OF_MARKER("OFMarker", Rule.AND, "No", "No", 0, 0),
    // RFC 7145 §6.3: iSER; this is a TCP-only target.
    RDMA_EXTENSIONS("RDMAExtensions", Rule.AND, "No", "No", 0, 0);

    /** The RFC's result functions (§6.2, §13). */
    public enum Rule {
        LIST,
        MIN,
        MAX,
        AND,
        OR,
        DECLARATIVE
    }

    private static final Map<String, LoginKey> BY_NAME = new HashMap<>();

    static {
        for (LoginKey k : values()) {
            BY_NAME.put(k.key, k);
        }
    }

    public final String key;
    public final Rule rule;
    public final String rfcDefault;
    public final String offer;
    final long min;
    final long max;

    LoginKey(String key, Rule rule, String rfcDefault, String offer, long min, long max) {
        this.key = key;
        this.rule = rule;
        this.rfcDefault = rfcDefault;
        this.offer = offer;
        this.min = min;
        this.max = max;
    }

    public static LoginKey byName(String name) {
        return BY_NAME.get(name);
    }

    /**
     * The value to answer an initiator's proposal with, or "Reject" when the proposal is not a
     * valid value for this key (§6.2.1: "the acceptor MUST answer with the constant Reject").
     */
    String answer(String proposed, String targetOffer) {
        switch (rule) {
            case LIST -> {
                for (String v : proposed.split(",", -1)) {
                    for (String ours : targetOffer.split(",")) {
                        if (ours.equals(v)) {
                            return v;
                        }
                    }
                }
                return "Reject";
            }
            case MIN, MAX, DECLARATIVE -> {
                long v = parseNumber(proposed);
                if (v < min || v > max) {
                    return "Reject";
                }
                long ours = parseNumber(targetOffer);
                return Long.toString(rule == Rule.MIN ? Math.min(v, ours) : rule == Rule.MAX ? Math.max(v, ours) : v);
            }
            case AND, OR -> {
                if (!proposed.equals("Yes") && !proposed.equals("No")) {
                    return "Reject";
                }
                boolean a = proposed.equals("Yes");
                boolean b = targetOffer.equals("Yes");
                return (rule == Rule.AND ? a && b : a || b) ? "Yes" : "No";
            }
        }
        throw new AssertionError(rule);
    }

    /** §6.1: numerical values are decimal, or hex with a 0x prefix; -1 for anything else. */
    static long parseNumber(String s) {
        try {
            if (s.startsWith("0x") || s.startsWith("0X")) {
                return Long.parseLong(s.substring(2), 16);
            }
            if (s.isEmpty() || s.length() > 12) {
                return -1;
            }
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
