package dev.apiary.pxe.http;

import dev.apiary.pxe.Arch;
import dev.apiary.pxe.BootDecision;
import dev.apiary.pxe.Machine;
import dev.apiary.pxe.Sightings;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.FileSystemAccess;
import io.vertx.ext.web.handler.StaticHandler;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP half of network boot: {@code GET /boot/{mac}} returns that machine's iPXE script
 * (iPXE fetches it over HTTP because it is fast; TFTP only carries iPXE itself), and
 * {@code GET /files/...} serves kernels, initrds and other large files from a directory, with
 * Range requests (RFC 9110 §14) and no path escapes; {@link KernelRoutes} serves the kernel and
 * initrd a machine's script boots from its own disk. File transfers are admitted up to a cap; a
 * request over the cap waits for a slot rather than failing, so fifty machines powering on
 * together all come up. A booted machine's agent talks to {@link AgentRoutes} under the same
 * {@code /boot/{mac}/} path.
 */
public final class BootHttpService {
    private static final Logger log = LoggerFactory.getLogger(BootHttpService.class);

    private final Vertx vertx;
    private final BootDecision decision;
    private final Sightings sightings;
    private final Path files;
    private final int maxTransfers;
    private final AtomicInteger active = new AtomicInteger();
    /** A request waiting for a transfer slot, with the event-loop context it must be resumed on. */
    private record Waiting(RoutingContext ctx, io.vertx.core.Context context) {}

    private final ConcurrentLinkedQueue<Waiting> waiting = new ConcurrentLinkedQueue<>();
    private HttpServer server;

    /** Serves every machine's script to whoever asks: for tests, and for DHCP run by someone else. */
    public BootHttpService(Vertx vertx, BootDecision decision, Path files, int maxTransfers) {
        this(vertx, decision, files, maxTransfers, null);
    }

    /**
     * @param sightings when not null, a script is served only to the address its MAC took in DHCP
     *     (DESIGN.md security model); others get 403
     */
    public BootHttpService(Vertx vertx, BootDecision decision, Path files, int maxTransfers, Sightings sightings) {
        this.vertx = vertx;
        this.sightings = sightings;
        this.decision = decision;
        this.files = files.toAbsolutePath().normalize();
        this.maxTransfers = maxTransfers;
    }

    /** Starts listening; the future completes with the bound port. */
    public Future<Integer> listen(String host, int port) {
        Router router = Router.router(vertx);
        router.get("/boot/:mac").handler(this::script);
        new AgentRoutes(vertx, decision, sightings).mount(router);
        new KernelRoutes(vertx, decision, this::machine).mount(router, this::admit);
        router.get("/files/*").handler(this::admit);
        router.get("/files/*").handler(StaticHandler.create(FileSystemAccess.ROOT, files.toString())
                .setDirectoryListing(false)
                .setEnableRangeSupport(true)
                .setCachingEnabled(false)
                .setIncludeHidden(false));
        router.route().last().handler(ctx -> ctx.response().setStatusCode(404).end("not found\n"));
        return vertx.createHttpServer().requestHandler(router).listen(port, host).map(s -> {
            server = s;
            return s.actualPort();
        });
    }

    public Future<Void> close() {
        return server == null ? Future.succeededFuture() : server.close();
    }

    /** The machine the request is from: its MAC parsed, its address checked against DHCP; empty once answered. */
    private Optional<Machine> machine(RoutingContext ctx, String what) {
        Optional<String> parsed = Machine.parseMac(ctx.pathParam("mac"));
        if (parsed.isEmpty()) {
            ctx.response().setStatusCode(400).end("not a MAC address\n");
            return Optional.empty();
        }
        String mac = parsed.get();
        String archParam = ctx.request().getParam("arch");
        Arch arch = archParam == null ? null : archFromIpxe(archParam);
        Optional<InetAddress> from = address(ctx.request().remoteAddress().hostAddress());
        if (sightings != null && (from.isEmpty() || !sightings.permits(mac, from.get()))) {
            log.info("[http] refused the {} of {} to {}: not the address it took by DHCP", what, mac,
                    from.map(InetAddress::getHostAddress).orElse("?"));
            ctx.response().setStatusCode(403).end("only the address a machine took by DHCP may fetch its script\n");
            return Optional.empty();
        }
        return Optional.of(new Machine(mac, arch, true, from));
    }

    private void script(RoutingContext ctx) {
        Optional<Machine> machine = machine(ctx, "boot script");
        if (machine.isEmpty()) {
            return;
        }
        Machine m = machine.get();
        String mac = m.mac();
        Optional<InetAddress> from = m.address();
        String who = mac;
        // A decision may read files or enroll a machine (disk and database work): off the event loop.
        vertx.executeBlocking(() -> decision.script(m), false).onComplete(r -> {
            if (r.failed()) {
                log.warn("[http] boot decision for {} failed: {}", who, r.cause().toString());
                ctx.response().setStatusCode(500).end("the boot decision failed; see the server log\n");
            } else if (r.result().isEmpty()) {
                log.info("[http] no boot decision for {} from {}", who, from.map(InetAddress::getHostAddress).orElse("?"));
                ctx.response().setStatusCode(404).end("no boot script for " + who + "\n");
            } else {
                // The script may carry CHAP secrets: never cached by anyone on the way, never logged.
                ctx.response().putHeader("Content-Type", "text/plain; charset=utf-8")
                        .putHeader("Cache-Control", "no-store").end(r.result().get());
                log.info("[http] served the boot script of {}", who);
            }
        });
    }

    /** iPXE's ${buildarch}: i386 / x86_64 for BIOS builds, or an EFI platform name. */
    private static Arch archFromIpxe(String a) {
        return switch (a) {
            case "i386", "bios" -> Arch.BIOS;
            case "x86_64", "efi", "x86_64-efi" -> Arch.EFI_X64;
            default -> null;
        };
    }

    static Optional<InetAddress> address(String host) {
        try {
            return host == null ? Optional.empty() : Optional.of(InetAddress.getByName(host));
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }

    /** Boot-storm admission: at most {@code maxTransfers} file transfers at once; the rest wait their turn. */
    private void admit(RoutingContext ctx) {
        if (active.incrementAndGet() <= maxTransfers) {
            start(ctx);
        } else {
            active.decrementAndGet();
            ctx.request().pause();
            Waiting w = new Waiting(ctx, vertx.getOrCreateContext());
            waiting.add(w);
            ctx.request().connection().closeHandler(v -> waiting.remove(w));
        }
    }

    private void start(RoutingContext ctx) {
        ctx.addEndHandler(done -> release());
        ctx.next();
    }

    /** A transfer ended: its slot goes to the next waiting request that is still connected. */
    private void release() {
        active.decrementAndGet();
        Waiting next = waiting.poll();
        if (next == null) {
            return;
        }
        if (active.incrementAndGet() <= maxTransfers) {
            next.context().runOnContext(v -> {
                if (next.ctx().response().closed()) {
                    release(); // it left while waiting, before its close handler took it out of the queue
                    return;
                }
                next.ctx().request().resume();
                start(next.ctx());
            });
        } else {
            active.decrementAndGet();
            waiting.add(next);
        }
    }

    int activeTransfers() {
        return active.get();
    }
}
