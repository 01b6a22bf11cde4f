package dev.apiary.server;

import dev.apiary.api.ApiServer;
import dev.apiary.api.BootRoutes;
import dev.apiary.api.EventRoutes;
import dev.apiary.api.GatewayRoutes;
import dev.apiary.api.ImageRoutes;
import dev.apiary.api.JobRoutes;
import dev.apiary.api.RolloutRoutes;
import dev.apiary.api.SnapshotRoutes;
import dev.apiary.api.StorageRoutes;
import dev.apiary.api.TokenFile;
import dev.apiary.api.UpgradeRoutes;
import dev.apiary.api.VolumeRoutes;
import dev.apiary.api.WorkerRoutes;
import dev.apiary.api.tls.SelfSignedCertificate;
import dev.apiary.chap.MasterKey;
import dev.apiary.chap.SecretBox;
import dev.apiary.fleet.FleetBootDecision;
import dev.apiary.fleet.FleetService;
import dev.apiary.fleet.Jobs;
import dev.apiary.fleet.store.Inventory;
import dev.apiary.gateway.ExportPublisher;
import dev.apiary.gateway.GatewayRegistry;
import dev.apiary.iscsi.portal.TargetServer;
import dev.apiary.lun.VolumeStore;
import dev.apiary.lun.rbd.RbdStore;
import dev.apiary.pxe.PxeServer;
import dev.apiary.pxe.ipxe.SanbootTarget;
import io.vertx.core.Vertx;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Apiary process (DESIGN.md, Control plane): the data directory's volume store, inventory and
 * master key; the iSCSI target exporting each worker's LUNs; the fleet service; and, when the
 * configuration has a pxe: section, the network boot services asking the fleet what each machine
 * boots. Started in dependency order and stopped in reverse.
 */
public final class ApiaryServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ApiaryServer.class);

    private final Path dataDir;
    private final ServeSettings settings;
    private final Started started = new Started();
    private FleetService fleet;
    private InetSocketAddress targetAddress;
    private PxeServer pxe;
    private SelfSignedCertificate certificate;
    private InetSocketAddress apiAddress;

    public ApiaryServer(Path dataDir, ServeSettings settings) {
        this.dataDir = dataDir.toAbsolutePath().normalize();
        this.settings = settings;
    }

    public ApiaryServer start() throws Exception {
        try {
            Files.createDirectories(dataDir);
            if (Files.getFileAttributeView(dataDir, java.nio.file.attribute.PosixFileAttributeView.class) != null) {
                Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwx------"));
            }
            SecretBox secrets = new SecretBox(MasterKey.loadOrCreate(dataDir.resolve("master.key")));
            VolumeStore store = settings.store().open(dataDir);
            started.add(store);
            Inventory inventory = Inventory.open(dataDir);
            started.add(inventory);
            TargetServer target = new TargetServer(settings.store().rbd().isPresent()
                    ? TargetServer.Options.forNetworkVolumes() : TargetServer.Options.defaults());
            started.add(target);
            TargetWarmup.run(target, dataDir.resolve("warmup"), settings.warmup());
            // This node is a gateway too, the first: its own heartbeat registers it before anything is exported.
            GatewayRegistry gateways = new GatewayRegistry(inventory, Clock.systemUTC(), settings.gateway().downAfter(),
                    settings.store().rbd().isPresent());
            String me = settings.gateway().name();
            SanbootTarget.Portal p = settings.portals().get(0);
            String portal = p.host() + ":" + p.port();
            Supplier<String> client = clientAddress(store);
            int group = gateways.heard(me, portal, client.get(), Set.of());
            ExportPublisher exports = new ExportPublisher(target, store, me, gateways::config);
            started.add(exports::close);
            fleet = new FleetService(inventory, store, secrets, exports, settings.fleet(), Clock.systemUTC());
            started.add(fleet.boots());
            target.sessions().onLogin(session -> fleet.boots().login(session.targetName()));
            fleet.reconcile(); // publishes the export table before the target accepts a login
            if (settings.wakeTo() != null) {
                InetSocketAddress to = settings.wakeTo();
                java.util.function.Consumer<String> wake = mac -> {
                    try {
                        dev.apiary.pxe.WakeOnLan.wake(mac, to);
                    } catch (java.io.IOException e) {
                        log.warn("[apiary] Wake-on-LAN to {} failed: {}", mac, e.toString());
                    }
                };
                fleet.upgrades().wakeWith(wake);
                fleet.rollouts().wakeWith(wake);
            }
            started.add(changeController(fleet));
            started.add(heartbeat(gateways, exports, fleet, me, portal, client));
            targetAddress = target.listen(settings.listen(), group, group);
            Vertx vertx = Vertx.vertx();
            started.add(() -> vertx.close().await());
            if (settings.pxe().isPresent()) {
                pxe = new PxeServer(settings.pxe().get(), new FleetBootDecision(fleet, w -> bootPortals(settings, gateways,
                        w.lun(dev.apiary.fleet.Worker.Role.ROOT).map(dev.apiary.fleet.Worker.Lun::volume).orElse(null))), vertx)
                        .start();
                started.add(pxe);
                if (settings.warmup() > 0) {
                    BootWarmup.run(vertx, store, fleet.image(), dataDir.resolve("warmup-boot"));
                }
            }
            List<java.net.InetAddress> addresses = new ArrayList<>(List.of(settings.api().getAddress()));
            certificate = SelfSignedCertificate.loadOrCreate(dataDir.resolve("tls"), settings.apiNames(), addresses);
            FleetMetrics metrics = new FleetMetrics(fleet, target, exports, java.util.Optional.ofNullable(pxe));
            Jobs jobs = new Jobs(inventory, Clock.systemUTC());
            started.add(jobs);
            ApiServer api = new ApiServer(vertx, new TokenFile(dataDir.resolve("api-tokens")), certificate,
                    metrics::scrape, List.of(new WorkerRoutes(fleet, settings.wakeTo()), new SnapshotRoutes(fleet),
                            new BootRoutes(fleet),
                            new EventRoutes(fleet), new ImageRoutes(store, jobs, fleet),
                            new VolumeRoutes(store, fleet, jobs), new JobRoutes(jobs), new UpgradeRoutes(fleet),
                            new RolloutRoutes(fleet), new StorageRoutes(store), new GatewayRoutes(gateways, fleet, me, exports::current)));
            int apiPort = api.listen(settings.api().getHostString(), settings.api().getPort())
                    .await(30, java.util.concurrent.TimeUnit.SECONDS);
            apiAddress = new InetSocketAddress(settings.api().getAddress(), apiPort);
            started.add(() -> api.close().await());
        } catch (Exception | Error e) {
            close();
            throw e;
        }
        log.info("[apiary] data in {}, volumes in {}, iSCSI target on {}, API on https://{}, enrollment {}, image {}",
                dataDir, settings.store().describe(dataDir),
                targetAddress, apiAddress.getAddress().getHostAddress() + ":" + apiAddress.getPort(),
                settings.fleet().enrollment().name().toLowerCase(java.util.Locale.ROOT),
                fleet.image() == null ? "(none yet)" : fleet.image());
        return this;
    }

    /**
     * Upgrades and rollouts wait on machines (a boot, a report, a power-off): one thread looks
     * every second and moves each a step on; the state is in the inventory, so nothing is lost
     * between looks or across a restart.
     */
    private static AutoCloseable changeController(FleetService fleet) {
        var controller = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "apiary-changes");
            t.setDaemon(true);
            return t;
        });
        controller.scheduleWithFixedDelay(() -> {
            try {
                fleet.upgrades().tick();
                fleet.rollouts().tick();
            } catch (Exception e) {
                log.warn("[apiary] upgrades and rollouts: {}", e.toString(), e);
            }
        }, 1, 1, java.util.concurrent.TimeUnit.SECONDS);
        return controller::shutdownNow;
    }

    /**
     * The API node's own gateway beats like any other, once a second, and then publishes: that is
     * when a gateway that fell silent is noticed and the LUNs it owned move.
     */
    private static AutoCloseable heartbeat(GatewayRegistry gateways, ExportPublisher exports, FleetService fleet,
            String me, String portal, Supplier<String> client) {
        var beat = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "gateway-heartbeat");
            t.setDaemon(true);
            return t;
        });
        beat.scheduleWithFixedDelay(() -> {
            try {
                gateways.heard(me, portal, client.get(), exports.claims());
                if (gateways.changed()) {
                    fleet.publish();
                }
                exports.tick();
            } catch (RuntimeException e) {
                log.warn("[gateway] heartbeat: {}", e.toString());
            }
        }, 1, 1, java.util.concurrent.TimeUnit.SECONDS);
        return beat::shutdownNow;
    }

    /**
     * What a worker's boot script names: every gateway's portal, so iPXE opens the LUN through
     * whichever answers and writes one iBFT target per portal; the worker image's initramfs logs
     * in through each (a dead one within a bound) and dm-multipath makes one device of the paths
     * (docs/gateways.md). Order: the gateway owning the root LUN if it is up, the other live
     * gateways, the configured portals not among them, then the gateways that are down (the API
     * node may be the last to know one is back).
     */
    static List<SanbootTarget.Portal> bootPortals(ServeSettings settings, GatewayRegistry gateways, String root) {
        List<GatewayRegistry.View> all = gateways.list();
        java.util.LinkedHashSet<SanbootTarget.Portal> out = new java.util.LinkedHashSet<>();
        all.stream().filter(g -> g.up() && root != null && g.owns().contains(root)).forEach(g -> out.add(portal(g.portal())));
        all.stream().filter(GatewayRegistry.View::up).forEach(g -> out.add(portal(g.portal())));
        out.addAll(settings.portals());
        all.forEach(g -> out.add(portal(g.portal())));
        return List.copyOf(out);
    }

    private static SanbootTarget.Portal portal(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        return new SanbootTarget.Portal(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }

    /** This node's Ceph client address, as gateways report it (what fencing blocklists); none for a file store. */
    static Supplier<String> clientAddress(VolumeStore store) {
        return () -> {
            if (store instanceof RbdStore rbd) {
                try {
                    return rbd.clientAddress();
                } catch (java.io.IOException e) {
                    return null;
                }
            }
            return null;
        };
    }

    public FleetService fleet() {
        return fleet;
    }

    public InetSocketAddress targetAddress() {
        return targetAddress;
    }

    /** Where the admin API listens (HTTPS). */
    public InetSocketAddress apiAddress() {
        return apiAddress;
    }

    public SelfSignedCertificate certificate() {
        return certificate;
    }

    /** Where boot scripts are served, when network boot is on. */
    public java.util.Optional<String> bootHttp() {
        return java.util.Optional.ofNullable(pxe).map(PxeServer::httpBase);
    }

    @Override
    public void close() {
        started.close();
    }
}
