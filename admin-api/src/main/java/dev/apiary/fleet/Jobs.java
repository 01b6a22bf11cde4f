package dev.apiary.fleet;

import dev.apiary.fleet.store.Inventory;
import dev.apiary.fleet.store.JobTable;
import dev.apiary.lun.VolumeStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Long operations (an image import, a flatten; later rollouts) run as jobs: started by one
 * request, watched by others through their progress. Jobs run one at a time on their own thread
 * and are kept in the inventory. A running job's progress is written at most once a second (the
 * API reads the live figure from memory meanwhile), so a 4 GiB import is not thousands of commits.
 * A job that a stop or a crash cut short is marked FAILED when the server starts again; it is not
 * resumed, and its partial volume is left for the operator, as {@code rbd import} leaves one.
 */
public final class Jobs implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Jobs.class);
    private static final Duration PROGRESS_EVERY = Duration.ofSeconds(1);

    public enum State { QUEUED, RUNNING, DONE, FAILED }

    /** A job as the API shows it. */
    public record Job(long id, String kind, String subject, State state, long done, long total, Instant started,
            Optional<Instant> finished, Optional<String> error) {
        Job with(State s, long d, long t, Optional<Instant> f, Optional<String> e) {
            return new Job(id, kind, subject, s, d, t, started, f, e);
        }
    }

    /** The work of a job; it reports progress as it goes. */
    @FunctionalInterface
    public interface Work {
        void run(VolumeStore.Progress progress) throws Exception;
    }

    private final ExecutorService runner = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "apiary-jobs");
        t.setDaemon(true);
        return t;
    });
    private final Inventory inventory;
    private final Clock clock;
    /** Jobs not finished yet, with their latest progress. */
    private final Map<Long, Job> live = new ConcurrentHashMap<>();

    public Jobs(Inventory inventory, Clock clock) {
        this.inventory = inventory;
        this.clock = clock;
        int cut = inventory.transaction(c -> JobTable.interrupted(c, clock.instant()));
        if (cut > 0) {
            log.warn("[jobs] {} job(s) were cut short by the last stop; marked FAILED", cut);
        }
    }

    public Job submit(String kind, String subject, Work work) {
        Instant now = clock.instant();
        long id = inventory.transaction(c -> JobTable.insert(c, kind, subject, now));
        Job queued = new Job(id, kind, subject, State.QUEUED, 0, 0, now, Optional.empty(), Optional.empty());
        live.put(id, queued);
        runner.submit(() -> run(queued, work));
        return queued;
    }

    private void run(Job queued, Work work) {
        Job running = save(queued.with(State.RUNNING, 0, 0, Optional.empty(), Optional.empty()));
        var lastSaved = new Object() { Instant at = clock.instant(); };
        try {
            work.run((done, total) -> {
                Job j = live.get(queued.id()).with(State.RUNNING, done, total, Optional.empty(), Optional.empty());
                live.put(j.id(), j);
                if (clock.instant().isAfter(lastSaved.at.plus(PROGRESS_EVERY))) {
                    lastSaved.at = clock.instant();
                    save(j);
                }
            });
            Job at = live.get(running.id());
            save(at.with(State.DONE, at.total(), at.total(), Optional.of(clock.instant()), Optional.empty()));
            log.info("[jobs] {} {} done", queued.kind(), queued.subject());
        } catch (Exception e) {
            log.warn("[jobs] {} {} failed: {}", queued.kind(), queued.subject(), e.toString());
            Job at = live.get(running.id());
            save(at.with(State.FAILED, at.done(), at.total(), Optional.of(clock.instant()),
                    Optional.of(e.getMessage() != null ? e.getMessage() : e.toString())));
        }
    }

    /** Writes the job's row; a finished job then leaves the live map (readers go to the row). */
    private Job save(Job j) {
        inventory.transaction(c -> {
            JobTable.update(c, j);
            return null;
        });
        if (j.finished().isPresent()) {
            live.remove(j.id());
        } else {
            live.put(j.id(), j);
        }
        return j;
    }

    public Optional<Job> get(long id) {
        Job j = live.get(id);
        return j != null ? Optional.of(j) : inventory.transaction(c -> JobTable.get(c, id));
    }

    /** Newest first: at most {@code limit} jobs with an id below {@code before}, with live progress. */
    public List<Job> page(long before, int limit) {
        return inventory.transaction(c -> JobTable.page(c, before, limit)).stream()
                .map(j -> live.getOrDefault(j.id(), j)).toList();
    }

    @Override
    public void close() {
        runner.shutdownNow();
    }
}
