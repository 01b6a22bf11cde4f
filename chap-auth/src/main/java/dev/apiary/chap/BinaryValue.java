package dev.apiary.chap;

import java.util.Base64;
import java.util.HexFormat;
import java.util.Objects;

/**
 * RFC 7143 §6.1 binary values, as {@code CHAP_C} and {@code CHAP_R} carry them: {@code "0x"} or
 * {@code "0X"} followed by hex digits, or {@code "0b"} or {@code "0B"} followed by base64.
 *
 * <p>Hex with an odd number of digits has an implied leading zero nibble (RFC 7143 §6.1). Base64
 * uses the standard alphabet; padding is optional because encoders differ on it. Error messages
 * describe the problem but never echo the input: the input may be a CHAP response.
 */
public final class BinaryValue {
    /**
     * Far beyond any legitimate CHAP value (a 1024-byte challenge is 2050 hex characters); the
     * bound caps the work a peer can make us do.
     */
    static final int MAX_CHARS = 8192;

    private static final HexFormat HEX = HexFormat.of();

    private BinaryValue() {
    }

    /**
     * Decodes a hex or base64 binary value to its bytes.
     *
     * @throws IllegalArgumentException on empty input, a missing or unknown prefix, bad digits, no
     *     digits, or more than 8192 characters
     */
    public static byte[] decode(String text) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("binary value is empty");
        }
        if (text.length() > MAX_CHARS) {
            throw new IllegalArgumentException("binary value is longer than " + MAX_CHARS + " characters");
        }
        if (text.length() < 2 || text.charAt(0) != '0') {
            throw new IllegalArgumentException("binary value must start with 0x (hex) or 0b (base64)");
        }
        String digits = text.substring(2);
        return switch (text.charAt(1)) {
            case 'x', 'X' -> decodeHex(digits);
            case 'b', 'B' -> decodeBase64(digits);
            default -> throw new IllegalArgumentException("binary value must start with 0x (hex) or 0b (base64)");
        };
    }

    /** {@code "0x"} followed by lowercase hex, the form every initiator parses. */
    public static String hex(byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        return "0x" + HEX.formatHex(bytes);
    }

    private static byte[] decodeHex(String digits) {
        if (digits.isEmpty()) {
            throw new IllegalArgumentException("hex binary value has no digits after 0x");
        }
        for (int i = 0; i < digits.length(); i++) {
            // HexFormat.isHexDigit is ASCII-only, unlike Character.digit, which accepts e.g. fullwidth digits.
            if (!HexFormat.isHexDigit(digits.charAt(i))) {
                throw new IllegalArgumentException("hex binary value has a non-hex character at position " + (i + 2));
            }
        }
        return HEX.parseHex(digits.length() % 2 == 0 ? digits : "0" + digits);
    }

    private static byte[] decodeBase64(String digits) {
        if (digits.isEmpty()) {
            throw new IllegalArgumentException("base64 binary value has no digits after 0b");
        }
        byte[] bytes;
        try {
            // The basic decoder takes padding or its absence, and refuses anything outside the alphabet.
            bytes = Base64.getDecoder().decode(digits);
        } catch (IllegalArgumentException e) {
            // Not chained: the JDK's message may quote part of the input.
            throw new IllegalArgumentException("base64 binary value is malformed");
        }
        if (bytes.length == 0) {
            throw new IllegalArgumentException("base64 binary value holds no bytes");
        }
        return bytes;
    }
}
