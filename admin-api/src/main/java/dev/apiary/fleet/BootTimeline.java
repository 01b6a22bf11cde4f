package dev.apiary.fleet;

import dev.apiary.fleet.store.BootTable;
import dev.apiary.fleet.store.BootTable.By;
import dev.apiary.fleet.store.Inventory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each worker's boot timeline: the phases a boot passes through as Apiary sees them, timed from
 * the boot's start, kept for the last {@value #KEEP} boots and fed to the metrics as durations.
 *
 * <p>Which boot a phase belongs to: a phase the current boot already passed (or passed a later
 * one of) starts a new boot when it is where boots begin (DHCP, or the script when DHCP is not
 * ours), otherwise it is a repeat and ignored (the approval loop fetches its script every few
 * seconds; UEFI firmware and then iPXE both DHCP). A second iSCSI login in a boot is the OS
 * taking the disk over from the firmware (iBFT, open-iscsi); the booted worker's agent reports
 * the phases after that. Phases arrive from event loops, so they are written on one thread of
 * their own, in order.
 */
public final class BootTimeline implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BootTimeline.class);
    static final int KEEP = 10;
    /** A boot still open after this long is over; whatever comes next starts a new one. */
    static final Duration STALE = Duration.ofHours(1);
    /** How long before its first script request an unknown machine's DHCP counts as its boot's start. */
    static final Duration ENROLLING = Duration.ofMinutes(5);

    /** Apiary sees the first four; the worker's agent reports the rest (docs/worker-image.md). */
    public enum Phase {
        DHCP, SCRIPT, ISCSI_LOGIN, OS_LOGIN, USERSPACE, DATA_MOUNTED, MAINTENANCE_DONE, MAINTENANCE_FAILED;

        boolean reported() {
            return compareTo(USERSPACE) >= 0;
        }

        public String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        static Optional<Phase> of(String label) {
            for (Phase p : values()) {
                if (p.label().equals(label)) {
                    return Optional.of(p);
                }
            }
            return Optional.empty();
        }
    }

    /** One phase as reached: when, and how long after the boot's start. */
    public record Reached(String phase, Instant at, Duration sinceStart) {}

    public record Boot(int number, Instant started, List<Reached> phases) {}

    private final Inventory inventory;
    private final Clock clock;
    private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "apiary-boots");
        t.setDaemon(true);
        return t;
    });
    private volatile BiConsumer<Phase, Duration> onPhase = (p, d) -> {};
    /** DHCP offers to MACs that are no worker yet, so an enrolling machine's first boot starts at its DHCP. */
    private final Map<String, Instant> unknown = java.util.Collections.synchronizedMap(
            new LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Instant> eldest) {
                    return size() > 4096;
                }
            });

    BootTimeline(Inventory inventory, Clock clock) {
        this.inventory = inventory;
        this.clock = clock;
    }

    /** Called with each phase a boot reaches after its first, and the time since that first (for metrics). */
    public void onPhase(BiConsumer<Phase, Duration> listener) {
        this.onPhase = listener;
    }

    /** DHCP offered the machine boot options. */
    public void dhcp(String mac) {
        later(By.MAC, mac, Phase.DHCP);
    }

    /** The worker's machine fetched its boot script. */
    public void script(String worker) {
        later(By.NAME, worker, Phase.SCRIPT);
    }

    /** An initiator logged in to {@code targetIqn}. */
    public void login(String targetIqn) {
        if (!targetIqn.isEmpty()) { // a discovery session names no target
            later(By.TARGET, targetIqn, Phase.ISCSI_LOGIN);
        }
    }

    /** The worker's agent reports {@code label}; only the phases an agent reports are taken. */
    public void reported(String mac, String label) {
        Phase p = Phase.of(label).filter(Phase::reported).orElseThrow(() -> new IllegalArgumentException(
                "unknown phase " + label + "; an agent reports userspace, data-mounted, maintenance-done or maintenance-failed"));
        later(By.MAC, mac, p);
    }

    /** The worker's last boots, newest first. */
    public List<Boot> boots(String worker, int limit) {
        return inventory.transaction(c -> {
            long id = BootTable.workerId(c, By.NAME, worker).orElseThrow(() -> new FleetService.NotFound("no worker " + worker));
            Map<Integer, List<BootTable.Row>> by = new LinkedHashMap<>();
            for (BootTable.Row r : BootTable.recent(c, id, limit)) {
                by.computeIfAbsent(r.boot(), k -> new ArrayList<>()).add(r);
            }
            List<Boot> out = new ArrayList<>();
            by.forEach((n, rows) -> {
                Instant start = rows.get(0).at();
                out.add(new Boot(n, start, rows.stream()
                        .map(r -> new Reached(r.phase(), r.at(), Duration.between(start, r.at()))).toList()));
            });
            return out;
        });
    }

    /** Waits until every phase handed over so far is written. */
    void drain() throws InterruptedException {
        var done = new java.util.concurrent.CountDownLatch(1);
        writer.execute(done::countDown);
        done.await(10, TimeUnit.SECONDS);
    }

    private void later(By by, String key, Phase phase) {
        Instant at = clock.instant();
        writer.execute(() -> {
            try {
                record(by, key, phase, at);
            } catch (RuntimeException e) {
                log.warn("[fleet] boot timeline: {} of {}: {}", phase.label(), key, e.toString());
            }
        });
    }

    private record Added(Phase phase, Duration sinceStart) {}

    private void record(By by, String key, Phase reached, Instant at) {
        Optional<Added> added = inventory.transaction(c -> {
            Optional<Long> id = BootTable.workerId(c, by, key);
            if (id.isEmpty()) {
                if (reached == Phase.DHCP) {
                    // Perhaps a machine about to enroll: its boot starts at the first DHCP of the burst.
                    unknown.merge(key, at, (first, now) -> first.plus(ENROLLING).isAfter(now) ? first : now);
                }
                return Optional.<Added>empty();
            }
            List<BootTable.Row> last = BootTable.recent(c, id.get(), 1);
            Phase phase = reached;
            if (phase == Phase.ISCSI_LOGIN && reachedIn(last, phase)) {
                phase = Phase.OS_LOGIN; // the OS logging in after the firmware
            }
            if (last.isEmpty() || startsABoot(last, phase, at)) {
                int boot = last.isEmpty() ? 1 : last.get(0).boot() + 1;
                // A DHCP offer seen while the MAC was no worker yet starts this boot, whichever
                // phase found the worker first (the writer may see the enrollment between two DHCPs).
                Instant start = BootTable.mac(c, id.get()).map(unknown::remove)
                        .filter(d -> d.plus(ENROLLING).isAfter(at) && !d.isAfter(at)).orElse(at);
                if (start.isBefore(at) || phase == Phase.DHCP) {
                    BootTable.add(c, id.get(), boot, Phase.DHCP.label(), start);
                }
                if (phase != Phase.DHCP) {
                    BootTable.add(c, id.get(), boot, phase.label(), at);
                }
                BootTable.prune(c, id.get(), boot - KEEP);
                return start.isBefore(at) && phase != Phase.DHCP
                        ? Optional.of(new Added(phase, Duration.between(start, at))) : Optional.<Added>empty();
            }
            if (reachedIn(last, phase)) {
                return Optional.<Added>empty(); // a repeat within the boot
            }
            BootTable.add(c, id.get(), last.get(0).boot(), phase.label(), at);
            return Optional.of(new Added(phase, Duration.between(last.get(0).at(), at)));
        });
        added.ifPresent(a -> onPhase.accept(a.phase(), a.sinceStart()));
    }

    private static boolean reachedIn(List<BootTable.Row> boot, Phase phase) {
        return boot.stream().anyMatch(r -> r.phase().equals(phase.label()));
    }

    /** DHCP or the script, when the open boot is stale or already went past it: the machine started again. */
    private static boolean startsABoot(List<BootTable.Row> boot, Phase phase, Instant at) {
        if (phase != Phase.DHCP && phase != Phase.SCRIPT) {
            return false;
        }
        boolean stale = boot.get(boot.size() - 1).at().plus(STALE).isBefore(at);
        boolean past = boot.stream().anyMatch(r -> Phase.of(r.phase()).map(p -> p.compareTo(phase) > 0).orElse(true));
        return stale || past;
    }

    @Override
    public void close() {
        writer.shutdown();
    }
}
