package dev.apiary.chap;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Objects;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;

/**
 * Seals small secrets (CHAP secrets, tokens) for storage with AES-256-GCM under the {@link
 * MasterKey}, so that a copy of the database alone reveals none of them.
 *
 * <p>A sealed value is unpadded base64url of {@code version (1) || nonce (12) || ciphertext || tag
 * (16)}. The nonce is 96 random bits, fresh per seal: NIST SP 800-38D §8.2.2 allows at most 2^32
 * random-nonce seals under one key, far beyond what a fleet's credentials will ever need. The tag is
 * the full 128 bits (SP 800-38D §5.2.1.2).
 *
 * <p>The caller's context (for example {@code "worker/7/chap"}) is authenticated as GCM additional
 * data together with the version byte, so a sealed value copied into another row or field does not
 * open there, and a value cannot be passed off as another format version.
 *
 * <p>Every failure to open is one {@link SealedValueException} whose message says only what was
 * structurally wrong; GCM cannot tell tampering from a wrong key or context, and neither do we.
 */
public final class SecretBox {
    /** The only format so far. */
    static final byte VERSION = 1;
    /** SP 800-38D §8.2: 96-bit IVs are the recommended, most efficient length. */
    static final int NONCE_BYTES = 12;
    static final int TAG_BYTES = 16;
    /** Secrets are small; the bound keeps a hostile stored value from costing much to reject. */
    static final int MAX_PLAINTEXT_BYTES = 64 * 1024;

    private static final int MIN_SEALED_BYTES = 1 + NONCE_BYTES + TAG_BYTES;
    private static final int MAX_SEALED_BYTES = MIN_SEALED_BYTES + MAX_PLAINTEXT_BYTES;
    private static final int MAX_SEALED_CHARS = (MAX_SEALED_BYTES * 4 + 2) / 3;
    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();

    private final MasterKey key;
    private final SecureRandom random;

    public SecretBox(MasterKey key) {
        this(key, new SecureRandom());
    }

    public SecretBox(MasterKey key, SecureRandom random) {
        this.key = Objects.requireNonNull(key, "key");
        this.random = Objects.requireNonNull(random, "random");
    }

    /**
     * Seals {@code plaintext} for the place named by {@code context}.
     *
     * @throws IllegalArgumentException if the plaintext is longer than 64 KiB
     */
    public String seal(byte[] plaintext, String context) {
        Objects.requireNonNull(plaintext, "plaintext");
        Objects.requireNonNull(context, "context");
        if (plaintext.length > MAX_PLAINTEXT_BYTES) {
            throw new IllegalArgumentException("can seal at most " + MAX_PLAINTEXT_BYTES + " bytes, got "
                    + plaintext.length);
        }
        byte[] nonce = new byte[NONCE_BYTES];
        random.nextBytes(nonce);
        try {
            Cipher cipher = cipher(Cipher.ENCRYPT_MODE, nonce, context);
            ByteBuffer out = ByteBuffer.allocate(1 + NONCE_BYTES + plaintext.length + TAG_BYTES);
            out.put(VERSION).put(nonce);
            cipher.doFinal(ByteBuffer.wrap(plaintext), out);
            return ENCODER.encodeToString(out.array());
        } catch (GeneralSecurityException e) {
            // AES/GCM/NoPadding is required of every JDK; failing here means a broken runtime.
            throw new IllegalStateException("AES-GCM sealing failed", e);
        }
    }

    /**
     * The plaintext of a value {@link #seal sealed} with the same key and context.
     *
     * @throws SealedValueException if the value is not well-formed, is of an unknown version, or
     *     does not authenticate (tampered, truncated, other key, other context)
     */
    public byte[] open(String sealed, String context) {
        Objects.requireNonNull(context, "context");
        if (sealed == null || sealed.length() > MAX_SEALED_CHARS) {
            throw new SealedValueException("sealed value is missing or too long");
        }
        byte[] raw;
        try {
            raw = Base64.getUrlDecoder().decode(sealed);
        } catch (IllegalArgumentException e) {
            throw new SealedValueException("sealed value is not unpadded base64url");
        }
        // The JDK decoder ignores padding and the unused low bits of the last character; insisting on
        // the one canonical spelling means any change to the stored text is refused, not just most.
        if (!ENCODER.encodeToString(raw).equals(sealed)) {
            throw new SealedValueException("sealed value is not unpadded base64url");
        }
        if (raw.length < MIN_SEALED_BYTES) {
            throw new SealedValueException("sealed value is too short");
        }
        if (raw[0] != VERSION) {
            throw new SealedValueException("sealed value has unknown format version " + (raw[0] & 0xff));
        }
        byte[] nonce = new byte[NONCE_BYTES];
        System.arraycopy(raw, 1, nonce, 0, NONCE_BYTES);
        try {
            Cipher cipher = cipher(Cipher.DECRYPT_MODE, nonce, context);
            return cipher.doFinal(raw, 1 + NONCE_BYTES, raw.length - 1 - NONCE_BYTES);
        } catch (GeneralSecurityException e) {
            // AEADBadTagException in practice. No cause attached: nothing about it helps a reader.
            throw new SealedValueException(
                    "sealed value does not authenticate: altered, or sealed with another key or context");
        }
    }

    private Cipher cipher(int mode, byte[] nonce, String context) throws GeneralSecurityException {
        // A new Cipher per call: instances are stateful and not thread-safe.
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(mode, key.aesKey(), new GCMParameterSpec(TAG_BYTES * 8, nonce));
        cipher.updateAAD(new byte[] {VERSION});
        cipher.updateAAD(context.getBytes(StandardCharsets.UTF_8));
        return cipher;
    }

    @Override
    public String toString() {
        return "SecretBox[" + key + "]";
    }

    /** A sealed value that cannot be opened. The message never holds key, plaintext or value. */
    public static final class SealedValueException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        SealedValueException(String message) {
            super(message);
        }
    }
}
