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
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
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

    /** {@code crc} is CRC32C of this record serialized without it; null only while computing it. */
    record Data(int format, int clusterSize, long nextLayer, Map<String, LayerRecord> layers,
            Map<String, VolumeRecord> volumes, Long crc) {
        Data {
            layers = layers == null ? new TreeMap<>() : new TreeMap<>(layers);
            volumes = volumes == null ? new TreeMap<>() : new TreeMap<>(volumes);
        }

        Data(int format, int clusterSize, long nextLayer, Map<String, LayerRecord> layers,
                Map<String, VolumeRecord> volumes) {
            this(format, clusterSize, nextLayer, layers, volumes, null);
        }

        Data withCrc(Long c) {
            return new Data(format, clusterSize, nextLayer, layers, volumes, c);
        }
    }

    private Catalog() {}

    /** Reads and checks a catalog: JSON, format, checksum, then every cross-reference ({@link #validate}). */
    static Data read(Path file) throws IOException {
        Data d;
        try {
            d = JSON.readValue(file.toFile(), Data.class);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException("catalog " + file + " is not valid: " + e.getOriginalMessage(), e);
        }
        if (d.format() != FORMAT) {
            throw new IOException("catalog " + file + " has format " + d.format() + "; this Apiary reads " + FORMAT);
        }
        if (d.crc() == null || d.crc() != checksum(d)) {
            throw new IOException("catalog " + file + " fails its checksum");
        }
        try {
            validate(d);
        } catch (IllegalStateException e) {
            throw new IOException("catalog " + file + " is inconsistent: " + e.getMessage());
        }
        return d;
    }

    private static long checksum(Data d) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(d.withCrc(null));
        java.util.zip.CRC32C c = new java.util.zip.CRC32C();
        c.update(bytes);
        return c.getValue();
    }

    /** Every reference resolves, stacks end at a raw layer, and sizes and seals agree; else IllegalStateException. */
    static void validate(Data d) {
        int cs = d.clusterSize();
        check(cs >= 512 && cs <= (1 << 20) && Integer.bitCount(cs) == 1, "cluster size " + cs);
        long maxId = 0;
        for (var e : d.layers().entrySet()) {
            String id = e.getKey();
            LayerRecord l = e.getValue();
            check(id.matches("L[1-9][0-9]{0,17}"), "layer id " + id);
            maxId = Math.max(maxId, Long.parseLong(id.substring(1)));
            check(l.size() > 0, "layer " + id + " size " + l.size());
            if (l.parent() != null) {
                LayerRecord p = d.layers().get(l.parent());
                check(p != null, "layer " + id + " names a missing parent " + l.parent());
                check(p.sealed(), "layer " + id + " has an unsealed parent " + l.parent());
                check(p.size() <= l.size(), "layer " + id + " is smaller than its parent");
            }
            int depth = 0;
            for (String x = id; x != null; x = d.layers().get(x).parent()) {
                check(++depth <= d.layers().size(), "layer " + id + " is in a parent cycle");
            }
        }
        check(d.nextLayer() > maxId, "nextLayer " + d.nextLayer() + " would reuse layer ids");
        for (var e : d.volumes().entrySet()) {
            String name = e.getKey();
            VolumeRecord v = e.getValue();
            LayerRecord top = d.layers().get(v.top());
            check(top != null, "volume " + name + " names a missing layer " + v.top());
            check(!top.sealed(), "volume " + name + " has a sealed top layer");
            check(top.size() == v.size(), "volume " + name + " size disagrees with its layer");
            for (var s : v.snapshots().entrySet()) {
                LayerRecord l = d.layers().get(s.getValue());
                check(l != null && l.sealed(), "snapshot " + name + "@" + s.getKey() + " names no sealed layer");
            }
            check((v.originVolume() == null) == (v.originSnapshot() == null), "volume " + name + " has half an origin");
            if (v.originVolume() != null) {
                VolumeRecord o = d.volumes().get(v.originVolume());
                String snap = o == null ? null : o.snapshots().get(v.originSnapshot());
                check(snap != null, "volume " + name + " was cloned from a missing snapshot");
                boolean reaches = false;
                for (String x = v.top(); x != null && !reaches; x = d.layers().get(x).parent()) {
                    reaches = x.equals(snap);
                }
                check(reaches, "volume " + name + " does not stack on the snapshot it was cloned from");
            }
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException(what);
        }
    }

    static void write(Path file, Data d) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Data sealed = d.withCrc(checksum(d));
        try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            c.write(java.nio.ByteBuffer.wrap(JSON.writeValueAsBytes(sealed)));
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
