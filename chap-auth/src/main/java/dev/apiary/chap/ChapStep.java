package dev.apiary.chap;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Outcome of one CHAP step (RFC 7143 §12.1.3): either keys to send back, or a failure with a reason
 * and a human message that never contains a secret, challenge, or response.
 */
public sealed interface ChapStep permits ChapStep.Reply, ChapStep.Failure {

    /**
     * Keys to send to the initiator, in insertion order.
     *
     * <p>The map is copied in and out, so a caller cannot change a reply after the fact.
     * {@link #toString()} masks {@code CHAP_C} and {@code CHAP_R}: they are public on the wire, but
     * a logged challenge/response pair is all an offline dictionary attack on the secret needs.
     */
    record Reply(LinkedHashMap<String, String> keys) implements ChapStep {
        private static final Set<String> MASKED = Set.of("CHAP_C", "CHAP_R");

        public Reply {
            keys = new LinkedHashMap<>(Objects.requireNonNull(keys, "keys"));
        }

        @Override
        public LinkedHashMap<String, String> keys() {
            return new LinkedHashMap<>(keys);
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder("Reply[");
            String sep = "";
            for (Map.Entry<String, String> e : keys.entrySet()) {
                sb.append(sep).append(e.getKey()).append('=')
                        .append(MASKED.contains(e.getKey()) ? "***" : e.getValue());
                sep = ", ";
            }
            return sb.append(']').toString();
        }
    }

    /** The exchange failed; the login must fail with the status {@link Reason} names. */
    record Failure(Reason reason, String message) implements ChapStep {
        public Failure {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(message, "message");
        }
    }

    /** Why an exchange failed, which decides the login status class/detail the target answers. */
    enum Reason {
        /** Wrong response, unknown user, reflected challenge, mutual requested but not configured: 0x0201. */
        AUTHENTICATION_FAILED,
        /** No CHAP_A in common: the target answers {@code CHAP_A=Reject}, then fails with 0x0201. */
        UNSUPPORTED_ALGORITHM,
        /** Malformed values, wrong order, missing keys: 0x0200/0x0207. */
        PROTOCOL_ERROR
    }
}
