package dev.apiary.api;

import dev.apiary.fleet.FleetService;
import dev.apiary.fleet.store.WorkerTable;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code /api/v1/events}: the audit trail. As JSON, a page after an event id; with
 * {@code Accept: text/event-stream}, a live server-sent event stream (WHATWG HTML §9.2) that
 * starts after {@code Last-Event-ID} (or {@code ?after=}) so a client that reconnects misses
 * nothing. The stream polls the inventory once a second and sends a comment every 15 s to keep
 * idle proxies from closing it.
 */
public final class EventRoutes implements ApiServer.Routes {
    static final int MAX_LIMIT = 500;

    private final FleetService fleet;

    public EventRoutes(FleetService fleet) {
        this.fleet = fleet;
    }

    @Override
    public void mount(Router router, ApiServer api) {
        Vertx vertx = api.vertx();
        router.get("/api/v1/events").handler(ctx -> {
            String accept = ctx.request().getHeader("Accept");
            if (accept != null && accept.contains("text/event-stream")) {
                stream(ctx, vertx);
            } else {
                api.respond(ctx, 200, () -> page(ctx));
            }
        });
    }

    private Map<String, Object> page(RoutingContext ctx) {
        long after = after(ctx, ctx.request().getParam("after"));
        int limit = WorkerRoutes.intParam(ctx, "limit", 100, 1, MAX_LIMIT);
        List<WorkerTable.Event> events = fleet.events(after, limit);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("items", events.stream().map(EventRoutes::view).toList());
        m.put("next", events.size() == limit ? String.valueOf(events.get(events.size() - 1).id()) : null);
        return m;
    }

    private void stream(RoutingContext ctx, Vertx vertx) {
        String last = ctx.request().getHeader("Last-Event-ID");
        long[] after = {after(ctx, last != null ? last : ctx.request().getParam("after"))};
        HttpServerResponse r = ctx.response().setChunked(true).putHeader("Content-Type", "text/event-stream")
                .putHeader("Cache-Control", "no-store");
        r.write(": apiary events\n\n");
        boolean[] polling = {false};
        int[] quiet = {0};
        long timer = vertx.setPeriodic(1000, id -> {
            if (polling[0]) {
                return; // the last poll has not finished: skip a beat rather than pile up
            }
            polling[0] = true;
            vertx.executeBlocking(() -> fleet.events(after[0], MAX_LIMIT), false).onComplete(res -> {
                polling[0] = false;
                if (res.failed() || r.ended() || r.closed()) {
                    return;
                }
                for (WorkerTable.Event e : res.result()) {
                    try {
                        r.write("id: " + e.id() + "\nevent: " + e.kind() + "\ndata: "
                                + ApiServer.JSON.writeValueAsString(view(e)) + "\n\n");
                    } catch (Exception x) {
                        r.reset();
                        return;
                    }
                    after[0] = e.id();
                }
                quiet[0] = res.result().isEmpty() ? quiet[0] + 1 : 0;
                if (quiet[0] >= 15) {
                    quiet[0] = 0;
                    r.write(": keep-alive\n\n");
                }
            });
        });
        r.closeHandler(v -> vertx.cancelTimer(timer));
        ctx.request().connection().closeHandler(v -> vertx.cancelTimer(timer));
    }

    private static long after(RoutingContext ctx, String v) {
        if (v == null) {
            return 0;
        }
        try {
            long a = Long.parseLong(v.trim());
            if (a >= 0) {
                return a;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw ApiError.badRequest("after", "after must be an event id (a whole number, 0 or more)");
    }

    static Map<String, Object> view(WorkerTable.Event e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", e.id());
        m.put("at", e.at().toString());
        m.put("kind", e.kind());
        m.put("worker", e.worker());
        m.put("detail", e.detail());
        return m;
    }
}
