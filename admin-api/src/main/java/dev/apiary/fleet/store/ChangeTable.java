package dev.apiary.fleet.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The {@code upgrades}, {@code rollouts} and {@code rollout_workers} tables (V7), and each
 * worker's {@code next_image}: the durable state of image upgrades and rollouts, so a restart
 * carries on where the last run stopped.
 */
public final class ChangeTable {
    private ChangeTable() {}

    public record Upgrade(long id, String image, String fromVersion, String toVersion, String worker, String state,
            Instant startedAt, Instant updatedAt, Optional<String> changelog, Optional<String> error) {}

    public record Rollout(long id, String image, int batchSize, int timeoutSeconds, String state, Instant createdAt,
            Instant updatedAt, Optional<String> error) {}

    public record Member(long rollout, String worker, int batch, Optional<String> previous, String state, Instant since) {}

    // ---- next boot

    public static void setNextImage(Connection c, String worker, String image) throws SQLException {
        update(c, "UPDATE workers SET next_image = ? WHERE name = ?", image, worker);
    }

    public static Optional<String> nextImage(Connection c, String worker) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT next_image FROM workers WHERE name = ?")) {
            s.setString(1, worker);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? Optional.ofNullable(r.getString(1)) : Optional.empty();
            }
        }
    }

    // ---- upgrades

    public static long insertUpgrade(Connection c, String image, String from, String to, String worker, Instant at)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO upgrades (image, from_version, to_version, worker,"
                + " state, started_at, updated_at) VALUES (?, ?, ?, ?, 'PREPARING', ?, ?)", Statement.RETURN_GENERATED_KEYS)) {
            s.setString(1, image);
            s.setString(2, from);
            s.setString(3, to);
            s.setString(4, worker);
            s.setTimestamp(5, Timestamp.from(at));
            s.setTimestamp(6, Timestamp.from(at));
            s.executeUpdate();
            try (ResultSet k = s.getGeneratedKeys()) {
                k.next();
                return k.getLong(1);
            }
        }
    }

    public static void setUpgrade(Connection c, long id, String state, String error, Instant at) throws SQLException {
        update(c, "UPDATE upgrades SET state = ?, error = ?, updated_at = ? WHERE id = ?", state, error,
                Timestamp.from(at), id);
    }

    public static void setChangelog(Connection c, long id, String changelog) throws SQLException {
        update(c, "UPDATE upgrades SET changelog = ? WHERE id = ?", changelog, id);
    }

    /** Upgrades of {@code image} (every image when null), newest first. */
    public static List<Upgrade> upgrades(Connection c, String image) throws SQLException {
        return upgradeRows(c, image == null ? "1 = 1" : "image = ?", image == null ? new Object[0] : new Object[] {image});
    }

    /** Upgrades not SEALED or FAILED. */
    public static List<Upgrade> openUpgrades(Connection c) throws SQLException {
        return upgradeRows(c, "state NOT IN ('SEALED', 'FAILED')");
    }

    private static List<Upgrade> upgradeRows(Connection c, String where, Object... args) throws SQLException {
        List<Upgrade> out = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("SELECT id, image, from_version, to_version, worker, state,"
                + " started_at, updated_at, changelog, error FROM upgrades WHERE " + where + " ORDER BY id DESC")) {
            bind(s, args);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    out.add(new Upgrade(r.getLong(1), r.getString(2), r.getString(3), r.getString(4), r.getString(5),
                            r.getString(6), r.getTimestamp(7).toInstant(), r.getTimestamp(8).toInstant(),
                            Optional.ofNullable(r.getString(9)), Optional.ofNullable(r.getString(10))));
                }
            }
        }
        return out;
    }

    // ---- rollouts

    public static long insertRollout(Connection c, String image, int batchSize, int timeoutSeconds, List<String> workers,
            Instant at) throws SQLException {
        long id;
        try (PreparedStatement s = c.prepareStatement("INSERT INTO rollouts (image, batch_size, timeout_s, state,"
                + " created_at, updated_at) VALUES (?, ?, ?, 'RUNNING', ?, ?)", Statement.RETURN_GENERATED_KEYS)) {
            s.setString(1, image);
            s.setInt(2, batchSize);
            s.setInt(3, timeoutSeconds);
            s.setTimestamp(4, Timestamp.from(at));
            s.setTimestamp(5, Timestamp.from(at));
            s.executeUpdate();
            try (ResultSet k = s.getGeneratedKeys()) {
                k.next();
                id = k.getLong(1);
            }
        }
        for (int i = 0; i < workers.size(); i++) {
            update(c, "INSERT INTO rollout_workers (rollout, worker, batch, state, since) VALUES (?, ?, ?, 'WAITING', ?)",
                    id, workers.get(i), i / batchSize, Timestamp.from(at));
        }
        return id;
    }

    public static void setRollout(Connection c, long id, String state, String error, Instant at) throws SQLException {
        update(c, "UPDATE rollouts SET state = ?, error = ?, updated_at = ? WHERE id = ?", state, error,
                Timestamp.from(at), id);
    }

    public static void setMember(Connection c, long rollout, String worker, String state, String previous, Instant at)
            throws SQLException {
        update(c, "UPDATE rollout_workers SET state = ?, previous = COALESCE(?, previous), since = ?"
                + " WHERE rollout = ? AND worker = ?", state, previous, Timestamp.from(at), rollout, worker);
    }

    public static Optional<Rollout> rollout(Connection c, long id) throws SQLException {
        List<Rollout> l = rolloutRows(c, "id = ?", id);
        return l.isEmpty() ? Optional.empty() : Optional.of(l.get(0));
    }

    /** Newest first. */
    public static List<Rollout> rollouts(Connection c) throws SQLException {
        return rolloutRows(c, "1 = 1");
    }

    /** Rollouts that still have work: running, or with a rollback under way. */
    public static List<Rollout> activeRollouts(Connection c) throws SQLException {
        return rolloutRows(c, "state = 'RUNNING' OR id IN (SELECT rollout FROM rollout_workers WHERE state = 'ROLLING_BACK')");
    }

    private static List<Rollout> rolloutRows(Connection c, String where, Object... args) throws SQLException {
        List<Rollout> out = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("SELECT id, image, batch_size, timeout_s, state, created_at,"
                + " updated_at, error FROM rollouts WHERE " + where + " ORDER BY id DESC")) {
            bind(s, args);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    out.add(new Rollout(r.getLong(1), r.getString(2), r.getInt(3), r.getInt(4), r.getString(5),
                            r.getTimestamp(6).toInstant(), r.getTimestamp(7).toInstant(), Optional.ofNullable(r.getString(8))));
                }
            }
        }
        return out;
    }

    /** A rollout's workers in batch order. */
    public static List<Member> members(Connection c, long rollout) throws SQLException {
        List<Member> out = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("SELECT rollout, worker, batch, previous, state, since"
                + " FROM rollout_workers WHERE rollout = ? ORDER BY batch, worker")) {
            s.setLong(1, rollout);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    out.add(new Member(r.getLong(1), r.getString(2), r.getInt(3), Optional.ofNullable(r.getString(4)),
                            r.getString(5), r.getTimestamp(6).toInstant()));
                }
            }
        }
        return out;
    }

    private static void bind(PreparedStatement s, Object... args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            s.setObject(i + 1, args[i]);
        }
    }

    private static void update(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            bind(s, args);
            s.executeUpdate();
        }
    }
}
