package dev.apiary.api.tls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A TLS context that trusts exactly one certificate: the API node's own, which is self-signed, so
 * nothing else should be trusted for it. What the CLI and the gateways reach the API with.
 */
public final class PinnedTrust {
    private PinnedTrust() {}

    /** Trusts only the certificate in {@code pem}; an unreadable file is an IOException naming it. */
    public static SSLContext of(Path pem) throws IOException {
        if (!Files.isReadable(pem)) {
            throw new IOException("no certificate to trust at " + pem);
        }
        try (InputStream in = Files.newInputStream(pem)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setCertificateEntry("apiary", CertificateFactory.getInstance("X.509").generateCertificate(in));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot trust " + pem + ": " + e.getMessage(), e);
        }
    }
}
