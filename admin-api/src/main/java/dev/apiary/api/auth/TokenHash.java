package dev.apiary.api.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * API tokens as stored: Argon2id (RFC 9106) hashes in the PHC string format, for example
 * {@code $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>} with salt and hash in unpadded standard
 * base64, as the reference implementation and libsodium write them.
 *
 * <p>New hashes use m=19456 KiB, t=2, p=1: the minimum OWASP's Password Storage Cheat Sheet
 * recommends for Argon2id. Tokens are random, so the hash is mostly a second wall around a stolen
 * database, but one that costs nothing extra to keep standard.
 *
 * <p>{@link #matches} verifies with whatever parameters the stored string names, so the defaults
 * can be raised later, but only within bounds: a tampered database must not be able to make every
 * API call allocate gigabytes or loop for minutes. Any malformed or out-of-bounds string simply does
 * not match.
 */
public final class TokenHash {
    /** OWASP Password Storage Cheat Sheet, Argon2id minimum: 19 MiB of memory. */
    static final int MEMORY_KIB = 19 * 1024;
    /** OWASP: two passes with 19 MiB. */
    static final int ITERATIONS = 2;
    /** OWASP: one lane. */
    static final int PARALLELISM = 1;
    /** RFC 9106 §3.1: 16 bytes is the salt length recommended for password hashing. */
    static final int SALT_BYTES = 16;
    /** RFC 9106 §4: a 256-bit tag is enough for all applications. */
    static final int HASH_BYTES = 32;

    // Limits on what a stored string may ask for. 1 GiB and 10 passes are far above any default.
    static final int MAX_MEMORY_KIB = 1024 * 1024;
    static final int MAX_ITERATIONS = 10;
    static final int MAX_PARALLELISM = 16;
    static final int MIN_SALT_BYTES = 8;
    static final int MAX_SALT_BYTES = 64;
    static final int MIN_HASH_BYTES = 16;
    static final int MAX_HASH_BYTES = 64;

    /** Argon2 version 1.3 (0x13), the one RFC 9106 specifies. */
    private static final int VERSION = Argon2Parameters.ARGON2_VERSION_13;

    // Digits capped at 9 so that parsing cannot overflow an int; salt and hash are bounded too.
    private static final Pattern PHC = Pattern.compile(
            "\\$argon2id\\$v=(\\d{1,9})\\$m=(\\d{1,9}),t=(\\d{1,9}),p=(\\d{1,9})"
                    + "\\$([A-Za-z0-9+/]{1,128})\\$([A-Za-z0-9+/]{1,128})");
    private static final Base64.Encoder B64 = Base64.getEncoder().withoutPadding();

    private TokenHash() {
    }

    /** A fresh PHC string for {@code token}, with a new random salt. */
    public static String hash(String token, SecureRandom random) {
        Objects.requireNonNull(token, "token");
        Objects.requireNonNull(random, "random");
        byte[] salt = new byte[SALT_BYTES];
        random.nextBytes(salt);
        byte[] hash = argon2id(token.getBytes(StandardCharsets.UTF_8), salt, null, null,
                MEMORY_KIB, ITERATIONS, PARALLELISM, HASH_BYTES);
        return "$argon2id$v=" + VERSION + "$m=" + MEMORY_KIB + ",t=" + ITERATIONS + ",p=" + PARALLELISM
                + "$" + B64.encodeToString(salt) + "$" + B64.encodeToString(hash);
    }

    /**
     * Whether {@code token} is the one {@code phc} was made from. False, never an exception, for a
     * null token, a malformed string or parameters out of bounds.
     */
    public static boolean matches(String token, String phc) {
        if (token == null || phc == null) {
            return false;
        }
        Matcher m = PHC.matcher(phc);
        if (!m.matches()) {
            return false;
        }
        int version = Integer.parseInt(m.group(1));
        int memory = Integer.parseInt(m.group(2));
        int iterations = Integer.parseInt(m.group(3));
        int parallelism = Integer.parseInt(m.group(4));
        byte[] salt = decode(m.group(5));
        byte[] expected = decode(m.group(6));
        if (version != VERSION || salt == null || expected == null
                || iterations < 1 || iterations > MAX_ITERATIONS
                || parallelism < 1 || parallelism > MAX_PARALLELISM
                // RFC 9106 §3.1: m must be at least 8p KiB.
                || memory < 8 * parallelism || memory > MAX_MEMORY_KIB
                || salt.length < MIN_SALT_BYTES || salt.length > MAX_SALT_BYTES
                || expected.length < MIN_HASH_BYTES || expected.length > MAX_HASH_BYTES) {
            return false;
        }
        byte[] actual = argon2id(token.getBytes(StandardCharsets.UTF_8), salt, null, null,
                memory, iterations, parallelism, expected.length);
        // Constant time, so response timing says nothing about how much of the hash matched.
        return MessageDigest.isEqual(actual, expected);
    }

    /** Raw Argon2id (RFC 9106 §3), with the optional secret and associated data of §3.1. */
    static byte[] argon2id(byte[] password, byte[] salt, byte[] secret, byte[] associated,
            int memoryKib, int iterations, int parallelism, int length) {
        Argon2Parameters.Builder b = new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
                .withVersion(VERSION)
                .withMemoryAsKB(memoryKib)
                .withIterations(iterations)
                .withParallelism(parallelism)
                .withSalt(salt);
        if (secret != null) {
            b.withSecret(secret);
        }
        if (associated != null) {
            b.withAdditional(associated);
        }
        Argon2BytesGenerator gen = new Argon2BytesGenerator();
        gen.init(b.build());
        byte[] out = new byte[length];
        gen.generateBytes(password, out);
        return out;
    }

    /** Unpadded standard base64 in its one canonical spelling, or null. */
    private static byte[] decode(String text) {
        try {
            byte[] raw = Base64.getDecoder().decode(text);
            return B64.encodeToString(raw).equals(text) ? raw : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
