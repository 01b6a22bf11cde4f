package dev.apiary.api;

import dev.apiary.fleet.FleetService;
import dev.apiary.fleet.Worker;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code /api/v1/workers}: list (paginated), one worker, approve, and its credentials on explicit request. */
public final class WorkerRoutes implements ApiServer.Routes {
    static final int MAX_LIMIT = 500;

    private final FleetService fleet;
    private final java.net.InetSocketAddress wakeTo;

    /** @param wakeTo where Wake-on-LAN packets go (the workers' broadcast address), or null */
    public WorkerRoutes(FleetService fleet, java.net.InetSocketAddress wakeTo) {
        this.fleet = fleet;
        this.wakeTo = wakeTo;
    }

    @Override
    public void mount(Router router, ApiServer api) {
        router.get("/api/v1/workers").handler(ctx -> api.respond(ctx, 200, () -> list(ctx)));
        router.get("/api/v1/workers/:name").handler(ctx -> api.respond(ctx, 200, () -> {
            Worker w = worker(ctx);
            Map<String, Object> m = view(w);
            m.put("nextImage", fleet.nextBoot().pending(w.name()).orElse(null));
            m.put("boot", fleet.boots().boots(w.name(), 1).stream().findFirst().map(BootRoutes::view).orElse(null));
            return m;
        }));
        router.post("/api/v1/workers/:name/approve").handler(ctx -> api.respond(ctx, 200,
                () -> view(fleet.approve(worker(ctx).name()))));
        router.post("/api/v1/workers/:name/replace").handler(ctx -> api.respond(ctx, 200, () -> {
            String mac = mac(ctx, body(ctx).path("mac").asText(null));
            return view(fleet.replace(worker(ctx).name(), mac));
        }));
        router.post("/api/v1/workers/:name/reimage").handler(ctx -> api.respond(ctx, 200, () -> {
            String image = body(ctx).path("image").asText(null);
            if (image != null && !dev.apiary.lun.VolumeStore.SNAPSHOT_REF.matcher(image).matches()) {
                throw ApiError.badRequest("image", "image must be VOLUME@SNAPSHOT");
            }
            return view(fleet.reimage(worker(ctx).name(), image));
        }));
        router.post("/api/v1/workers/:name/retire").handler(ctx -> api.respond(ctx, 200,
                () -> view(fleet.retire(worker(ctx).name()))));
        router.post("/api/v1/workers/:name/wake").handler(ctx -> api.respond(ctx, 202, () -> {
            if (wakeTo == null) {
                throw ApiError.conflict("Wake-on-LAN is not configured: set fleet.wake-to to the workers' broadcast address");
            }
            String mac = fleet.wakeable(worker(ctx).name());
            dev.apiary.pxe.WakeOnLan.wake(mac, wakeTo);
            return Map.of("sent", mac, "to", wakeTo.getAddress().getHostAddress() + ":" + wakeTo.getPort());
        }));
        router.post("/api/v1/workers/:name/reimage/confirm").handler(ctx -> api.respond(ctx, 200,
                () -> view(fleet.confirm(worker(ctx).name()))));
        router.post("/api/v1/workers/:name/reimage/rollback").handler(ctx -> api.respond(ctx, 200,
                () -> view(fleet.rollback(worker(ctx).name()))));
        // Secrets leave only on this explicit request (issue 5: never in other responses).
        router.get("/api/v1/workers/:name/credentials").handler(ctx -> api.respond(ctx, 200, () -> {
            Worker w = worker(ctx);
            fleet.audit(w, "credentials-read", "credentials read through the API by token " + ctx.get("token"));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("initiatorIqn", w.initiatorIqn());
            m.put("targetIqn", w.targetIqn());
            m.put("chap", Map.of("user", w.chapUser(), "secret", fleet.chap(w).secret().reveal()));
            m.put("mutual", Map.of("user", w.mutualUser(), "secret", fleet.mutual(w).secret().reveal()));
            return m;
        }));
    }

    /** {@code ?limit=1..500&after=NAME}: workers by name, with {@code next} to pass as {@code after}. */
    private Map<String, Object> list(RoutingContext ctx) {
        int limit = intParam(ctx, "limit", 100, 1, MAX_LIMIT);
        String after = ctx.request().getParam("after");
        // One keyset query in the inventory, not the whole fleet sorted in memory (10,000 workers).
        dev.apiary.fleet.store.WorkerTable.Page page = fleet.workers(after, limit);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("items", page.items().stream().map(WorkerRoutes::view).toList());
        m.put("next", page.next());
        return m;
    }

    private Worker worker(RoutingContext ctx) {
        return fleet.worker(ctx.pathParam("name"));
    }

    /** The JSON body (empty when there is none); anything that is not a JSON object is a 400. */
    static com.fasterxml.jackson.databind.JsonNode body(RoutingContext ctx) {
        String text = ctx.body() == null ? null : ctx.body().asString();
        if (text == null || text.isBlank()) {
            return ApiServer.JSON.createObjectNode();
        }
        try {
            com.fasterxml.jackson.databind.JsonNode n = ApiServer.JSON.readTree(text);
            if (n == null || !n.isObject()) {
                throw ApiError.badRequest("body", "the body must be a JSON object");
            }
            return n;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw ApiError.badRequest("body", "the body is not valid JSON");
        }
    }

    /** A worker's name as a request gives it: a hostname label. */
    static String workerName(String v, String field) {
        if (v == null || !v.matches("[A-Za-z0-9][A-Za-z0-9-]{0,62}")) {
            throw ApiError.badRequest(field, field + " must name workers: 1-63 of A-Z a-z 0-9 -");
        }
        return v;
    }

    private static String mac(RoutingContext ctx, String mac) {
        if (mac == null) {
            throw ApiError.badRequest("mac", "mac is required");
        }
        return dev.apiary.pxe.Machine.parseMac(mac)
                .orElseThrow(() -> ApiError.badRequest("mac", "mac must look like 52:54:00:12:34:56"));
    }

    static int intParam(RoutingContext ctx, String name, int dflt, int min, int max) {
        String v = ctx.request().getParam(name);
        if (v == null) {
            return dflt;
        }
        try {
            int i = Integer.parseInt(v);
            if (i >= min && i <= max) {
                return i;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw ApiError.badRequest(name, name + " must be a whole number from " + min + " to " + max);
    }

    /** A worker as the API shows it: never its secrets. */
    static Map<String, Object> view(Worker w) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", w.name());
        m.put("mac", w.mac());
        m.put("state", w.state().name());
        m.put("initiatorIqn", w.initiatorIqn());
        m.put("targetIqn", w.targetIqn());
        m.put("image", w.image());
        m.put("createdAt", w.createdAt().toString());
        m.put("lastSeen", w.lastSeen().map(Object::toString).orElse(null));
        m.put("luns", w.luns().stream().map(l -> Map.of("lun", l.lun(), "volume", l.volume(),
                "role", l.role().name())).toList());
        return m;
    }
}
