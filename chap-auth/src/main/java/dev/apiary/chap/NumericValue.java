package dev.apiary.chap;

import java.util.HexFormat;

/**
 * RFC 7143 §6.1 numeric values as CHAP needs them: a decimal-constant or a hex-constant
 * ({@code 0x..}), small enough for an {@code int}. Used for {@code CHAP_I} and {@code CHAP_A} items.
 */
final class NumericValue {
    /** Generous for any int, with room for leading zeros; longer text is not a number we want. */
    private static final int MAX_DIGITS = 16;

    private NumericValue() {
    }

    /** The value, or -1 if the text is not a number in 0..{@code max}. */
    static int parse(String text, int max) {
        if (text == null) {
            return -1;
        }
        boolean hex = text.length() > 2 && text.charAt(0) == '0' && (text.charAt(1) == 'x' || text.charAt(1) == 'X');
        String digits = hex ? text.substring(2) : text;
        if (digits.isEmpty() || digits.length() > MAX_DIGITS) {
            return -1;
        }
        long value = 0;
        for (int i = 0; i < digits.length(); i++) {
            char c = digits.charAt(i);
            // Explicit ASCII checks: Long.parseLong would accept signs and non-ASCII digits.
            if (hex ? !HexFormat.isHexDigit(c) : (c < '0' || c > '9')) {
                return -1;
            }
            value = value * (hex ? 16 : 10) + (hex ? HexFormat.fromHexDigit(c) : c - '0');
            if (value > max) {
                return -1; // checked per digit, so the long never overflows
            }
        }
        return (int) value;
    }
}
