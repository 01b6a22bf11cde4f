package dev.apiary.cli;

import dev.apiary.lun.VolumeStore;
import java.io.PrintWriter;

/**
 * A progress bar for long store operations on stderr: redrawn in place on a terminal, one line per
 * tenth otherwise (logs and CI output stay readable).
 */
final class ProgressBar implements VolumeStore.Progress {
    private static final int WIDTH = 30;
    private final PrintWriter out;
    private final String label;
    private final boolean terminal = System.console() != null;
    private final long startNanos = System.nanoTime();
    private int lastTenth = -1;
    private int lastPercent = -1;

    ProgressBar(PrintWriter out, String label) {
        this.out = out;
        this.label = label;
    }

    @Override
    public void update(long done, long total) {
        int percent = total <= 0 ? 100 : (int) (done * 100 / total);
        if (terminal) {
            if (percent != lastPercent) {
                int filled = percent * WIDTH / 100;
                out.printf("\r%s [%s%s] %3d%% %,d/%,d MiB", label, "#".repeat(filled), " ".repeat(WIDTH - filled),
                        percent, done >> 20, total >> 20);
                out.flush();
                lastPercent = percent;
            }
        } else if (percent / 10 != lastTenth) {
            lastTenth = percent / 10;
            out.printf("%s %d%% (%,d of %,d MiB)%n", label, percent, done >> 20, total >> 20);
            out.flush();
        }
    }

    void done() {
        double s = (System.nanoTime() - startNanos) / 1e9;
        out.printf("%s%s done in %.1f s%n", terminal ? "\r" : "", label, s);
        out.flush();
    }
}
