package dev.apiary.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.apiary.fleet.store.Inventory;
import dev.apiary.fleet.store.JobTable;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Jobs in a real H2 file database: progress while running, results and failures kept across a restart. */
class JobsTest {
    @TempDir
    Path dir;

    @Test
    void aJobShowsLiveProgressAndItsEndSurvivesARestart() throws Exception {
        long done, failed;
        try (Inventory inventory = Inventory.open(dir); Jobs jobs = new Jobs(inventory, Clock.systemUTC())) {
            CountDownLatch halfway = new CountDownLatch(1), finish = new CountDownLatch(1);
            done = jobs.submit("import", "golden", progress -> {
                progress.update(50, 100);
                halfway.countDown();
                finish.await(10, TimeUnit.SECONDS);
                progress.update(100, 100);
            }).id();
            failed = jobs.submit("flatten", "w1", progress -> {
                throw new IOException("disk on fire");
            }).id();
            assertThat(halfway.await(10, TimeUnit.SECONDS)).isTrue();
            Jobs.Job running = jobs.get(done).orElseThrow();
            assertThat(running.state()).isEqualTo(Jobs.State.RUNNING);
            assertThat(running.done()).isEqualTo(50);
            assertThat(jobs.get(failed).orElseThrow().state()).as("jobs run one at a time").isEqualTo(Jobs.State.QUEUED);
            finish.countDown();
            await().atMost(Duration.ofSeconds(10)).until(() -> jobs.get(failed).orElseThrow().state() == Jobs.State.FAILED);
            assertThat(jobs.page(Long.MAX_VALUE, 10)).extracting(Jobs.Job::id).containsExactly(failed, done);
            assertThat(jobs.page(failed, 10)).extracting(Jobs.Job::id).containsExactly(done);
        }
        try (Inventory inventory = Inventory.open(dir); Jobs jobs = new Jobs(inventory, Clock.systemUTC())) {
            Jobs.Job d = jobs.get(done).orElseThrow();
            assertThat(d.state()).isEqualTo(Jobs.State.DONE);
            assertThat(d.done()).isEqualTo(100);
            assertThat(d.total()).isEqualTo(100);
            assertThat(d.finished()).isPresent();
            Jobs.Job f = jobs.get(failed).orElseThrow();
            assertThat(f.error()).contains("disk on fire");
            assertThat(jobs.get(12345)).isEmpty();
        }
    }

    @Test
    void aJobAStopCutShortIsMarkedFailedNotLeftRunning() throws Exception {
        long id;
        try (Inventory inventory = Inventory.open(dir)) {
            id = inventory.transaction(c -> JobTable.insert(c, "import", "golden", Instant.now()));
        }
        try (Inventory inventory = Inventory.open(dir); Jobs jobs = new Jobs(inventory, Clock.systemUTC())) {
            Jobs.Job j = jobs.get(id).orElseThrow();
            assertThat(j.state()).isEqualTo(Jobs.State.FAILED);
            assertThat(j.error().orElseThrow()).contains("interrupted");
            assertThat(j.finished()).isPresent();
        }
    }
}
