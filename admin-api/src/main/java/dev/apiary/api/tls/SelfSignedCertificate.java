package dev.apiary.api.tls;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The admin API's TLS identity when none is supplied: an EC P-256 key and a self-signed certificate
 * in {@code api-key.pem} and {@code api-cert.pem}, generated on first start and reused afterwards,
 * so that clients can pin it by its SHA-256 fingerprint ({@code openssl x509 -fingerprint -sha256}).
 *
 * <p>The certificate is a plain server certificate (RFC 5280): CA=false, keyUsage digitalSignature
 * (all an ECDHE handshake needs of an ECDSA key), extendedKeyUsage serverAuth, and a subjectAltName
 * for every name and address, since clients match only the SAN (RFC 6125 §6.4.4, RFC 2818 §3.1).
 * It is valid for 825 days, the longest Apple platforms accept for a TLS server certificate, from
 * one hour in the past so that clients with a slightly slow clock accept it at once.
 *
 * <p>Both files existing means load; neither means generate. The key is written before the
 * certificate, so a key without a certificate is what an interrupted generation leaves and is
 * replaced; a certificate without its key cannot be recovered and is an error.
 */
public final class SelfSignedCertificate {
    public static final String KEY_FILE = "api-key.pem";
    public static final String CERT_FILE = "api-cert.pem";

    /** Apple's limit for TLS server certificates issued after 2019-07-01 (support.apple.com/HT210176). */
    static final Duration VALIDITY = Duration.ofDays(825);
    static final Duration BACKDATE = Duration.ofHours(1);
    static final String SUBJECT = "CN=Apiary";

    // RFC 1123 §2.1 host names: LDH labels of 1..63 characters, 253 in all.
    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

    private final Path keyFile;
    private final Path certFile;
    private final X509Certificate certificate;
    private final String fingerprint;

    private SelfSignedCertificate(Path keyFile, Path certFile, X509Certificate certificate) {
        this.keyFile = keyFile;
        this.certFile = certFile;
        this.certificate = certificate;
        this.fingerprint = fingerprintOf(certificate);
    }

    /**
     * Loads the key and certificate in {@code dir}, or generates them for these names and addresses
     * (plus {@code localhost} and {@code 127.0.0.1}, always). Names are not checked against an
     * existing certificate: replacing it would break every client that pinned it.
     *
     * @throws IllegalArgumentException if a host name is not a valid DNS name
     * @throws IllegalStateException if existing files are corrupt, unreadable, do not belong
     *     together, or the key file is accessible to group or others; the message names the file
     */
    public static SelfSignedCertificate loadOrCreate(Path dir, List<String> hostnames, List<InetAddress> addresses) {
        Objects.requireNonNull(dir, "dir");
        List<GeneralName> sans = subjectAltNames(hostnames, addresses);
        Path keyFile = dir.toAbsolutePath().resolve(KEY_FILE);
        Path certFile = dir.toAbsolutePath().resolve(CERT_FILE);
        boolean haveKey = Files.exists(keyFile);
        boolean haveCert = Files.exists(certFile);
        if (haveCert && !haveKey) {
            throw new IllegalStateException("TLS certificate " + certFile + " has no key beside it (" + keyFile
                    + "); restore the key, or delete the certificate to have a new pair generated");
        }
        if (haveCert) {
            return load(keyFile, certFile);
        }
        try {
            return create(keyFile, certFile, sans);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write TLS key and certificate in " + dir + ": " + e, e);
        }
    }

    /** The PKCS#8 PEM private key, mode 0600. */
    public Path keyFile() {
        return keyFile;
    }

    /** The PEM certificate. */
    public Path certFile() {
        return certFile;
    }

    /** The certificate itself, e.g. to warn when it nears its end. */
    public X509Certificate certificate() {
        return certificate;
    }

    /** SHA-256 of the DER certificate in upper-case hex pairs joined by colons, as OpenSSL prints it. */
    public String sha256Fingerprint() {
        return fingerprint;
    }

    @Override
    public String toString() {
        return "SelfSignedCertificate[" + certFile + ", SHA-256 " + fingerprint + "]";
    }

    private static SelfSignedCertificate load(Path keyFile, Path certFile) {
        PrivateKey key = PemFiles.readPrivateKey(keyFile);
        X509Certificate cert = PemFiles.readCertificate(certFile);
        try {
            // Self-signed, so it must verify under its own key: catches a damaged or edited file that
            // still parses, before clients see a certificate whose fingerprint changed under them.
            cert.verify(cert.getPublicKey());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("TLS certificate " + certFile + " is damaged or was edited: its "
                    + "signature does not verify; delete it and " + keyFile + " to have a new pair generated", e);
        }
        if (!belongTogether(key, cert.getPublicKey())) {
            throw new IllegalStateException("TLS key " + keyFile + " does not belong to certificate " + certFile
                    + "; delete both to have a new pair generated");
        }
        return new SelfSignedCertificate(keyFile, certFile, cert);
    }

    private static SelfSignedCertificate create(Path keyFile, Path certFile, List<GeneralName> sans)
            throws IOException {
        Path dir = keyFile.getParent();
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir,
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        SecureRandom random = new SecureRandom();
        KeyPair pair = generateKeyPair(random);
        X509Certificate cert = selfSign(pair, sans, random, Instant.now());
        PemFiles.writePrivateKey(keyFile, pair.getPrivate());
        PemFiles.writeCertificate(certFile, cert);
        return new SelfSignedCertificate(keyFile, certFile, cert);
    }

    private static KeyPair generateKeyPair(SecureRandom random) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), random);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("JDK cannot generate P-256 keys", e);
        }
    }

    static X509Certificate selfSign(KeyPair pair, List<GeneralName> sans, SecureRandom random, Instant now) {
        // RFC 5280 §4.1.2.2: a positive serial of at most 20 octets; 128 random bits (CA/Browser Forum
        // asks for at least 64) keep two generated certificates from ever sharing one.
        BigInteger serial;
        do {
            serial = new BigInteger(128, random);
        } while (serial.signum() == 0);
        Instant notBefore = now.minus(BACKDATE);
        Instant notAfter = notBefore.plus(VALIDITY);
        X500Name name = new X500Name(SUBJECT);
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial,
                    Date.from(notBefore), Date.from(notAfter), name, pair.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            b.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(sans.toArray(GeneralName[]::new)));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
            var signer = new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate());
            return new JcaX509CertificateConverter().getCertificate(b.build(signer));
        } catch (CertIOException | OperatorCreationException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot build the self-signed certificate", e);
        }
    }

    /** localhost and 127.0.0.1 first, then the given names and addresses, without repeats. */
    static List<GeneralName> subjectAltNames(List<String> hostnames, List<InetAddress> addresses) {
        Objects.requireNonNull(hostnames, "hostnames");
        Objects.requireNonNull(addresses, "addresses");
        Set<String> names = new LinkedHashSet<>();
        names.add("localhost");
        for (String h : hostnames) {
            names.add(checkHostname(h));
        }
        Set<InetAddress> ips = new LinkedHashSet<>();
        ips.add(loopback4());
        for (InetAddress a : addresses) {
            ips.add(Objects.requireNonNull(a, "address"));
        }
        List<GeneralName> sans = new ArrayList<>();
        names.forEach(n -> sans.add(new GeneralName(GeneralName.dNSName, n)));
        // RFC 5280 §4.2.1.6: iPAddress holds the 4 or 16 address octets.
        ips.forEach(a -> sans.add(new GeneralName(GeneralName.iPAddress, new DEROctetString(a.getAddress()))));
        return sans;
    }

    private static InetAddress loopback4() {
        try {
            return InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String checkHostname(String hostname) {
        if (hostname == null) {
            throw new IllegalArgumentException("host name for the TLS certificate is missing");
        }
        String h = hostname.toLowerCase(Locale.ROOT);
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        boolean ok = !h.isEmpty() && h.length() <= 253;
        String[] labels = h.split("\\.", -1);
        for (String label : labels) {
            ok &= LABEL.matcher(label).matches();
        }
        // An address written as a name would end up as a DNS SAN, which no client matches against an
        // IP URL (RFC 2818 §3.1 wants an iPAddress SAN); addresses must come as addresses.
        ok &= !labels[labels.length - 1].matches("[0-9]+");
        if (!ok) {
            throw new IllegalArgumentException("not a valid host name for the TLS certificate: \"" + hostname
                    + "\" (letters, digits, '-' and '.' only; give IP addresses as addresses)");
        }
        return h;
    }

    private static boolean belongTogether(PrivateKey key, PublicKey pub) {
        if (!key.getAlgorithm().equals(pub.getAlgorithm())) {
            return false;
        }
        String algorithm = switch (key.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            default -> null;
        };
        if (algorithm == null) {
            return false;
        }
        try {
            // Sign and verify: works for any key encoding, where comparing parameters would not.
            byte[] probe = "apiary key check".getBytes(StandardCharsets.US_ASCII);
            Signature s = Signature.getInstance(algorithm);
            s.initSign(key);
            s.update(probe);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(algorithm);
            v.initVerify(pub);
            v.update(probe);
            return v.verify(sig);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static String fingerprintOf(X509Certificate cert) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot fingerprint the TLS certificate", e);
        }
    }
}
