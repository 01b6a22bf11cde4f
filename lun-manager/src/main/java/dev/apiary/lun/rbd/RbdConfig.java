package dev.apiary.lun.rbd;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How the RBD store reaches its cluster.
 *
 * @param conf a ceph.conf naming the monitors ({@code mon_host})
 * @param clientId the Ceph user without "client.", e.g. "admin" or "apiary"
 * @param keyring the keyring file holding that user's key (read by librados; never logged)
 * @param pool the RBD pool the volumes live in
 * @param namespace an RBD namespace inside the pool, or "" for the pool's default; made if missing
 * @param opTimeout how long any one cluster operation may take before it fails with ETIMEDOUT
 *     ({@code rados_osd_op_timeout}, {@code rados_mon_op_timeout}, {@code client_mount_timeout}).
 *     Without it librbd waits for ever on a full or unreachable cluster.
 */
public record RbdConfig(Path conf, String clientId, Path keyring, String pool, String namespace, Duration opTimeout) {
    public static final Duration DEFAULT_OP_TIMEOUT = Duration.ofSeconds(30);

    public RbdConfig {
        Objects.requireNonNull(conf, "conf");
        Objects.requireNonNull(keyring, "keyring");
        if (clientId == null || clientId.isBlank() || clientId.startsWith("client.")) {
            throw new IllegalArgumentException("clientId is the Ceph user without 'client.', e.g. admin: " + clientId);
        }
        if (pool == null || pool.isBlank()) {
            throw new IllegalArgumentException("pool must be named");
        }
        namespace = namespace == null ? "" : namespace;
        if (opTimeout == null || opTimeout.isNegative() || opTimeout.toSeconds() < 1) {
            throw new IllegalArgumentException("opTimeout must be at least 1 s: " + opTimeout);
        }
    }

    /** client.admin, pool "rbd", the default namespace and a 30 s op timeout. */
    public static RbdConfig of(Path conf, Path keyring) {
        return new RbdConfig(conf, "admin", keyring, "rbd", "", DEFAULT_OP_TIMEOUT);
    }

    public RbdConfig withNamespace(String ns) {
        return new RbdConfig(conf, clientId, keyring, pool, ns, opTimeout);
    }

    public RbdConfig withOpTimeout(Duration timeout) {
        return new RbdConfig(conf, clientId, keyring, pool, namespace, timeout);
    }

    /** The image spec RBD's own tools print: pool/name or pool/namespace/name. */
    String spec(String image) {
        return namespace.isEmpty() ? pool + "/" + image : pool + "/" + namespace + "/" + image;
    }
}
