package dev.apiary.chap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class ChapAlgorithmTest {
    private static final byte[] CHALLENGE = new byte[16];

    static {
        for (int i = 0; i < CHALLENGE.length; i++) {
            CHALLENGE[i] = (byte) i;
        }
    }

    private static final byte[] SECRET = "secretsecret12".getBytes(StandardCharsets.UTF_8);

    /*
     * Vectors computed once outside Java, over identifier 1, secret "secretsecret12", challenge 00..0f:
     *   printf '\x01secretsecret12\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f' | md5sum
     *   (same input) | openssl dgst -md5 | -sha1 | -sha256 | -sha3-256
     */
    private static final String MD5_VECTOR = "c69b78dc6ac14bd854fdade1fcb18a77";
    private static final String SHA1_VECTOR = "65e4245e0c9956bf68ad0521e81eb2e742064598";
    private static final String SHA256_VECTOR = "5d16fcb2f22bd26fb851f29bc90b8fd75a0b57441c9bde26b53c1c1eac454004";
    private static final String SHA3_256_VECTOR = "83e86026dd2eec769596b20f029b11bba8aef7ba2f92ed95fc3e358bedc41aa8";

    @Test
    void md5KnownAnswerMatchesManualDigestAndCommandLineVector() throws Exception {
        MessageDigest md = MessageDigest.getInstance("MD5");
        md.update((byte) 1);
        md.update(SECRET);
        md.update(CHALLENGE);
        byte[] manual = md.digest();

        byte[] actual = ChapAlgorithm.MD5.response(1, SECRET, CHALLENGE);

        assertThat(actual).isEqualTo(manual);
        assertThat(HexFormat.of().formatHex(actual)).isEqualTo(MD5_VECTOR);
    }

    @Test
    void otherAlgorithmsMatchCommandLineVectors() {
        assertThat(hex(ChapAlgorithm.SHA1.response(1, SECRET, CHALLENGE))).isEqualTo(SHA1_VECTOR);
        assertThat(hex(ChapAlgorithm.SHA256.response(1, SECRET, CHALLENGE))).isEqualTo(SHA256_VECTOR);
        assertThat(hex(ChapAlgorithm.SHA3_256.response(1, SECRET, CHALLENGE))).isEqualTo(SHA3_256_VECTOR);
    }

    @Test
    void identifierIsPartOfTheHash() {
        assertThat(ChapAlgorithm.MD5.response(2, SECRET, CHALLENGE))
                .isNotEqualTo(ChapAlgorithm.MD5.response(1, SECRET, CHALLENGE));
        // 255 must hash as the byte 0xff, not be rejected as a negative byte.
        assertThat(ChapAlgorithm.MD5.response(255, SECRET, CHALLENGE))
                .isEqualTo(TestInitiator.digest(ChapAlgorithm.MD5, 255, "secretsecret12", CHALLENGE));
    }

    @Test
    void identifierOutsideOneOctetIsRejected() {
        assertThatThrownBy(() -> ChapAlgorithm.MD5.response(256, SECRET, CHALLENGE))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ChapAlgorithm.MD5.response(-1, SECRET, CHALLENGE))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void codesAndDigestLengths() {
        assertThat(ChapAlgorithm.MD5.code()).isEqualTo(5);
        assertThat(ChapAlgorithm.SHA1.code()).isEqualTo(6);
        assertThat(ChapAlgorithm.SHA256.code()).isEqualTo(7);
        assertThat(ChapAlgorithm.SHA3_256.code()).isEqualTo(8);
        assertThat(ChapAlgorithm.MD5.digestLength()).isEqualTo(16);
        assertThat(ChapAlgorithm.SHA1.digestLength()).isEqualTo(20);
        assertThat(ChapAlgorithm.SHA256.digestLength()).isEqualTo(32);
        assertThat(ChapAlgorithm.SHA3_256.digestLength()).isEqualTo(32);
    }

    @Test
    void fromCode() {
        for (ChapAlgorithm a : ChapAlgorithm.values()) {
            assertThat(ChapAlgorithm.fromCode(a.code())).contains(a);
        }
        assertThat(ChapAlgorithm.fromCode(0)).isEmpty();
        assertThat(ChapAlgorithm.fromCode(4)).isEmpty();
        assertThat(ChapAlgorithm.fromCode(99)).isEmpty();
        assertThat(ChapAlgorithm.fromCode(-5)).isEmpty();
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
