package dev.apiary.iscsi.session;

import dev.apiary.iscsi.login.LoginKey;
import dev.apiary.iscsi.portal.ExportTable;
import java.security.SecureRandom;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * What every connection of a portal shares: the current export table (read once per login, so a
 * table swap never changes a session mid-way), the session registry, the executor that runs SCSI
 * commands off the network threads, and the portal's identity for ALUA and SendTargets.
 * {@code logSessions}: logins and closes are logged at INFO (not for the warm-up's private portal,
 * whose sessions are the server's own).
 */
public record PortalContext(
        Supplier<ExportTable> exports,
        SessionRegistry sessions,
        Executor scsiExecutor,
        SecureRandom random,
        int portalGroupTag,
        int relativePort,
        Map<LoginKey, String> offers,
        int queueDepth,
        int loginTimeoutSeconds,
        boolean logSessions) {}
