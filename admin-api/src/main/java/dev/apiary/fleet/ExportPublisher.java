package dev.apiary.fleet;

import dev.apiary.iscsi.portal.ExportTable;
import dev.apiary.iscsi.portal.TargetExport;
import dev.apiary.iscsi.portal.TargetServer;
import dev.apiary.iscsi.scsi.LogicalUnit;
import dev.apiary.iscsi.scsi.LunIdentity;
import dev.apiary.iscsi.scsi.LunMap;
import dev.apiary.lun.CountingVolume;
import dev.apiary.lun.Volume;
import dev.apiary.lun.VolumeStore;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the inventory into the target's export table (DESIGN.md: the control plane hands the data
 * path an immutable table and swaps it atomically). Each READY worker is one target: its own IQN,
 * LUN 0 root and LUN 1 data, its CHAP account, mutual CHAP, and an ACL naming only its initiator.
 * A logical unit is kept across publications while its volume stays exported, so sessions, unit
 * attentions and reservations are not disturbed by other workers' changes.
 */
public final class ExportPublisher {
    private static final Logger log = LoggerFactory.getLogger(ExportPublisher.class);

    private final TargetServer target;
    private final VolumeStore store;
    private final Map<String, LogicalUnit> units = new HashMap<>();

    public ExportPublisher(TargetServer target, VolumeStore store) {
        this.target = target;
        this.store = store;
    }

    public synchronized void publish(FleetService fleet) {
        Map<String, LogicalUnit> next = new HashMap<>();
        List<TargetExport> exports = new ArrayList<>();
        Map<String, String> maintenance = fleet.upgrades().maintenanceRoots();
        for (Worker w : fleet.workers()) {
            if (w.state() != Worker.State.READY) {
                continue;
            }
            SortedMap<Integer, LogicalUnit> luns = new TreeMap<>();
            // A maintenance boot sees the image head as its root and nothing of the worker's own.
            List<Worker.Lun> own = maintenance.containsKey(w.name())
                    ? List.of(new Worker.Lun(0, maintenance.get(w.name()), Worker.Role.ROOT)) : w.luns();
            for (Worker.Lun l : own) {
                if (l.lun() < 0) {
                    continue; // a previous root kept for rollback, or a clone being made: not exported
                }
                LogicalUnit u = units.containsKey(l.volume()) ? units.get(l.volume()) : open(l.volume());
                next.put(l.volume(), u);
                luns.put(l.lun(), u);
            }
            exports.add(new TargetExport(w.targetIqn(), new LunMap(luns), List.of(fleet.chap(w)),
                    Optional.of(fleet.mutual(w)), Set.of(w.initiatorIqn())));
        }
        target.publish(new ExportTable(exports));
        for (Map.Entry<String, LogicalUnit> e : units.entrySet()) {
            if (!next.containsKey(e.getKey())) {
                close(e.getKey(), e.getValue().volume());
            }
        }
        units.clear();
        units.putAll(next);
        log.info("[fleet] exporting {} worker target(s)", exports.size());
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
            return new LogicalUnit(new CountingVolume(store.open(volume)), LunIdentity.fromSerial(volume), 512);
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
    public synchronized void close() {
        units.forEach((name, u) -> close(name, u.volume()));
        units.clear();
    }
}
