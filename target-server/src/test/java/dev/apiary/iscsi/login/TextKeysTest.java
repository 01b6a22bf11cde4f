package dev.apiary.iscsi.login;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TextKeysTest {
    static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void parsesPairsInOrderAndRoundTrips() throws Exception {
        Map<String, String> keys = TextKeys.parse(text("InitiatorName=iqn.x\0AuthMethod=CHAP,None\0\0"));
        assertThat(keys).containsExactly(Map.entry("InitiatorName", "iqn.x"), Map.entry("AuthMethod", "CHAP,None"));
        assertThat(TextKeys.parse(TextKeys.encode(keys))).isEqualTo(keys);
        assertThat(TextKeys.parse(new byte[0])).isEmpty();
    }

    @Test
    void refusesMalformedText() {
        assertThatThrownBy(() -> TextKeys.parse(text("A=1"))).hasMessageContaining("NUL");
        assertThatThrownBy(() -> TextKeys.parse(text("A=1\0A=2\0"))).hasMessageContaining("twice");
        assertThatThrownBy(() -> TextKeys.parse(text("novalue\0"))).hasMessageContaining("'='");
        assertThatThrownBy(() -> TextKeys.parse(text("=x\0"))).hasMessageContaining("no key");
        assertThatThrownBy(() -> TextKeys.parse(text("k".repeat(64) + "=1\0"))).hasMessageContaining("key name");
        assertThatThrownBy(() -> TextKeys.parse(text("bad key=1\0"))).hasMessageContaining("key name");
        assertThatThrownBy(() -> TextKeys.parse(text("A=" + "v".repeat(8193) + "\0"))).hasMessageContaining("longer");
    }
}
