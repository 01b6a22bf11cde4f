package dev.apiary.api;

import dev.apiary.fleet.BootTimeline;
import dev.apiary.fleet.FleetService;
import io.vertx.ext.web.Router;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code /api/v1/workers/{name}/boots}: the worker's last boots, newest first, each phase with its time from the start. */
public final class BootRoutes implements ApiServer.Routes {
    private final FleetService fleet;

    public BootRoutes(FleetService fleet) {
        this.fleet = fleet;
    }

    @Override
    public void mount(Router router, ApiServer api) {
        router.get("/api/v1/workers/:name/boots").handler(ctx -> api.respond(ctx, 200, () -> Map.of("items",
                fleet.boots().boots(fleet.worker(ctx.pathParam("name")).name(), 10).stream()
                        .map(BootRoutes::view).toList())));
    }

    static Map<String, Object> view(BootTimeline.Boot b) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("boot", b.number());
        m.put("started", b.started().toString());
        m.put("phases", b.phases().stream().map(p -> Map.of("phase", p.phase(), "at", p.at().toString(),
                "seconds", p.sinceStart().toMillis() / 1000.0)).toList());
        return m;
    }
}
