package dev.apiary.pxe.http;

import dev.apiary.pxe.BootDecision;
import dev.apiary.pxe.Machine;
import dev.apiary.pxe.Sightings;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a booted machine's agent (worker-images/recipes: apiary-agent) says to Apiary, under the
 * path its boot script came from:
 * <ul>
 *   <li>{@code POST /boot/{mac}/report}: a boot phase, as a small form ({@code phase}, {@code version},
 *       {@code hostname}); 204, or 404 for a machine the decision does not know;</li>
 *   <li>{@code GET /boot/{mac}/action}: what to do now, one word ({@code none}, {@code maintenance},
 *       {@code reboot});</li>
 *   <li>{@code POST /boot/{mac}/changelog}: a maintenance upgrade's package changes, plain text.</li>
 * </ul>
 * Who may speak for a MAC: the address it took by DHCP, within the sightings window (as for its
 * script), or an address from which the machine's own iSCSI target has a live session: that
 * session proved the worker's CHAP secret, and it is how a booted OS is recognised long after the
 * DHCP window, even when its initramfs got another address from the home router.
 */
final class AgentRoutes {
    private static final Logger log = LoggerFactory.getLogger(AgentRoutes.class);

    /** A report is a few short fields; anything bigger is refused (413) before it is read. */
    static final int REPORT_LIMIT = 1024;
    /** A changelog is a line per changed package: a full Debian point release is a few hundred. */
    static final int CHANGELOG_LIMIT = 256 * 1024;
    private static final Pattern PHASE = Pattern.compile("[a-z][a-z0-9-]{0,31}");
    /** Printable ASCII without '&', '=' or controls: what a version or hostname may hold. */
    private static final Pattern DETAIL = Pattern.compile("[A-Za-z0-9._:+~@-]{1,64}");

    private final Vertx vertx;
    private final BootDecision decision;
    private final Sightings sightings;

    AgentRoutes(Vertx vertx, BootDecision decision, Sightings sightings) {
        this.vertx = vertx;
        this.decision = decision;
        this.sightings = sightings;
    }

    void mount(Router router) {
        router.post("/boot/:mac/report").handler(BodyHandler.create().setBodyLimit(REPORT_LIMIT)
                .setHandleFileUploads(false)).handler(this::report);
        router.get("/boot/:mac/action").handler(ctx -> answer(ctx, "action", m -> {
            String action = decision.action(m);
            return new Reply(200, action + "\n");
        }));
        router.post("/boot/:mac/changelog").handler(BodyHandler.create().setBodyLimit(CHANGELOG_LIMIT)
                .setHandleFileUploads(false)).handler(this::changelog);
    }

    private record Reply(int status, String body) {}

    /** {@code phase=...&version=...&hostname=...}: checked, then handed to the decision. */
    private void report(RoutingContext ctx) {
        String phase = ctx.request().getFormAttribute("phase");
        if (phase == null || !PHASE.matcher(phase).matches()) {
            ctx.response().setStatusCode(400).end("phase must be 1-32 of a-z 0-9 - starting with a letter\n");
            return;
        }
        Map<String, String> details = new TreeMap<>();
        for (String key : new String[] {"version", "hostname"}) {
            String v = ctx.request().getFormAttribute(key);
            if (v != null && !DETAIL.matcher(v).matches()) {
                ctx.response().setStatusCode(400).end(key + " must be 1-64 of A-Z a-z 0-9 . _ : + ~ @ -\n");
                return;
            }
            if (v != null) {
                details.put(key, v);
            }
        }
        answer(ctx, "report " + phase, m -> decision.report(m, phase, details)
                ? new Reply(204, "") : new Reply(404, "no such machine\n"));
    }

    private void changelog(RoutingContext ctx) {
        String text = ctx.body().asString(StandardCharsets.UTF_8.name());
        if (text == null || text.isEmpty() || text.chars().anyMatch(c -> c < 0x20 && c != '\n' && c != '\t')) {
            ctx.response().setStatusCode(400).end("a changelog is non-empty text: printable lines\n");
            return;
        }
        answer(ctx, "changelog", m -> decision.changelog(m, text)
                ? new Reply(204, "") : new Reply(404, "no maintenance boot of this machine is waiting for a changelog\n"));
    }

    /**
     * Parses the MAC, checks who is asking, and runs {@code work} off the event loop (the decision
     * reads the inventory). A decision that refuses what it was told throws IllegalArgumentException: 400.
     */
    private void answer(RoutingContext ctx, String what, Function<Machine, Reply> work) {
        Optional<String> mac = Machine.parseMac(ctx.pathParam("mac"));
        if (mac.isEmpty()) {
            ctx.response().setStatusCode(400).end("not a MAC address\n");
            return;
        }
        Optional<InetAddress> from = BootHttpService.address(ctx.request().remoteAddress().hostAddress());
        Machine m = new Machine(mac.get(), null, false, from);
        boolean sighted = sightings == null || from.isPresent() && sightings.permits(m.mac(), from.get());
        Callable<Reply> call = () -> {
            if (!sighted && !decision.loggedIn(m)) {
                log.info("[http] refused the {} of {} from {}: neither its DHCP address nor logged in to its target",
                        what, m.mac(), from.map(InetAddress::getHostAddress).orElse("?"));
                return new Reply(403, "only the machine itself may report: its DHCP address, or an address"
                        + " logged in to its iSCSI target\n");
            }
            return work.apply(m);
        };
        vertx.executeBlocking(call, false).onComplete(r -> {
            if (r.failed() && r.cause() instanceof IllegalArgumentException refused) {
                log.info("[http] {} of {} refused: {}", what, m.mac(), refused.getMessage());
                ctx.response().setStatusCode(400).end(refused.getMessage() + "\n");
            } else if (r.failed()) {
                log.warn("[http] {} of {} failed: {}", what, m.mac(), r.cause().toString());
                ctx.response().setStatusCode(500).end("the " + what + " failed; see the server log\n");
            } else {
                ctx.response().setStatusCode(r.result().status()).putHeader("Content-Type", "text/plain; charset=utf-8")
                        .end(r.result().body());
            }
        });
    }
}
