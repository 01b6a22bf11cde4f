package dev.apiary.iscsi.login;

import java.util.EnumMap;
import java.util.Map;

/**
 * Answers operational keys across the login PDUs of one connection and keeps the agreed values.
 * Keys the table does not know are answered "NotUnderstood" (RFC 7143 §6.2); vendor keys (X-, X#)
 * too. A key negotiated twice in one login is an initiator error (§6.2: "MUST NOT ... renegotiate").
 */
final class OperationalNegotiation {
    private final Map<LoginKey, String> agreed = new EnumMap<>(LoginKey.class);
    private final Map<LoginKey, String> offers;
    private boolean declaredOurs;

    OperationalNegotiation(Map<LoginKey, String> offers) {
        this.offers = offers;
    }

    private String offer(LoginKey k) {
        return offers.getOrDefault(k, k.offer);
    }

    /** Answers {@code key=value} into {@code reply}; false if the key was already negotiated. */
    boolean answer(String key, String value, Map<String, String> reply) {
        LoginKey k = LoginKey.byName(key);
        if (k == null) {
            reply.put(key, "NotUnderstood");
            return true;
        }
        if (agreed.containsKey(k)) {
            return false;
        }
        String result = k.answer(value, offer(k));
        if (k.rule == LoginKey.Rule.DECLARATIVE) {
            // §13.12: each side declares what it receives; the initiator's value bounds our Data-In.
            if (!result.equals("Reject")) {
                agreed.put(k, result);
            } else {
                reply.put(key, result);
            }
            declareOurs(reply);
            return true;
        }
        if (!result.equals("Reject")) {
            agreed.put(k, result);
        }
        reply.put(key, result);
        return true;
    }

    /** The target's own declarative keys, sent once in the login (§13.12). */
    void declareOurs(Map<String, String> reply) {
        if (!declaredOurs) {
            declaredOurs = true;
            reply.put(LoginKey.MAX_RECV_DATA_SEGMENT_LENGTH.key, offer(LoginKey.MAX_RECV_DATA_SEGMENT_LENGTH));
        }
    }

    private String value(LoginKey k) {
        return agreed.getOrDefault(k, k.rfcDefault);
    }

    private int number(LoginKey k) {
        return (int) LoginKey.parseNumber(value(k));
    }

    SessionParams result() {
        int maxBurst = number(LoginKey.MAX_BURST_LENGTH);
        // §13.14: FirstBurstLength MUST NOT exceed MaxBurstLength.
        int firstBurst = Math.min(number(LoginKey.FIRST_BURST_LENGTH), maxBurst);
        return new SessionParams(
                value(LoginKey.HEADER_DIGEST).equals("CRC32C"),
                value(LoginKey.DATA_DIGEST).equals("CRC32C"),
                number(LoginKey.MAX_RECV_DATA_SEGMENT_LENGTH),
                (int) LoginKey.parseNumber(offer(LoginKey.MAX_RECV_DATA_SEGMENT_LENGTH)),
                maxBurst,
                firstBurst,
                value(LoginKey.IMMEDIATE_DATA).equals("Yes"),
                value(LoginKey.INITIAL_R2T).equals("Yes"),
                number(LoginKey.MAX_OUTSTANDING_R2T),
                number(LoginKey.DEFAULT_TIME2WAIT),
                number(LoginKey.DEFAULT_TIME2RETAIN));
    }
}
