package dev.apiary.fleet.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** The {@code gateways} and {@code lun_owners} tables: who exports the fleet's LUNs, and who owns each. */
public final class GatewayTable {
    private GatewayTable() {}

    /** A gateway as last heard from: its port group, portal, Ceph client address (if any) and when. */
    public record Row(String name, int group, String portal, Optional<String> clientAddress, Instant lastSeen) {}

    public static List<Row> all(Connection c) throws SQLException {
        List<Row> out = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(
                "SELECT name, grp, portal, client_address, last_seen FROM gateways ORDER BY grp");
                ResultSet r = s.executeQuery()) {
            while (r.next()) {
                out.add(new Row(r.getString(1), r.getInt(2), r.getString(3), Optional.ofNullable(r.getString(4)),
                        r.getTimestamp(5).toInstant()));
            }
        }
        return out;
    }

    /**
     * Records a heartbeat: a gateway heard of for the first time gets the next free port group,
     * which it keeps for good (initiators remember path groups by number).
     */
    public static Row heard(Connection c, String name, String portal, String clientAddress, Instant at)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "UPDATE gateways SET portal = ?, client_address = ?, last_seen = ? WHERE name = ?")) {
            s.setString(1, portal);
            s.setString(2, clientAddress);
            s.setTimestamp(3, Timestamp.from(at));
            s.setString(4, name);
            if (s.executeUpdate() == 0) {
                try (PreparedStatement i = c.prepareStatement("INSERT INTO gateways (name, grp, portal, client_address, "
                        + "last_seen) SELECT ?, COALESCE(MAX(grp), 0) + 1, ?, ?, ? FROM gateways")) {
                    i.setString(1, name);
                    i.setString(2, portal);
                    i.setString(3, clientAddress);
                    i.setTimestamp(4, Timestamp.from(at));
                    i.executeUpdate();
                }
            }
        }
        return all(c).stream().filter(g -> g.name().equals(name)).findFirst().orElseThrow();
    }

    /** Forgets a gateway (it was removed for good); its LUNs go to others at the next assignment. */
    public static boolean remove(Connection c, String name) throws SQLException {
        try (PreparedStatement o = c.prepareStatement("DELETE FROM lun_owners WHERE gateway = ?");
                PreparedStatement s = c.prepareStatement("DELETE FROM gateways WHERE name = ?")) {
            o.setString(1, name);
            o.executeUpdate();
            s.setString(1, name);
            return s.executeUpdate() > 0;
        }
    }

    /** Owner gateway by volume. */
    public static Map<String, String> owners(Connection c) throws SQLException {
        Map<String, String> out = new TreeMap<>();
        try (PreparedStatement s = c.prepareStatement("SELECT volume, gateway FROM lun_owners");
                ResultSet r = s.executeQuery()) {
            while (r.next()) {
                out.put(r.getString(1), r.getString(2));
            }
        }
        return out;
    }

    public static void setOwner(Connection c, String volume, String gateway) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("MERGE INTO lun_owners (volume, gateway) KEY (volume) VALUES (?, ?)")) {
            s.setString(1, volume);
            s.setString(2, gateway);
            s.executeUpdate();
        }
    }

    public static void dropOwner(Connection c, String volume) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("DELETE FROM lun_owners WHERE volume = ?")) {
            s.setString(1, volume);
            s.executeUpdate();
        }
    }
}
