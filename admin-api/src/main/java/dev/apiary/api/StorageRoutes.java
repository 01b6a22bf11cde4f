package dev.apiary.api;

import dev.apiary.lun.StoreHealth;
import dev.apiary.lun.VolumeStore;
import io.vertx.ext.web.Router;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code /api/v1/storage}: the volume store's health and space, as {@code ceph health} and
 * {@code ceph df} say them for an RBD pool, or {@code df} for the file store's filesystem. A
 * cluster that does not answer is an ERROR within the store's op timeout, not a hung request.
 */
public final class StorageRoutes implements ApiServer.Routes {
    private final VolumeStore store;

    public StorageRoutes(VolumeStore store) {
        this.store = store;
    }

    @Override
    public void mount(Router router, ApiServer api) {
        router.get("/api/v1/storage").handler(ctx -> api.respond(ctx, 200, () -> view(store.health())));
    }

    static Map<String, Object> view(StoreHealth h) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", h.type());
        m.put("where", h.where());
        m.put("status", h.status().name());
        m.put("problems", h.problems());
        m.put("usedBytes", h.usedBytes() < 0 ? null : h.usedBytes());
        m.put("availableBytes", h.availableBytes() < 0 ? null : h.availableBytes());
        return m;
    }
}
