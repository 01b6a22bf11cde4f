package dev.apiary.gateway;

import dev.apiary.fleet.store.GatewayTable;
import dev.apiary.fleet.store.Inventory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API node's view of the gateways: who exports the fleet's LUNs, when each was last heard
 * from, and which gateway owns each LUN. A gateway is up while its heartbeats keep coming; one
 * silent for {@code downAfter} is down, and the LUNs it owned move to the live gateway owning
 * fewest (the new owner fences the old one as it takes each lock, see {@link OwnedVolume}). A LUN
 * a gateway claimed on its own, because its initiator wrote through it, is that gateway's from
 * its next heartbeat on.
 */
public final class GatewayRegistry {
    private static final Logger log = LoggerFactory.getLogger(GatewayRegistry.class);

    private final Inventory inventory;
    private final Clock clock;
    private final Duration downAfter;
    private final boolean shared;
    /** Heartbeats heard by this process; {@code stored}: when the inventory last recorded one. */
    private final Map<String, Beat> beats = new HashMap<>();
    private boolean changed = true;
    /** LUNs gateways took over on their own since the last config(): their targets follow them. */
    private final Map<String, String> claimed = new HashMap<>();
    private Set<String> lastUp = Set.of();

    private record Beat(int group, String portal, String client, Instant at, Instant stored) {}

    /** Longer than this between any two heartbeats, and this node was away (its own gateway beats each second). */
    private static final Duration QUIET = Duration.ofSeconds(3);
    private Instant lastHeard, listeningSince;

    /** A gateway as the API shows it. */
    public record View(String name, int group, String portal, Optional<String> clientAddress, Instant lastSeen,
            boolean up, List<String> owns) {}


    /**
     * @param shared whether other nodes can reach the volumes (an RBD pool): else only the API
     *     node's own gateway may join (the file store lives on this node's disk)
     */
    public GatewayRegistry(Inventory inventory, Clock clock, Duration downAfter, boolean shared) {
        this.inventory = inventory;
        this.clock = clock;
        this.downAfter = downAfter;
        this.shared = shared;
    }

    public Duration downAfter() {
        return downAfter;
    }

    /** Whether gateways other than the API node's own may join. */
    public boolean shared() {
        return shared;
    }

    /**
     * A gateway is alive: records its portal and Ceph client address, and adopts the LUNs it claimed
     * on its own ({@code claims}). Returns its port group (given at its first heartbeat, kept for good).
     */
    public synchronized int heard(String name, String portal, String clientAddress, Set<String> claims) {
        Instant now = clock.instant();
        if (lastHeard == null || lastHeard.isBefore(now.minus(QUIET))) {
            listeningSince = now; // this node was away (stopped, frozen): nobody's silence counts from before
        }
        lastHeard = now;
        Beat last = beats.get(name);
        if (last != null && claims.isEmpty() && last.portal().equals(portal)
                && java.util.Objects.equals(last.client(), clientAddress)
                && last.stored().isAfter(now.minus(downAfter.dividedBy(2)))) {
            beats.put(name, new Beat(last.group(), portal, clientAddress, now, last.stored()));
            return last.group(); // nothing new: the inventory hears of it every downAfter/2
        }
        changed = true;
        return inventory.transaction(c -> {
            GatewayTable.Row row = GatewayTable.heard(c, name, portal, clientAddress, now);
            beats.put(name, new Beat(row.group(), portal, clientAddress, now, now));
            Map<String, String> owners = GatewayTable.owners(c);
            for (String volume : claims) {
                String was = owners.get(volume);
                if (was != null && !was.equals(name)) { // only LUNs that are exported have an owner row
                    GatewayTable.setOwner(c, volume, name);
                    claimed.put(volume, name); // the rest of its target follows at the next config()
                    log.info("[gateways] {} took {} over from {} (an initiator wrote through it)", name, volume, was);
                }
            }
            return row.group();
        });
    }

    /** Forgets a gateway that was taken out of service. */
    public synchronized boolean remove(String name) {
        beats.remove(name);
        changed = true;
        return inventory.transaction(c -> GatewayTable.remove(c, name));
    }

    /**
     * Whether the configuration may differ from the last one {@link #config} made: a gateway
     * joined, changed, claimed a LUN, came up or went down. The API node republishes only then.
     */
    public synchronized boolean changed() {
        if (changed) {
            return true;
        }
        Instant now = clock.instant();
        Set<String> up = new HashSet<>();
        beats.forEach((name, b) -> {
            if (up(b.at(), now)) {
                up.add(name);
            }
        });
        return !up.equals(lastUp);
    }

    /**
     * Whether a gateway last heard of at {@code seen} is up: heard within {@code downAfter}, or
     * this node has not been listening that long (it just started, or was itself away: the API
     * node's own gateway beats every second, so a longer quiet means nobody could be heard).
     */
    private boolean up(Instant seen, Instant now) {
        Instant since = now.minus(downAfter);
        return !seen.isBefore(since) || listeningSince == null || listeningSince.isAfter(since);
    }

    /** When a gateway was last heard of: this process's heartbeats, else the inventory's. */
    private Instant lastSeen(GatewayTable.Row g) {
        Beat b = beats.get(g.name());
        return b != null && b.at().isAfter(g.lastSeen()) ? b.at() : g.lastSeen();
    }

    /**
     * The configuration every gateway serves now: the fleet's {@code targets}, each LUN with its
     * owner. A target's LUNs share one owner; a target without a live owner goes to the live
     * gateway with the fewest LUNs (ties: the lowest port group); the choice is stored, so it holds
     * until that gateway goes down.
     */
    public synchronized ExportConfig config(List<ExportConfig.Target> targets) {
        return inventory.transaction(c -> {
            Instant now = clock.instant();
            List<GatewayTable.Row> rows = GatewayTable.all(c);
            Set<String> up = new HashSet<>();
            for (GatewayTable.Row g : rows) {
                if (up(lastSeen(g), now)) {
                    up.add(g.name());
                }
            }
            changed = false;
            lastUp = Set.copyOf(up);
            Map<String, String> owners = GatewayTable.owners(c);
            Set<String> exported = new HashSet<>();
            Map<String, Integer> load = new HashMap<>();
            rows.stream().filter(g -> up.contains(g.name())).forEach(g -> load.put(g.name(), 0));
            for (ExportConfig.Target t : targets) {
                for (ExportConfig.Lun l : t.luns()) {
                    String o = owners.get(l.volume());
                    if (o != null && up.contains(o)) {
                        load.merge(o, 1, Integer::sum);
                    }
                }
            }
            List<ExportConfig.Target> out = new ArrayList<>();
            for (ExportConfig.Target t : targets) {
                // One owner for all of a target's LUNs: a worker's initiator reaches them through one
                // path (its boot portal) unless it runs dm-multipath, and a LUN written through a
                // gateway that does not own it is taken over, fencing the other gateway's client.
                String o = t.luns().stream().map(l -> claimed.get(l.volume())).filter(x -> x != null && up.contains(x))
                        .findFirst().orElse(t.luns().stream().map(l -> owners.get(l.volume()))
                                .filter(x -> x != null && up.contains(x)).findFirst().orElse(null));
                if (o == null && !load.isEmpty()) {
                    o = rows.stream().filter(g -> load.containsKey(g.name()))
                            .min(Comparator.comparing((GatewayTable.Row g) -> load.get(g.name()))
                                    .thenComparingInt(GatewayTable.Row::group))
                            .orElseThrow().name();
                }
                List<ExportConfig.Lun> luns = new ArrayList<>();
                for (ExportConfig.Lun l : t.luns()) {
                    exported.add(l.volume());
                    String was = owners.get(l.volume());
                    if (o != null && !o.equals(was)) {
                        if (up.contains(was)) {
                            load.merge(was, -1, Integer::sum);
                        }
                        load.merge(o, 1, Integer::sum);
                        GatewayTable.setOwner(c, l.volume(), o);
                        if (was != null) {
                            log.warn("[gateways] {} moves from {} ({}) to {}", l.volume(), was, up.contains(was)
                                    ? "to join the rest of its target" : "down: silent for " + downAfter.toSeconds() + " s", o);
                        }
                    }
                    luns.add(new ExportConfig.Lun(l.lun(), l.volume(), o != null ? o : was));
                }
                out.add(new ExportConfig.Target(t.iqn(), t.initiator(), t.chapUser(), t.chapSecret(), t.mutualUser(),
                        t.mutualSecret(), luns));
            }
            claimed.clear();
            for (String v : owners.keySet()) {
                if (!exported.contains(v)) {
                    GatewayTable.dropOwner(c, v);
                }
            }
            List<ExportConfig.Gateway> gateways = rows.stream()
                    .map(g -> new ExportConfig.Gateway(g.name(), g.group(), g.portal(), up.contains(g.name()))).toList();
            return new ExportConfig(gateways, out);
        });
    }

    /** Every gateway with its state and the volumes it owns. */
    public synchronized List<View> list() {
        return inventory.transaction(c -> {
            Instant now = clock.instant();
            Map<String, List<String>> owns = new HashMap<>();
            GatewayTable.owners(c).forEach((v, g) -> owns.computeIfAbsent(g, k -> new ArrayList<>()).add(v));
            return GatewayTable.all(c).stream().map(g -> new View(g.name(), g.group(), g.portal(), g.clientAddress(),
                    lastSeen(g), up(lastSeen(g), now), owns.getOrDefault(g.name(), List.of())))
                    .toList();
        });
    }
}
