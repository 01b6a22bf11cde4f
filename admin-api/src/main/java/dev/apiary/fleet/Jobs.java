package dev.apiary.fleet;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Long operations (an image import, later flatten and rollouts) run as jobs: started by one request,
 * watched by others through their progress. Jobs run one at a time on their own thread; the last
 * 1000 are remembered (in memory: a job interrupted by a restart is not resumed, and its partial
 * volume is left for the operator, as rbd import leaves one).
 */
public final class Jobs implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Jobs.class);
    private static final int KEEP = 1000;

    public enum State { QUEUED, RUNNING, DONE, FAILED }

    /** A job's state as the API shows it. */
    public record Job(long id, String kind, String subject, State state, long done, long total, Instant started,
            Optional<String> error) {}

    /** The work of a job; it reports progress as it goes. */
    @FunctionalInterface
    public interface Work {
        void run(dev.apiary.lun.VolumeStore.Progress progress) throws Exception;
    }

    private final ExecutorService runner = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "apiary-jobs");
        t.setDaemon(true);
        return t;
    });
    private final AtomicLong nextId = new AtomicLong(1);
    private final Map<Long, Job> jobs = new LinkedHashMap<>();
    private final Clock clock;

    public Jobs(Clock clock) {
        this.clock = clock;
    }

    public synchronized Job submit(String kind, String subject, Work work) {
        long id = nextId.getAndIncrement();
        Job j = new Job(id, kind, subject, State.QUEUED, 0, 0, clock.instant(), Optional.empty());
        put(j);
        runner.submit(() -> {
            update(id, State.RUNNING, 0, 0, null);
            try {
                work.run((done, total) -> update(id, State.RUNNING, done, total, null));
                Job now = get(id).orElseThrow();
                update(id, State.DONE, now.total(), now.total(), null);
                log.info("[jobs] {} {} done", kind, subject);
            } catch (Exception e) {
                log.warn("[jobs] {} {} failed: {}", kind, subject, e.toString());
                Job at = get(id).orElseThrow();
                update(id, State.FAILED, at.done(), at.total(), e.getMessage() != null ? e.getMessage() : e.toString());
            }
        });
        return j;
    }

    public synchronized Optional<Job> get(long id) {
        return Optional.ofNullable(jobs.get(id));
    }

    public synchronized List<Job> all() {
        return new ArrayList<>(jobs.values());
    }

    private synchronized void update(long id, State s, long done, long total, String error) {
        Job j = jobs.get(id);
        put(new Job(id, j.kind(), j.subject(), s, done, total, j.started(), Optional.ofNullable(error)));
    }

    private void put(Job j) {
        jobs.put(j.id(), j);
        while (jobs.size() > KEEP) {
            jobs.remove(jobs.keySet().iterator().next());
        }
    }

    @Override
    public void close() {
        runner.shutdownNow();
    }
}
