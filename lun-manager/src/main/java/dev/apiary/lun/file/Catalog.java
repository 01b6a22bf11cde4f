package dev.apiary.lun.file;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The store's catalog: which layers exist, how they stack, and which volumes and snapshots name
 * them. It is one JSON file replaced atomically (write, fsync, rename, fsync the directory), so
 * every store operation commits at a single point and a crash leaves either the old or the new
 * catalog; files that no catalog names are orphans, removed at open.
 */
final class Catalog {
    static final int FORMAT = 1;
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);

    /** A layer: its parent layer (null for a raw layer), whether it is sealed, and its size in bytes. */
    record LayerRecord(String parent, boolean sealed, long size) {}

    /** A volume: its writable top layer, its size, its snapshots (name to sealed layer), and its origin. */
    record VolumeRecord(String top, long size, Map<String, String> snapshots, String originVolume,
            String originSnapshot, long createdMillis) {
        VolumeRecord {
            snapshots = snapshots == null ? new LinkedHashMap<>() : new LinkedHashMap<>(snapshots);
        }

        VolumeRecord withTop(String t, long s) {
            return new VolumeRecord(t, s, snapshots, originVolume, originSnapshot, createdMillis);
        }

        VolumeRecord withoutOrigin() {
            return new VolumeRecord(top, size, snapshots, null, null, createdMillis);
        }
    }

    record Data(int format, int clusterSize, long nextLayer, Map<String, LayerRecord> layers,
            Map<String, VolumeRecord> volumes) {
        Data {
            layers = layers == null ? new TreeMap<>() : new TreeMap<>(layers);
            volumes = volumes == null ? new TreeMap<>() : new TreeMap<>(volumes);
        }
    }

    private Catalog() {}

    static Data read(Path file) throws IOException {
        Data d;
        try {
            d = JSON.readValue(file.toFile(), Data.class);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException("catalog " + file + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (d.format() != FORMAT) {
            throw new IOException("catalog " + file + " has format " + d.format() + "; this Apiary reads " + FORMAT);
        }
        return d;
    }

    static void write(Path file, Data d) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            c.write(java.nio.ByteBuffer.wrap(JSON.writeValueAsBytes(d)));
            c.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        syncDirectory(file.getParent());
    }

    /** A rename is durable only once its directory is (POSIX; ext4 and XFS need this). */
    static void syncDirectory(Path dir) throws IOException {
        try (FileChannel c = FileChannel.open(dir, StandardOpenOption.READ)) {
            c.force(true);
        }
    }
}
