package dev.apiary.fleet.store;

import dev.apiary.fleet.Worker;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** SQL for the workers, worker_volumes and events tables; every method runs inside the caller's transaction. */
public final class WorkerTable {
    private static final String COLUMNS = "id, name, mac, state, initiator_iqn, target_iqn, image, chap_user, "
            + "chap_secret, mutual_user, mutual_secret, created_at, last_seen";

    private WorkerTable() {}

    /** Inserts {@code w} (its id is ignored) with its LUNs; returns the new id. */
    public static long insert(Connection c, Worker w) throws SQLException {
        long id;
        try (PreparedStatement s = c.prepareStatement("INSERT INTO workers (name, mac, state, initiator_iqn, "
                + "target_iqn, image, chap_user, chap_secret, mutual_user, mutual_secret, created_at) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", Statement.RETURN_GENERATED_KEYS)) {
            s.setString(1, w.name());
            s.setString(2, w.mac());
            s.setString(3, w.state().name());
            s.setString(4, w.initiatorIqn());
            s.setString(5, w.targetIqn());
            s.setString(6, w.image());
            s.setString(7, w.chapUser());
            s.setString(8, w.chapSecret());
            s.setString(9, w.mutualUser());
            s.setString(10, w.mutualSecret());
            s.setTimestamp(11, Timestamp.from(w.createdAt()));
            s.executeUpdate();
            try (ResultSet k = s.getGeneratedKeys()) {
                k.next();
                id = k.getLong(1);
            }
        }
        setLuns(c, id, w.luns());
        return id;
    }

    public static void setLuns(Connection c, long id, List<Worker.Lun> luns) throws SQLException {
        try (PreparedStatement d = c.prepareStatement("DELETE FROM worker_volumes WHERE worker_id = ?")) {
            d.setLong(1, id);
            d.executeUpdate();
        }
        try (PreparedStatement s = c.prepareStatement(
                "INSERT INTO worker_volumes (worker_id, lun, volume, role) VALUES (?, ?, ?, ?)")) {
            for (Worker.Lun l : luns) {
                s.setLong(1, id);
                s.setInt(2, l.lun());
                s.setString(3, l.volume());
                s.setString(4, l.role().name());
                s.addBatch();
            }
            s.executeBatch();
        }
    }

    public static Optional<Worker> byMac(Connection c, String mac) throws SQLException {
        return one(c, "w.mac = ?", mac);
    }

    public static Optional<Worker> byName(Connection c, String name) throws SQLException {
        return one(c, "w.name = ?", name);
    }

    public static List<Worker> all(Connection c) throws SQLException {
        return many(c, "TRUE", "w.id");
    }

    /** A page of workers by name, and the name to pass as {@code after} for the next one (null at the end). */
    public record Page(List<Worker> items, String next) {
        public Page {
            items = List.copyOf(items);
        }
    }

    /**
     * The first {@code limit} workers by name after {@code after} (from the start when null): one
     * keyset query on the name's unique index, then one for the LUNs of that name range, whatever
     * the fleet's size. Names compare as H2 compares VARCHARs, code unit by code unit, which is
     * String.compareTo.
     */
    public static Page page(Connection c, String after, int limit) throws SQLException {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1");
        }
        // One more than asked: whether it comes back says whether there is a next page.
        List<Worker> rows = after == null
                ? rows(c, "SELECT " + COLUMNS + " FROM workers w ORDER BY w.name LIMIT ?", limit + 1)
                : rows(c, "SELECT " + COLUMNS + " FROM workers w WHERE w.name > ? ORDER BY w.name LIMIT ?", after,
                        limit + 1);
        List<Worker> items = rows.subList(0, Math.min(limit, rows.size()));
        if (!items.isEmpty()) {
            String last = items.get(items.size() - 1).name();
            items = after == null ? withLuns(c, items, "w.name <= ?", last)
                    : withLuns(c, items, "w.name > ? AND w.name <= ?", after, last);
        }
        return new Page(items, rows.size() > limit ? items.get(limit - 1).name() : null);
    }

    /** How many workers are in each state (one grouped count, not a read of every worker). */
    public static java.util.Map<Worker.State, Long> countByState(Connection c) throws SQLException {
        java.util.Map<Worker.State, Long> out = new java.util.EnumMap<>(Worker.State.class);
        try (PreparedStatement s = c.prepareStatement("SELECT state, COUNT(*) FROM workers GROUP BY state");
                ResultSet r = s.executeQuery()) {
            while (r.next()) {
                out.put(Worker.State.valueOf(r.getString(1)), r.getLong(2));
            }
        }
        return out;
    }

    public static List<Worker> inState(Connection c, Worker.State state) throws SQLException {
        return many(c, "w.state = ?", "w.id", state.name());
    }

    public static void setState(Connection c, long id, Worker.State state) throws SQLException {
        update(c, "UPDATE workers SET state = ? WHERE id = ?", state.name(), id);
    }

    public static void seen(Connection c, long id, Instant at) throws SQLException {
        update(c, "UPDATE workers SET last_seen = ? WHERE id = ?", Timestamp.from(at), id);
    }

    /** Replace: the worker's identity moves to {@code mac} with freshly sealed secrets. */
    public static void moveTo(Connection c, long id, String mac, String chapSecret, String mutualSecret)
            throws SQLException {
        update(c, "UPDATE workers SET mac = ?, chap_secret = ?, mutual_secret = ? WHERE id = ?", mac, chapSecret,
                mutualSecret, id);
    }

    public static void retire(Connection c, long id) throws SQLException {
        update(c, "UPDATE workers SET state = 'RETIRED', mac = NULL WHERE id = ?", id);
    }

    public static void setImage(Connection c, long id, String image) throws SQLException {
        update(c, "UPDATE workers SET image = ? WHERE id = ?", image, id);
    }

    public static void revoke(Connection c, String mac, String worker, Instant at) throws SQLException {
        update(c, "MERGE INTO revoked_macs (mac, at, worker) KEY (mac) VALUES (?, ?, ?)", mac, Timestamp.from(at),
                worker);
    }

    public static boolean revoked(Connection c, String mac) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT 1 FROM revoked_macs WHERE mac = ?")) {
            s.setString(1, mac);
            try (ResultSet r = s.executeQuery()) {
                return r.next();
            }
        }
    }

    public static void delete(Connection c, long id) throws SQLException {
        update(c, "DELETE FROM workers WHERE id = ?", id);
    }

    /** Every volume name some worker owns. */
    public static List<String> ownedVolumes(Connection c) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("SELECT volume FROM worker_volumes");
                ResultSet r = s.executeQuery()) {
            while (r.next()) {
                out.add(r.getString(1));
            }
        }
        return out;
    }

    /** Appends to the audit trail. {@code detail} must never hold a secret. */
    /** Which worker holds a volume, and as what. */
    public record Owner(String worker, Worker.Role role, int lun) {}

    /** The owners of those of {@code volumes} that a worker holds, by volume name. */
    public static java.util.Map<String, Owner> owners(Connection c, java.util.Collection<String> volumes)
            throws SQLException {
        java.util.Map<String, Owner> out = new java.util.HashMap<>();
        if (volumes.isEmpty()) {
            return out;
        }
        String marks = String.join(", ", java.util.Collections.nCopies(volumes.size(), "?"));
        try (PreparedStatement s = c.prepareStatement("SELECT v.volume, w.name, v.role, v.lun FROM worker_volumes v "
                + "JOIN workers w ON w.id = v.worker_id WHERE v.volume IN (" + marks + ")")) {
            int i = 1;
            for (String v : volumes) {
                s.setString(i++, v);
            }
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    out.put(r.getString(1), new Owner(r.getString(2), Worker.Role.valueOf(r.getString(3)), r.getInt(4)));
                }
            }
        }
        return out;
    }

    public static void event(Connection c, Instant at, String kind, String worker, String detail) throws SQLException {
        update(c, "INSERT INTO events (at, kind, worker, detail) VALUES (?, ?, ?, ?)", Timestamp.from(at), kind,
                worker, detail);
    }

    public static Optional<String> setting(Connection c, String name) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT content FROM settings WHERE name = ?")) {
            s.setString(1, name);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? Optional.of(r.getString(1)) : Optional.empty();
            }
        }
    }

    public static void setSetting(Connection c, String name, String value) throws SQLException {
        update(c, "MERGE INTO settings (name, content) KEY (name) VALUES (?, ?)", name, value);
    }

    /** One line of the audit trail. */
    public record Event(long id, Instant at, String kind, String worker, String detail) {}

    /** Events with an id above {@code after}, oldest first, at most {@code limit}. */
    public static List<Event> events(Connection c, long after, int limit) throws SQLException {
        List<Event> out = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(
                "SELECT id, at, kind, worker, detail FROM events WHERE id > ? ORDER BY id LIMIT ?")) {
            s.setLong(1, after);
            s.setInt(2, limit);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    out.add(new Event(r.getLong(1), r.getTimestamp(2).toInstant(), r.getString(3), r.getString(4),
                            r.getString(5)));
                }
            }
        }
        return out;
    }

    private static void update(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                s.setObject(i + 1, args[i]);
            }
            s.executeUpdate();
        }
    }

    private static Optional<Worker> one(Connection c, String where, Object... args) throws SQLException {
        List<Worker> l = many(c, where, "w.id", args);
        return l.isEmpty() ? Optional.empty() : Optional.of(l.get(0));
    }

    /**
     * The workers matching {@code where} (a condition on {@code workers w}), in {@code order}, each
     * with its LUNs: two queries, the second joining worker_volumes on the same condition, not one
     * query per worker (nor an IN list, which H2 checks row by row against every value).
     */
    private static List<Worker> many(Connection c, String where, String order, Object... args) throws SQLException {
        List<Worker> rows = rows(c, "SELECT " + COLUMNS + " FROM workers w WHERE " + where + " ORDER BY " + order, args);
        return rows.isEmpty() ? rows : withLuns(c, rows, where, args);
    }

    /** Workers without their LUNs. */
    private static List<Worker> rows(Connection c, String sql, Object... args) throws SQLException {
        List<Worker> rows = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                s.setObject(i + 1, args[i]);
            }
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    Timestamp seen = r.getTimestamp("last_seen");
                    rows.add(new Worker(r.getLong("id"), r.getString("name"), r.getString("mac"),
                            Worker.State.valueOf(r.getString("state")), r.getString("initiator_iqn"),
                            r.getString("target_iqn"), r.getString("image"), r.getString("chap_user"),
                            r.getString("chap_secret"), r.getString("mutual_user"), r.getString("mutual_secret"),
                            r.getTimestamp("created_at").toInstant(),
                            Optional.ofNullable(seen).map(Timestamp::toInstant), List.of()));
                }
            }
        }
        return rows;
    }

    /**
     * {@code rows} with their LUNs, read in one query: those of every worker matching {@code where}
     * (a condition on {@code workers w} that holds for at least all of {@code rows}), in LUN order.
     */
    private static List<Worker> withLuns(Connection c, List<Worker> rows, String where, Object... args)
            throws SQLException {
        Map<Long, List<Worker.Lun>> luns = new HashMap<>();
        try (PreparedStatement s = c.prepareStatement("SELECT v.worker_id, v.lun, v.volume, v.role FROM workers w "
                + "JOIN worker_volumes v ON v.worker_id = w.id WHERE " + where + " ORDER BY v.worker_id, v.lun")) {
            for (int i = 0; i < args.length; i++) {
                s.setObject(i + 1, args[i]);
            }
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    luns.computeIfAbsent(r.getLong(1), k -> new ArrayList<>())
                            .add(new Worker.Lun(r.getInt(2), r.getString(3), Worker.Role.valueOf(r.getString(4))));
                }
            }
        }
        List<Worker> out = new ArrayList<>(rows.size());
        for (Worker w : rows) {
            out.add(new Worker(w.id(), w.name(), w.mac(), w.state(), w.initiatorIqn(), w.targetIqn(), w.image(),
                    w.chapUser(), w.chapSecret(), w.mutualUser(), w.mutualSecret(), w.createdAt(), w.lastSeen(),
                    luns.getOrDefault(w.id(), List.of())));
        }
        return out;
    }
}
