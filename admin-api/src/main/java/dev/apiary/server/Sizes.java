package dev.apiary.server;

import java.util.Locale;

/** Sizes as users write them: bytes, or a number with K, M, G or T (powers of 1024), like truncate(1). */
public final class Sizes {
    private Sizes() {}

    public static long parse(String text) {
        String s = text.trim().toUpperCase(Locale.ROOT);
        if (s.endsWith("IB")) {
            s = s.substring(0, s.length() - 2);
        } else if (s.endsWith("B") && s.length() > 1 && !Character.isDigit(s.charAt(s.length() - 2))) {
            s = s.substring(0, s.length() - 1);
        }
        int shift = 0;
        if (!s.isEmpty()) {
            switch (s.charAt(s.length() - 1)) {
                case 'K' -> shift = 10;
                case 'M' -> shift = 20;
                case 'G' -> shift = 30;
                case 'T' -> shift = 40;
                default -> shift = 0;
            }
        }
        if (shift > 0) {
            s = s.substring(0, s.length() - 1);
        }
        long v;
        try {
            v = Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size: '" + text + "' (use bytes or a number with K, M, G or T)");
        }
        if (v <= 0 || v > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("size out of range: '" + text + "'");
        }
        return v << shift;
    }
}
