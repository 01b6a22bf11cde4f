package dev.apiary.fleet.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** The {@code image_versions} table: when each golden image version was sealed, and its note. */
public final class ImageTable {
    private ImageTable() {}

    public record Version(String image, String version, Instant sealedAt, Optional<String> note) {}

    /** Adds a version's row unless it has one. */
    public static void add(Connection c, String image, String version, Instant at, String note) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO image_versions (image, version, sealed_at, note) "
                + "SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM image_versions WHERE image = ? AND version = ?)")) {
            s.setString(1, image);
            s.setString(2, version);
            s.setTimestamp(3, Timestamp.from(at));
            s.setString(4, note);
            s.setString(5, image);
            s.setString(6, version);
            s.executeUpdate();
        }
    }

    /** Every version's row, by "image@version". */
    public static Map<String, Version> all(Connection c) throws SQLException {
        Map<String, Version> out = new HashMap<>();
        try (PreparedStatement s = c.prepareStatement("SELECT image, version, sealed_at, note FROM image_versions");
                ResultSet r = s.executeQuery()) {
            while (r.next()) {
                Version v = new Version(r.getString(1), r.getString(2), r.getTimestamp(3).toInstant(),
                        Optional.ofNullable(r.getString(4)));
                out.put(v.image() + "@" + v.version(), v);
            }
        }
        return out;
    }
}
