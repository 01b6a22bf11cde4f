package dev.apiary.chap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.apiary.chap.ChapStep.Failure;
import dev.apiary.chap.ChapStep.Reason;
import dev.apiary.chap.ChapStep.Reply;
import java.security.SecureRandom;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Step 1: choosing CHAP_A, and the freshness of identifier and challenge. */
class TargetChapNegotiationTest {
    private static final ChapAuthority AUTHORITY = new TestInitiator.Authority("user", "initiator-secret-1", null);

    private static TargetChap target() {
        return new TargetChap(AUTHORITY, new SecureRandom());
    }

    private static ChapAlgorithm chosen(ChapStep step) {
        assertThat(step).isInstanceOf(Reply.class);
        return ChapAlgorithm.fromCode(Integer.parseInt(((Reply) step).keys().get("CHAP_A"))).orElseThrow();
    }

    @ParameterizedTest(name = "CHAP_A={0} -> {1}")
    @CsvSource(delimiter = ';', value = {
        "5; MD5",                 // libiscsi, iPXE
        "7,6,5; SHA256",          // open-iscsi
        "8,7,6,5; SHA3_256",      // newer open-iscsi
        "5,7; MD5",               // the initiator's order wins, not ours
        "foo,7; SHA256",          // garbage is skipped
        "99,6; SHA1",             // unknown codes are skipped
        "' 7 , 5'; SHA256",       // stray whitespace tolerated
        "0x7,5; SHA256",          // RFC 7143 numbers may be hex
        ",,5; MD5",               // empty items are skipped
    })
    void picksTheInitiatorsFirstAllowedChoice(String chapA, ChapAlgorithm expected) {
        TargetChap t = target();
        assertThat(chosen(t.offer(chapA))).isEqualTo(expected);
        assertThat(t.algorithm()).contains(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "99", "foo", "None", "Reject", "-5", "5x", ",", "4,9,200"})
    void noUsableAlgorithmIsUnsupported(String chapA) {
        TargetChap t = target();
        ChapStep step = t.offer(chapA);
        assertThat(step).isInstanceOf(Failure.class);
        assertThat(((Failure) step).reason()).isEqualTo(Reason.UNSUPPORTED_ALGORITHM);
        assertThat(t.algorithm()).isEmpty();
        // After a failed negotiation the exchange is over.
        assertThat(((Failure) t.verify("user", "0x00", null, null)).reason()).isEqualTo(Reason.PROTOCOL_ERROR);
    }

    @Test
    void missingChapAIsAProtocolError() {
        assertThat(((Failure) target().offer(null)).reason()).isEqualTo(Reason.PROTOCOL_ERROR);
    }

    @Test
    void offerTwiceIsAProtocolError() {
        TargetChap t = target();
        assertThat(t.offer("5")).isInstanceOf(Reply.class);
        assertThat(((Failure) t.offer("5")).reason()).isEqualTo(Reason.PROTOCOL_ERROR);
    }

    @Test
    void allowedSubsetIsRespected() {
        TargetChap strong = new TargetChap(AUTHORITY, new SecureRandom(),
                EnumSet.of(ChapAlgorithm.SHA256, ChapAlgorithm.SHA3_256));
        assertThat(((Failure) strong.offer("5")).reason()).isEqualTo(Reason.UNSUPPORTED_ALGORITHM);

        TargetChap strong2 = new TargetChap(AUTHORITY, new SecureRandom(),
                EnumSet.of(ChapAlgorithm.SHA256, ChapAlgorithm.SHA3_256));
        assertThat(chosen(strong2.offer("5,6,7"))).isEqualTo(ChapAlgorithm.SHA256);

        TargetChap md5Only = new TargetChap(AUTHORITY, new SecureRandom(), Set.of(ChapAlgorithm.MD5));
        assertThat(chosen(md5Only.offer("8,7,6,5"))).isEqualTo(ChapAlgorithm.MD5);
    }

    @Test
    void allowedSetIsCopiedAndMustNotBeEmpty() {
        Set<ChapAlgorithm> allowed = EnumSet.of(ChapAlgorithm.MD5);
        TargetChap t = new TargetChap(AUTHORITY, new SecureRandom(), allowed);
        allowed.clear();
        assertThat(t.offer("5")).isInstanceOf(Reply.class);
        assertThatThrownBy(() -> new TargetChap(AUTHORITY, new SecureRandom(), Set.of()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void failureMessageNamesAllowedCodesButNotTheInitiatorsText() {
        TargetChap t = new TargetChap(AUTHORITY, new SecureRandom(), EnumSet.of(ChapAlgorithm.SHA256));
        Failure f = (Failure) t.offer("5,evil\r\ninjected");
        assertThat(f.message()).contains("7").doesNotContain("evil", "injected");
    }

    @Test
    void challengesAndIdentifiersAreFreshPerInstance() {
        SecureRandom shared = new SecureRandom();
        Set<String> challenges = new HashSet<>();
        Set<String> identifiers = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            Map<String, String> keys = ((Reply) new TargetChap(AUTHORITY, shared).offer("5")).keys();
            challenges.add(keys.get("CHAP_C"));
            identifiers.add(keys.get("CHAP_I"));
        }
        assertThat(challenges).hasSize(100);
        // 100 draws from 256 values: all equal would mean the identifier is not random.
        assertThat(identifiers).hasSizeGreaterThan(10);
    }

    @Test
    void identifierAndChallengeComeFromTheGivenRandom() throws Exception {
        SecureRandom a = SecureRandom.getInstance("SHA1PRNG");
        a.setSeed(99L);
        SecureRandom b = SecureRandom.getInstance("SHA1PRNG");
        b.setSeed(99L);
        Map<String, String> first = ((Reply) new TargetChap(AUTHORITY, a).offer("7")).keys();
        Map<String, String> second = ((Reply) new TargetChap(AUTHORITY, b).offer("7")).keys();
        assertThat(first).isEqualTo(second);
        // ...and the same generator never repeats a challenge on the next login.
        Map<String, String> third = ((Reply) new TargetChap(AUTHORITY, a).offer("7")).keys();
        assertThat(third.get("CHAP_C")).isNotEqualTo(first.get("CHAP_C"));
    }

    @Test
    void replyIsImmutableAndItsToStringMasksChallenge() {
        Reply reply = (Reply) target().offer("5");
        String challenge = reply.keys().get("CHAP_C");
        reply.keys().put("CHAP_C", "0x00");
        assertThat(reply.keys().get("CHAP_C")).isEqualTo(challenge);
        assertThat(reply.toString()).contains("CHAP_A=5", "CHAP_C=***").doesNotContain(challenge.substring(2));
    }
}
