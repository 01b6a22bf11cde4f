package dev.apiary.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import picocli.CommandLine.Option;

/**
 * How the CLI reaches the API: HTTPS to {@code --api}, trusting the server's own certificate from
 * the data directory (or {@code --cacert}), with the token from {@code --token} or
 * {@code APIARY_TOKEN}. A picocli mixin, so every API command takes the same options.
 */
public final class ApiClient {
    static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--api", paramLabel = "URL", defaultValue = "https://127.0.0.1:8443",
            description = "The API (default ${DEFAULT-VALUE}).")
    String api;

    @Option(names = "--data", paramLabel = "DIR", defaultValue = "apiary-data",
            description = "Data directory whose tls/api-cert.pem to trust (default ${DEFAULT-VALUE}).")
    Path data;

    @Option(names = "--cacert", paramLabel = "FILE", description = "Trust this certificate instead.")
    Path cacert;

    @Option(names = "--token", paramLabel = "TOKEN", description = "API token (default: $APIARY_TOKEN).")
    String token;

    /** An API failure, with the server's message. */
    static final class Failure extends Exception {
        final int status;

        Failure(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    JsonNode get(String path) throws Exception {
        return send(HttpRequest.newBuilder(uri(path)).GET(), path);
    }

    JsonNode post(String path, JsonNode body) throws Exception {
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body == null ? "" : JSON.writeValueAsString(body))), path);
    }

    JsonNode delete(String path) throws Exception {
        return send(HttpRequest.newBuilder(uri(path)).DELETE(), path);
    }

    JsonNode put(String path, JsonNode body) throws Exception {
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))), path);
    }

    private URI uri(String path) {
        return URI.create(api.replaceAll("/+$", "") + "/api/v1" + path);
    }

    private JsonNode send(HttpRequest.Builder b, String path) throws Exception {
        HttpResponse<String> r = exchange(b.timeout(Duration.ofMinutes(5)), HttpResponse.BodyHandlers.ofString());
        JsonNode body;
        try {
            body = JSON.readTree(r.body());
        } catch (IOException e) {
            throw new Failure(r.statusCode(), "HTTP " + r.statusCode() + " from " + path);
        }
        if (r.statusCode() / 100 != 2) {
            throw failure(r.statusCode(), body);
        }
        return body;
    }

    /**
     * A GET whose body is read line by line as it arrives, for a server-sent event stream: the
     * stream ends when the server ends the response; closing it closes the connection. Only the
     * wait for the response's headers is bounded ({@code headerTimeout}).
     */
    java.util.stream.Stream<String> lines(String path, java.util.Map<String, String> headers, Duration headerTimeout)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).GET().timeout(headerTimeout);
        headers.forEach(b::header);
        HttpResponse<java.util.stream.Stream<String>> r = exchange(b, HttpResponse.BodyHandlers.ofLines());
        if (r.statusCode() / 100 != 2) {
            String text;
            try (java.util.stream.Stream<String> body = r.body()) {
                text = String.join("\n", body.toList());
            } catch (java.io.UncheckedIOException e) {
                text = "";
            }
            JsonNode body;
            try {
                body = JSON.readTree(text);
            } catch (IOException e) {
                body = JSON.createObjectNode();
            }
            throw failure(r.statusCode(), body);
        }
        return r.body();
    }

    /** Sends with the token over HTTPS trusting only the server's certificate; no answer at all is status 0. */
    private <T> HttpResponse<T> exchange(HttpRequest.Builder b, HttpResponse.BodyHandler<T> handler) throws Exception {
        String t = token != null ? token : System.getenv("APIARY_TOKEN");
        if (t == null || t.isBlank()) {
            throw new Failure(401, "no token: pass --token or set APIARY_TOKEN (./apiary token create NAME)");
        }
        HttpClient client = HttpClient.newBuilder().sslContext(trust()).connectTimeout(Duration.ofSeconds(10)).build();
        try {
            return client.send(b.header("Authorization", "Bearer " + t).build(), handler);
        } catch (IOException e) {
            throw new Failure(0, "cannot reach " + api + ": " + (e.getMessage() != null ? e.getMessage() : e.toString()));
        }
    }

    /** The server's error ({@code message}, and {@code field} for a bad request) as a failure. */
    private static Failure failure(int status, JsonNode body) {
        String field = body.path("field").isMissingNode() || body.path("field").isNull() ? ""
                : " (" + body.path("field").asText() + ")";
        return new Failure(status, body.path("message").asText("HTTP " + status) + field);
    }

    /** Trusts exactly the server's certificate: it is self-signed, and nothing else should be trusted for it. */
    private SSLContext trust() throws Exception {
        Path pem = cacert != null ? cacert : data.resolve("tls").resolve("api-cert.pem");
        if (!Files.isReadable(pem)) {
            throw new Failure(0, "no certificate to trust at " + pem + ": pass --data DIR or --cacert FILE");
        }
        return dev.apiary.api.tls.PinnedTrust.of(pem);
    }
}
