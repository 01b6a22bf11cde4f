package dev.apiary.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The Ceph cluster the Rbd*IT tests run against, as run-tests' Ceph phase names it
 * (integration/ceph/up.sh prints CEPH_CONF and CEPH_KEYRING), and its {@code rbd} CLI for
 * fixtures: creating, snapshotting and removing images the way a user would.
 */
record Ceph(String conf, String keyring) {
    /** The cluster of the environment, or null when there is none (the tests then skip). */
    static Ceph fromEnv() {
        String conf = System.getenv("CEPH_CONF");
        String keyring = System.getenv("CEPH_KEYRING");
        return conf == null || keyring == null ? null : new Ceph(conf, keyring);
    }

    /** {@code rbd} as client.admin of this cluster, bounded at 2 minutes. */
    Tools.Result rbd(String... args) {
        List<String> cmd = new ArrayList<>(List.of("rbd", "-c", conf, "-k", keyring, "--id", "admin"));
        cmd.addAll(List.of(args));
        return Tools.run(Duration.ofMinutes(2), cmd);
    }

    /** Removes an RBD namespace of rbd/ and every image in it: clones (roots) first, snapshots purged. */
    void dropNamespace(String ns) {
        List<String> images = new ArrayList<>(List.of(rbd("ls", "rbd/" + ns).out().split("\\s+")));
        images.removeIf(String::isBlank);
        images.sort((a, b) -> Boolean.compare(a.equals("golden"), b.equals("golden")));
        for (String image : images) {
            String spec = "rbd/" + ns + "/" + image;
            rbd("snap", "unprotect", spec + "@v1");
            rbd("snap", "purge", "--no-progress", spec);
            rbd("rm", "--no-progress", spec);
        }
        rbd("namespace", "remove", "rbd/" + ns);
    }
}
