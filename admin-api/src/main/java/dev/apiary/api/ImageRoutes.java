package dev.apiary.api;

import dev.apiary.fleet.Images;
import dev.apiary.fleet.Jobs;
import dev.apiary.lun.VolumeStore;
import io.vertx.ext.web.Router;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code /api/v1/images} and {@code /api/v1/fleet}: golden images are the store's volumes that are
 * not a worker's ({@code fleet.*}); their sealed snapshots are their versions, which workers'
 * roots are cloned from. Importing a raw image file is a job whose progress can be watched.
 */
public final class ImageRoutes implements ApiServer.Routes {
    private final VolumeStore store;
    private final Jobs jobs;
    private final dev.apiary.fleet.FleetService fleet;

    public ImageRoutes(VolumeStore store, Jobs jobs, dev.apiary.fleet.FleetService fleet) {
        this.store = store;
        this.jobs = jobs;
        this.fleet = fleet;
    }

    @Override
    public void mount(Router router, ApiServer api) {
        router.get("/api/v1/images").handler(ctx -> api.respond(ctx, 200, () -> Map.of("items",
                fleet.images().list().stream().map(ImageRoutes::view).toList())));
        router.post("/api/v1/images").handler(ctx -> api.respond(ctx, 202, () -> {
            var body = WorkerRoutes.body(ctx);
            String name = name(body.path("name").asText(null), "name");
            if (name.startsWith("fleet.")) {
                throw ApiError.badRequest("name", "names starting with fleet. are the workers' volumes");
            }
            String source = body.path("source").asText(null);
            if (source == null || !source.startsWith("/") || !Files.isRegularFile(Path.of(source))) {
                throw ApiError.badRequest("source", "source must be the absolute path of a raw image file on the server");
            }
            if (store.info(name).isPresent()) {
                throw ApiError.conflict("an image or volume named " + name + " exists");
            }
            return JobRoutes.view(jobs.submit("import", name,
                    progress -> store.importRaw(name, Path.of(source), progress)));
        }));
        router.get("/api/v1/images/:name").handler(ctx -> api.respond(ctx, 200,
                () -> view(fleet.images().image(name(ctx.pathParam("name"), "name")))));
        router.post("/api/v1/images/:name/versions").handler(ctx -> api.respond(ctx, 201, () -> {
            String image = name(ctx.pathParam("name"), "name");
            var body = WorkerRoutes.body(ctx);
            String version = name(body.path("version").asText(null), "version");
            String note = body.path("note").asText(null);
            if (note != null && note.length() > 4000) {
                throw ApiError.badRequest("note", "note holds at most 4000 characters");
            }
            return view(fleet.images().seal(image, version, note));
        }));
        router.get("/api/v1/fleet").handler(ctx -> api.respond(ctx, 200, this::fleetView));
        router.put("/api/v1/fleet/image").handler(ctx -> api.respond(ctx, 200, () -> {
            String image = WorkerRoutes.body(ctx).path("image").asText(null);
            if (image == null || !VolumeStore.SNAPSHOT_REF.matcher(image).matches()) {
                throw ApiError.badRequest("image", "image must be VOLUME@SNAPSHOT");
            }
            try {
                fleet.setImage(image);
            } catch (IllegalArgumentException e) {
                throw ApiError.badRequest("image", e.getMessage());
            }
            return fleetView();
        }));
    }

    private Map<String, Object> fleetView() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("enrollment", fleet.policy().enrollment().name().toLowerCase(java.util.Locale.ROOT));
        m.put("image", fleet.image());
        m.put("namePattern", fleet.policy().namePattern());
        m.put("iqnPrefix", fleet.policy().iqnPrefix());
        m.put("dataSize", fleet.policy().dataSize());
        return m;
    }

    static String name(String v, String field) {
        if (v == null || !VolumeStore.NAME.matcher(v).matches()) {
            throw ApiError.badRequest(field, field + " must be 1-64 of A-Z a-z 0-9 . _ - (not starting with . or -)");
        }
        return v;
    }

    static Map<String, Object> view(Images.Image i) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", i.name());
        m.put("size", i.size());
        m.put("versions", i.versions().stream().map(v -> {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("version", v.version());
            r.put("image", v.ref());
            r.put("clones", v.clones());
            r.put("sealedAt", v.sealedAt().map(Object::toString).orElse(null));
            r.put("note", v.note().orElse(null));
            return r;
        }).toList());
        return m;
    }
}
