package dev.apiary.fleet;

import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One operation per worker at a time: a second one while the first runs is refused with
 * {@link FleetService.Conflict} (HTTP 409), never queued, so no caller waits behind a long clone
 * and no two operations interleave their steps on one worker.
 */
final class WorkerLocks {
    private final Set<String> busy = ConcurrentHashMap.newKeySet();

    interface IoWork<T> {
        T run() throws IOException;
    }

    <T> T exclusiveIo(String worker, IoWork<T> work) throws IOException {
        if (!busy.add(worker)) {
            throw new FleetService.Conflict(worker + " is busy with another operation");
        }
        try {
            return work.run();
        } finally {
            busy.remove(worker);
        }
    }

    <T> T exclusive(String worker, java.util.function.Supplier<T> work) {
        try {
            return exclusiveIo(worker, work::get);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
