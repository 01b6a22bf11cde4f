package dev.apiary.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.apiary.fleet.FleetService;
import dev.apiary.fleet.store.ChangeTable.Upgrade;
import io.vertx.ext.web.Router;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code /api/v1/images/{name}/upgrades}: an upgrade of a golden image in maintenance mode on a
 * designated worker, sealed as the next version with its package changelog (class Upgrades).
 */
public final class UpgradeRoutes implements ApiServer.Routes {
    private final FleetService fleet;

    public UpgradeRoutes(FleetService fleet) {
        this.fleet = fleet;
    }

    @Override
    public void mount(Router router, ApiServer api) {
        String base = "/api/v1/images/:name/upgrades";
        router.post(base).handler(ctx -> api.respond(ctx, 202, () -> {
            JsonNode body = WorkerRoutes.body(ctx);
            String image = ImageRoutes.name(ctx.pathParam("name"), "name");
            String worker = WorkerRoutes.workerName(body.path("worker").asText(null), "worker");
            String version = body.hasNonNull("version") ? ImageRoutes.name(body.path("version").asText(null), "version") : null;
            return view(fleet.upgrades().start(image, worker, version), false);
        }));
        router.get(base).handler(ctx -> api.respond(ctx, 200, () -> Map.of("items", fleet.upgrades()
                .list(ImageRoutes.name(ctx.pathParam("name"), "name")).stream().map(u -> view(u, false)).toList())));
        router.get(base + "/:id").handler(ctx -> api.respond(ctx, 200, () -> view(fleet.upgrades()
                .get(ImageRoutes.name(ctx.pathParam("name"), "name"), RolloutRoutes.id(ctx.pathParam("id"))), true)));
        router.delete(base + "/:id").handler(ctx -> api.respond(ctx, 200, () -> view(fleet.upgrades()
                .cancel(ImageRoutes.name(ctx.pathParam("name"), "name"), RolloutRoutes.id(ctx.pathParam("id"))), true)));
    }

    /** The changelog can be long: only the one-upgrade view carries it. */
    static Map<String, Object> view(Upgrade u, boolean changelog) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", u.id());
        m.put("image", u.image());
        m.put("from", u.fromVersion());
        m.put("to", u.toVersion());
        m.put("worker", u.worker());
        m.put("state", u.state());
        m.put("started", u.startedAt().toString());
        m.put("updated", u.updatedAt().toString());
        m.put("error", u.error().orElse(null));
        if (changelog) {
            m.put("changelog", u.changelog().orElse(null));
        }
        return m;
    }
}
