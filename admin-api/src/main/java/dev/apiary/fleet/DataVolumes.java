package dev.apiary.fleet;

import dev.apiary.lun.VolumeStore;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A new worker's data volume (LUN 1), made with an empty ext4 filesystem on it, so the worker's
 * first boot mounts it instead of formatting it over iSCSI. {@code mkfs.ext4} writes the filesystem
 * into a sparse scratch file the size of the volume, which is imported: the store reads only the
 * file's allocated blocks (a few MiB of metadata, whatever the size) and writes only the non-zero
 * ones. Inode tables and journal are made zeroed (they are holes, and a new volume reads as
 * zeros), so the worker's kernel has no lazy initialisation to do behind its first boot either.
 * Each filesystem has a UUID of its own, as if the worker had made it.
 *
 * <p>Where {@code mkfs.ext4} is missing or fails, the volume is made blank and the worker image
 * formats it at its first boot, as it does on any blank data LUN (docs/worker-image.md).
 */
final class DataVolumes {
    /** The worker image's DATA_LABEL: the label it gives a data filesystem it makes itself. */
    static final String LABEL = "apiary-data";
    private static final Logger log = LoggerFactory.getLogger(DataVolumes.class);
    private static final long MKFS_TIMEOUT_SECONDS = 60;

    private final VolumeStore store;
    private final String mkfs;
    private final AtomicBoolean warned = new AtomicBoolean();

    DataVolumes(VolumeStore store) {
        this(store, locate("mkfs.ext4"));
    }

    /** With another mkfs program (tests: one that is missing or fails). */
    DataVolumes(VolumeStore store, String mkfs) {
        this.store = store;
        this.mkfs = mkfs;
    }

    /** {@code name} on the PATH, or in the sbin directories a user's PATH often lacks (Debian's). */
    static String locate(String name) {
        List<String> dirs = new java.util.ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        dirs.addAll(List.of("/usr/sbin", "/sbin"));
        for (String d : dirs) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, name))) {
                return Path.of(d, name).toString();
            }
        }
        return name; // not found: running it says so
    }

    /** Creates volume {@code name} of {@code size} bytes, formatted if this host can format it. */
    void create(String name, long size) throws IOException {
        Path scratch = Files.createTempFile("apiary-" + name + "-", ".ext4");
        try {
            String failure = format(scratch, size);
            if (failure == null) {
                store.importRaw(name, scratch, VolumeStore.Progress.NONE);
                return;
            }
            if (warned.compareAndSet(false, true)) {
                log.warn("[fleet] data volumes are made blank, for the workers to format: {}", failure);
            }
            store.create(name, size);
        } finally {
            Files.deleteIfExists(scratch);
        }
    }

    /** Formats {@code file} at {@code size} bytes; null when it worked, else why not. */
    private String format(Path file, long size) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size); // a hole: only mkfs's own blocks get written
        }
        // The options the worker image's apiary-data uses, except that the inode tables and journal
        // are zeroed now (as holes: cheap here) instead of by the worker's kernel in the background.
        List<String> cmd = List.of(mkfs, "-q", "-F", "-t", "ext4", "-L", LABEL, "-U", UUID.randomUUID().toString(),
                "-m", "1", "-E", "lazy_itable_init=0,lazy_journal_init=0,nodiscard", file.toString());
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            return mkfs + " cannot be run (" + e.getMessage() + ")";
        }
        try {
            p.getOutputStream().close();
            if (!p.waitFor(MKFS_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return mkfs + " took over " + MKFS_TIMEOUT_SECONDS + " s";
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while formatting a data volume", e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        return p.exitValue() == 0 ? null : mkfs + " exit " + p.exitValue() + (out.isEmpty() ? "" : ": " + out);
    }
}
