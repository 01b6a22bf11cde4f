package dev.apiary.chap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Base64;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BinaryValueTest {

    @Test
    void hexIsLowercaseWithPrefix() {
        assertThat(BinaryValue.hex(new byte[] {0x00, (byte) 0xAB, 0x7f})).isEqualTo("0x00ab7f");
    }

    @Test
    void hexRoundTrips() {
        Random r = new Random(42);
        for (int len = 1; len <= 64; len++) {
            byte[] b = new byte[len];
            r.nextBytes(b);
            assertThat(BinaryValue.decode(BinaryValue.hex(b))).isEqualTo(b);
        }
    }

    @Test
    void hexPrefixAndDigitsAreCaseInsensitive() {
        assertThat(BinaryValue.decode("0XABcd")).containsExactly(0xab, 0xcd);
        assertThat(BinaryValue.decode("0xabCD")).containsExactly(0xab, 0xcd);
    }

    @Test
    void oddHexHasImpliedLeadingZeroNibble() {
        assertThat(BinaryValue.decode("0xabc")).containsExactly(0x0a, 0xbc);
        assertThat(BinaryValue.decode("0x1")).containsExactly(0x01);
    }

    @Test
    void base64WithAndWithoutPadding() {
        byte[] b = {1, 2, 3, 4, (byte) 0xfe};
        String padded = Base64.getEncoder().encodeToString(b);
        assertThat(padded).endsWith("=");
        assertThat(BinaryValue.decode("0b" + padded)).isEqualTo(b);
        assertThat(BinaryValue.decode("0B" + padded.replace("=", ""))).isEqualTo(b);
    }

    @Test
    void base64UsesTheStandardAlphabet() {
        byte[] b = {(byte) 0xfb, (byte) 0xff}; // encodes to "+/8=" in the standard alphabet
        assertThat(BinaryValue.decode("0b+/8=")).isEqualTo(b);
        assertThatThrownBy(() -> BinaryValue.decode("0b-_8=")).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "0", "0x", "0b", "x12", "12", "ab", "0y12", "0x12g4", "0x 12", "0x12 ",
        "0x-1", "0xＡ1", "0b!!!!", "0bQ", "0bQQ=", "0b====", " 0x12"})
    void malformedInputIsRejected(String text) {
        assertThatThrownBy(() -> BinaryValue.decode(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("binary value");
    }

    @Test
    void nullIsRejected() {
        assertThatThrownBy(() -> BinaryValue.decode(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void lengthLimitIs8192Characters() {
        String atLimit = "0x" + "ab".repeat(4095);
        assertThat(atLimit).hasSize(8192);
        assertThat(BinaryValue.decode(atLimit)).hasSize(4095);
        assertThatThrownBy(() -> BinaryValue.decode(atLimit + "c"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("8192");
    }

    @Test
    void errorMessagesDoNotEchoTheInput() {
        String secretish = "0xdeadbeefcafe12zz";
        assertThatThrownBy(() -> BinaryValue.decode(secretish))
                .isInstanceOf(IllegalArgumentException.class)
                .message().doesNotContain("deadbeef");
        assertThatThrownBy(() -> BinaryValue.decode("0bZGVhZGJlZWY*"))
                .isInstanceOf(IllegalArgumentException.class)
                .message().doesNotContain("ZGVhZGJlZWY");
    }
}
