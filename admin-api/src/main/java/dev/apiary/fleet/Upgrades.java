package dev.apiary.fleet;

import dev.apiary.fleet.store.ChangeTable;
import dev.apiary.fleet.store.ChangeTable.Upgrade;
import dev.apiary.fleet.store.Inventory;
import dev.apiary.fleet.store.WorkerTable;
import dev.apiary.lun.VolumeStore;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Upgrading a golden image (DESIGN.md story 4). The image's head, a copy-on-write layer over its
 * current version (as {@code rbd snap rollback} leaves it), is booted by a designated worker in
 * maintenance mode: the worker's target shows the head as LUN 0 and nothing else, and its agent,
 * told {@code maintenance}, runs {@code apt-get full-upgrade}, hands in the package changes and
 * powers off. The head is then sealed as the next version with that changelog. Each step is a row
 * state, advanced by {@link #tick()}, so a restart goes on where it stopped:
 * <pre>
 *   PREPARING  the designated worker still has sessions (it runs): its agent is told to reboot
 *   BOOTING    its target exports the image head; WoL sent; waiting for maintenance-done
 *   UPGRADED   waiting for it to power off (at most {@link #POWER_OFF})
 *   SEALING    export back to the worker's own LUNs; sealing the head as the new version
 *   SEALED     done
 *   FAILED     timed out, the agent reported a failure, or cancelled: the head is rolled back
 * </pre>
 */
public final class Upgrades {
    private static final Logger log = LoggerFactory.getLogger(Upgrades.class);
    /** A maintenance boot and apt upgrade of a Debian image under TCG takes minutes; on hardware, less. */
    static final Duration BOOT_TIMEOUT = Duration.ofMinutes(30);
    static final Duration POWER_OFF = Duration.ofMinutes(2);
    private static final Pattern NUMBERED = Pattern.compile("(.*?)(\\d+)");

    private final FleetService fleet;
    private final Inventory inventory;
    private final VolumeStore store;
    private final Clock clock;
    private volatile Consumer<String> waker = mac -> {};

    Upgrades(FleetService fleet, Inventory inventory, VolumeStore store, Clock clock) {
        this.fleet = fleet;
        this.inventory = inventory;
        this.store = store;
        this.clock = clock;
    }

    /** How a powered-off worker is woken (Wake-on-LAN, when the server knows where to send it). */
    public void wakeWith(Consumer<String> waker) {
        this.waker = waker;
    }

    /** Starts upgrading {@code image} on {@code worker}; {@code toVersion} null: the next number (v1 -> v2). */
    public Upgrade start(String image, String worker, String toVersion) throws IOException {
        Images.Image img = fleet.images().image(image);
        Images.Version from = img.versions().stream()
                .max(Comparator.comparing((Images.Version v) -> v.sealedAt().orElse(Instant.EPOCH)))
                .orElseThrow(() -> new FleetService.Conflict(image + " has no sealed version to upgrade"));
        String to = toVersion != null ? toVersion : next(from.version());
        if (!VolumeStore.NAME.matcher(to).matches()) {
            throw new IllegalArgumentException("version must be 1-64 of A-Z a-z 0-9 . _ -");
        }
        if (img.versions().stream().anyMatch(v -> v.version().equals(to))) {
            throw new FleetService.Conflict(image + "@" + to + " exists");
        }
        Worker w = fleet.worker(worker);
        if (w.state() != Worker.State.READY) {
            throw new FleetService.Conflict(worker + " is " + w.state() + ", not READY");
        }
        synchronized (this) {
            for (Upgrade u : inventory.transaction(ChangeTable::openUpgrades)) {
                if (u.image().equals(image) || u.worker().equals(worker)) {
                    throw new FleetService.Conflict("upgrade " + u.id() + " of " + u.image() + " on " + u.worker()
                            + " is " + u.state());
                }
            }
            store.rollback(image, from.version()); // a clean head: nothing unsealed goes into the new version
            Instant now = clock.instant();
            long id = inventory.transaction(c -> {
                long i = ChangeTable.insertUpgrade(c, image, from.version(), to, worker, now);
                WorkerTable.event(c, now, "upgrade", worker, "upgrade " + i + ": " + image + "@" + from.version()
                        + " -> " + to + " in maintenance on " + worker);
                return i;
            });
            return get(image, id);
        }
    }

    public List<Upgrade> list(String image) {
        return inventory.transaction(c -> ChangeTable.upgrades(c, image));
    }

    public Upgrade get(String image, long id) {
        return list(image).stream().filter(u -> u.id() == id).findFirst()
                .orElseThrow(() -> new FleetService.NotFound("no upgrade " + id + " of " + image));
    }

    /** Stops an upgrade that has not sealed: the head is rolled back, the worker gets its own LUNs. */
    public synchronized Upgrade cancel(String image, long id) throws IOException {
        Upgrade u = get(image, id);
        if (u.state().equals("SEALED") || u.state().equals("FAILED") || u.state().equals("SEALING")) {
            throw new FleetService.Conflict("upgrade " + id + " is " + u.state());
        }
        fail(u, "cancelled");
        return get(image, id);
    }

    /** The image head each worker in a maintenance boot exports as its LUN 0, by worker name. */
    Map<String, String> maintenanceRoots() {
        return open().stream().filter(u -> u.state().equals("BOOTING") || u.state().equals("UPGRADED"))
                .collect(Collectors.toMap(Upgrade::worker, Upgrade::image));
    }

    /**
     * What the worker's agent should do: {@code maintenance V} while its upgrade boots (V, the
     * version it will be sealed as, becomes the image's own version file), {@code reboot} while one
     * waits for it.
     */
    Optional<String> action(String worker) {
        return open().stream().filter(u -> u.worker().equals(worker)).findFirst().flatMap(u -> switch (u.state()) {
            case "BOOTING" -> Optional.of("maintenance " + u.toVersion());
            case "PREPARING" -> Optional.of("reboot");
            default -> Optional.empty();
        });
    }

    /** The agent's changelog: taken only during the worker's maintenance boot. */
    boolean changelog(String worker, String text) {
        Optional<Upgrade> u = booting(worker);
        u.ifPresent(up -> inventory.transaction(c -> {
            ChangeTable.setChangelog(c, up.id(), text);
            return null;
        }));
        return u.isPresent();
    }

    /** The agent's report of the maintenance boot's end. */
    synchronized void reported(String worker, String phase) throws IOException {
        Optional<Upgrade> u = booting(worker);
        if (u.isPresent() && phase.equals("maintenance-done")) {
            set(u.get(), "UPGRADED", null);
        } else if (u.isPresent() && phase.equals("maintenance-failed")) {
            fail(u.get(), "the agent reported that apt-get failed; see /var/lib/apiary/maintenance.log in the image head");
        }
    }

    /** Advances every open upgrade by what has happened since (the controller calls this every second). */
    public synchronized void tick() throws IOException {
        Instant now = clock.instant();
        for (Upgrade u : open()) {
            Worker w = fleet.worker(u.worker());
            switch (u.state()) {
                case "PREPARING" -> {
                    if (!fleet.hasSessions(w)) {
                        set(u, "BOOTING", null);
                        fleet.publish();
                        log.info("[upgrade] {}: {} boots {} in maintenance mode", u.id(), w.name(), u.image());
                        waker.accept(w.mac());
                    }
                }
                case "BOOTING" -> {
                    if (u.updatedAt().plus(BOOT_TIMEOUT).isBefore(now)) {
                        fail(u, "no maintenance-done from " + w.name() + " within " + BOOT_TIMEOUT.toMinutes() + " min");
                    }
                }
                case "UPGRADED" -> {
                    if (!fleet.hasSessions(w) || u.updatedAt().plus(POWER_OFF).isBefore(now)) {
                        set(u, "SEALING", null);
                        seal(get(u.image(), u.id()));
                    }
                }
                case "SEALING" -> seal(u);
                default -> {}
            }
        }
    }

    private void seal(Upgrade u) throws IOException {
        fleet.publish(); // the worker's own LUNs again; the head is closed
        fleet.fence(fleet.worker(u.worker()));
        boolean sealed = fleet.images().image(u.image()).versions().stream().anyMatch(v -> v.version().equals(u.toVersion()));
        if (!sealed) {
            long changes = u.changelog().map(t -> t.lines().filter(l -> !l.isBlank() && !l.startsWith("#")).count()).orElse(0L);
            fleet.images().seal(u.image(), u.toVersion(), "upgrade " + u.id() + " of " + u.fromVersion() + ": "
                    + changes + " package change(s)" + (u.changelog().isEmpty() ? " (no changelog received)" : ""));
        }
        set(u, "SEALED", null);
        log.info("[upgrade] {}: sealed {}@{}", u.id(), u.image(), u.toVersion());
    }

    private void fail(Upgrade u, String why) throws IOException {
        set(u, "FAILED", why);
        fleet.publish();
        fleet.fence(fleet.worker(u.worker()));
        store.rollback(u.image(), u.fromVersion());
        log.warn("[upgrade] {} of {} failed: {}", u.id(), u.image(), why);
    }

    private void set(Upgrade u, String state, String error) {
        Instant now = clock.instant();
        inventory.transaction(c -> {
            ChangeTable.setUpgrade(c, u.id(), state, error, now);
            WorkerTable.event(c, now, "upgrade", u.worker(), "upgrade " + u.id() + " of " + u.image() + ": " + state
                    + (error == null ? "" : " (" + error + ")"));
            return null;
        });
    }

    private List<Upgrade> open() {
        return inventory.transaction(ChangeTable::openUpgrades);
    }

    private Optional<Upgrade> booting(String worker) {
        return open().stream().filter(u -> u.worker().equals(worker) && u.state().equals("BOOTING")).findFirst();
    }

    /** v1 -> v2, 2026.11.1 -> 2026.11.2; a version with no number at its end gets ".1". */
    static String next(String version) {
        Matcher m = NUMBERED.matcher(version);
        return m.matches() && m.group(2).length() < 18 ? m.group(1) + (Long.parseLong(m.group(2)) + 1) : version + ".1";
    }
}
