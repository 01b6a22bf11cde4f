package dev.apiary.iscsi.portal;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/**
 * Turns Netty's leak reports (tests run with -Dio.netty.leakDetection.level=paranoid) into test
 * failures: the detector only logs, so this listens to its logger and {@link #assertNoLeaks()}
 * collects garbage and allocates a little, which is when the detector reports what it found.
 */
final class LeakWatch {
    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();
    private static volatile boolean installed;

    private LeakWatch() {}

    static synchronized void install() {
        if (installed) {
            return;
        }
        if (!(LoggerFactory.getLogger("io.netty.util.ResourceLeakDetector") instanceof Logger logger)) {
            installed = true; // not logback: nothing to listen to
            return;
        }
        AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent e) {
                if (e.getFormattedMessage().contains("LEAK")) {
                    LEAKS.add(e.getFormattedMessage());
                }
            }
        };
        appender.setName("leak-watch");
        appender.setContext(logger.getLoggerContext());
        appender.start();
        logger.addAppender(appender);
        installed = true;
    }

    /** Provokes the detector's report and fails if any buffer was leaked so far in this JVM. */
    static void assertNoLeaks() throws InterruptedException {
        for (int round = 0; round < 5; round++) {
            System.gc();
            Thread.sleep(20);
            for (int i = 0; i < 64; i++) {
                ByteBuf b = i % 2 == 0 ? ByteBufAllocator.DEFAULT.directBuffer(64) : ByteBufAllocator.DEFAULT.heapBuffer(64);
                b.release();
            }
        }
        assertThat(LEAKS).as("Netty leak reports").isEmpty();
    }
}
