package dev.apiary.server;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What a server has started, stopped in reverse order; a failure to stop one does not keep the rest running. */
final class Started implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Started.class);

    private final List<AutoCloseable> services = new ArrayList<>();

    void add(AutoCloseable service) {
        services.add(service);
    }

    @Override
    public void close() {
        for (int i = services.size() - 1; i >= 0; i--) {
            try {
                services.get(i).close();
            } catch (Exception e) {
                log.warn("[apiary] stopping: {}", e.toString());
            }
        }
        services.clear();
    }
}
