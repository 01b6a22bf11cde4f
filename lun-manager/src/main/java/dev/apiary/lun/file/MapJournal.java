package dev.apiary.lun.file;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Makes a {@link ClusterMap} durable: a checkpoint file (the whole map, checksummed, replaced
 * atomically by rename) plus an append-only journal of state runs since that checkpoint, each
 * record checksummed. docs/storage.md describes the bytes.
 *
 * <p>Crash rules: a flush appends records only after the data they point to is durable, then
 * fdatasyncs the journal, so a record on disk never points at data that is not. A torn last record
 * (a crash mid-append) is expected and dropped; a bad record followed by a good one is corruption.
 * The checkpoint and journal carry a generation so a journal left over from before a newer
 * checkpoint is never replayed onto it.
 */
final class MapJournal implements AutoCloseable {
    private static final long MAP_MAGIC = 0x415041504d415031L; // "APAPMAP1"
    private static final long JOURNAL_MAGIC = 0x41504150_4a524e31L; // "APAPJRN1"
    private static final int MAP_HEADER = 48;
    private static final int JOURNAL_HEADER = 24;
    /** Header flag: every cluster is ABSENT and the body is omitted (a new clone's map, written in O(1)). */
    private static final int ALL_ABSENT = 1;
    static final int RECORD = 24;
    /** Past this the journal is folded into a new checkpoint at the next quiet flush. */
    static final long COMPACT_AT = 4L << 20;

    private final Path mapFile;
    private final Path journalFile;
    private final int clusterSize;
    private FileChannel journal;
    private long generation;
    private long journalSize;

    private MapJournal(Path mapFile, Path journalFile, int clusterSize) {
        this.mapFile = mapFile;
        this.journalFile = journalFile;
        this.clusterSize = clusterSize;
    }

    /**
     * Writes the map of a new overlay layer: every cluster ABSENT. The checkpoint has no body, so
     * making a clone costs the same whatever the volume's size.
     */
    static void createEmpty(Path mapFile, Path journalFile, int clusterSize, long clusters) throws IOException {
        MapJournal j = new MapJournal(mapFile, journalFile, clusterSize);
        j.writeCheckpoint(clusters, new byte[0], ALL_ABSENT);
        j.close();
    }

    /** Loads the checkpoint and replays the journal into {@code map}; throws on anything inconsistent. */
    static MapJournal open(Path mapFile, Path journalFile, int clusterSize, ClusterMap map) throws IOException {
        MapJournal j = new MapJournal(mapFile, journalFile, clusterSize);
        j.load(map);
        return j;
    }

    private void load(ClusterMap map) throws IOException {
        if (!Files.exists(mapFile)) {
            throw new IOException("allocation map " + mapFile.getFileName() + " is missing");
        }
        byte[] all = Files.readAllBytes(mapFile);
        ByteBuffer b = ByteBuffer.wrap(all);
        if (all.length < MAP_HEADER || b.getLong(0) != MAP_MAGIC) {
            throw new IOException("allocation map " + mapFile.getFileName() + " is not an Apiary map (bad header)");
        }
        if (crc(all, 0, 40) != b.getInt(40)) {
            throw new IOException("allocation map " + mapFile.getFileName() + " has a damaged header");
        }
        generation = b.getLong(8);
        int cs = b.getInt(16);
        long clusters = b.getLong(20);
        int bodyLength = b.getInt(28);
        int crc = b.getInt(32);
        int flags = b.getInt(36);
        long expectedBody = (flags & ALL_ABSENT) != 0 ? 0 : (clusters + 3) / 4;
        if (cs != clusterSize || clusters < map.clusters() || clusters > (long) Integer.MAX_VALUE * 32
                || bodyLength != expectedBody || all.length != MAP_HEADER + bodyLength) {
            throw new IOException("allocation map " + mapFile.getFileName() + " is truncated or has a wrong size");
        }
        if (crc(all, MAP_HEADER, bodyLength) != crc) {
            throw new IOException("allocation map " + mapFile.getFileName() + " fails its checksum");
        }
        map.grow(clusters);
        if ((flags & ALL_ABSENT) == 0) {
            byte[] body = new byte[bodyLength];
            System.arraycopy(all, MAP_HEADER, body, 0, bodyLength);
            map.unpack(body);
        }
        replay(map);
    }

    private void replay(ClusterMap map) throws IOException {
        journal = FileChannel.open(journalFile, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        long size = journal.size();
        ByteBuffer h = ByteBuffer.allocate(JOURNAL_HEADER);
        boolean damaged = size < JOURNAL_HEADER || journal.read(h, 0) < JOURNAL_HEADER || h.getLong(0) != JOURNAL_MAGIC
                || crc(h.array(), 0, 16) != h.getInt(16) || h.getInt(20) != 0;
        if (damaged && size > JOURNAL_HEADER) {
            // A header is written alone, before any record: records behind a bad one mean damage, not a torn write.
            throw new IOException("journal " + journalFile.getFileName() + " has a damaged header");
        }
        if (damaged || h.getLong(8) != generation) {
            // No journal, a header torn while it was written, or one from before this checkpoint: nothing to replay.
            startJournal();
            return;
        }
        long pos = JOURNAL_HEADER;
        ByteBuffer r = ByteBuffer.allocate(RECORD);
        long validEnd = pos;
        while (pos + RECORD <= size) {
            r.clear();
            journal.read(r, pos);
            long start = r.getLong(0);
            long count = r.getLong(8);
            int state = r.getInt(16);
            boolean ok = crc(r.array(), 0, 20) == r.getInt(20);
            if (!ok) {
                if (laterRecordValid(pos + RECORD, size)) {
                    throw new IOException("journal " + journalFile.getFileName() + " is corrupt at byte " + pos);
                }
                break; // a torn tail from a crash mid-append
            }
            if (start < 0 || count <= 0 || start + count > map.clusters() || state < 0 || state > ClusterMap.ZERO) {
                throw new IOException("journal " + journalFile.getFileName() + " has an impossible record at byte " + pos);
            }
            map.load(start, count, state);
            pos += RECORD;
            validEnd = pos;
        }
        journal.truncate(validEnd);
        journalSize = validEnd;
    }

    private boolean laterRecordValid(long from, long size) throws IOException {
        ByteBuffer r = ByteBuffer.allocate(RECORD);
        for (long p = from; p + RECORD <= size; p += RECORD) {
            r.clear();
            journal.read(r, p);
            if (crc(r.array(), 0, 20) == r.getInt(20) && r.getLong(8) > 0) {
                return true;
            }
        }
        return false;
    }

    private void startJournal() throws IOException {
        if (journal != null) {
            journal.close();
        }
        journal = FileChannel.open(journalFile, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        ByteBuffer h = ByteBuffer.allocate(JOURNAL_HEADER);
        h.putLong(0, JOURNAL_MAGIC).putLong(8, generation);
        h.putInt(16, crc(h.array(), 0, 16));
        journal.write(h, 0);
        journal.force(false);
        journalSize = JOURNAL_HEADER;
    }

    /** Appends runs and makes them durable. The caller made their data durable first. */
    synchronized void append(List<ClusterMap.Run> runs) throws IOException {
        if (runs.isEmpty()) {
            return;
        }
        ByteBuffer b = ByteBuffer.allocate(RECORD * runs.size());
        for (ClusterMap.Run run : runs) {
            int at = b.position();
            b.putLong(run.start()).putLong(run.count()).putInt(run.state());
            b.putInt(crc(b.array(), at, 20));
        }
        b.flip();
        long pos = journalSize;
        while (b.hasRemaining()) {
            pos += journal.write(b, pos);
        }
        journal.force(false);
        journalSize = pos;
    }

    synchronized boolean wantsCompaction() {
        return journalSize > COMPACT_AT;
    }

    /**
     * Writes the whole map as a new checkpoint (temp file, fsync, rename, fsync directory), then
     * starts an empty journal. The caller guarantees every state in {@code map} is durable.
     */
    synchronized void checkpoint(ClusterMap map) throws IOException {
        writeCheckpoint(map.clusters(), map.pack(), 0);
    }

    private void writeCheckpoint(long clusters, byte[] body, int flags) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(MAP_HEADER);
        h.putLong(0, MAP_MAGIC).putLong(8, generation + 1).putInt(16, clusterSize).putLong(20, clusters)
                .putInt(28, body.length).putInt(32, crc(body, 0, body.length)).putInt(36, flags);
        h.putInt(40, crc(h.array(), 0, 40));
        Path tmp = mapFile.resolveSibling(mapFile.getFileName() + ".tmp");
        try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            c.write(new ByteBuffer[] {h, ByteBuffer.wrap(body)});
            c.force(true);
        }
        Files.move(tmp, mapFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Catalog.syncDirectory(mapFile.getParent());
        generation++;
        startJournal();
    }

    static int crc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    @Override
    public synchronized void close() throws IOException {
        if (journal != null) {
            journal.close();
        }
    }
}
