package dev.apiary.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.apiary.api.tls.SelfSignedCertificate;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin REST API under {@code /api/v1}, HTTPS only (DESIGN.md security model: the admin API
 * refuses the unauthenticated). Every route needs a bearer token from {@code apiary token create}:
 * none is 401, a wrong one 403. Routes run their work off the event loop, and every failure is
 * JSON with the right status.
 */
public final class ApiServer {
    private static final Logger log = LoggerFactory.getLogger(ApiServer.class);
    static final ObjectMapper JSON = new ObjectMapper();

    private final Vertx vertx;
    private final TokenFile tokens;
    private final SelfSignedCertificate certificate;
    private final java.util.function.Supplier<String> metrics;
    private final java.util.List<Routes> routes;
    private HttpServer server;

    /** One resource's routes under {@code /api/v1}. */
    public interface Routes {
        void mount(Router router, ApiServer api);
    }

    /** @param metrics the Prometheus text for {@code /metrics} */
    public ApiServer(Vertx vertx, TokenFile tokens, SelfSignedCertificate certificate,
            java.util.function.Supplier<String> metrics, java.util.List<Routes> routes) {
        this.vertx = vertx;
        this.tokens = tokens;
        this.certificate = certificate;
        this.metrics = metrics;
        this.routes = java.util.List.copyOf(routes);
    }

    Vertx vertx() {
        return vertx;
    }

    /** Listens on {@code host:port}; the future completes with the bound port. */
    public Future<Integer> listen(String host, int port) {
        HttpServerOptions options = new HttpServerOptions().setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
                .setKeyPath(certificate.keyFile().toString()).setCertPath(certificate.certFile().toString()));
        return vertx.createHttpServer(options).requestHandler(router()).listen(port, host).map(s -> {
            server = s;
            return s.actualPort();
        });
    }

    /** Every route; {@code OpenApiTest} checks them against the OpenAPI document. */
    Router router() {
        Router router = Router.router(vertx);
        // The body handler first: it must see the request before any handler goes asynchronous.
        router.route("/api/v1/*").handler(BodyHandler.create().setBodyLimit(64 * 1024));
        router.route("/api/v1/*").handler(this::authenticate);
        // Prometheus scrapes with a bearer token too (scrape_config: authorization: credentials).
        router.get("/metrics").handler(this::authenticate).handler(ctx -> vertx.executeBlocking(metrics::get, false)
                .onComplete(r -> {
                    if (r.failed()) {
                        fail(ctx, r.cause());
                    } else {
                        ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                                .end(r.result());
                    }
                }));
        router.get("/api/v1/openapi.yaml").handler(ctx -> ctx.response()
                .putHeader("Content-Type", "application/yaml").end(OPENAPI));
        routes.forEach(r -> r.mount(router, this));
        router.route("/api/*").last().handler(ctx -> fail(ctx, new ApiError(404, "not_found",
                "no such API path: " + ctx.request().method() + " " + ctx.request().path(), null)));
        return router;
    }

    /** The API's OpenAPI 3 description, a resource beside the code it describes. */
    static final String OPENAPI = resource("/openapi.yaml");

    private static String resource(String name) {
        try (var in = ApiServer.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.io.IOException | NullPointerException e) {
            throw new IllegalStateException("missing resource " + name, e);
        }
    }

    public Future<Void> close() {
        return server == null ? Future.succeededFuture() : server.close();
    }

    /** RFC 6750: a missing token is 401 with a challenge; a token that is not ours is 403. */
    private void authenticate(RoutingContext ctx) {
        String h = ctx.request().getHeader("Authorization");
        if (h == null || !h.regionMatches(true, 0, "Bearer ", 0, 7)) {
            ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"apiary\"");
            fail(ctx, new ApiError(401, "unauthorized", "a bearer token is required (apiary token create)", null));
            return;
        }
        String presented = h.substring(7).trim();
        vertx.executeBlocking(() -> tokens.verify(presented), false).onComplete(r -> {
            if (r.succeeded() && r.result().isPresent()) {
                ctx.put("token", r.result().get());
                ctx.next();
            } else {
                log.info("[api] refused a request to {} from {}: unknown token", ctx.request().path(),
                        ctx.request().remoteAddress());
                fail(ctx, new ApiError(403, "forbidden", "the bearer token is not valid", null));
            }
        });
    }

    /** Runs {@code work} off the event loop and answers with its result as JSON. */
    <T> void respond(RoutingContext ctx, int status, Callable<T> work) {
        vertx.executeBlocking(work, false).onComplete(r -> {
            if (r.failed()) {
                fail(ctx, r.cause());
                return;
            }
            try {
                ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
                        .putHeader("Cache-Control", "no-store").end(JSON.writeValueAsString(r.result()));
            } catch (Exception e) {
                fail(ctx, e);
            }
        });
    }

    static void fail(RoutingContext ctx, Throwable t) {
        ApiError e = switch (t) {
            case ApiError a -> a;
            case dev.apiary.fleet.FleetService.NotFound n -> ApiError.notFound(n.getMessage());
            case dev.apiary.fleet.FleetService.Conflict c -> ApiError.conflict(c.getMessage());
            // The store's refusals name the volume and say why; they reach the caller as they are.
            case dev.apiary.lun.StoreException s when s.reason == dev.apiary.lun.StoreException.Reason.NOT_FOUND ->
                    ApiError.notFound(s.getMessage());
            case dev.apiary.lun.StoreException s when s.reason == dev.apiary.lun.StoreException.Reason.IN_USE
                    || s.reason == dev.apiary.lun.StoreException.Reason.ALREADY_EXISTS -> ApiError.conflict(s.getMessage());
            default -> new ApiError(500, "internal", "internal error; see the server log", null);
        };
        if (e.status() == 500) {
            log.warn("[api] {} {} failed", ctx.request().method(), ctx.request().path(), t);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", e.code());
        body.put("message", e.getMessage());
        if (e.field() != null) {
            body.put("field", e.field());
        }
        try {
            ctx.response().setStatusCode(e.status()).putHeader("Content-Type", "application/json")
                    .end(JSON.writeValueAsString(body));
        } catch (Exception x) {
            ctx.response().setStatusCode(500).end();
        }
    }
}
