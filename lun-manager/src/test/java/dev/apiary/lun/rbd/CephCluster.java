package dev.apiary.lun.rbd;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.apiary.lun.VolumeStore.VolumeInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The real Ceph cluster the RBD tests run against: the one {@code integration/ceph/up.sh} started,
 * named by {@code CEPH_CONF} (and {@code CEPH_KEYRING}, default client.admin.keyring beside the
 * conf). Without {@code CEPH_CONF} every RBD test is skipped, so the build needs no Ceph.
 *
 * <p>Each test class works in a namespace of its own in the pool, removed afterwards, so tests see
 * only their own images and leave nothing behind.
 */
final class CephCluster {
    private CephCluster() {}

    /** client.admin on pool rbd, or a skipped test when no cluster is configured. */
    static RbdConfig configOrSkip() {
        String conf = System.getenv("CEPH_CONF");
        assumeTrue(conf != null && !conf.isBlank(),
                "CEPH_CONF is not set: RBD tests skipped (integration/ceph/up.sh starts a cluster and prints it)");
        String keyring = System.getenv("CEPH_KEYRING");
        Path k = keyring != null && !keyring.isBlank() ? Path.of(keyring)
                : Path.of(conf).resolveSibling("client.admin.keyring");
        return RbdConfig.of(Path.of(conf), k);
    }

    /** A fresh namespace name: the class, this process and a random suffix. */
    static String uniqueNamespace(String prefix) {
        return prefix + "-" + ProcessHandle.current().pid() + "-"
                + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
    }

    /** Deletes every volume in the config's namespace (clones before their parents), then the namespace. */
    static void dropNamespace(RbdConfig config) throws IOException {
        if (config.namespace().isEmpty()) {
            throw new IllegalArgumentException("refusing to empty the pool's default namespace");
        }
        try (RbdStore store = RbdStore.open(config)) {
            for (int round = 0; round < 20; round++) {
                List<VolumeInfo> left = store.list();
                if (left.isEmpty()) {
                    break;
                }
                for (VolumeInfo v : left) {
                    if (v.snapshots().stream().allMatch(s -> s.clones().isEmpty())) {
                        store.delete(v.name());
                    }
                }
            }
        }
        try (RbdStore store = RbdStore.open(config.withNamespace(""))) {
            store.rados().removeNamespace(config.namespace());
        }
    }

    /** The data directory of up.sh's cluster: pid files live in its run/. */
    static Path dataDir() {
        String d = System.getenv("APIARY_CEPH_DIR");
        return Path.of(d != null && !d.isBlank() ? d : "/tmp/apiary-ceph");
    }

    /** integration/ceph/up.sh, found from the working directory up (tests run in lun-manager/). */
    static Path upScript() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path s = p.resolve("integration/ceph/up.sh");
            if (Files.isExecutable(s)) {
                return s;
            }
        }
        return null;
    }
}
