package dev.apiary.chap;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;

/**
 * The initiator's half of CHAP, written independently of {@link ChapAlgorithm#response} (its own
 * JCA names, its own hex parsing) so that exchange tests do not just check the code against itself.
 */
final class TestInitiator {
    private TestInitiator() {
    }

    static String jcaName(ChapAlgorithm a) {
        return switch (a.code()) {
            case 5 -> "MD5";
            case 6 -> "SHA-1";
            case 7 -> "SHA-256";
            case 8 -> "SHA3-256";
            default -> throw new AssertionError("unknown code " + a.code());
        };
    }

    static byte[] digest(ChapAlgorithm a, int id, String secret, byte[] challenge) {
        try {
            MessageDigest md = MessageDigest.getInstance(jcaName(a));
            md.update((byte) id);
            md.update(secret.getBytes(StandardCharsets.UTF_8));
            md.update(challenge);
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    static byte[] unhex(String value) {
        if (!value.startsWith("0x")) {
            throw new AssertionError("expected 0x hex, got " + value);
        }
        return HexFormat.of().parseHex(value.substring(2));
    }

    /** CHAP_R (as 0x hex) for the target's offer, given the secret the initiator holds. */
    static String respond(Map<String, String> offer, String secret) {
        ChapAlgorithm a = ChapAlgorithm.fromCode(Integer.parseInt(offer.get("CHAP_A"))).orElseThrow();
        int id = Integer.parseInt(offer.get("CHAP_I"));
        byte[] r = digest(a, id, secret, unhex(offer.get("CHAP_C")));
        return "0x" + HexFormat.of().formatHex(r);
    }

    /** A fixed in-memory authority: one user, optionally with mutual credentials. */
    record Authority(String user, String secret, ChapCredentials mutual) implements ChapAuthority {
        @Override
        public Optional<ChapSecret> secretFor(String name) {
            return user.equals(name) ? Optional.of(ChapSecret.of(secret)) : Optional.empty();
        }

        @Override
        public Optional<ChapCredentials> mutualFor(String name) {
            return user.equals(name) ? Optional.ofNullable(mutual) : Optional.empty();
        }
    }
}
