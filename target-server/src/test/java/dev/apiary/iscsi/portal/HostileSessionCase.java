package dev.apiary.iscsi.portal;

import static dev.apiary.iscsi.portal.Hostile.HEALTHY;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lifecycle every hostile-input case shares: one target per class, and for each case a healthy
 * session doing I/O beside it that must survive ({@link HealthyWorker}); no buffer may leak.
 */
abstract class HostileSessionCase {
    @TempDir
    static Path dir;

    static TargetFixture target;
    HealthyWorker healthy;

    @BeforeAll
    static void start() throws IOException {
        target = TargetFixture.start(dir, Set.of(), false);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (target != null) {
            target.close();
        }
        LeakWatch.assertNoLeaks();
    }

    @BeforeEach
    void startHealthySession() throws InterruptedException {
        healthy = HealthyWorker.start(target, HEALTHY, 0);
    }

    @AfterEach
    void healthySessionSurvived() throws InterruptedException {
        if (healthy != null) {
            healthy.close();
        }
    }
}
