package dev.apiary.api.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class TokenHashTest {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static String token;
    private static String phc;

    @BeforeAll
    static void hashOnce() {
        token = ApiToken.generate(RANDOM);
        phc = TokenHash.hash(token, RANDOM);
    }

    @Test
    void isAPhcStringWithOwaspMinimumParameters() {
        assertThat(phc).matches("\\$argon2id\\$v=19\\$m=19456,t=2,p=1\\$[A-Za-z0-9+/]{22}\\$[A-Za-z0-9+/]{43}");
        String[] parts = phc.split("\\$");
        assertThat(Base64.getDecoder().decode(parts[4])).hasSize(16);
        assertThat(Base64.getDecoder().decode(parts[5])).hasSize(32);
        assertThat(phc).doesNotContain(token).doesNotContain(token.substring(4));
    }

    @Test
    void roundTrip() {
        assertThat(TokenHash.matches(token, phc)).isTrue();
    }

    @Test
    void wrongTokensDoNotMatch() {
        assertThat(TokenHash.matches(ApiToken.generate(RANDOM), phc)).isFalse();
        assertThat(TokenHash.matches(token.substring(0, token.length() - 1), phc)).isFalse();
        assertThat(TokenHash.matches(token + "x", phc)).isFalse();
        assertThat(TokenHash.matches("", phc)).isFalse();
        assertThat(TokenHash.matches(null, phc)).isFalse();
        char[] c = token.toCharArray();
        c[10] = c[10] == 'A' ? 'B' : 'A';
        assertThat(TokenHash.matches(new String(c), phc)).isFalse();
    }

    @Test
    void twoHashesOfTheSameTokenDiffer() {
        String again = TokenHash.hash(token, RANDOM);
        assertThat(again).isNotEqualTo(phc);
        assertThat(TokenHash.matches(token, again)).isTrue();
    }

    @Test
    void rfc9106Argon2idTestVector() {
        // RFC 9106 §5.3: m=32 KiB, t=3, p=4, 32-byte tag, with secret and associated data.
        byte[] tag = TokenHash.argon2id(filled(32, 0x01), filled(16, 0x02), filled(8, 0x03), filled(12, 0x04),
                32, 3, 4, 32);
        assertThat(HexFormat.of().formatHex(tag))
                .isEqualTo("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659");
    }

    @Test
    void referenceImplementationRawVector() {
        // phc-winner-argon2 src/test.c: Argon2id v=0x13, t=2, m=2^16, p=1, "password", "somesalt".
        byte[] tag = TokenHash.argon2id("password".getBytes(StandardCharsets.UTF_8),
                "somesalt".getBytes(StandardCharsets.UTF_8), null, null, 65536, 2, 1, 32);
        assertThat(HexFormat.of().formatHex(tag))
                .isEqualTo("09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7");
    }

    @Test
    void verifiesPhcStringsWrittenByTheReferenceImplementation() {
        // phc-winner-argon2 src/test.c encoded outputs: our parser reads what others write.
        assertThat(TokenHash.matches("password",
                "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc")).isTrue();
        assertThat(TokenHash.matches("password",
                "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4")).isTrue();
        assertThat(TokenHash.matches("passwore",
                "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4")).isFalse();
    }

    @Test
    void malformedStringsAreFalseNeverAnException() {
        String[] p = phc.split("\\$");
        String salt = p[4];
        String hash = p[5];
        String good = "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + hash;
        assertThat(TokenHash.matches(token, good)).as("control").isTrue();

        List<String> bad = List.of(
                "", "$", "$$$$$", "argon2id", "not a hash", "\u0000",
                // missing parts
                "$argon2id$v=19$m=19456,t=2,p=1$" + salt,
                "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$",
                "$argon2id$v=19$m=19456,t=2,p=1$$" + hash,
                "$argon2id$m=19456,t=2,p=1$" + salt + "$" + hash,
                "$argon2id$v=19$" + salt + "$" + hash,
                "$argon2id$v=19$m=19456,t=2$" + salt + "$" + hash,
                "argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + hash,
                // extra parts, whitespace
                good + "$",
                good + "$AAAA",
                good + " ",
                " " + good,
                good + "\n",
                // wrong algorithm or version
                good.replace("argon2id", "argon2i"),
                good.replace("argon2id", "argon2d"),
                good.replace("argon2id", "ARGON2ID"),
                good.replace("argon2id", "scrypt"),
                good.replace("v=19", "v=16"),
                good.replace("v=19", "v=020"),
                good.replace("v=19", "v=-19"),
                // parameters: reordered, missing, non-numeric, signs, overflow
                good.replace("m=19456,t=2,p=1", "t=2,m=19456,p=1"),
                good.replace("m=19456,t=2,p=1", "m=19456,t=2,p=1,data=abc"),
                good.replace("m=19456", "m=abc"),
                good.replace("m=19456", "m=+19456"),
                good.replace("m=19456", "m=-19456"),
                good.replace("m=19456", "m=99999999999999999999"),
                good.replace("m=19456", "m=0x4c00"),
                good.replace("t=2", "t=0"),
                good.replace("p=1", "p=0"),
                // bad base64: alphabet, padding, non-canonical last character
                "$argon2id$v=19$m=19456,t=2,p=1$" + salt.replace(salt.charAt(0), '-') + "$" + hash,
                "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + hash + "=",
                "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "==$" + hash,
                "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + hash.substring(0, 42) + "!",
                "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + hash.substring(0, 42) + nonCanonicalLast(hash),
                "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$A",
                // salt or hash too short or too long
                "$argon2id$v=19$m=19456,t=2,p=1$AAAA$" + hash,
                "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$AAAAAAAAAAAAAAAAAAAA",
                "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + "A".repeat(128),
                "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + "A".repeat(100_000),
                // the right hash under other parameters
                good.replace("t=2", "t=3"),
                good.replace("m=19456", "m=19457"));
        for (String s : bad) {
            assertThat(TokenHash.matches(token, s)).as("%s", s.length() > 120 ? s.substring(0, 120) : s).isFalse();
        }
        assertThat(TokenHash.matches(token, null)).isFalse();
    }

    @Test
    @Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void absurdStoredParametersAreRefusedQuickly() {
        String[] p = phc.split("\\$");
        String tail = "$" + p[4] + "$" + p[5];
        List<String> hostile = List.of(
                "$argon2id$v=19$m=1048577,t=2,p=1" + tail,   // just above 1 GiB
                "$argon2id$v=19$m=4194304,t=2,p=1" + tail,   // 4 GiB
                "$argon2id$v=19$m=999999999,t=2,p=1" + tail,
                "$argon2id$v=19$m=19456,t=11,p=1" + tail,
                "$argon2id$v=19$m=19456,t=999999999,p=1" + tail,
                "$argon2id$v=19$m=19456,t=2,p=17" + tail,
                "$argon2id$v=19$m=19456,t=2,p=16777215" + tail,
                "$argon2id$v=19$m=7,t=2,p=1" + tail,         // below RFC 9106's 8p KiB
                "$argon2id$v=19$m=64,t=2,p=16" + tail);      // 8p = 128 KiB > 64
        long start = System.nanoTime();
        for (String s : hostile) {
            assertThat(TokenHash.matches(token, s)).as(s).isFalse();
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(200));
    }

    @Test
    void upperBoundsThemselvesAreStillVerified() {
        // t=10 is allowed: a stored string within bounds is computed, not refused (here it is wrong).
        String[] p = phc.split("\\$");
        assertThat(TokenHash.matches(token, "$argon2id$v=19$m=64,t=10,p=8$" + p[4] + "$" + p[5])).isFalse();
        byte[] salt = Base64.getDecoder().decode(p[4]);
        byte[] h = TokenHash.argon2id(token.getBytes(StandardCharsets.UTF_8), salt, null, null, 64, 10, 8, 32);
        String enc = Base64.getEncoder().withoutPadding().encodeToString(h);
        assertThat(TokenHash.matches(token, "$argon2id$v=19$m=64,t=10,p=8$" + p[4] + "$" + enc)).isTrue();
    }

    private static String nonCanonicalLast(String hash) {
        // 32 bytes = 43 characters; the last one carries 4 bits, its low 2 bits must be zero.
        char last = hash.charAt(42);
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        return String.valueOf(alphabet.charAt(alphabet.indexOf(last) | 1));
    }

    private static byte[] filled(int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return b;
    }
}
