package dev.apiary.chap;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A CHAP user name ({@code CHAP_N}) and its secret.
 *
 * <p>The name travels as an iSCSI text value (RFC 7143 §6.1, §12.1.3), so it may contain neither
 * NUL, which ends a key=value pair, nor '=', the key/value separator of iSCSI text and of initiator
 * config files. 255 bytes is this project's bound; it fits any iSCSI name (RFC 7143 caps those at
 * 223 bytes), the usual choice of CHAP name.
 *
 * @param user the CHAP name, 1..255 UTF-8 bytes
 * @param secret the secret proved under that name
 */
public record ChapCredentials(String user, ChapSecret secret) {
    static final int MAX_USER_BYTES = 255;

    public ChapCredentials {
        Objects.requireNonNull(secret, "secret");
        if (user == null || user.isEmpty()) {
            throw new IllegalArgumentException("CHAP user name must not be empty");
        }
        if (user.getBytes(StandardCharsets.UTF_8).length > MAX_USER_BYTES) {
            throw new IllegalArgumentException("CHAP user name must be at most " + MAX_USER_BYTES + " bytes");
        }
        if (user.indexOf('\0') >= 0 || user.indexOf('=') >= 0) {
            throw new IllegalArgumentException("CHAP user name must not contain NUL or '='");
        }
    }

    @Override
    public String toString() {
        return "ChapCredentials[user=" + user + ", secret=***]";
    }
}
