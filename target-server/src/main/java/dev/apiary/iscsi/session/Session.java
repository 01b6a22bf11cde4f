package dev.apiary.iscsi.session;

import dev.apiary.iscsi.login.SessionParams;
import dev.apiary.iscsi.portal.TargetExport;
import dev.apiary.iscsi.scsi.Nexus;
import java.util.Optional;

/**
 * A logged-in session (RFC 7143 §4.4): who it is, what it negotiated, and its one connection
 * (MaxConnections = 1). Everything mutable lives in the {@link Connection} and is touched only on
 * its event loop; this object is safe to read from anywhere.
 */
public final class Session {
    private final String initiatorName;
    private final long isid;
    private final int tsih;
    private final TargetExport target;
    private final SessionParams params;
    private final Nexus nexus;
    private final Connection connection;
    private final Optional<String> chapUser;

    Session(String initiatorName, long isid, int tsih, TargetExport target, SessionParams params, Nexus nexus,
            Optional<String> chapUser, Connection connection) {
        this.chapUser = chapUser;
        this.initiatorName = initiatorName;
        this.isid = isid;
        this.tsih = tsih;
        this.target = target;
        this.params = params;
        this.nexus = nexus;
        this.connection = connection;
    }

    public String initiatorName() {
        return initiatorName;
    }

    public long isid() {
        return isid;
    }

    public int tsih() {
        return tsih;
    }

    /** The target of a normal session, null for discovery. */
    public TargetExport target() {
        return target;
    }

    public String targetName() {
        return target == null ? "" : target.iqn();
    }

    public boolean discovery() {
        return target == null;
    }

    /** The CHAP account the initiator proved. */
    public Optional<String> chapUser() {
        return chapUser;
    }

    public SessionParams params() {
        return params;
    }

    public Nexus nexus() {
        return nexus;
    }

    Connection connection() {
        return connection;
    }

    /** The initiator's IP address, as its connection came from. */
    public Optional<java.net.InetAddress> remoteAddress() {
        return connection.channel != null && connection.channel.remoteAddress() instanceof java.net.InetSocketAddress a
                ? Optional.ofNullable(a.getAddress()) : Optional.empty();
    }

    /** Drops the session's connection (reinstatement, fencing, target reset). */
    public void close() {
        connection.close();
    }
}
