package dev.apiary.api.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ApiTokenTest {

    @Test
    void isPrefixAndThirtyTwoBytesOfUnpaddedBase64url() {
        String token = ApiToken.generate(new SecureRandom());
        assertThat(token).startsWith("apy_").hasSize(4 + 43).matches("apy_[A-Za-z0-9_-]{43}");
        assertThat(Base64.getUrlDecoder().decode(token.substring(4))).hasSize(32);
    }

    @Test
    void encodesExactlyTheRandomBytes() {
        // A SecureRandom that hands out 0xff: the encoding must be base64url ('_'), unpadded.
        SecureRandom ones = new SecureRandom() {
            @Override
            public void nextBytes(byte[] bytes) {
                java.util.Arrays.fill(bytes, (byte) 0xff);
            }
        };
        assertThat(ApiToken.generate(ones)).isEqualTo("apy_" + "_".repeat(42) + "8");
    }

    @Test
    void tokensDiffer() {
        SecureRandom r = new SecureRandom();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            assertThat(seen.add(ApiToken.generate(r))).isTrue();
        }
    }

    @Test
    void needsARandomSource() {
        assertThatThrownBy(() -> ApiToken.generate(null)).isInstanceOf(NullPointerException.class);
    }
}
