package dev.apiary.api.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SelfSignedCertificateTest {
    @TempDir
    Path dir;

    private SelfSignedCertificate create(Path d) throws Exception {
        return SelfSignedCertificate.loadOrCreate(d, List.of("apiary.example", "Gateway-1.LAN."),
                List.of(InetAddress.getByName("10.0.0.5"), InetAddress.getByName("fd00::1")));
    }

    @Test
    void generateThenReloadGivesTheSameCertificate() throws Exception {
        SelfSignedCertificate first = create(dir);
        SelfSignedCertificate again = SelfSignedCertificate.loadOrCreate(dir, List.of(), List.of());

        assertThat(again.sha256Fingerprint()).isEqualTo(first.sha256Fingerprint());
        assertThat(again.certificate()).isEqualTo(first.certificate());
        assertThat(first.keyFile()).isEqualTo(dir.toAbsolutePath().resolve("api-key.pem"));
        assertThat(first.certFile()).isEqualTo(dir.toAbsolutePath().resolve("api-cert.pem"));
        assertThat(first.sha256Fingerprint()).matches("([0-9A-F]{2}:){31}[0-9A-F]{2}");
    }

    @Test
    void twoDirectoriesGetDifferentKeysAndSerials() throws Exception {
        SelfSignedCertificate a = create(dir.resolve("a"));
        SelfSignedCertificate b = create(dir.resolve("b"));
        assertThat(a.sha256Fingerprint()).isNotEqualTo(b.sha256Fingerprint());
        assertThat(a.certificate().getSerialNumber()).isNotEqualTo(b.certificate().getSerialNumber());
        assertThat(a.certificate().getPublicKey()).isNotEqualTo(b.certificate().getPublicKey());
    }

    @Test
    void keyFileIsOwnerOnlyAndNothingElseIsLeftBehind() throws Exception {
        SelfSignedCertificate c = create(dir.resolve("tls"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(c.keyFile()))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(c.keyFile().getParent())))
                .isEqualTo("rwx------");
        try (var files = Files.list(dir.resolve("tls"))) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("api-key.pem", "api-cert.pem");
        }
        assertThat(Files.readString(c.keyFile())).startsWith("-----BEGIN PRIVATE KEY-----\n");
        assertThat(Files.readString(c.certFile())).startsWith("-----BEGIN CERTIFICATE-----\n");
    }

    @Test
    void certificateFieldsAreAsDesigned() throws Exception {
        Instant before = Instant.now();
        X509Certificate cert = create(dir).certificate();

        assertThat(cert.getVersion()).isEqualTo(3);
        assertThat(cert.getSubjectX500Principal().getName()).isEqualTo("CN=Apiary");
        assertThat(cert.getIssuerX500Principal()).isEqualTo(cert.getSubjectX500Principal());
        assertThat(cert.getSigAlgName()).isEqualTo("SHA256withECDSA");
        assertThat(cert.getPublicKey().getAlgorithm()).isEqualTo("EC");
        assertThat(cert.getPublicKey().toString()).contains("secp256r1");
        cert.verify(cert.getPublicKey());

        assertThat(cert.getSerialNumber().signum()).isPositive();
        assertThat(cert.getSerialNumber().bitLength()).isLessThanOrEqualTo(128);
        Instant notBefore = cert.getNotBefore().toInstant();
        assertThat(notBefore).isBetween(before.minus(Duration.ofMinutes(61)), before.minus(Duration.ofMinutes(59)));
        assertThat(Duration.between(notBefore, cert.getNotAfter().toInstant())).isEqualTo(Duration.ofDays(825));

        assertThat(cert.getBasicConstraints()).isEqualTo(-1);
        assertThat(cert.getKeyUsage()).containsExactly(true, false, false, false, false, false, false, false, false);
        assertThat(cert.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
        assertThat(cert.getCriticalExtensionOIDs()).contains("2.5.29.19", "2.5.29.15");

        List<String> sans = new ArrayList<>();
        cert.getSubjectAlternativeNames().forEach(san -> sans.add(san.get(0) + "=" + san.get(1)));
        assertThat(sans).containsExactly("2=localhost", "2=apiary.example", "2=gateway-1.lan",
                "7=127.0.0.1", "7=10.0.0.5", "7=fd00:0:0:0:0:0:0:1");
    }

    @Test
    void localhostAndLoopbackAreNotRepeated() throws Exception {
        X509Certificate cert = SelfSignedCertificate.loadOrCreate(dir, List.of("localhost", "LOCALHOST"),
                List.of(InetAddress.getByName("127.0.0.1"))).certificate();
        assertThat(cert.getSubjectAlternativeNames()).hasSize(2);
    }

    @Test
    void opensslSeesTheNamesAndServerAuth() throws Exception {
        SelfSignedCertificate c = create(dir);
        String text = openssl("x509", "-in", c.certFile().toString(), "-noout", "-text");
        assertThat(text)
                .contains("Subject: CN = Apiary")
                .contains("DNS:localhost", "DNS:apiary.example", "DNS:gateway-1.lan")
                .contains("IP Address:127.0.0.1", "IP Address:10.0.0.5", "IP Address:FD00:0:0:0:0:0:0:1")
                .contains("TLS Web Server Authentication")
                .contains("CA:FALSE")
                .contains("Digital Signature")
                .contains("ecdsa-with-SHA256")
                .contains("NIST CURVE: P-256");
        assertThat(openssl("x509", "-in", c.certFile().toString(), "-noout",
                "-checkhost", "apiary.example", "-checkip", "10.0.0.5"))
                .contains("Hostname apiary.example does match certificate")
                .contains("IP 10.0.0.5 does match certificate");
        assertThat(openssl("x509", "-in", c.certFile().toString(), "-noout", "-checkhost", "other.example"))
                .contains("does NOT match");
        // The private key file is one OpenSSL reads, and it is the certificate's key.
        String keyPub = openssl("pkey", "-in", c.keyFile().toString(), "-pubout");
        String certPub = openssl("x509", "-in", c.certFile().toString(), "-noout", "-pubkey");
        assertThat(keyPub).isEqualTo(certPub);
        // What curl --cacert does: the certificate is its own trust anchor.
        assertThat(openssl("verify", "-CAfile", c.certFile().toString(), c.certFile().toString())).contains(": OK");
    }

    @Test
    void fingerprintIsWhatOpensslPrints() throws Exception {
        SelfSignedCertificate c = create(dir);
        String out = openssl("x509", "-in", c.certFile().toString(), "-noout", "-fingerprint", "-sha256").trim();
        assertThat(out).isEqualToIgnoringCase("sha256 Fingerprint=" + c.sha256Fingerprint());
    }

    @Test
    void loadsAKeyOpensslWrote() throws Exception {
        // An operator may convert the key with OpenSSL (SEC1 "EC PRIVATE KEY"); it still loads.
        SelfSignedCertificate c = create(dir);
        Path sec1 = dir.resolve("sec1.pem");
        openssl("ec", "-in", c.keyFile().toString(), "-out", sec1.toString());
        Files.setPosixFilePermissions(sec1, PosixFilePermissions.fromString("rw-------"));
        Files.move(sec1, c.keyFile(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThat(Files.readString(c.keyFile())).startsWith("-----BEGIN EC PRIVATE KEY-----");
        assertThat(SelfSignedCertificate.loadOrCreate(dir, List.of(), List.of()).sha256Fingerprint())
                .isEqualTo(c.sha256Fingerprint());
    }

    @Test
    void corruptKeyFileIsAnErrorNamingIt() throws Exception {
        SelfSignedCertificate c = create(dir);
        for (String junk : new String[] {
            "", "not pem at all\n", "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n",
            Files.readString(c.certFile()),
        }) {
            Files.writeString(c.keyFile(), junk);
            assertThatThrownBy(() -> SelfSignedCertificate.loadOrCreate(dir, List.of(), List.of()))
                    .as(junk)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(c.keyFile().toString());
        }
    }

    @Test
    void corruptCertificateFileIsAnErrorNamingIt() throws Exception {
        SelfSignedCertificate c = create(dir);
        String good = Files.readString(c.certFile());
        String flipped = good.substring(0, 100) + (good.charAt(100) == 'A' ? 'B' : 'A') + good.substring(101);
        for (String junk : new String[] {
            "", "garbage", good.substring(0, good.length() / 2),
            "-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----\n",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            Files.readString(c.keyFile()),
        }) {
            Files.writeString(c.certFile(), junk);
            assertThatThrownBy(() -> SelfSignedCertificate.loadOrCreate(dir, List.of(), List.of()))
                    .as(junk)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(c.certFile().toString());
        }
        // A flipped byte inside the DER parses, but is then no longer the key's certificate or is
        // unparseable; either way it is refused and the certificate file named.
        Files.writeString(c.certFile(), flipped);
        assertThatThrownBy(() -> SelfSignedCertificate.loadOrCreate(dir, List.of(), List.of()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(c.certFile().toString());
    }

    @Test
    void keyAndCertificateThatDoNotBelongTogetherAreRefused() throws Exception {
        SelfSignedCertificate a = create(dir.resolve("a"));
        SelfSignedCertificate b = create(dir.resolve("b"));
        Files.copy(b.keyFile(), a.keyFile(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(a.keyFile(), PosixFilePermissions.fromString("rw-------"));
        assertThatThrownBy(() -> SelfSignedCertificate.loadOrCreate(dir.resolve("a"), List.of(), List.of()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(a.keyFile().toString())
                .hasMessageContaining("does not belong");
    }

    @Test
    void groupReadableKeyIsRefused() throws Exception {
        SelfSignedCertificate c = create(dir);
        Files.setPosixFilePermissions(c.keyFile(), PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> SelfSignedCertificate.loadOrCreate(dir, List.of(), List.of()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(c.keyFile().toString())
                .hasMessageContaining("chmod 600");
    }

    @Test
    void certificateWithoutItsKeyIsAnError() throws Exception {
        SelfSignedCertificate c = create(dir);
        Files.delete(c.keyFile());
        assertThatThrownBy(() -> SelfSignedCertificate.loadOrCreate(dir, List.of(), List.of()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(c.certFile().toString());
        assertThat(c.certFile()).exists();
    }

    @Test
    void keyWithoutCertificateIsAnInterruptedGenerationAndIsReplaced() throws Exception {
        SelfSignedCertificate c = create(dir);
        Files.delete(c.certFile());
        SelfSignedCertificate again = create(dir);
        assertThat(again.sha256Fingerprint()).isNotEqualTo(c.sha256Fingerprint());
        assertThat(SelfSignedCertificate.loadOrCreate(dir, List.of(), List.of()).sha256Fingerprint())
                .isEqualTo(again.sha256Fingerprint());
    }

    @Test
    void invalidHostNamesAreRefusedBeforeAnythingIsWritten() {
        for (String bad : new String[] {
            "", ".", "a..b", "-lead.example", "trail-.example", "under_score.example", "space here",
            "10.0.0.1", "::1", "[::1]", "*.example", "caf\u00e9.example", "a".repeat(64) + ".example",
            ("a".repeat(60) + ".").repeat(5), "host\n.example", "host/evil",
        }) {
            assertThatThrownBy(() -> SelfSignedCertificate.loadOrCreate(dir.resolve("x"), List.of(bad), List.of()))
                    .as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("host name");
        }
        assertThat(dir.resolve("x")).doesNotExist();
    }

    @Test
    void toStringShowsOnlyPublicThings() throws Exception {
        SelfSignedCertificate c = create(dir);
        String key = Files.readString(c.keyFile());
        String body = key.lines().filter(l -> !l.startsWith("-----")).reduce("", String::concat);
        assertThat(c.toString()).contains(c.sha256Fingerprint()).doesNotContain(body.substring(0, 40));
    }

    static String openssl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("openssl");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("%s: %s", cmd, out).isZero();
        return out;
    }
}
