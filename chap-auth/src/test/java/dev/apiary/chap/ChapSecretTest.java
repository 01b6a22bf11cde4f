package dev.apiary.chap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ChapSecretTest {

    @Test
    void twelveBytesIsTheMinimum() {
        assertThat(ChapSecret.of("abcdefghijkl").bytes()).hasSize(12);
        assertThatThrownBy(() -> ChapSecret.of("abcdefghijk"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("12")
                .message().doesNotContain("abcdefghijk");
    }

    @Test
    void lengthIsCountedInUtf8Bytes() {
        // Six two-byte characters: 6 chars but 12 bytes, which is enough.
        assertThat(ChapSecret.of("éééééé").bytes()).hasSize(12);
        assertThatThrownBy(() -> ChapSecret.of("ééééé")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void twoHundredFiftyFiveBytesIsTheMaximum() {
        assertThat(ChapSecret.of("s".repeat(255)).bytes()).hasSize(255);
        assertThatThrownBy(() -> ChapSecret.of("s".repeat(256)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("255")
                .message().doesNotContain("ssssssssssss");
    }

    @Test
    void nullIsRejected() {
        assertThatThrownBy(() -> ChapSecret.of(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void bytesAreUtf8AndACopy() {
        ChapSecret s = ChapSecret.of("secretsecret12");
        byte[] b = s.bytes();
        assertThat(b).isEqualTo("secretsecret12".getBytes(StandardCharsets.UTF_8));
        b[0] = 'X';
        assertThat(s.bytes()[0]).isEqualTo((byte) 's');
        assertThat(s.reveal()).isEqualTo("secretsecret12");
    }

    @Test
    void toStringNeverShowsTheSecret() {
        ChapSecret s = ChapSecret.of("hunter2hunter2");
        assertThat(s.toString()).isEqualTo("ChapSecret[***]").doesNotContain("hunter2");
    }

    @Test
    void equalityFollowsTheBytes() {
        assertThat(ChapSecret.of("secretsecret12")).isEqualTo(ChapSecret.of("secretsecret12"))
                .hasSameHashCodeAs(ChapSecret.of("secretsecret12"))
                .isNotEqualTo(ChapSecret.of("secretsecret13"));
    }

    @Test
    void generatedSecretsAreTypeableAndCarry24RandomBytes() throws Exception {
        ChapSecret s = ChapSecret.generate(new SecureRandom());
        assertThat(s.reveal()).hasSize(32).matches("[A-Za-z0-9_-]+");
        assertThat(Base64.getUrlDecoder().decode(s.reveal())).hasSizeGreaterThanOrEqualTo(16).hasSize(24);
        assertThat(s.bytes()).hasSizeBetween(12, 255);
    }

    @Test
    void generatedSecretIsExactlyTheRandomBytesDrawn() throws Exception {
        // Two identically seeded PRNGs: the secret must encode the generator's bytes, not a constant
        // or a low-entropy derivative of them.
        SecureRandom a = SecureRandom.getInstance("SHA1PRNG");
        a.setSeed(1234L);
        SecureRandom b = SecureRandom.getInstance("SHA1PRNG");
        b.setSeed(1234L);
        byte[] expected = new byte[24];
        b.nextBytes(expected);
        assertThat(Base64.getUrlDecoder().decode(ChapSecret.generate(a).reveal())).isEqualTo(expected);
    }

    @Test
    void generatedSecretsDiffer() {
        SecureRandom r = new SecureRandom();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            assertThat(seen.add(ChapSecret.generate(r).reveal())).isTrue();
        }
    }

    @Test
    void credentialsValidateTheUserName() {
        ChapSecret s = ChapSecret.of("secretsecret12");
        assertThat(new ChapCredentials("iqn.2024-01.dev.apiary:worker-1", s).user())
                .isEqualTo("iqn.2024-01.dev.apiary:worker-1");
        assertThat(new ChapCredentials("u".repeat(255), s).user()).hasSize(255);
        assertThatThrownBy(() -> new ChapCredentials("", s)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ChapCredentials(null, s)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ChapCredentials("u".repeat(256), s)).isInstanceOf(IllegalArgumentException.class);
        // 128 two-byte characters: under 255 characters but 256 bytes.
        assertThatThrownBy(() -> new ChapCredentials("é".repeat(128), s)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ChapCredentials("a=b", s)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ChapCredentials("a\0b", s)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ChapCredentials("target", null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void credentialsToStringMasksTheSecret() {
        ChapCredentials c = new ChapCredentials("target", ChapSecret.of("hunter2hunter2"));
        assertThat(c.toString()).contains("target").contains("***").doesNotContain("hunter2");
    }
}
