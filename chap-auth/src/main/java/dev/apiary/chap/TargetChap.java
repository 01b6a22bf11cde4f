package dev.apiary.chap;

import dev.apiary.chap.ChapStep.Failure;
import dev.apiary.chap.ChapStep.Reason;
import dev.apiary.chap.ChapStep.Reply;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * One CHAP exchange on one login, target side (RFC 7143 §12.1.3, RFC 1994 §4).
 *
 * <p>The exchange has exactly two steps: {@link #offer} answers the initiator's {@code CHAP_A} with
 * an algorithm, a fresh identifier and a fresh challenge; {@link #verify} checks the initiator's
 * {@code CHAP_N}/{@code CHAP_R} and, for mutual CHAP, answers the initiator's {@code CHAP_I}/
 * {@code CHAP_C}. Any failure, or any call out of order, ends the exchange for good: a login that
 * failed CHAP must start over on a new connection with a new challenge (RFC 1994 §2.3: a challenge
 * is never reused).
 *
 * <p>Not thread-safe; one instance per login attempt.
 */
public final class TargetChap {
    /** RFC 7143 §12.1.3 bounds CHAP_C at 1024 bytes. */
    private static final int MAX_INITIATOR_CHALLENGE = 1024;
    /** Never challenge with less than 128 bits, even for MD5. */
    private static final int MIN_CHALLENGE = 16;

    private enum State { NEW, OFFERED, DONE }

    private final ChapAuthority authority;
    private final SecureRandom random;
    private final Set<ChapAlgorithm> allowed;

    private State state = State.NEW;
    private ChapAlgorithm algorithm;
    private int identifier;
    private byte[] challenge;
    private String user;

    /**
     * @param allowed which algorithms the target accepts; must not be empty
     */
    public TargetChap(ChapAuthority authority, SecureRandom random, Set<ChapAlgorithm> allowed) {
        this.authority = Objects.requireNonNull(authority, "authority");
        this.random = Objects.requireNonNull(random, "random");
        Objects.requireNonNull(allowed, "allowed");
        if (allowed.isEmpty()) {
            throw new IllegalArgumentException("at least one CHAP algorithm must be allowed");
        }
        this.allowed = EnumSet.copyOf(allowed);
    }

    /** A target that accepts all four algorithms. */
    public TargetChap(ChapAuthority authority, SecureRandom random) {
        this(authority, random, EnumSet.allOf(ChapAlgorithm.class));
    }

    /**
     * Step 1: the initiator sent {@code CHAP_A}, its algorithms in preference order. The first one
     * this target allows wins (RFC 7143 §6.2: the responder picks the first offered value it
     * supports), so entries that are not numbers or are unknown codes are passed over, not fatal.
     *
     * @return {@code CHAP_A}, {@code CHAP_I} and {@code CHAP_C}, in that order, or a failure
     */
    public ChapStep offer(String chapA) {
        if (state != State.NEW) {
            return fail(Reason.PROTOCOL_ERROR, "CHAP_A arrived after the algorithm was already negotiated");
        }
        if (chapA == null) {
            return fail(Reason.PROTOCOL_ERROR, "the initiator sent no CHAP_A");
        }
        Optional<ChapAlgorithm> chosen = Arrays.stream(chapA.split(",", -1))
                .map(item -> NumericValue.parse(item.strip(), Integer.MAX_VALUE))
                .flatMap(code -> ChapAlgorithm.fromCode(code).stream())
                .filter(allowed::contains)
                .findFirst();
        if (chosen.isEmpty()) {
            return fail(Reason.UNSUPPORTED_ALGORITHM, "the initiator offered no CHAP algorithm this target allows ("
                    + allowed.stream().map(a -> a + "=" + a.code()).collect(Collectors.joining(", ")) + ")");
        }
        algorithm = chosen.get();
        identifier = random.nextInt(256);
        // RFC 1994 §2.3: challenges must be unpredictable and never repeat; as long as the digest
        // they feed, so the response carries the full strength of the hash.
        challenge = new byte[Math.max(MIN_CHALLENGE, algorithm.digestLength())];
        random.nextBytes(challenge);
        state = State.OFFERED;

        LinkedHashMap<String, String> keys = new LinkedHashMap<>();
        keys.put("CHAP_A", Integer.toString(algorithm.code()));
        keys.put("CHAP_I", Integer.toString(identifier));
        keys.put("CHAP_C", BinaryValue.hex(challenge));
        return new Reply(keys);
    }

    /**
     * Step 2: the initiator sent {@code CHAP_N} and {@code CHAP_R}, and for mutual CHAP also
     * {@code CHAP_I} and {@code CHAP_C} (both or neither).
     *
     * @param chapI the initiator's identifier, decimal or {@code 0x} hex; null without mutual CHAP
     * @param chapC the initiator's challenge, a binary value; null without mutual CHAP
     * @return no keys for one-way CHAP, {@code CHAP_N} and {@code CHAP_R} for mutual, or a failure
     */
    public ChapStep verify(String chapN, String chapR, String chapI, String chapC) {
        if (state != State.OFFERED) {
            return fail(Reason.PROTOCOL_ERROR, state == State.NEW
                    ? "CHAP_N/CHAP_R arrived before CHAP_A was negotiated"
                    : "CHAP_N/CHAP_R arrived after the exchange had ended");
        }
        if (chapN == null || chapN.isEmpty()) {
            return fail(Reason.PROTOCOL_ERROR, "the initiator sent no CHAP_N");
        }
        if (chapR == null) {
            return fail(Reason.PROTOCOL_ERROR, "the initiator sent no CHAP_R");
        }
        if ((chapI == null) != (chapC == null)) {
            return fail(Reason.PROTOCOL_ERROR, "mutual CHAP needs both CHAP_I and CHAP_C");
        }
        byte[] response;
        try {
            response = BinaryValue.decode(chapR);
        } catch (IllegalArgumentException e) {
            return fail(Reason.PROTOCOL_ERROR, "CHAP_R: " + e.getMessage());
        }
        boolean mutual = chapI != null;
        int initiatorId = -1;
        byte[] initiatorChallenge = null;
        if (mutual) {
            initiatorId = NumericValue.parse(chapI, 255);
            if (initiatorId < 0) {
                return fail(Reason.PROTOCOL_ERROR, "CHAP_I is not a number in 0..255");
            }
            try {
                initiatorChallenge = BinaryValue.decode(chapC);
            } catch (IllegalArgumentException e) {
                return fail(Reason.PROTOCOL_ERROR, "CHAP_C: " + e.getMessage());
            }
            if (initiatorChallenge.length < 1 || initiatorChallenge.length > MAX_INITIATOR_CHALLENGE) {
                return fail(Reason.PROTOCOL_ERROR, "CHAP_C must be 1.." + MAX_INITIATOR_CHALLENGE + " bytes");
            }
            // RFC 7143 §12.1.3, RFC 1994 §5: answering our own challenge would let an attacker
            // replay our answer to us on a parallel login (reflection attack).
            if (Arrays.equals(initiatorChallenge, challenge)) {
                return fail(Reason.AUTHENTICATION_FAILED, "the initiator's CHAP_C repeats the target's challenge");
            }
        }

        Optional<ChapSecret> secret = authority.secretFor(chapN);
        if (secret.isEmpty()) {
            return fail(Reason.AUTHENTICATION_FAILED, "unknown CHAP user");
        }
        if (response.length != algorithm.digestLength()) {
            return fail(Reason.AUTHENTICATION_FAILED, "CHAP_R has " + response.length + " bytes, "
                    + algorithm + " responses have " + algorithm.digestLength());
        }
        byte[] expected = hash(identifier, secret.get(), challenge);
        // Constant time, so the comparison does not reveal how many leading bytes were right.
        if (!MessageDigest.isEqual(expected, response)) {
            return fail(Reason.AUTHENTICATION_FAILED, "CHAP_R does not match the user's secret");
        }
        if (!mutual) {
            return succeed(chapN, new LinkedHashMap<>());
        }
        // Only now, with the initiator proven, do we answer its challenge: never hand out a
        // response to an unauthenticated peer.
        Optional<ChapCredentials> mine = authority.mutualFor(chapN);
        if (mine.isEmpty()) {
            return fail(Reason.AUTHENTICATION_FAILED, "the initiator asked for mutual CHAP, which is not configured");
        }
        LinkedHashMap<String, String> keys = new LinkedHashMap<>();
        keys.put("CHAP_N", mine.get().user());
        keys.put("CHAP_R", BinaryValue.hex(hash(initiatorId, mine.get().secret(), initiatorChallenge)));
        return succeed(chapN, keys);
    }

    /** The CHAP_N the initiator proved, once {@link #verify} succeeded. */
    public Optional<String> authenticatedUser() {
        return Optional.ofNullable(user);
    }

    /** The algorithm {@link #offer} chose, once it succeeded. */
    public Optional<ChapAlgorithm> algorithm() {
        return Optional.ofNullable(algorithm);
    }

    private byte[] hash(int id, ChapSecret secret, byte[] chal) {
        byte[] secretBytes = secret.bytes();
        try {
            return algorithm.response(id, secretBytes, chal);
        } finally {
            Arrays.fill(secretBytes, (byte) 0); // keep the secret's copies short-lived
        }
    }

    private ChapStep succeed(String chapN, LinkedHashMap<String, String> keys) {
        state = State.DONE;
        user = chapN;
        return new Reply(keys);
    }

    private ChapStep fail(Reason reason, String message) {
        state = State.DONE;
        return new Failure(reason, message);
    }
}
