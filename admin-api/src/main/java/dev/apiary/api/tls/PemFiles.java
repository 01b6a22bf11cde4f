package dev.apiary.api.tls;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.EnumSet;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/**
 * Reading and writing the PEM files of the API's TLS identity.
 *
 * <p>Files are written whole or not at all (a temporary file in the same directory, forced to disk,
 * then renamed), so a crash never leaves half a key for the next start to choke on. The private key
 * file is created 0600 from the start. Every read error names the file, because "invalid PEM" alone
 * sends people hunting.
 */
final class PemFiles {
    private static final Set<PosixFilePermission> GROUP_OR_OTHERS = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private PemFiles() {
    }

    /** The private key in {@code file}: PKCS#8 ({@code PRIVATE KEY}) or SEC1/PKCS#1 as OpenSSL writes. */
    static PrivateKey readPrivateKey(Path file) {
        refuseLoosePermissions(file);
        Object pem = readFirstObject(file);
        try {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (pem instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info);
            }
            if (pem instanceof PEMKeyPair pair) {
                return converter.getKeyPair(pair).getPrivate();
            }
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("TLS key file " + file + " holds a private key that cannot be used: "
                    + e.getMessage(), e);
        }
        throw new IllegalStateException("TLS key file " + file + " holds no unencrypted private key"
                + (pem == null ? "" : " (found " + describe(pem) + ")")
                + "; delete it and its certificate to have new ones generated");
    }

    /** The first certificate in {@code file}. */
    static X509Certificate readCertificate(Path file) {
        Object pem = readFirstObject(file);
        if (!(pem instanceof X509CertificateHolder holder)) {
            throw new IllegalStateException("TLS certificate file " + file + " holds no certificate"
                    + (pem == null ? "" : " (found " + describe(pem) + ")")
                    + "; delete it and its key to have new ones generated");
        }
        try {
            return new JcaX509CertificateConverter().getCertificate(holder);
        } catch (CertificateException e) {
            throw new IllegalStateException("TLS certificate file " + file + " holds an unusable certificate: "
                    + e.getMessage(), e);
        }
    }

    /** Writes {@code key} as PKCS#8 PEM, mode 0600. */
    static void writePrivateKey(Path file, PrivateKey key) throws IOException {
        writeAtomically(file, toPem(new JcaPKCS8Generator(key, null)),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }

    /** Writes {@code cert} as PEM, mode 0644: it is public, and people copy it to pin it. */
    static void writeCertificate(Path file, X509Certificate cert) throws IOException {
        writeAtomically(file, toPem(cert),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")));
    }

    private static Object readFirstObject(Path file) {
        Object o;
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
                PEMParser parser = new PEMParser(r)) {
            o = parser.readObject();
        } catch (IOException | RuntimeException e) {
            // BC's own message ("malformed PEM data encountered", ...) is kept, after the file name.
            throw new IllegalStateException("TLS file " + file + " is not valid PEM: " + e.getMessage(), e);
        }
        if (o == null) {
            throw new IllegalStateException("TLS file " + file + " is not PEM (no -----BEGIN line found)");
        }
        return o;
    }

    private static void refuseLoosePermissions(Path file) {
        try {
            Set<PosixFilePermission> loose = EnumSet.copyOf(Files.getPosixFilePermissions(file));
            loose.retainAll(GROUP_OR_OTHERS);
            if (!loose.isEmpty()) {
                throw new IllegalStateException("TLS key file " + file + " is accessible to group or others; run: "
                        + "chmod 600 " + file);
            }
        } catch (UnsupportedOperationException | IOException e) {
            throw new IllegalStateException("cannot check the permissions of TLS key file " + file + ": " + e, e);
        }
    }

    private static String describe(Object pem) {
        return pem.getClass().getSimpleName();
    }

    private static String toPem(Object o) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(o);
        }
        return out.toString();
    }

    private static void writeAtomically(Path file, String text, FileAttribute<?> mode) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        // The mode is given at creation (open(2)), so the file is never wider than it, even briefly.
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp", mode);
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII));
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Not every file system can fsync a directory; the file itself is on disk.
        }
    }
}
