package dev.apiary.chap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.apiary.chap.SecretBox.SealedValueException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretBoxTest {
    private static final String CONTEXT = "worker/7/chap";
    private static final byte[] SECRET = "hunter2hunter2-secret".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    private SecretBox box;

    @BeforeEach
    void setUp() {
        box = new SecretBox(MasterKey.loadOrCreate(dir.resolve("master.key")));
    }

    @Test
    void roundTrip() {
        assertThat(box.open(box.seal(SECRET, CONTEXT), CONTEXT)).isEqualTo(SECRET);
    }

    @Test
    void roundTripOfEmptyAndLargestPlaintexts() {
        assertThat(box.open(box.seal(new byte[0], CONTEXT), CONTEXT)).isEmpty();
        byte[] big = new byte[SecretBox.MAX_PLAINTEXT_BYTES];
        big[big.length - 1] = 42;
        assertThat(box.open(box.seal(big, CONTEXT), CONTEXT)).isEqualTo(big);
        assertThatThrownBy(() -> box.seal(new byte[SecretBox.MAX_PLAINTEXT_BYTES + 1], CONTEXT))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aNewBoxOnTheSameKeyFileOpensWhatTheOldOneSealed() {
        String sealed = box.seal(SECRET, CONTEXT);
        SecretBox again = new SecretBox(MasterKey.loadOrCreate(dir.resolve("master.key")));
        assertThat(again.open(sealed, CONTEXT)).isEqualTo(SECRET);
    }

    @Test
    void formatIsVersionNonceCiphertextTagInUnpaddedBase64url() {
        String sealed = box.seal(SECRET, CONTEXT);
        assertThat(sealed).matches("[A-Za-z0-9_-]+");
        byte[] raw = Base64.getUrlDecoder().decode(sealed);
        assertThat(raw).hasSize(1 + 12 + SECRET.length + 16);
        assertThat(raw[0]).isEqualTo((byte) 1);
        assertThat(new String(raw, StandardCharsets.ISO_8859_1)).doesNotContain("hunter2");
    }

    @Test
    void twoSealsOfTheSamePlaintextDiffer() {
        Set<String> seen = new HashSet<>();
        Set<String> nonces = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            String sealed = box.seal(SECRET, CONTEXT);
            assertThat(seen.add(sealed)).isTrue();
            byte[] raw = Base64.getUrlDecoder().decode(sealed);
            assertThat(nonces.add(Base64.getEncoder().encodeToString(java.util.Arrays.copyOfRange(raw, 1, 13))))
                    .isTrue();
        }
    }

    @Test
    void everySingleBitFlipOfTheSealedBytesIsRejected() {
        String sealed = box.seal(SECRET, CONTEXT);
        byte[] raw = Base64.getUrlDecoder().decode(sealed);
        for (int bit = 0; bit < raw.length * 8; bit++) {
            byte[] flipped = raw.clone();
            flipped[bit / 8] ^= (byte) (1 << (bit % 8));
            String tampered = Base64.getUrlEncoder().withoutPadding().encodeToString(flipped);
            int b = bit;
            assertThatThrownBy(() -> box.open(tampered, CONTEXT)).as("bit %d", b)
                    .isInstanceOf(SealedValueException.class);
        }
    }

    @Test
    void everySingleBitFlipOfTheStoredTextIsRejected() {
        // Includes flips that only touch the unused low bits of the last base64 character.
        String sealed = box.seal(SECRET, CONTEXT);
        for (int i = 0; i < sealed.length(); i++) {
            for (int bit = 0; bit < 8; bit++) {
                char[] chars = sealed.toCharArray();
                chars[i] ^= (char) (1 << bit);
                String tampered = new String(chars);
                String what = "char " + i + " bit " + bit;
                assertThatThrownBy(() -> box.open(tampered, CONTEXT)).as(what)
                        .isInstanceOf(SealedValueException.class);
            }
        }
    }

    @Test
    void wrongContextIsRejected() {
        String sealed = box.seal(SECRET, "worker/7/chap");
        for (String other : new String[] {"worker/8/chap", "worker/7/chap-mutual", "worker/7/cha", "", "WORKER/7/CHAP"}) {
            assertThatThrownBy(() -> box.open(sealed, other)).as(other)
                    .isInstanceOf(SealedValueException.class)
                    .hasMessageContaining("does not authenticate");
        }
    }

    @Test
    void wrongKeyIsRejected() {
        String sealed = box.seal(SECRET, CONTEXT);
        SecretBox other = new SecretBox(MasterKey.loadOrCreate(dir.resolve("other.key")));
        assertThatThrownBy(() -> other.open(sealed, CONTEXT))
                .isInstanceOf(SealedValueException.class)
                .hasMessageContaining("does not authenticate");
    }

    @Test
    void everyTruncationIsRejected() {
        String sealed = box.seal(SECRET, CONTEXT);
        for (int len = 0; len < sealed.length(); len++) {
            String cut = sealed.substring(0, len);
            assertThatThrownBy(() -> box.open(cut, CONTEXT)).as("length %d", len)
                    .isInstanceOf(SealedValueException.class);
        }
        byte[] raw = Base64.getUrlDecoder().decode(sealed);
        for (int len = 0; len < raw.length; len++) {
            String cut = Base64.getUrlEncoder().withoutPadding().encodeToString(java.util.Arrays.copyOf(raw, len));
            assertThatThrownBy(() -> box.open(cut, CONTEXT)).as("bytes %d", len)
                    .isInstanceOf(SealedValueException.class);
        }
    }

    @Test
    void appendedBytesAreRejected() {
        String sealed = box.seal(SECRET, CONTEXT);
        byte[] raw = Base64.getUrlDecoder().decode(sealed);
        byte[] longer = java.util.Arrays.copyOf(raw, raw.length + 1);
        assertThatThrownBy(() -> box.open(Base64.getUrlEncoder().withoutPadding().encodeToString(longer), CONTEXT))
                .isInstanceOf(SealedValueException.class);
    }

    @Test
    void garbageIsRejectedWithoutEchoingIt() {
        String[] garbage = {
            "", "A", "====", "not base64!", "AAAA====", "a+b/c", "\u00e9\u00e9\u00e9\u00e9", " ",
            "AQ", "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",  // padded
            "A".repeat(1_000_000),
        };
        for (String g : garbage) {
            assertThatThrownBy(() -> box.open(g, CONTEXT)).as(g.length() > 40 ? "long" : g)
                    .isInstanceOf(SealedValueException.class)
                    .message().doesNotContain(g.isBlank() ? "\u0000" : g);
        }
        assertThatThrownBy(() -> box.open(null, CONTEXT)).isInstanceOf(SealedValueException.class);
    }

    @Test
    void otherVersionsAreRejected() {
        String sealed = box.seal(SECRET, CONTEXT);
        byte[] raw = Base64.getUrlDecoder().decode(sealed);
        for (int v : new int[] {0, 2, 0x81, 0xff}) {
            raw[0] = (byte) v;
            String other = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
            assertThatThrownBy(() -> box.open(other, CONTEXT))
                    .isInstanceOf(SealedValueException.class)
                    .hasMessageContaining("version " + v);
        }
    }

    @Test
    void failureMessagesRevealNothingSecret() {
        String sealed = box.seal(SECRET, CONTEXT);
        String tampered = sealed.substring(0, sealed.length() - 2) + (sealed.endsWith("AA") ? "BA" : "AA");
        assertThatThrownBy(() -> box.open(tampered, "worker/9/chap"))
                .isInstanceOf(SealedValueException.class)
                .hasNoCause()
                .message()
                .doesNotContain(sealed)
                .doesNotContain(tampered)
                .doesNotContain("hunter2")
                .doesNotContain("worker/");
        assertThat(box.toString()).doesNotContain("hunter2").contains("***");
    }
}
