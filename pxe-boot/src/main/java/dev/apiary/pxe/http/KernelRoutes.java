package dev.apiary.pxe.http;

import dev.apiary.pxe.BootDecision;
import dev.apiary.pxe.Machine;
import dev.apiary.pxe.ServedFile;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /boot/{mac}/kernel} and {@code /boot/{mac}/initrd}: the kernel and initrd a machine's
 * script boots (ScriptRenderer#linux), read from its own boot disk by the decision and streamed
 * with the connection's back-pressure: a chunk is read off the event loop only once the last one
 * has left, so forty megabytes to each of fifty machines never sit in memory at once. Who may
 * fetch them, and how many transfers run at once, is decided as for the script and for /files.
 */
final class KernelRoutes {
    private static final Logger log = LoggerFactory.getLogger(KernelRoutes.class);
    private static final int CHUNK = 256 * 1024;
    private static final String MACHINE = "apiary.machine";
    static final int PER_MACHINE = 2;

    /** Transfers in progress per MAC; each change is one atomic map operation, and a MAC at zero leaves the map. */
    private final ConcurrentHashMap<String, Integer> perMachine = new ConcurrentHashMap<>();

    private final Vertx vertx;
    private final BootDecision decision;
    private final BiFunction<RoutingContext, String, Optional<Machine>> machine;

    /** {@code machine}: parses the MAC and checks the requester, answering the request itself when it refuses. */
    KernelRoutes(Vertx vertx, BootDecision decision, BiFunction<RoutingContext, String, Optional<Machine>> machine) {
        this.vertx = vertx;
        this.decision = decision;
        this.machine = machine;
    }

    void mount(Router router, Handler<RoutingContext> admit) {
        for (String name : new String[] {"kernel", "initrd"}) {
            // Who is asking is checked before admission, so a refused host never holds a place in the queue.
            router.get("/boot/:mac/" + name).handler(ctx -> machine.apply(ctx, name).ifPresent(m -> {
                // iPXE fetches one file after the other; more at once from one machine would only
                // take the transfer slots other machines are waiting for.
                if (perMachine.merge(m.mac(), 1, Integer::sum) > PER_MACHINE) {
                    leave(m.mac());
                    ctx.response().setStatusCode(429).end("at most " + PER_MACHINE + " transfers per machine at once\n");
                    return;
                }
                ctx.addEndHandler(done -> leave(m.mac()));
                ctx.put(MACHINE, m);
                admit.handle(ctx);
            })).handler(ctx -> serve(ctx, ctx.get(MACHINE), name));
        }
    }

    private void leave(String mac) {
        perMachine.computeIfPresent(mac, (k, n) -> n == 1 ? null : n - 1);
    }

    private void serve(RoutingContext ctx, Machine m, String name) {
        vertx.executeBlocking(() -> decision.file(m, name), false).onComplete(r -> {
            if (r.failed()) {
                log.warn("[http] the {} of {} failed: {}", name, m.mac(), r.cause().toString());
                ctx.response().setStatusCode(500).end("reading the " + name + " failed; see the server log\n");
            } else if (r.result().isEmpty()) {
                ctx.response().setStatusCode(404).end("no " + name + " for " + m.mac() + "\n");
            } else if (ctx.response().closed()) {
                close(r.result().get()); // the client left while the file was opened: no end handler would run now
            } else {
                ServedFile file = r.result().get();
                ctx.addEndHandler(done -> close(file));
                ctx.response().putHeader("Content-Type", "application/octet-stream")
                        .putHeader("Content-Length", Long.toString(file.size()))
                        .putHeader("Cache-Control", "no-store");
                log.info("[http] sending the {} of {}: {} bytes", name, m.mac(), file.size());
                send(ctx.response(), file, 0);
            }
        });
    }

    /** Reads the next chunk off the event loop, writes it, and goes on when the connection has room. */
    private void send(HttpServerResponse response, ServedFile file, long offset) {
        if (response.closed()) {
            return;
        }
        if (offset == file.size()) {
            response.end();
            return;
        }
        int n = (int) Math.min(CHUNK, file.size() - offset);
        vertx.executeBlocking(() -> {
            ByteBuffer chunk = ByteBuffer.allocate(n);
            file.read(offset, chunk);
            return Buffer.buffer(chunk.array());
        }, false).onComplete(r -> {
            if (r.failed()) {
                // The status line is gone: cutting the connection is the only way to say the body is bad.
                log.warn("[http] reading at {} failed, closing the transfer: {}", offset, r.cause().toString());
                response.reset();
                return;
            }
            if (response.closed()) {
                return;
            }
            response.write(r.result());
            if (response.writeQueueFull()) {
                // A drain handler stays set after it runs, and the queue may fill and drain again
                // later without this chain seeing it full: a handler left behind would start a second
                // chain from an old offset (bytes sent twice, the response ended twice). One use each.
                response.drainHandler(v -> {
                    response.drainHandler(null);
                    send(response, file, offset + n);
                });
            } else {
                send(response, file, offset + n);
            }
        });
    }

    /** Off the event loop: closing a volume may wait for the store's lock or for I/O in flight. */
    private void close(ServedFile file) {
        vertx.executeBlocking(() -> {
            file.close();
            return null;
        }, false).onFailure(e -> log.warn("[http] closing a boot file: {}", e.toString()));
    }
}
