package dev.apiary.chap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.chap.ChapStep.Failure;
import dev.apiary.chap.ChapStep.Reason;
import dev.apiary.chap.ChapStep.Reply;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Full exchanges against {@link TestInitiator}, and every way step 2 must fail. */
class TargetChapTest {
    private static final String USER = "iqn.2024-01.dev.apiary:worker-1";
    private static final String SECRET = "initiator-secret-1";
    private static final String TARGET_USER = "iqn.2024-01.dev.apiary:target";
    private static final String TARGET_SECRET = "target-secret-22";
    private static final ChapCredentials MUTUAL = new ChapCredentials(TARGET_USER, ChapSecret.of(TARGET_SECRET));
    private static final String INITIATOR_CHALLENGE = "0x0102030405060708090a0b0c0d0e0f10";

    private final SecureRandom random = new SecureRandom();

    private TargetChap target(ChapCredentials mutual) {
        return new TargetChap(new TestInitiator.Authority(USER, SECRET, mutual), random);
    }

    private static Map<String, String> offer(TargetChap t, ChapAlgorithm a) {
        ChapStep step = t.offer(Integer.toString(a.code()));
        assertThat(step).isInstanceOf(Reply.class);
        return ((Reply) step).keys();
    }

    @ParameterizedTest
    @EnumSource(ChapAlgorithm.class)
    void oneWayExchange(ChapAlgorithm a) {
        TargetChap t = target(null);
        Map<String, String> offer = offer(t, a);
        assertThat(offer.keySet()).containsExactly("CHAP_A", "CHAP_I", "CHAP_C");
        assertThat(offer.get("CHAP_A")).isEqualTo(Integer.toString(a.code()));
        assertThat(Integer.parseInt(offer.get("CHAP_I"))).isBetween(0, 255);
        assertThat(TestInitiator.unhex(offer.get("CHAP_C"))).hasSize(Math.max(16, a.digestLength()));
        assertThat(t.algorithm()).contains(a);
        assertThat(t.authenticatedUser()).isEmpty();

        ChapStep step = t.verify(USER, TestInitiator.respond(offer, SECRET), null, null);

        assertThat(step).isEqualTo(new Reply(new LinkedHashMap<>()));
        assertThat(t.authenticatedUser()).contains(USER);
    }

    @ParameterizedTest
    @EnumSource(ChapAlgorithm.class)
    void mutualExchange(ChapAlgorithm a) {
        TargetChap t = target(MUTUAL);
        Map<String, String> offer = offer(t, a);

        ChapStep step = t.verify(USER, TestInitiator.respond(offer, SECRET), "77", INITIATOR_CHALLENGE);

        assertThat(step).isInstanceOf(Reply.class);
        Map<String, String> keys = ((Reply) step).keys();
        assertThat(keys.keySet()).containsExactly("CHAP_N", "CHAP_R");
        assertThat(keys.get("CHAP_N")).isEqualTo(TARGET_USER);
        byte[] expected = TestInitiator.digest(a, 77, TARGET_SECRET, TestInitiator.unhex(INITIATOR_CHALLENGE));
        assertThat(TestInitiator.unhex(keys.get("CHAP_R"))).isEqualTo(expected);
        assertThat(t.authenticatedUser()).contains(USER);
        assertThat(step.toString()).doesNotContain(keys.get("CHAP_R").substring(2));
    }

    @Test
    void mutualAcceptsHexIdentifierAndBase64Challenge() {
        TargetChap t = target(MUTUAL);
        Map<String, String> offer = offer(t, ChapAlgorithm.MD5);
        byte[] chal = TestInitiator.unhex(INITIATOR_CHALLENGE);
        String base64 = "0b" + Base64.getEncoder().encodeToString(chal);

        ChapStep step = t.verify(USER, TestInitiator.respond(offer, SECRET), "0xff", base64);

        byte[] expected = TestInitiator.digest(ChapAlgorithm.MD5, 255, TARGET_SECRET, chal);
        assertThat(TestInitiator.unhex(((Reply) step).keys().get("CHAP_R"))).isEqualTo(expected);
    }

    @Test
    void base64ResponseIsAccepted() {
        TargetChap t = target(null);
        Map<String, String> offer = offer(t, ChapAlgorithm.SHA256);
        byte[] r = TestInitiator.unhex(TestInitiator.respond(offer, SECRET));
        String base64 = "0b" + Base64.getEncoder().withoutPadding().encodeToString(r);
        assertThat(t.verify(USER, base64, null, null)).isInstanceOf(Reply.class);
    }

    @Test
    void wrongSecretFails() {
        TargetChap t = target(null);
        Map<String, String> offer = offer(t, ChapAlgorithm.MD5);
        String response = TestInitiator.respond(offer, "not-the-secret-1");
        assertFailure(t.verify(USER, response, null, null), Reason.AUTHENTICATION_FAILED, offer, response);
        assertThat(t.authenticatedUser()).isEmpty();
    }

    @Test
    void unknownUserFails() {
        TargetChap t = target(null);
        Map<String, String> offer = offer(t, ChapAlgorithm.MD5);
        String response = TestInitiator.respond(offer, SECRET);
        assertFailure(t.verify("someone-else", response, null, null), Reason.AUTHENTICATION_FAILED, offer, response);
        assertThat(t.authenticatedUser()).isEmpty();
    }

    @Test
    void responseOfWrongLengthFails() {
        TargetChap t = target(null);
        Map<String, String> offer = offer(t, ChapAlgorithm.SHA256);
        // A correct MD5 answer is 16 bytes where SHA-256 wants 32.
        byte[] md5 = TestInitiator.digest(ChapAlgorithm.MD5, Integer.parseInt(offer.get("CHAP_I")), SECRET,
                TestInitiator.unhex(offer.get("CHAP_C")));
        String response = BinaryValue.hex(md5);
        assertFailure(t.verify(USER, response, null, null), Reason.AUTHENTICATION_FAILED, offer, response);
    }

    @Test
    void malformedResponseIsAProtocolError() {
        TargetChap t = target(null);
        Map<String, String> offer = offer(t, ChapAlgorithm.MD5);
        assertFailure(t.verify(USER, "0xzzzz1234", null, null), Reason.PROTOCOL_ERROR, offer, "0xzzzz1234");
    }

    @Test
    void reflectedChallengeIsRefused() {
        TargetChap t = target(MUTUAL);
        Map<String, String> offer = offer(t, ChapAlgorithm.MD5);
        String response = TestInitiator.respond(offer, SECRET);
        ChapStep step = t.verify(USER, response, offer.get("CHAP_I"), offer.get("CHAP_C"));
        assertFailure(step, Reason.AUTHENTICATION_FAILED, offer, response);
        assertThat(((Failure) step).message()).contains("challenge");
        assertThat(t.authenticatedUser()).isEmpty();
    }

    @Test
    void reflectedChallengeInAnotherEncodingIsStillRefused() {
        TargetChap t = target(MUTUAL);
        Map<String, String> offer = offer(t, ChapAlgorithm.MD5);
        String upper = "0X" + offer.get("CHAP_C").substring(2).toUpperCase(Locale.ROOT);
        assertFailure(t.verify(USER, TestInitiator.respond(offer, SECRET), "3", upper),
                Reason.AUTHENTICATION_FAILED, offer, null);
    }

    @Test
    void mutualRequestedButNotConfiguredFails() {
        TargetChap t = target(null);
        Map<String, String> offer = offer(t, ChapAlgorithm.MD5);
        String response = TestInitiator.respond(offer, SECRET);
        assertFailure(t.verify(USER, response, "1", INITIATOR_CHALLENGE), Reason.AUTHENTICATION_FAILED, offer, response);
        assertThat(t.authenticatedUser()).isEmpty();
    }

    @Test
    void mutualNeedsBothIdentifierAndChallenge() {
        TargetChap t1 = target(MUTUAL);
        Map<String, String> offer1 = offer(t1, ChapAlgorithm.MD5);
        assertFailure(t1.verify(USER, TestInitiator.respond(offer1, SECRET), "1", null), Reason.PROTOCOL_ERROR, offer1, null);
        TargetChap t2 = target(MUTUAL);
        Map<String, String> offer2 = offer(t2, ChapAlgorithm.MD5);
        assertFailure(t2.verify(USER, TestInitiator.respond(offer2, SECRET), null, INITIATOR_CHALLENGE),
                Reason.PROTOCOL_ERROR, offer2, null);
    }

    @ParameterizedTest
    @ValueSource(strings = {"256", "-1", "abc", "", "1.5", "0x100", "99999999999999999999"})
    void mutualIdentifierOutsideOneOctetIsRefused(String chapI) {
        TargetChap t = target(MUTUAL);
        Map<String, String> offer = offer(t, ChapAlgorithm.MD5);
        assertFailure(t.verify(USER, TestInitiator.respond(offer, SECRET), chapI, INITIATOR_CHALLENGE),
                Reason.PROTOCOL_ERROR, offer, null);
    }

    @Test
    void mutualChallengeLengthIsBounded() {
        TargetChap ok = target(MUTUAL);
        Map<String, String> offerOk = offer(ok, ChapAlgorithm.MD5);
        assertThat(ok.verify(USER, TestInitiator.respond(offerOk, SECRET), "0", "0x" + "ab".repeat(1024)))
                .isInstanceOf(Reply.class);
        TargetChap longer = target(MUTUAL);
        Map<String, String> offerLong = offer(longer, ChapAlgorithm.MD5);
        assertFailure(longer.verify(USER, TestInitiator.respond(offerLong, SECRET), "0", "0x" + "ab".repeat(1025)),
                Reason.PROTOCOL_ERROR, offerLong, null);
        TargetChap empty = target(MUTUAL);
        Map<String, String> offerEmpty = offer(empty, ChapAlgorithm.MD5);
        assertFailure(empty.verify(USER, TestInitiator.respond(offerEmpty, SECRET), "0", "0x"),
                Reason.PROTOCOL_ERROR, offerEmpty, null);
    }

    @Test
    void verifyBeforeOfferIsAProtocolError() {
        TargetChap t = target(null);
        ChapStep step = t.verify(USER, "0x00112233445566778899aabbccddeeff", null, null);
        assertThat(step).isInstanceOf(Failure.class);
        assertThat(((Failure) step).reason()).isEqualTo(Reason.PROTOCOL_ERROR);
        assertThat(t.authenticatedUser()).isEmpty();
        // The exchange is over: a late CHAP_A does not revive it.
        assertThat(t.offer("5")).isInstanceOf(Failure.class);
    }

    @Test
    void verifyTwiceIsAProtocolErrorEvenAfterSuccess() {
        TargetChap t = target(null);
        Map<String, String> offer = offer(t, ChapAlgorithm.MD5);
        String response = TestInitiator.respond(offer, SECRET);
        assertThat(t.verify(USER, response, null, null)).isInstanceOf(Reply.class);
        assertFailure(t.verify(USER, response, null, null), Reason.PROTOCOL_ERROR, offer, response);
        assertThat(t.authenticatedUser()).contains(USER);
    }

    @Test
    void noSecondGuessAfterAFailure() {
        TargetChap t = target(null);
        Map<String, String> offer = offer(t, ChapAlgorithm.MD5);
        t.verify(USER, TestInitiator.respond(offer, "not-the-secret-1"), null, null);
        String right = TestInitiator.respond(offer, SECRET);
        assertFailure(t.verify(USER, right, null, null), Reason.PROTOCOL_ERROR, offer, right);
        assertThat(t.authenticatedUser()).isEmpty();
    }

    @Test
    void missingNameOrResponseIsAProtocolError() {
        TargetChap t1 = target(null);
        Map<String, String> offer1 = offer(t1, ChapAlgorithm.MD5);
        assertFailure(t1.verify(null, TestInitiator.respond(offer1, SECRET), null, null), Reason.PROTOCOL_ERROR, offer1, null);
        TargetChap t2 = target(null);
        Map<String, String> offer2 = offer(t2, ChapAlgorithm.MD5);
        assertFailure(t2.verify(USER, null, null, null), Reason.PROTOCOL_ERROR, offer2, null);
    }

    /** The failure has this reason, and its message and toString leak no secret, challenge or response. */
    private static void assertFailure(ChapStep step, Reason reason, Map<String, String> offer, String response) {
        assertThat(step).isInstanceOf(Failure.class);
        Failure f = (Failure) step;
        assertThat(f.reason()).isEqualTo(reason);
        assertThat(f.message()).isNotBlank();
        for (String text : new String[] {f.message(), f.toString()}) {
            assertThat(text).doesNotContain(SECRET, TARGET_SECRET,
                    HexFormat.of().formatHex(SECRET.getBytes(StandardCharsets.UTF_8)),
                    offer.get("CHAP_C").substring(2));
            if (response != null) {
                assertThat(text).doesNotContainIgnoringCase(response.substring(2));
            }
        }
    }
}
