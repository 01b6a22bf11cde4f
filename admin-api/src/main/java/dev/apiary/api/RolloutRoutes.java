package dev.apiary.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.apiary.fleet.FleetService;
import dev.apiary.fleet.Rollouts;
import dev.apiary.fleet.store.ChangeTable.Member;
import dev.apiary.fleet.store.ChangeTable.Rollout;
import io.vertx.ext.web.Router;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code /api/v1/rollouts}: an image version rolled out to chosen workers in batches, and rolled
 * back, for one worker or all (class Rollouts); {@code POST /api/v1/workers/{name}/assign} gives
 * one worker a version from its next boot.
 */
public final class RolloutRoutes implements ApiServer.Routes {
    static final int MAX_WORKERS = 10_000;

    private final FleetService fleet;

    public RolloutRoutes(FleetService fleet) {
        this.fleet = fleet;
    }

    @Override
    public void mount(Router router, ApiServer api) {
        router.post("/api/v1/rollouts").handler(ctx -> api.respond(ctx, 202, () -> {
            JsonNode body = WorkerRoutes.body(ctx);
            String image = imageRef(body.path("image").asText(null));
            List<String> workers = workers(body, true);
            int batch = body.has("batch-size") ? positive(body.get("batch-size"), "batch-size", MAX_WORKERS) : 1;
            int timeout = body.has("timeout-seconds") ? positive(body.get("timeout-seconds"), "timeout-seconds", 86_400) : 1800;
            try {
                return view(fleet.rollouts().start(image, workers, batch, Duration.ofSeconds(timeout)));
            } catch (IllegalArgumentException e) {
                throw ApiError.badRequest("image", e.getMessage());
            }
        }));
        router.get("/api/v1/rollouts").handler(ctx -> api.respond(ctx, 200, () -> Map.of("items",
                fleet.rollouts().list().stream().map(r -> view(new Rollouts.View(r, List.of()))).toList())));
        router.get("/api/v1/rollouts/:id").handler(ctx -> api.respond(ctx, 200,
                () -> view(fleet.rollouts().get(id(ctx.pathParam("id"))))));
        router.post("/api/v1/rollouts/:id/rollback").handler(ctx -> api.respond(ctx, 202, () -> {
            JsonNode body = WorkerRoutes.body(ctx);
            try {
                return view(fleet.rollouts().rollback(id(ctx.pathParam("id")), workers(body, false)));
            } catch (IllegalArgumentException e) {
                throw ApiError.badRequest("workers", e.getMessage());
            }
        }));
        router.post("/api/v1/workers/:name/assign").handler(ctx -> api.respond(ctx, 200, () -> {
            String image = imageRef(WorkerRoutes.body(ctx).path("image").asText(null));
            try {
                return WorkerRoutes.view(fleet.nextBoot().assign(ctx.pathParam("name"), image));
            } catch (IllegalArgumentException e) {
                throw ApiError.badRequest("image", e.getMessage());
            }
        }));
    }

    static long id(String v) {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw ApiError.badRequest("id", "id must be a whole number");
        }
    }

    private static String imageRef(String v) {
        if (v == null || !dev.apiary.lun.VolumeStore.SNAPSHOT_REF.matcher(v).matches()) {
            throw ApiError.badRequest("image", "image must be IMAGE@VERSION");
        }
        return v;
    }

    private static List<String> workers(JsonNode body, boolean required) {
        JsonNode w = body.get("workers");
        if (w == null && !required) {
            return List.of();
        }
        if (w == null || !w.isArray() || (required && w.isEmpty()) || w.size() > MAX_WORKERS) {
            throw ApiError.badRequest("workers", "workers must be a list of worker names"
                    + (required ? ", at least one" : ""));
        }
        List<String> out = new ArrayList<>();
        for (JsonNode n : w) {
            out.add(WorkerRoutes.workerName(n.isTextual() ? n.asText() : null, "workers"));
        }
        return out;
    }

    private static int positive(JsonNode n, String field, int max) {
        if (!n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() < 1 || n.asInt() > max) {
            throw ApiError.badRequest(field, field + " must be a whole number from 1 to " + max);
        }
        return n.asInt();
    }

    static Map<String, Object> view(Rollouts.View v) {
        Rollout r = v.rollout();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", r.id());
        m.put("image", r.image());
        m.put("batch-size", r.batchSize());
        m.put("timeout-seconds", r.timeoutSeconds());
        m.put("state", r.state());
        m.put("created", r.createdAt().toString());
        m.put("updated", r.updatedAt().toString());
        m.put("error", r.error().orElse(null));
        if (!v.workers().isEmpty()) {
            List<Map<String, Object>> ws = new ArrayList<>();
            for (Member mb : v.workers()) {
                Map<String, Object> w = new LinkedHashMap<>();
                w.put("worker", mb.worker());
                w.put("batch", mb.batch());
                w.put("state", mb.state());
                w.put("previous", mb.previous().orElse(null));
                w.put("since", mb.since().toString());
                ws.add(w);
            }
            m.put("workers", ws);
        }
        return m;
    }
}
