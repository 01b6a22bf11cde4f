package dev.apiary.iscsi.login;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The key=value text format of Login and Text PDUs (RFC 7143 §6.1): UTF-8 pairs, each ended by a
 * NUL. Parsing enforces the RFC's limits so a hostile peer cannot make the target hold unbounded
 * text: key names up to 63 bytes of the allowed characters, values up to 8192 bytes, no key twice.
 */
public final class TextKeys {
    /** §6.1: "key-name ... MUST NOT exceed 63 bytes". */
    public static final int MAX_KEY = 63;
    /** §6.1: binary values (CHAP challenges) may be long; every other value is far shorter. */
    public static final int MAX_VALUE = 8192;

    private TextKeys() {}

    /** A malformed text segment; the message names what was wrong, never a value. */
    public static final class FormatException extends Exception {
        private static final long serialVersionUID = 1L;

        FormatException(String message) {
            super(message);
        }
    }

    public static LinkedHashMap<String, String> parse(byte[] text) throws FormatException {
        LinkedHashMap<String, String> keys = new LinkedHashMap<>();
        if (text.length == 0) {
            return keys;
        }
        if (text[text.length - 1] != 0) {
            // §6.1: every key=value pair, the last one included, ends with a NUL.
            throw new FormatException("text does not end with a NUL");
        }
        int start = 0;
        for (int i = 0; i < text.length; i++) {
            if (text[i] != 0) {
                continue;
            }
            if (i == start) {
                // Some initiators pad with extra NULs; an empty pair carries nothing.
                start = i + 1;
                continue;
            }
            String pair = new String(text, start, i - start, StandardCharsets.UTF_8);
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new FormatException("a key=value pair has no key or no '='");
            }
            String key = pair.substring(0, eq);
            String value = pair.substring(eq + 1);
            if (key.length() > MAX_KEY || !validKeyName(key)) {
                throw new FormatException("malformed key name");
            }
            if (value.getBytes(StandardCharsets.UTF_8).length > MAX_VALUE) {
                throw new FormatException("value of " + key + " is longer than " + MAX_VALUE + " bytes");
            }
            if (keys.put(key, value) != null) {
                // §6.1: "a key MUST NOT be sent more than once in a negotiation" (per request).
                throw new FormatException("key " + key + " sent twice");
            }
            start = i + 1;
        }
        return keys;
    }

    private static boolean validKeyName(String key) {
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '-' || c == '+' || c == '@' || c == '_' || c == '#';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    public static byte[] encode(Map<String, String> keys) {
        StringBuilder sb = new StringBuilder();
        keys.forEach((k, v) -> sb.append(k).append('=').append(v).append('\0'));
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }
}
