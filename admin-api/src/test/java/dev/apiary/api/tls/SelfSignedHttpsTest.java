package dev.apiary.api.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The generated files work as a real HTTPS identity, and only for a client that pins them. */
class SelfSignedHttpsTest {
    @TempDir
    Path dir;

    private Vertx vertx;
    private SelfSignedCertificate cert;
    private URI uri;

    @BeforeEach
    void start() throws Exception {
        cert = SelfSignedCertificate.loadOrCreate(dir.resolve("tls"), List.of(), List.of());
        vertx = Vertx.vertx();
        HttpServer server = vertx.createHttpServer(new HttpServerOptions()
                        .setSsl(true)
                        .setKeyCertOptions(new PemKeyCertOptions()
                                .setKeyPath(cert.keyFile().toString())
                                .setCertPath(cert.certFile().toString())))
                .requestHandler(req -> req.response().end("hello over TLS"));
        server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        uri = URI.create("https://127.0.0.1:" + server.actualPort() + "/");
    }

    @AfterEach
    void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void clientTrustingOnlyThisCertificateGetsAnAnswer() throws Exception {
        HttpResponse<String> r = get(client(trustOnly(cert.certFile())));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("hello over TLS");
        assertThat(r.sslSession()).isPresent();
        byte[] der = r.sslSession().get().getPeerCertificates()[0].getEncoded();
        assertThat(der).isEqualTo(cert.certificate().getEncoded());
    }

    @Test
    void clientWithTheDefaultTrustStoreFailsTheHandshake() {
        HttpClient plain = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        assertThatThrownBy(() -> get(plain)).isInstanceOf(SSLHandshakeException.class);
    }

    @Test
    void clientPinningAnotherApiaryCertificateFailsTheHandshake() throws Exception {
        SelfSignedCertificate other = SelfSignedCertificate.loadOrCreate(dir.resolve("other"), List.of(), List.of());
        assertThatThrownBy(() -> get(client(trustOnly(other.certFile())))).isInstanceOf(SSLHandshakeException.class);
    }

    @Test
    void peersCheckTheNameTheyDialledAgainstTheSubjectAltNames() throws Exception {
        // A TCP connection to 127.0.0.1, with TLS told it is talking to a given host name (as a client
        // reaching Apiary by that name would): the certificate's SAN decides, via RFC 2818 checking.
        assertThat(handshakeAs("localhost")).isTrue();
        assertThat(handshakeAs("apiary.example")).isFalse();
    }

    private boolean handshakeAs(String hostName) throws Exception {
        SSLSocketFactory factory = trustOnly(cert.certFile()).getSocketFactory();
        try (Socket tcp = new Socket("127.0.0.1", uri.getPort());
                SSLSocket tls = (SSLSocket) factory.createSocket(tcp, hostName, uri.getPort(), true)) {
            tls.setSoTimeout(10_000);
            SSLParameters p = tls.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            tls.setSSLParameters(p);
            try {
                tls.startHandshake();
                return true;
            } catch (SSLHandshakeException e) {
                assertThat(e).hasMessageContaining(hostName);
                return false;
            }
        }
    }

    private HttpResponse<String> get(HttpClient client) throws Exception {
        return client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpClient client(SSLContext ssl) {
        return HttpClient.newBuilder().sslContext(ssl).version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    static SSLContext trustOnly(Path certFile) throws Exception {
        Certificate pinned;
        try (InputStream in = Files.newInputStream(certFile)) {
            pinned = CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("apiary", pinned);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        return ssl;
    }
}
