package dev.apiary.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.apiary.fleet.FleetService;
import dev.apiary.fleet.Worker;
import dev.apiary.fleet.WorkerSnapshots;
import io.vertx.ext.web.Router;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code /api/v1/workers/{name}/snapshots}: snapshots of a worker's root and data volumes, taken
 * while it runs, deleted, or rolled back to (which drops its sessions: power it off first).
 */
public final class SnapshotRoutes implements ApiServer.Routes {
    private final FleetService fleet;

    public SnapshotRoutes(FleetService fleet) {
        this.fleet = fleet;
    }

    @Override
    public void mount(Router router, ApiServer api) {
        String base = "/api/v1/workers/:name/snapshots";
        router.get(base).handler(ctx -> api.respond(ctx, 200, () -> Map.of("items",
                fleet.snapshots().list(ctx.pathParam("name")).stream().map(SnapshotRoutes::view).toList())));
        router.post(base).handler(ctx -> api.respond(ctx, 201, () -> {
            JsonNode body = WorkerRoutes.body(ctx);
            String name = ImageRoutes.name(body.path("name").asText(null), "name");
            Set<Worker.Role> roles = roles(body);
            return view(fleet.snapshots().create(ctx.pathParam("name"), name,
                    roles.isEmpty() ? WorkerSnapshots.ROLES : roles));
        }));
        router.delete(base + "/:snapshot").handler(ctx -> api.respond(ctx, 200, () -> view(fleet.snapshots()
                .delete(ctx.pathParam("name"), ImageRoutes.name(ctx.pathParam("snapshot"), "snapshot")))));
        router.post(base + "/:snapshot/rollback").handler(ctx -> api.respond(ctx, 200, () -> WorkerRoutes.view(
                fleet.snapshots().rollback(ctx.pathParam("name"), ImageRoutes.name(ctx.pathParam("snapshot"), "snapshot"),
                        roles(WorkerRoutes.body(ctx))))));
    }

    /** {@code "volumes": ["root", "data"]}: empty when absent. */
    private static Set<Worker.Role> roles(JsonNode body) {
        JsonNode v = body.path("volumes");
        Set<Worker.Role> roles = EnumSet.noneOf(Worker.Role.class);
        if (v.isMissingNode() || v.isNull()) {
            return roles;
        }
        if (!v.isArray() || v.isEmpty()) {
            throw ApiError.badRequest("volumes", "volumes must be a non-empty list of \"root\" and \"data\"");
        }
        for (JsonNode r : v) {
            switch (r.asText()) {
                case "root" -> roles.add(Worker.Role.ROOT);
                case "data" -> roles.add(Worker.Role.DATA);
                default -> throw ApiError.badRequest("volumes", "volumes holds \"root\" and \"data\" only, not " + r);
            }
        }
        return roles;
    }

    static Map<String, Object> view(WorkerSnapshots.Snapshot s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", s.name());
        m.put("volumes", s.parts().stream().map(p -> Map.of("role", p.role().name().toLowerCase(Locale.ROOT),
                "volume", p.volume(), "size", p.size())).toList());
        return m;
    }
}
