package dev.apiary.iscsi.login;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The RFC 7143 §13 result functions, as the key table declares them. */
class LoginKeyTest {
    @Test
    void eachRuleGivesTheRfcResult() {
        assertThat(LoginKey.HEADER_DIGEST.answer("None,CRC32C", "CRC32C,None")).isEqualTo("None");
        assertThat(LoginKey.HEADER_DIGEST.answer("CRC32C", "CRC32C,None")).isEqualTo("CRC32C");
        assertThat(LoginKey.HEADER_DIGEST.answer("MD5", "CRC32C,None")).isEqualTo("Reject");
        assertThat(LoginKey.MAX_BURST_LENGTH.answer("262144", "1048576")).isEqualTo("262144");
        assertThat(LoginKey.MAX_BURST_LENGTH.answer("0x100", "1048576")).isEqualTo("Reject"); // under 512
        assertThat(LoginKey.DEFAULT_TIME2WAIT.answer("0", "2")).isEqualTo("2");
        assertThat(LoginKey.IMMEDIATE_DATA.answer("No", "Yes")).isEqualTo("No");
        assertThat(LoginKey.INITIAL_R2T.answer("Yes", "No")).isEqualTo("Yes");
        assertThat(LoginKey.INITIAL_R2T.answer("Maybe", "No")).isEqualTo("Reject");
        assertThat(LoginKey.ERROR_RECOVERY_LEVEL.answer("2", "0")).isEqualTo("0");
        assertThat(LoginKey.MAX_CONNECTIONS.answer("abc", "1")).isEqualTo("Reject");
    }

    @Test
    void negotiationAnswersUnknownKeysAndRefusesRenegotiation() {
        OperationalNegotiation n = new OperationalNegotiation(new EnumMap<>(LoginKey.class));
        Map<String, String> reply = new LinkedHashMap<>();
        assertThat(n.answer("X-com.example.Foo", "1", reply)).isTrue();
        assertThat(n.answer("MaxRecvDataSegmentLength", "65536", reply)).isTrue();
        assertThat(n.answer("FirstBurstLength", "2000000", reply)).isTrue();
        assertThat(n.answer("MaxBurstLength", "4096", reply)).isTrue();
        assertThat(n.answer("MaxBurstLength", "8192", reply)).as("a key negotiated twice").isFalse();
        assertThat(reply).containsEntry("X-com.example.Foo", "NotUnderstood")
                .containsEntry("MaxRecvDataSegmentLength", "262144") // the target declares its own
                .containsEntry("MaxBurstLength", "4096");
        SessionParams p = n.result();
        assertThat(p.initiatorMaxRecvDataSegmentLength()).isEqualTo(65536);
        assertThat(p.firstBurstLength()).as("clamped to MaxBurstLength (§13.14)").isEqualTo(4096);
        assertThat(p.immediateData()).isTrue();
        assertThat(p.initialR2T()).as("RFC default when never sent").isTrue();
    }
}
