package dev.apiary.chap;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * A CHAP secret: the UTF-8 bytes of a text between 12 and 255 bytes long.
 *
 * <p>RFC 7143 §12.1.3 requires that secrets shorter than 96 bits (12 bytes) be refused when CHAP is
 * used without IPsec, because short secrets fall to an offline dictionary attack on one captured
 * exchange. RFC 1994 sets no upper bound; 255 bytes is ours, so that configuration and memory stay
 * bounded. Secrets are kept as text because people type them into iPXE scripts and
 * {@code iscsid.conf}.
 *
 * <p>{@link #toString()} never shows the secret; only {@link #reveal()} does, on purpose.
 */
public final class ChapSecret {
    /** RFC 7143 §12.1.3: 96 bits. */
    static final int MIN_BYTES = 12;
    static final int MAX_BYTES = 255;
    /** 192 bits of randomness: comfortably above the 96-bit floor, and 32 characters to type. */
    static final int GENERATED_RANDOM_BYTES = 24;

    private final String text;
    private final byte[] bytes;

    private ChapSecret(String text, byte[] bytes) {
        this.text = text;
        this.bytes = bytes;
    }

    /**
     * A secret from its text.
     *
     * @throws IllegalArgumentException if its UTF-8 form is shorter than 12 or longer than 255
     *     bytes; the message states the rule, never the text
     */
    public static ChapSecret of(String text) {
        if (text == null) {
            throw new IllegalArgumentException("CHAP secret is missing");
        }
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        if (utf8.length < MIN_BYTES) {
            throw new IllegalArgumentException("CHAP secret is too short: RFC 7143 requires at least "
                    + MIN_BYTES + " bytes (96 bits), got " + utf8.length);
        }
        if (utf8.length > MAX_BYTES) {
            throw new IllegalArgumentException("CHAP secret is too long: at most " + MAX_BYTES
                    + " bytes, got " + utf8.length);
        }
        return new ChapSecret(text, utf8);
    }

    /**
     * A new secret of 24 random bytes written as unpadded base64url (32 characters), which survives
     * shells, iPXE scripts and config files without quoting.
     */
    public static ChapSecret generate(SecureRandom r) {
        Objects.requireNonNull(r, "random");
        byte[] raw = new byte[GENERATED_RANDOM_BYTES];
        r.nextBytes(raw);
        String text = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        Arrays.fill(raw, (byte) 0);
        return of(text);
    }

    /** The bytes CHAP hashes (UTF-8 of the text); a copy the caller may wipe. */
    public byte[] bytes() {
        return bytes.clone();
    }

    /** The secret's text, for the one place that must show it to a person (CLI or API). */
    public String reveal() {
        return text;
    }

    @Override
    public boolean equals(Object o) {
        // Constant-time anyway: equals on secrets should not become a timing oracle by accident.
        return o instanceof ChapSecret other && MessageDigest.isEqual(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return "ChapSecret[***]";
    }
}
