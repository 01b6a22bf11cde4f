package dev.apiary.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;
import java.util.Iterator;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The OpenAPI document and the router describe the same API: every route documented, nothing documented missing. */
class OpenApiTest {
    @Test
    void theDocumentMatchesTheRoutes() throws Exception {
        JsonNode doc = new YAMLMapper().readTree(ApiServer.OPENAPI);
        assertThat(doc.path("openapi").asText()).startsWith("3.");
        String base = doc.path("servers").get(0).path("url").asText();
        Set<String> documented = new TreeSet<>();
        for (Iterator<String> paths = doc.path("paths").fieldNames(); paths.hasNext(); ) {
            String path = paths.next();
            for (Iterator<String> ops = doc.path("paths").path(path).fieldNames(); ops.hasNext(); ) {
                String op = ops.next();
                if (!op.equals("parameters")) {
                    documented.add(op.toUpperCase(java.util.Locale.ROOT) + " " + base + path);
                }
            }
        }
        Vertx vertx = Vertx.vertx();
        try {
            Set<String> routed = new TreeSet<>();
            var routes = java.util.List.<ApiServer.Routes>of(new WorkerRoutes(null, null), new SnapshotRoutes(null), new BootRoutes(null),
                    new EventRoutes(null),
                    new ImageRoutes(null, null, null), new VolumeRoutes(null, null, null), new JobRoutes(null),
                    new UpgradeRoutes(null), new RolloutRoutes(null), new StorageRoutes(null),
                    new GatewayRoutes(null, null, null, null));
            for (Route r : new ApiServer(vertx, null, null, () -> "", routes).router().getRoutes()) {
                if (r.getPath() == null || r.getPath().endsWith("/") || r.methods() == null
                        || r.getPath().equals("/metrics")) {
                    continue; // the catch-all handlers (auth, body, 404), and Prometheus's page outside /api/v1
                }
                for (HttpMethod m : r.methods()) {
                    routed.add(m.name() + " " + r.getPath().replaceAll(":([a-z]+)", "{$1}"));
                }
            }
            assertThat(routed).isNotEmpty().isEqualTo(documented);
        } finally {
            vertx.close().await();
        }
        // Every operation says what an unauthenticated and a wrongly authenticated caller get.
        doc.path("paths").forEach(p -> p.fields().forEachRemaining(op -> {
            if (!op.getKey().equals("parameters")) {
                assertThat(op.getValue().path("responses").has("401")).as(op.getKey()).isTrue();
                assertThat(op.getValue().path("responses").has("403")).as(op.getKey()).isTrue();
            }
        }));
    }
}
