package dev.apiary.api;

import dev.apiary.fleet.Jobs;
import io.vertx.ext.web.Router;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code /api/v1/jobs}: long operations (import, flatten) and their progress, newest first. */
public final class JobRoutes implements ApiServer.Routes {
    static final int MAX_LIMIT = 500;

    private final Jobs jobs;

    public JobRoutes(Jobs jobs) {
        this.jobs = jobs;
    }

    @Override
    public void mount(Router router, ApiServer api) {
        router.get("/api/v1/jobs").handler(ctx -> api.respond(ctx, 200, () -> {
            int limit = WorkerRoutes.intParam(ctx, "limit", 100, 1, MAX_LIMIT);
            long before = longParam(ctx.request().getParam("before"), "before", Long.MAX_VALUE);
            List<Jobs.Job> page = jobs.page(before, limit);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("items", page.stream().map(JobRoutes::view).toList());
            m.put("next", page.size() == limit ? page.get(page.size() - 1).id() : null);
            return m;
        }));
        router.get("/api/v1/jobs/:id").handler(ctx -> api.respond(ctx, 200, () -> {
            long id = longParam(ctx.pathParam("id"), "id", 0);
            return view(jobs.get(id).orElseThrow(() -> ApiError.notFound("no job " + id)));
        }));
    }

    private static long longParam(String v, String field, long dflt) {
        if (v == null) {
            return dflt;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw ApiError.badRequest(field, field + " must be a job id (a whole number)");
        }
    }

    static Map<String, Object> view(Jobs.Job j) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", j.id());
        m.put("kind", j.kind());
        m.put("subject", j.subject());
        m.put("state", j.state().name());
        m.put("done", j.done());
        m.put("total", j.total());
        m.put("started", j.started().toString());
        m.put("finished", j.finished().map(Object::toString).orElse(null));
        m.put("error", j.error().orElse(null));
        return m;
    }
}
