package dev.apiary.chap;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Objects;
import java.util.Optional;

/**
 * The CHAP hash algorithms a target may negotiate through {@code CHAP_A} (RFC 7143 §12.1.3).
 *
 * <p>MD5 (5) is the only code RFC 7143 itself names and the only one libiscsi and iPXE speak; the
 * others are the IANA "PPP Authentication Algorithms" codes that newer open-iscsi offers first.
 * Every algorithm is used the same way: RFC 1994 §4.1 hashes the identifier, the secret and the
 * challenge, in that order.
 */
public enum ChapAlgorithm {
    MD5(5, "MD5"),
    SHA1(6, "SHA-1"),
    SHA256(7, "SHA-256"),
    SHA3_256(8, "SHA3-256");

    private final int code;
    private final String jcaName;
    private final int digestLength;

    ChapAlgorithm(int code, String jcaName) {
        this.code = code;
        this.jcaName = jcaName;
        // Asked of the JDK rather than hard-coded, so a wrong constant cannot creep in.
        this.digestLength = newDigest(jcaName).getDigestLength();
    }

    /** The {@code CHAP_A} value. */
    public int code() {
        return code;
    }

    /** Length in bytes of a response: 16, 20, 32 and 32. */
    public int digestLength() {
        return digestLength;
    }

    /** The algorithm with this {@code CHAP_A} value, if this package knows it. */
    public static Optional<ChapAlgorithm> fromCode(int code) {
        for (ChapAlgorithm a : values()) {
            if (a.code == code) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }

    /**
     * RFC 1994 §4.1: H(identifier byte || secret || challenge).
     *
     * @param identifier the one-octet CHAP identifier, 0..255
     * @throws IllegalArgumentException if the identifier does not fit in one octet
     */
    public byte[] response(int identifier, byte[] secret, byte[] challenge) {
        Objects.requireNonNull(secret, "secret");
        Objects.requireNonNull(challenge, "challenge");
        if (identifier < 0 || identifier > 255) {
            throw new IllegalArgumentException("CHAP identifier must be 0..255, got " + identifier);
        }
        // A fresh MessageDigest per call: they are stateful and not thread-safe.
        MessageDigest md = newDigest(jcaName);
        md.update((byte) identifier);
        md.update(secret);
        md.update(challenge);
        return md.digest();
    }

    private static MessageDigest newDigest(String jcaName) {
        try {
            return MessageDigest.getInstance(jcaName);
        } catch (NoSuchAlgorithmException e) {
            // The JDK's SUN provider has all four since Java 9; missing one is a broken runtime.
            throw new IllegalStateException("JDK lacks message digest " + jcaName, e);
        }
    }
}
