package dev.apiary.api;

import dev.apiary.fleet.FleetService;
import dev.apiary.fleet.Worker;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code /api/v1/workers}: list (paginated), one worker, approve, and its credentials on explicit request. */
public final class WorkerRoutes {
    static final int MAX_LIMIT = 500;

    private final FleetService fleet;

    public WorkerRoutes(FleetService fleet) {
        this.fleet = fleet;
    }

    void mount(Router router, ApiServer api) {
        router.get("/api/v1/workers").handler(ctx -> api.respond(ctx, 200, () -> list(ctx)));
        router.get("/api/v1/workers/:name").handler(ctx -> api.respond(ctx, 200, () -> view(worker(ctx))));
        router.post("/api/v1/workers/:name/approve").handler(ctx -> api.respond(ctx, 200, () -> {
            Worker w = worker(ctx);
            if (w.state() != Worker.State.PENDING) {
                throw ApiError.conflict(w.name() + " is " + w.state() + ", not PENDING");
            }
            return view(fleet.approve(w.name()));
        }));
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
        List<Worker> all = fleet.workers().stream()
                .sorted(java.util.Comparator.comparing(Worker::name))
                .filter(w -> after == null || w.name().compareTo(after) > 0)
                .toList();
        List<Worker> page = all.subList(0, Math.min(limit, all.size()));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("items", page.stream().map(WorkerRoutes::view).toList());
        m.put("next", all.size() > limit ? page.get(page.size() - 1).name() : null);
        return m;
    }

    private Worker worker(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        return fleet.workers().stream().filter(w -> w.name().equals(name)).findFirst()
                .orElseThrow(() -> ApiError.notFound("no worker " + name));
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
