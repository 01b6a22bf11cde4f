package dev.apiary.server;

import dev.apiary.fleet.DiskKernels;
import dev.apiary.lun.VolumeStore;
import dev.apiary.pxe.BootDecision;
import dev.apiary.pxe.Machine;
import dev.apiary.pxe.ServedFile;
import dev.apiary.pxe.http.BootHttpService;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The boot's HTTP half of the start-up warm-up ({@link TargetWarmup} is the iSCSI half): a
 * private boot HTTP service on loopback streams the fleet image's kernel and initrd, read from a
 * scratch clone of it, to four clients at once, twice. Without it the first boots pay for the JIT
 * compiling this path (the image reader, the streaming, Vert.x's HTTP server) and for recompiling
 * the Netty code the iSCSI warm-up compiled for iSCSI alone, which Vert.x shares
 * (docs/benchmarks.md, "what C2 compiles during five boots"). A warm-up that fails is logged and
 * never stops the server.
 */
final class BootWarmup {
    private static final Logger log = LoggerFactory.getLogger(BootWarmup.class);
    private static final String SCRATCH = "apiary-warmup-boot";
    private static final int MACHINES = 4, ROUNDS = 2;

    private BootWarmup() {}

    /**
     * {@code image}: VOLUME@SNAPSHOT, or null when the fleet has none yet (nothing to warm up with).
     * Returns the bytes streamed: 0 when the image names no kernel or the warm-up failed.
     */
    static long run(Vertx vertx, VolumeStore store, String image, Path dir) {
        if (image == null || !image.contains("@")) {
            return 0;
        }
        long t0 = System.nanoTime();
        BootHttpService http = null;
        try {
            drop(store);
            String[] ref = image.split("@", 2);
            store.clone(ref[0], ref[1], SCRATCH);
            DiskKernels kernels = new DiskKernels(store);
            BootDecision decision = new BootDecision() {
                @Override
                public Optional<String> script(Machine machine) {
                    return Optional.of("#!ipxe\n");
                }

                @Override
                public Optional<ServedFile> file(Machine machine, String name) throws IOException {
                    return kernels.open(SCRATCH, name);
                }
            };
            http = new BootHttpService(vertx, decision, Files.createDirectories(dir), MACHINES);
            int port = http.listen("127.0.0.1", 0).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            long bytes = 0;
            for (int round = 0; round < ROUNDS; round++) {
                List<CompletableFuture<HttpResponse<byte[]>>> fetches = new ArrayList<>();
                for (int m = 0; m < MACHINES; m++) {
                    for (String name : new String[] {"kernel", "initrd"}) {
                        fetches.add(client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                                + "/boot/02-00-00-00-00-0" + m + "/" + name)).timeout(Duration.ofSeconds(30)).build(),
                                HttpResponse.BodyHandlers.ofByteArray()));
                    }
                }
                for (CompletableFuture<HttpResponse<byte[]>> f : fetches) {
                    HttpResponse<byte[]> r = f.get(60, TimeUnit.SECONDS);
                    if (r.statusCode() != 200) {
                        log.info("[boot] warm-up skipped: {} has no kernel to serve ({})", image, r.statusCode());
                        return 0;
                    }
                    bytes += r.body().length;
                }
            }
            dev.apiary.iscsi.portal.Warmup.awaitQuietCompiler(System.nanoTime() + 10_000_000_000L);
            log.info("[boot] warmed up: {} MiB of {}'s kernel and initrd streamed over loopback in {} ms",
                    bytes >> 20, image, (System.nanoTime() - t0) / 1_000_000);
            return bytes;
        } catch (Exception e) {
            log.warn("[boot] warm-up skipped: {}", e.toString());
            return 0;
        } finally {
            if (http != null) {
                try { // closed before the clone is dropped: an open transfer would keep it in use
                    http.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
                } catch (Exception e) {
                    log.warn("[boot] closing the warm-up's HTTP service: {}", e.toString());
                }
            }
            try {
                drop(store);
                Files.deleteIfExists(dir);
            } catch (IOException e) {
                log.warn("[boot] could not remove the warm-up clone {}: {}", SCRATCH, e.toString());
            }
        }
    }

    private static void drop(VolumeStore store) throws IOException {
        if (store.info(SCRATCH).isPresent()) {
            store.delete(SCRATCH);
        }
    }
}
