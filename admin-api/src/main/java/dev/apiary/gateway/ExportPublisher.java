package dev.apiary.gateway;

import dev.apiary.iscsi.portal.ExportTable;
import dev.apiary.iscsi.portal.TargetExport;
import dev.apiary.iscsi.portal.TargetServer;
import dev.apiary.iscsi.scsi.AccessState;
import dev.apiary.iscsi.scsi.LogicalUnit;
import dev.apiary.iscsi.scsi.LunIdentity;
import dev.apiary.iscsi.scsi.LunMap;
import dev.apiary.iscsi.scsi.PortGroups;
import dev.apiary.lun.CountingVolume;
import dev.apiary.lun.Volume;
import dev.apiary.lun.VolumeStore;
import dev.apiary.lun.rbd.RbdStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns an export configuration into this gateway's export table (DESIGN.md: the control plane
 * hands the data path an immutable table and swaps it atomically). Each worker is one target: its
 * own IQN, LUN 0 root and LUN 1 data, its CHAP account, mutual CHAP, and an ACL naming only its
 * initiator. Each LUN reports one target port group per gateway, active/optimized on its owner,
 * and this gateway takes or lets go of the volume's lock as ownership comes and goes. A logical
 * unit is kept across publications while its volume stays exported, so sessions, unit attentions
 * and reservations are not disturbed by other workers' changes.
 *
 * <p>On the API node the configuration comes from the fleet ({@link #publish(List)}); a
 * gateway node receives it from the API node ({@link #apply}).
 */
public final class ExportPublisher {
    private static final Logger log = LoggerFactory.getLogger(ExportPublisher.class);

    private final TargetServer target;
    private final VolumeStore store;
    private final String gateway;
    private final Function<List<ExportConfig.Target>, ExportConfig> plan;
    private final Map<String, LogicalUnit> units = new HashMap<>();
    private final Map<String, OwnedVolume> owned = new HashMap<>();
    /** Volumes this gateway claimed on its own (a write came through it) that no configuration confirms yet. */
    private final Set<String> claims = ConcurrentHashMap.newKeySet();
    /** Lock calls wait on the cluster; they run here, never on the thread that publishes. */
    private final ExecutorService locks = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "gateway-locks");
        t.setDaemon(true);
        return t;
    });
    private ExportConfig current = new ExportConfig(List.of(), List.of());
    /** Volumes with a lock call under way, and those whose last one failed (logged once). */
    private final Set<OwnedVolume> busy = ConcurrentHashMap.newKeySet(), waiting = ConcurrentHashMap.newKeySet();
    private volatile boolean fenced;

    /** A node that is its own only gateway (one process, the file store). */
    public ExportPublisher(TargetServer target, VolumeStore store) {
        this(target, store, "local", targets -> alone("local", targets));
    }

    /** Gateway {@code gateway}; {@code plan} makes the fleet's targets a configuration (owners assigned). */
    public ExportPublisher(TargetServer target, VolumeStore store, String gateway,
            Function<List<ExportConfig.Target>, ExportConfig> plan) {
        this.target = target;
        this.store = store;
        this.gateway = gateway;
        this.plan = plan;
    }

    /** The configuration of a node that is the only gateway: it owns every LUN. */
    public static ExportConfig alone(String gateway, List<ExportConfig.Target> targets) {
        List<ExportConfig.Target> owned = targets.stream().map(t -> new ExportConfig.Target(t.iqn(), t.initiator(),
                t.chapUser(), t.chapSecret(), t.mutualUser(), t.mutualSecret(), t.luns().stream()
                        .map(l -> new ExportConfig.Lun(l.lun(), l.volume(), gateway)).toList())).toList();
        return new ExportConfig(List.of(new ExportConfig.Gateway(gateway, 1, "-", true)), owned);
    }

    public String gateway() {
        return gateway;
    }

    /** Publishes the fleet's targets as they are now, owners assigned by the plan (the API node). */
    public synchronized void publish(List<ExportConfig.Target> targets) {
        apply(plan.apply(targets), false);
    }

    /**
     * Serves {@code config} from now on. With {@code fenceChanged}, sessions to a target whose
     * credentials, initiator or volumes changed are dropped (a gateway node; on the API node the
     * fleet fences the workers it changes itself).
     */
    public synchronized void apply(ExportConfig config, boolean fenceChanged) {
        if (config.digest().equals(current.digest())) {
            return; // nothing changed (the API node republishes every second)
        }
        Map<String, LogicalUnit> next = new HashMap<>();
        List<TargetExport> exports = new ArrayList<>();
        Map<String, LogicalUnit> opened = new HashMap<>();
        try {
            for (ExportConfig.Target t : config.targets()) {
                SortedMap<Integer, LogicalUnit> luns = new TreeMap<>();
                for (ExportConfig.Lun l : t.luns()) {
                    LogicalUnit u = next.containsKey(l.volume()) ? next.get(l.volume())
                            : units.containsKey(l.volume()) ? units.get(l.volume()) : open(l.volume());
                    if (!units.containsKey(l.volume())) {
                        opened.put(l.volume(), u);
                    }
                    next.put(l.volume(), u);
                    luns.put(l.lun(), u);
                }
                exports.add(new TargetExport(t.iqn(), new LunMap(luns), List.of(t.chap()), Optional.of(t.mutual()),
                        Set.of(t.initiator())));
            }
        } catch (RuntimeException e) { // nothing of this configuration is served: what it opened is closed again
            opened.forEach((name, u) -> {
                owned.remove(name);
                close(name, u.volume());
            });
            throw e;
        }
        target.publish(new ExportTable(exports, config.gateways().stream().filter(ExportConfig.Gateway::up)
                .map(g -> new ExportTable.Portal(g.portal(), g.group())).toList()));
        ExportConfig previous = current;
        current = config;
        for (Map.Entry<String, LogicalUnit> e : units.entrySet()) {
            if (!next.containsKey(e.getKey())) {
                owned.remove(e.getKey());
                claims.remove(e.getKey());
                close(e.getKey(), e.getValue().volume());
            }
        }
        units.clear();
        units.putAll(next);
        if (fenceChanged) {
            for (ExportConfig.Target t : config.targets()) {
                previous.targets().stream().filter(p -> p.iqn().equals(t.iqn()) && !sameAccess(p, t)).findFirst()
                        .ifPresent(p -> fence(t.iqn()));
            }
        }
        own(config);
        setPortGroups();
        log.info("[fleet] exporting {} worker target(s)", exports.size());
    }

    /**
     * Takes the locks of the volumes the configuration gives this gateway and lets the others go.
     * A lock still held by a live gateway is tried again at the next {@link #tick}.
     */
    private void own(ExportConfig config) {
        for (ExportConfig.Target t : config.targets()) {
            for (ExportConfig.Lun l : t.luns()) {
                OwnedVolume v = owned.get(l.volume());
                v.assign(gateway.equals(l.owner()));
                if (gateway.equals(l.owner())) {
                    claims.remove(l.volume());
                    if ((!v.owner() || v.claim()) && busy.add(v)) {
                        locks.execute(() -> lockCall(v, true));
                    }
                } else if (v.owner() && !v.claim() && busy.add(v)) {
                    locks.execute(() -> lockCall(v, false));
                }
            }
        }
    }

    private void lockCall(OwnedVolume v, boolean acquire) {
        try {
            if (acquire) {
                List<String> broken = v.acquire();
                log.info("[gateway] {} owns {} now{}", gateway, v.name(), broken.isEmpty() ? ""
                        : " (broke the lock of " + String.join(", ", broken) + " and fenced it)");
            } else {
                v.release();
                log.info("[gateway] {} let {} go to its new owner", gateway, v.name());
            }
            waiting.remove(v);
        } catch (dev.apiary.lun.VolumeFencedException e) {
            fenced = true; // the next tick reconnects
        } catch (IOException | RuntimeException e) {
            if (waiting.add(v)) { // once, not every second while a live holder keeps it
                log.warn("[gateway] {} {}: {}", acquire ? "taking" : "releasing", v.name(), e.getMessage());
            }
        } finally {
            busy.remove(v);
        }
        synchronized (this) {
            setPortGroups();
        }
    }

    /**
     * Once a second (the heartbeat): a gateway that Ceph fenced (another took its LUNs over while it
     * hung) reconnects with a new client and serves again; then locks still due are tried again.
     * Never throws (a heartbeat must go on); a failing recovery is logged once until it works.
     */
    public void tick() {
        if (store instanceof RbdStore rbd) {
            try {
                if (fenced || rbd.fenced()) {
                    if (!recovering) {
                        recovering = true;
                        log.warn("[gateway] {} was fenced in Ceph (another gateway took its LUNs over): reconnecting",
                                gateway);
                    }
                    List<OwnedVolume> volumes;
                    synchronized (this) {
                        volumes = List.copyOf(owned.values());
                    }
                    // Before the new handles exist: a write must not reach one believing it holds a lock.
                    volumes.forEach(OwnedVolume::lost);
                    rbd.reconnect(); // outside this monitor: it waits on the monitors, up to the op timeout
                    synchronized (this) {
                        claims.clear();
                        fenced = false;
                        setPortGroups();
                    }
                    recovering = false;
                    log.info("[gateway] {} serves again as Ceph client {}", gateway, rbd.clientAddress());
                }
            } catch (IOException | RuntimeException e) {
                if (!recoveryFailing) {
                    recoveryFailing = true;
                    log.warn("[gateway] {}: checking for or recovering from a fence: {}", gateway, e.getMessage());
                }
                return;
            }
            recoveryFailing = false;
        }
        synchronized (this) {
            own(current);
        }
    }

    private volatile boolean recovering, recoveryFailing;

    /** A write came through this gateway to a volume whose lock it did not hold: it holds it now (see {@link OwnedVolume}). */
    private void claimed(OwnedVolume v, List<String> broken) {
        String fenced = broken.isEmpty() ? "" : " (broke the lock of " + String.join(", ", broken) + " and fenced it)";
        if (!v.claim()) {
            log.info("[gateway] {} owns {} now: an initiator wrote through this gateway{}", gateway, v.name(), fenced);
            return; // the configuration's choice already
        }
        claims.add(v.storeName());
        log.warn("[gateway] {} took {} over: an initiator wrote through this gateway{}", gateway, v.name(), fenced);
        locks.execute(() -> {
            synchronized (this) {
                setPortGroups();
            }
        });
    }

    /**
     * SPC-4 §5.15: each LUN's state through each gateway's port group. Active/optimized where it is
     * owned (this gateway's own claim first: it holds the lock), active/non-optimized on the other
     * live gateways, unavailable through a gateway the API node has not heard from.
     */
    private void setPortGroups() {
        if (current.gateways().isEmpty()) {
            return;
        }
        for (ExportConfig.Target t : current.targets()) {
            for (ExportConfig.Lun l : t.luns()) {
                OwnedVolume v = owned.get(l.volume());
                LogicalUnit unit = units.get(l.volume());
                if (v == null || unit == null) {
                    continue; // closed meanwhile
                }
                // This gateway is optimized only while it holds the lock: a configuration naming it
                // before it has the lock must not make two gateways report themselves optimized.
                String owner = v.owner() ? gateway : gateway.equals(l.owner()) ? null : l.owner();
                List<PortGroups.Group> groups = new ArrayList<>();
                for (ExportConfig.Gateway g : current.gateways()) {
                    AccessState s = g.name().equals(owner) ? AccessState.ACTIVE_OPTIMIZED
                            : g.up() || g.name().equals(gateway) ? AccessState.ACTIVE_NON_OPTIMIZED
                            : AccessState.UNAVAILABLE;
                    groups.add(new PortGroups.Group(g.group(), s, g.group()));
                }
                unit.portGroups(new PortGroups(groups));
            }
        }
    }

    private static boolean sameAccess(ExportConfig.Target a, ExportConfig.Target b) {
        return a.initiator().equals(b.initiator()) && a.chapUser().equals(b.chapUser())
                && a.chapSecret().equals(b.chapSecret()) && a.mutualUser().equals(b.mutualUser())
                && a.mutualSecret().equals(b.mutualSecret())
                && a.luns().stream().map(l -> l.lun() + "=" + l.volume()).toList()
                        .equals(b.luns().stream().map(l -> l.lun() + "=" + l.volume()).toList());
    }

    /** Volumes this gateway claimed on its own since the API node last confirmed its ownership. */
    public Set<String> claims() {
        return Set.copyOf(claims);
    }

    /** The configuration served now. */
    public synchronized ExportConfig current() {
        return current;
    }

    /**
     * Fencing: drops every live session to {@code targetIqn}. Called after a publication that
     * changed the target's credentials or LUNs, so the old sessions cannot go on with what was
     * taken from them; their logins from now on meet the new table.
     */
    public void fence(String targetIqn) {
        var sessions = target.sessions().sessionsOf(targetIqn);
        sessions.forEach(dev.apiary.iscsi.session.Session::close);
        if (!sessions.isEmpty()) {
            log.info("[fleet] dropped {} session(s) to {}", sessions.size(), targetIqn);
        }
    }

    /** Whether {@code targetIqn} has a live session (from {@code from}, when not null). */
    public boolean hasSessions(String targetIqn, java.net.InetAddress from) {
        return target.sessions().sessionsOf(targetIqn).stream()
                .anyMatch(s -> from == null || s.remoteAddress().filter(from::equals).isPresent());
    }

    private LogicalUnit open(String volume) {
        try {
            OwnedVolume v = new OwnedVolume(volume, store.open(volume), this::claimed);
            owned.put(volume, v);
            return new LogicalUnit(new CountingVolume(v), LunIdentity.fromSerial(volume), 512);
        } catch (IOException e) {
            throw new UncheckedIOException("opening " + volume + " for export", e);
        }
    }

    private static void close(String name, Volume v) {
        try {
            v.close();
        } catch (IOException e) {
            log.warn("[fleet] closing {}: {}", name, e.toString());
        }
    }

    /** The exported volumes by name, with their I/O counters (for /metrics). */
    public synchronized Map<String, CountingVolume> volumes() {
        Map<String, CountingVolume> m = new java.util.TreeMap<>();
        units.forEach((name, u) -> m.put(name, (CountingVolume) u.volume()));
        return m;
    }

    /** Closes every exported volume (server stop). */
    public void close() {
        locks.shutdownNow();
        try {
            locks.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS); // a lock call inside librbd
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            closeUnits();
        }
    }

    private void closeUnits() {
        units.forEach((name, u) -> close(name, u.volume()));
        units.clear();
        owned.clear();
    }
}
