package dev.apiary.api;

import dev.apiary.fleet.FleetService;
import dev.apiary.fleet.Jobs;
import dev.apiary.fleet.store.WorkerTable;
import dev.apiary.lun.VolumeStore;
import io.vertx.ext.web.Router;
import java.io.IOException;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code /api/v1/volumes}: every volume in the store (golden images and the workers' roots and
 * data), as {@code rbd ls -l} and {@code rbd du} show them, with the worker that holds each; and
 * flatten, a job, which cuts a clone loose from its parent (so that image version can be deleted).
 */
public final class VolumeRoutes implements ApiServer.Routes {
    static final int MAX_LIMIT = 500;

    private final VolumeStore store;
    private final FleetService fleet;
    private final Jobs jobs;

    public VolumeRoutes(VolumeStore store, FleetService fleet, Jobs jobs) {
        this.store = store;
        this.fleet = fleet;
        this.jobs = jobs;
    }

    @Override
    public void mount(Router router, ApiServer api) {
        router.get("/api/v1/volumes").handler(ctx -> api.respond(ctx, 200, () -> {
            int limit = WorkerRoutes.intParam(ctx, "limit", 100, 1, MAX_LIMIT);
            String after = ctx.request().getParam("after");
            List<VolumeStore.VolumeInfo> page = store.list().stream()
                    .filter(v -> after == null || v.name().compareTo(after) > 0)
                    .sorted(Comparator.comparing(VolumeStore.VolumeInfo::name)).limit(limit).toList();
            Map<String, WorkerTable.Owner> owners = fleet.owners(page.stream().map(VolumeStore.VolumeInfo::name).toList());
            List<Map<String, Object>> items = new java.util.ArrayList<>();
            for (VolumeStore.VolumeInfo v : page) {
                items.add(view(v, owners.get(v.name())));
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("items", items);
            m.put("next", page.size() == limit ? page.get(page.size() - 1).name() : null);
            return m;
        }));
        router.get("/api/v1/volumes/:name").handler(ctx -> api.respond(ctx, 200, () -> {
            VolumeStore.VolumeInfo v = volume(ctx.pathParam("name"));
            return view(v, fleet.owners(List.of(v.name())).get(v.name()));
        }));
        router.post("/api/v1/volumes/:name/flatten").handler(ctx -> api.respond(ctx, 202, () -> {
            VolumeStore.VolumeInfo v = volume(ctx.pathParam("name"));
            if (v.parent().isEmpty()) {
                throw ApiError.conflict(v.name() + " is not a clone; there is nothing to flatten");
            }
            if (!v.snapshots().isEmpty()) {
                throw ApiError.conflict(v.name() + " has snapshots of its own; flatten cannot cut it loose");
            }
            return JobRoutes.view(jobs.submit("flatten", v.name(), progress -> store.flatten(v.name(), progress)));
        }));
    }

    private VolumeStore.VolumeInfo volume(String name) throws IOException {
        ImageRoutes.name(name, "name");
        return store.info(name).orElseThrow(() -> ApiError.notFound("no volume " + name));
    }

    private Map<String, Object> view(VolumeStore.VolumeInfo v, WorkerTable.Owner owner) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", v.name());
        m.put("size", v.size());
        m.put("allocated", store.usage(v.name()).allocatedBytes());
        m.put("parent", v.parent().map(Object::toString).orElse(null));
        m.put("snapshots", v.snapshots().stream().map(s -> Map.of("name", s.name(), "clones", s.clones())).toList());
        m.put("worker", owner == null ? null : Map.of("name", owner.worker(),
                "role", owner.role().name().toLowerCase(java.util.Locale.ROOT), "lun", owner.lun()));
        return m;
    }
}
