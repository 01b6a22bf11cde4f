package dev.apiary.fleet;

import dev.apiary.fleet.store.ChangeTable;
import dev.apiary.fleet.store.ChangeTable.Member;
import dev.apiary.fleet.store.ChangeTable.Rollout;
import dev.apiary.fleet.store.Inventory;
import dev.apiary.fleet.store.WorkerTable;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rolling an image version out to chosen workers, one batch at a time (DESIGN.md story 4). Each
 * worker of the current batch is assigned the version for its next boot ({@link NextBoot}) and
 * woken; a running one is told to reboot by its agent. A worker is up when it has booted the new
 * root and its agent has reported {@code userspace} since; the next batch starts only when every
 * worker of this one is up. A worker not up within the rollout's timeout stops the rollout
 * (FAILED) and leaves the later batches as they were. Rollback, of one worker or of the whole
 * rollout, assigns each worker the version it ran before, the same way. All state is in the
 * inventory and {@link #tick()} advances it, so a restart carries on.
 */
public final class Rollouts {
    private static final Logger log = LoggerFactory.getLogger(Rollouts.class);

    /** A rollout as the API shows it. */
    public record View(Rollout rollout, List<Member> workers) {}

    private final FleetService fleet;
    private final Inventory inventory;
    private final Clock clock;
    private volatile Consumer<String> waker = mac -> {};

    Rollouts(FleetService fleet, Inventory inventory, Clock clock) {
        this.fleet = fleet;
        this.inventory = inventory;
        this.clock = clock;
    }

    public void wakeWith(Consumer<String> waker) {
        this.waker = waker;
    }

    public synchronized View start(String image, List<String> workers, int batchSize, Duration timeout) throws IOException {
        if (!fleet.imageExists(image)) {
            throw new IllegalArgumentException("no image version " + image);
        }
        if (workers.isEmpty() || new HashSet<>(workers).size() != workers.size()) {
            throw new IllegalArgumentException("workers must name each worker once, at least one");
        }
        if (batchSize < 1 || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("batch-size must be at least 1 and timeout positive");
        }
        Set<String> busy = new HashSet<>();
        for (Rollout r : inventory.transaction(ChangeTable::activeRollouts)) {
            members(r).forEach(m -> busy.add(m.worker()));
        }
        for (String name : workers) {
            Worker w = fleet.worker(name);
            if (w.state() != Worker.State.READY) {
                throw new FleetService.Conflict(name + " is " + w.state() + ", not READY");
            }
            if (busy.contains(name)) {
                throw new FleetService.Conflict(name + " is in another rollout that is still running");
            }
        }
        Instant now = clock.instant();
        long id = inventory.transaction(c -> {
            long i = ChangeTable.insertRollout(c, image, batchSize, (int) Math.min(timeout.toSeconds(), Integer.MAX_VALUE),
                    workers, now);
            WorkerTable.event(c, now, "rollout", null, "rollout " + i + " of " + image + " to " + workers.size()
                    + " worker(s), " + batchSize + " at a time");
            return i;
        });
        return get(id);
    }

    public List<Rollout> list() {
        return inventory.transaction(ChangeTable::rollouts);
    }

    public View get(long id) {
        Rollout r = inventory.transaction(c -> ChangeTable.rollout(c, id))
                .orElseThrow(() -> new FleetService.NotFound("no rollout " + id));
        return new View(r, members(r));
    }

    /**
     * Sends {@code workers} (all that were touched when empty) back to the version each ran
     * before, from their next boot; a whole-rollout rollback also stops the batches not started.
     */
    public synchronized View rollback(long id, List<String> workers) throws IOException {
        View v = get(id);
        List<Member> chosen = v.workers().stream().filter(m -> workers.isEmpty() || workers.contains(m.worker())).toList();
        for (String name : workers) {
            if (chosen.stream().noneMatch(m -> m.worker().equals(name))) {
                throw new IllegalArgumentException(name + " is not in rollout " + id);
            }
        }
        Instant now = clock.instant();
        for (Member m : chosen) {
            if (m.previous().isEmpty()) {
                continue; // never assigned: nothing to undo
            }
            Worker w = fleet.nextBoot().assign(m.worker(), m.previous().get());
            // A worker that never booted the new version has nothing to undo: it is back already.
            boolean back = w.image().equals(m.previous().get()) && fleet.nextBoot().pending(w.name()).isEmpty();
            member(v.rollout(), m, back ? "ROLLED_BACK" : "ROLLING_BACK", null, now);
            if (!back) {
                wake(w);
            }
        }
        if (workers.isEmpty()) {
            inventory.transaction(c -> {
                ChangeTable.setRollout(c, id, "ROLLED_BACK", null, now);
                WorkerTable.event(c, now, "rollout", null, "rollout " + id + " rolled back");
                return null;
            });
        }
        return get(id);
    }

    /** Advances every rollout with work left (the controller calls this every second). */
    public synchronized void tick() throws IOException {
        Instant now = clock.instant();
        for (Rollout active : inventory.transaction(ChangeTable::activeRollouts)) {
            Rollout r = active;
            List<Member> members = members(r);
            Duration timeout = Duration.ofSeconds(r.timeoutSeconds());
            for (Member m : members) {
                if (m.state().equals("ROLLING_BACK") && up(m, m.previous().orElseThrow())) {
                    member(r, m, "ROLLED_BACK", null, now);
                }
            }
            // A batch that comes up lets the next one start in the same look.
            while (r.state().equals("RUNNING") && advance(r, timeout, now)) {
                r = get(active.id()).rollout();
            }
        }
    }

    /** One step of a running rollout's current batch; true when that batch has just come up. */
    private boolean advance(Rollout r, Duration timeout, Instant now) throws IOException {
        List<Member> members = members(r);
        int batch = members.stream().filter(m -> m.state().equals("WAITING") || m.state().equals("ASSIGNED"))
                .mapToInt(Member::batch).min().orElse(-1);
        if (batch < 0) {
            finish(r, "DONE", null, now);
            return false;
        }
        int pending = 0;
        for (Member m : members) {
            if (m.batch() != batch) {
                continue;
            }
            if (m.state().equals("WAITING")) {
                Worker w = fleet.worker(m.worker());
                fleet.nextBoot().assign(w.name(), r.image());
                member(r, m, "ASSIGNED", w.image(), now);
                wake(w);
                pending++;
            } else if (m.state().equals("ASSIGNED") && up(m, r.image())) {
                member(r, m, "UP", null, now);
            } else if (m.state().equals("ASSIGNED") && m.since().plus(timeout).isBefore(now)) {
                member(r, m, "FAILED", null, now);
                finish(r, "FAILED", m.worker() + " was not up on " + r.image() + " within " + timeout.toSeconds()
                        + " s; later batches not started", now);
                return false;
            } else if (m.state().equals("ASSIGNED")) {
                pending++;
            }
        }
        return pending == 0;
    }

    /** Booted {@code image} and its agent reported userspace after the member's last change. */
    private boolean up(Member m, String image) {
        Worker w = fleet.worker(m.worker());
        return image.equals(w.image()) && fleet.nextBoot().pending(w.name()).isEmpty()
                && fleet.boots().boots(w.name(), 2).stream().flatMap(b -> b.phases().stream())
                        .anyMatch(p -> p.phase().equals("userspace") && p.at().isAfter(m.since()));
    }

    /** A powered-off worker is woken; a running one's agent sees "reboot" (see {@link FleetService#action}). */
    private void wake(Worker w) {
        if (w.mac() != null) {
            waker.accept(w.mac());
        }
    }

    private void member(Rollout r, Member m, String state, String previous, Instant now) {
        inventory.transaction(c -> {
            ChangeTable.setMember(c, r.id(), m.worker(), state, previous, now);
            WorkerTable.event(c, now, "rollout", m.worker(), "rollout " + r.id() + " of " + r.image() + ": " + state);
            return null;
        });
        log.info("[rollout] {}: {} {}", r.id(), m.worker(), state);
    }

    private void finish(Rollout r, String state, String error, Instant now) {
        inventory.transaction(c -> {
            ChangeTable.setRollout(c, r.id(), state, error, now);
            WorkerTable.event(c, now, "rollout", null, "rollout " + r.id() + " " + state + (error == null ? "" : ": " + error));
            return null;
        });
        log.info("[rollout] {} {}{}", r.id(), state, error == null ? "" : ": " + error);
    }

    private List<Member> members(Rollout r) {
        return inventory.transaction(c -> ChangeTable.members(c, r.id()));
    }
}
