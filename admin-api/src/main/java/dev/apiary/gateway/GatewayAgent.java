package dev.apiary.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.apiary.chap.SecretBox;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A gateway node's link to its API node: a heartbeat every second (its portal, its Ceph client
 * address, the LUNs it claimed on its own), and the export configuration fetched whenever the
 * heartbeat's digest says it changed. The last configuration is kept on disk, sealed with the
 * node's master key (it holds CHAP secrets), so a gateway restarted while the API node is down
 * serves what it served before; while the API node does not answer, the gateway keeps serving.
 */
public final class GatewayAgent implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GatewayAgent.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final Duration BEAT = Duration.ofSeconds(1);

    private final String name;
    private final URI api;
    private final String token;
    private final String portal;
    private final Supplier<String> clientAddress;
    private final SecretBox box;
    private final Path cache;
    private final HttpClient http;
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gateway-agent");
        t.setDaemon(true);
        return t;
    });
    private ExportPublisher publisher;
    private volatile boolean apiDown;

    public GatewayAgent(String name, URI api, String token, SSLContext tls, String portal, Supplier<String> clientAddress,
            SecretBox box, Path cache) {
        this.name = name;
        this.api = api;
        this.token = token;
        this.portal = portal;
        this.clientAddress = clientAddress;
        this.box = box;
        this.cache = cache;
        this.http = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(2)).build();
    }

    /**
     * The configuration to start with: the API node's, or the one kept on disk when the API node
     * does not answer. Fails only when there is neither.
     */
    public ExportConfig first() throws IOException {
        try {
            beat(java.util.Set.of());
            ExportConfig c = fetch();
            save(c);
            return c;
        } catch (Refused e) {
            throw e; // the API node answered no: the kept configuration is not this gateway's to serve
        } catch (IOException e) {
            Optional<ExportConfig> kept = load();
            if (kept.isEmpty()) {
                throw new IOException("cannot reach the API node at " + api + " (" + e.getMessage()
                        + ") and no configuration is kept in " + cache, e);
            }
            apiDown = true;
            log.warn("[gateway] the API node at {} does not answer ({}): serving the configuration kept in {}", api,
                    e.getMessage(), cache);
            return kept.get();
        }
    }

    /** From now on, keeps {@code publisher} serving the API node's configuration. */
    public void start(ExportPublisher publisher) {
        this.publisher = publisher;
        loop.scheduleWithFixedDelay(this::tick, BEAT.toMillis(), BEAT.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void tick() {
        try {
            beatAndFetch();
        } finally {
            try {
                publisher.tick(); // with or without the API node: fences and locks are Ceph's business
            } catch (RuntimeException e) {
                log.warn("[gateway] {}", e.toString()); // never ends the schedule
            }
        }
    }

    private void beatAndFetch() {
        try {
            String digest = beat(publisher.claims());
            if (!digest.equals(publisher.current().digest())) {
                ExportConfig c = fetch();
                publisher.apply(c, true);
                save(c);
            }
            if (apiDown) {
                apiDown = false;
                log.info("[gateway] the API node at {} answers again", api);
            }
        } catch (IOException | RuntimeException e) {
            if (!apiDown) {
                apiDown = true;
                log.warn("[gateway] the API node at {} does not answer ({}): serving the last configuration", api,
                        e.getMessage());
            }
        }
    }

    /** One heartbeat; returns the digest of the configuration the API node wants served. */
    private String beat(java.util.Set<String> claims) throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("portal", portal);
        body.put("clientAddress", clientAddress.get());
        body.put("claims", claims);
        JsonNode r = JSON.readTree(send(HttpRequest.newBuilder(uri("/heartbeat"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)))));
        if (!r.path("digest").isTextual()) {
            throw new IOException("the heartbeat's answer has no digest");
        }
        return r.path("digest").asText();
    }

    private ExportConfig fetch() throws IOException {
        byte[] json = send(HttpRequest.newBuilder(uri("/config")).GET());
        try {
            return ExportConfig.fromJson(json);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private URI uri(String tail) {
        return URI.create(api.toString().replaceAll("/+$", "") + "/api/v1/gateways/" + name + tail);
    }

    private byte[] send(HttpRequest.Builder b) throws IOException {
        HttpResponse<byte[]> r;
        try {
            r = http.send(b.timeout(Duration.ofSeconds(5)).header("Authorization", "Bearer " + token).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        if (r.statusCode() != 200) {
            String message;
            try {
                message = JSON.readTree(r.body()).path("message").asText("");
            } catch (IOException e) {
                message = "";
            }
            String what = "HTTP " + r.statusCode() + (message.isEmpty() ? "" : ": " + message);
            throw r.statusCode() / 100 == 4 ? new Refused(what) : new IOException(what);
        }
        return r.body();
    }

    /**
     * Writes the configuration sealed, one line per 48 KiB piece (a sealed value holds at most 64
     * KiB); each piece is sealed for its place ("i/n"), so pieces cannot be reordered or mixed.
     */
    private void save(ExportConfig c) throws IOException {
        byte[] json = c.toJson();
        int n = Math.max(1, (json.length + PIECE - 1) / PIECE);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < n; i++) {
            byte[] piece = java.util.Arrays.copyOfRange(json, i * PIECE, Math.min(json.length, (i + 1) * PIECE));
            out.append(box.seal(piece, "gateway-config " + i + "/" + n)).append('\n');
        }
        Path tmp = cache.resolveSibling(cache.getFileName() + ".tmp");
        Files.writeString(tmp, out);
        Files.move(tmp, cache, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static final int PIECE = 48 * 1024;

    private Optional<ExportConfig> load() throws IOException {
        if (!Files.exists(cache)) {
            return Optional.empty();
        }
        try {
            java.util.List<String> lines = Files.readAllLines(cache).stream().filter(l -> !l.isBlank()).toList();
            java.io.ByteArrayOutputStream json = new java.io.ByteArrayOutputStream();
            for (int i = 0; i < lines.size(); i++) {
                json.writeBytes(box.open(lines.get(i).trim(), "gateway-config " + i + "/" + lines.size()));
            }
            return Optional.of(ExportConfig.fromJson(json.toByteArray()));
        } catch (RuntimeException e) {
            throw new IOException("the configuration kept in " + cache + " cannot be read: " + e.getMessage(), e);
        }
    }

    /** The API node answered, and refused (a bad token, a gateway it will not have): not an outage. */
    static final class Refused extends IOException {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message);
        }
    }

    @Override
    public void close() {
        loop.shutdownNow();
        try {
            loop.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
