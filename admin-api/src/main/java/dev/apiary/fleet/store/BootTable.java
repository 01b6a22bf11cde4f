package dev.apiary.fleet.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The {@code boot_phases} table: per worker, numbered boots and the phases each reached. */
public final class BootTable {
    private BootTable() {}

    /** One phase of one boot. */
    public record Row(int boot, String phase, Instant at) {}

    /** How a boot phase names its worker: the DHCP by MAC, the login by target, the API by name. */
    public enum By {
        MAC("mac"), TARGET("target_iqn"), NAME("name");

        private final String column;

        By(String column) {
            this.column = column;
        }
    }

    public static Optional<Long> workerId(Connection c, By by, String value) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT id FROM workers WHERE " + by.column + " = ?")) {
            s.setString(1, value);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? Optional.of(r.getLong(1)) : Optional.empty();
            }
        }
    }

    public static Optional<String> mac(Connection c, long workerId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT mac FROM workers WHERE id = ?")) {
            s.setLong(1, workerId);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? Optional.ofNullable(r.getString(1)) : Optional.empty();
            }
        }
    }

    /** The phases of the worker's last {@code boots} boots, newest boot first, each boot's phases in time order. */
    public static List<Row> recent(Connection c, long workerId, int boots) throws SQLException {
        List<Row> out = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("SELECT boot, phase, at FROM boot_phases WHERE worker_id = ? "
                + "AND boot > (SELECT COALESCE(MAX(boot), 0) FROM boot_phases WHERE worker_id = ?) - ? "
                + "ORDER BY boot DESC, at, phase")) {
            s.setLong(1, workerId);
            s.setLong(2, workerId);
            s.setInt(3, boots);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    out.add(new Row(r.getInt(1), r.getString(2), r.getTimestamp(3).toInstant()));
                }
            }
        }
        return out;
    }

    public static void add(Connection c, long workerId, int boot, String phase, Instant at) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "INSERT INTO boot_phases (worker_id, boot, phase, at) VALUES (?, ?, ?, ?)")) {
            s.setLong(1, workerId);
            s.setInt(2, boot);
            s.setString(3, phase);
            s.setTimestamp(4, Timestamp.from(at));
            s.executeUpdate();
        }
    }

    /** Forgets the worker's boots numbered {@code below} and lower. */
    public static void prune(Connection c, long workerId, int below) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("DELETE FROM boot_phases WHERE worker_id = ? AND boot <= ?")) {
            s.setLong(1, workerId);
            s.setInt(2, below);
            s.executeUpdate();
        }
    }
}
