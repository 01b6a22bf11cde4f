package dev.apiary.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.apiary.fleet.FleetService;
import dev.apiary.gateway.GatewayRegistry;
import io.vertx.ext.web.Router;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * {@code /api/v1/gateways}: the nodes that export the fleet's LUNs, and what they call to stay in
 * the fleet: a heartbeat (their portal, Ceph client address and the LUNs they claimed on their
 * own), answered with their port group and the digest of the configuration to serve, and the
 * configuration itself. The configuration holds CHAP secrets: like everything here it goes only
 * to a caller with a token, over TLS.
 */
public final class GatewayRoutes implements ApiServer.Routes {
    static final String NAME = "[a-z0-9][a-z0-9.-]{0,63}";
    static final int MAX_CLAIMS = 100_000;

    private final GatewayRegistry registry;
    private final FleetService fleet;
    private final String local;
    private final java.util.function.Supplier<dev.apiary.gateway.ExportConfig> served;

    /**
     * {@code local}: the API node's own gateway, the only one a file store allows; {@code served}:
     * the configuration the API node's own gateway serves, which is what every gateway gets.
     */
    public GatewayRoutes(GatewayRegistry registry, FleetService fleet, String local,
            java.util.function.Supplier<dev.apiary.gateway.ExportConfig> served) {
        this.registry = registry;
        this.fleet = fleet;
        this.local = local;
        this.served = served;
    }

    @Override
    public void mount(Router router, ApiServer api) {
        router.get("/api/v1/gateways").handler(ctx -> api.respond(ctx, 200, () -> Map.of("items",
                registry.list().stream().map(GatewayRoutes::view).toList())));
        router.post("/api/v1/gateways/:name/heartbeat").handler(ctx -> api.respond(ctx, 200, () -> {
            String name = name(ctx.pathParam("name"));
            JsonNode body = WorkerRoutes.body(ctx);
            String portal = text(body, "portal", true);
            if (!portal.matches("[0-9.]{7,15}:[0-9]{1,5}")) {
                throw ApiError.badRequest("portal", "portal must be IPV4:PORT");
            }
            String client = text(body, "clientAddress", false);
            Set<String> claims = new LinkedHashSet<>();
            JsonNode c = body.path("claims");
            if (!c.isMissingNode() && !c.isNull()) {
                if (!c.isArray() || c.size() > MAX_CLAIMS) {
                    throw ApiError.badRequest("claims", "claims must be an array of volume names");
                }
                for (JsonNode v : c) {
                    if (!v.isTextual() || !dev.apiary.lun.VolumeStore.NAME.matcher(v.asText()).matches()) {
                        throw ApiError.badRequest("claims", "claims must be an array of volume names");
                    }
                    claims.add(v.asText());
                }
            }
            if (!registry.shared() && !name.equals(local)) {
                throw ApiError.conflict("gateway " + name + " cannot join: the volumes are in a file store on the API "
                        + "node; gateways need a shared store (store: {type: rbd})");
            }
            int group = registry.heard(name, portal, client, claims);
            if (registry.changed()) { // a gateway joined, claimed, came or went: owners may move
                fleet.publish();
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("group", group);
            m.put("digest", served.get().digest());
            return m;
        }));
        router.get("/api/v1/gateways/:name/config").handler(ctx -> api.respond(ctx, 200, () -> {
            String name = name(ctx.pathParam("name"));
            if (registry.list().stream().noneMatch(g -> g.name().equals(name))) {
                throw ApiError.notFound("no gateway " + name + ": it joins with its first heartbeat");
            }
            return served.get();
        }));
        router.delete("/api/v1/gateways/:name").handler(ctx -> api.respond(ctx, 200, () -> {
            String name = name(ctx.pathParam("name"));
            if (!registry.remove(name)) {
                throw ApiError.notFound("no gateway " + name);
            }
            fleet.publish();
            return Map.of("removed", name);
        }));
    }

    static Map<String, Object> view(GatewayRegistry.View g) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", g.name());
        m.put("state", g.up() ? "up" : "down");
        m.put("portal", g.portal());
        m.put("group", g.group());
        m.put("clientAddress", g.clientAddress().orElse(null));
        m.put("lastSeen", g.lastSeen().toString());
        m.put("owns", g.owns());
        return m;
    }

    private static String name(String v) {
        if (v == null || !v.matches(NAME)) {
            throw ApiError.badRequest("name", "a gateway name is 1-64 of a-z 0-9 . - starting with a letter or digit");
        }
        return v;
    }

    private static String text(JsonNode body, String field, boolean required) {
        JsonNode n = body.path(field);
        if (n.isMissingNode() || n.isNull()) {
            if (required) {
                throw ApiError.badRequest(field, field + " is required");
            }
            return null;
        }
        if (!n.isTextual() || n.asText().length() > 128) {
            throw ApiError.badRequest(field, field + " must be a string of at most 128 characters");
        }
        return n.asText();
    }
}
