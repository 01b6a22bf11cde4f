package dev.apiary.fleet.store;

import dev.apiary.fleet.Jobs.Job;
import dev.apiary.fleet.Jobs.State;
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

/** The {@code jobs} table: one row per long operation, its state and progress. */
public final class JobTable {
    private static final String COLUMNS = "id, kind, subject, state, done, total, started, finished, error";

    private JobTable() {}

    /** A new QUEUED job; returns its id. */
    public static long insert(Connection c, String kind, String subject, Instant started) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "INSERT INTO jobs (kind, subject, state, done, total, started) VALUES (?, ?, 'QUEUED', 0, 0, ?)",
                Statement.RETURN_GENERATED_KEYS)) {
            s.setString(1, kind);
            s.setString(2, subject);
            s.setTimestamp(3, Timestamp.from(started));
            s.executeUpdate();
            try (ResultSet k = s.getGeneratedKeys()) {
                k.next();
                return k.getLong(1);
            }
        }
    }

    public static void update(Connection c, Job j) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "UPDATE jobs SET state = ?, done = ?, total = ?, finished = ?, error = ? WHERE id = ?")) {
            s.setString(1, j.state().name());
            s.setLong(2, j.done());
            s.setLong(3, j.total());
            s.setTimestamp(4, j.finished().map(Timestamp::from).orElse(null));
            s.setString(5, j.error().map(e -> e.length() > 1000 ? e.substring(0, 1000) : e).orElse(null));
            s.setLong(6, j.id());
            s.executeUpdate();
        }
    }

    /** Marks every job a stop cut short as FAILED; returns how many. */
    public static int interrupted(Connection c, Instant at) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("UPDATE jobs SET state = 'FAILED', finished = ?, "
                + "error = 'interrupted: the server stopped while it ran' WHERE state IN ('QUEUED', 'RUNNING')")) {
            s.setTimestamp(1, Timestamp.from(at));
            return s.executeUpdate();
        }
    }

    public static Optional<Job> get(Connection c, long id) throws SQLException {
        List<Job> l = query(c, "SELECT " + COLUMNS + " FROM jobs WHERE id = ?", id);
        return l.isEmpty() ? Optional.empty() : Optional.of(l.get(0));
    }

    /** Newest first: jobs with an id below {@code before}, at most {@code limit}. */
    public static List<Job> page(Connection c, long before, int limit) throws SQLException {
        return query(c, "SELECT " + COLUMNS + " FROM jobs WHERE id < ? ORDER BY id DESC LIMIT ?", before, limit);
    }

    private static List<Job> query(Connection c, String sql, Object... args) throws SQLException {
        List<Job> out = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                s.setObject(i + 1, args[i]);
            }
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    Timestamp finished = r.getTimestamp("finished");
                    out.add(new Job(r.getLong("id"), r.getString("kind"), r.getString("subject"),
                            State.valueOf(r.getString("state")), r.getLong("done"), r.getLong("total"),
                            r.getTimestamp("started").toInstant(),
                            Optional.ofNullable(finished).map(Timestamp::toInstant),
                            Optional.ofNullable(r.getString("error"))));
                }
            }
        }
        return out;
    }
}
