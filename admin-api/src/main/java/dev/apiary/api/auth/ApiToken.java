package dev.apiary.api.auth;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.Objects;

/**
 * Bearer tokens for the admin API: {@code apy_} followed by 32 random bytes as unpadded base64url
 * (47 characters in all).
 *
 * <p>256 bits of randomness put guessing out of reach, so a token needs no lockout of its own. The
 * prefix lets people and secret scanners recognise a leaked Apiary token at a glance. Tokens are
 * shown once, when created; only their {@link TokenHash} is stored.
 */
public final class ApiToken {
    public static final String PREFIX = "apy_";
    static final int RANDOM_BYTES = 32;

    private ApiToken() {
    }

    /** A new token. */
    public static String generate(SecureRandom random) {
        Objects.requireNonNull(random, "random");
        byte[] raw = new byte[RANDOM_BYTES];
        random.nextBytes(raw);
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    }
}
