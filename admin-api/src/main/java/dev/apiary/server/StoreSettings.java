package dev.apiary.server;

import dev.apiary.lun.VolumeStore;
import dev.apiary.lun.file.FileStore;
import dev.apiary.lun.rbd.RbdConfig;
import dev.apiary.lun.rbd.RbdStore;
import dev.apiary.server.ConfigFile.ConfigException;
import dev.apiary.server.ConfigFile.Section;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

/**
 * Where {@code apiary serve} keeps its volumes: the {@code store:} section.
 *
 * <pre>
 * store:
 *   type: file                    # file (default): the data directory's store/
 * store:
 *   type: rbd                     # images in a Ceph RBD pool (docs/storage-rbd.md)
 *   conf: /etc/ceph/ceph.conf     # default
 *   id: apiary                    # Ceph user without "client." (default admin)
 *   keyring: /etc/ceph/ceph.client.apiary.keyring   # default /etc/ceph/ceph.client.ID.keyring
 *   pool: rbd                     # default
 *   namespace: fleet              # default: the pool's own
 *   timeout: 30s                  # any cluster operation fails after this, instead of hanging
 * </pre>
 *
 * @param rbd empty for the file store
 */
public record StoreSettings(Optional<RbdConfig> rbd) {
    public enum Type { FILE, RBD }

    public static StoreSettings from(Section s) {
        s.onlyKeys(Set.of("type", "conf", "id", "keyring", "pool", "namespace", "timeout"));
        if (s.choice("type", Type.FILE) == Type.FILE) {
            for (String k : s.keys()) {
                if (!k.equals("type")) {
                    throw new ConfigException(s.key(k) + " is for type: rbd");
                }
            }
            return new StoreSettings(Optional.empty());
        }
        String id = s.string("id", "admin");
        try {
            return new StoreSettings(Optional.of(new RbdConfig(s.path("conf", Path.of("/etc/ceph/ceph.conf")), id,
                    s.path("keyring", Path.of("/etc/ceph/ceph.client." + id + ".keyring")), s.string("pool", "rbd"),
                    s.string("namespace", ""), s.duration("timeout", RbdConfig.DEFAULT_OP_TIMEOUT))));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(s.key("type") + ": rbd: " + e.getMessage());
        }
    }

    /** Opens the store: the data directory's {@code store/}, or a connection to the cluster. */
    public VolumeStore open(Path dataDir) throws IOException {
        return rbd.isPresent() ? RbdStore.open(rbd.get()) : FileStore.open(dataDir.resolve("store"));
    }

    /** How the server describes it in its start-up line. */
    public String describe(Path dataDir) {
        return rbd.map(c -> "rbd " + c.pool() + (c.namespace().isEmpty() ? "" : "/" + c.namespace()) + " (" + c.conf() + ")")
                .orElse("file " + dataDir.resolve("store"));
    }
}
