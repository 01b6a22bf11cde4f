package dev.apiary.iscsi.portal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.chap.ChapAlgorithm;
import dev.apiary.chap.ChapCredentials;
import dev.apiary.chap.ChapSecret;
import dev.apiary.iscsi.login.LoginKey;
import dev.apiary.iscsi.scsi.LogicalUnit;
import dev.apiary.iscsi.scsi.LunIdentity;
import dev.apiary.iscsi.scsi.LunMap;
import dev.apiary.iscsi.wire.LoginResult;
import dev.apiary.iscsi.wire.TestInitiator;
import dev.apiary.lun.file.FileVolume;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * An in-process target on 127.0.0.1 and an ephemeral port: target {@link #IQN} with LUN 0 (16 MiB)
 * and LUN 1 (8 MiB) over sparse files, CHAP account {@link #USER}, mutual account {@link #TUSER}.
 * Optionally a second target {@link #IQN2} open to every initiator with its own account
 * {@link #USER2} and no mutual CHAP, to check what discovery reveals.
 */
final class TargetFixture implements AutoCloseable {
    static final String IQN = "iqn.2025-01.dev.apiary:t1";
    static final String IQN2 = "iqn.2025-01.dev.apiary:t2";
    static final String USER = "user1";
    static final String SECRET = "secretsecret12";
    static final String TUSER = "tgt";
    static final String TSECRET = "targetsecret99";
    static final String USER2 = "user2";
    static final String SECRET2 = "othersecret345";
    static final int IDLE_SECONDS = 2;
    static final long LUN0_BYTES = 16L << 20;
    static final long LUN1_BYTES = 8L << 20;

    final TargetServer server;
    final InetSocketAddress address;
    private final List<FileVolume> volumes = new ArrayList<>();

    private TargetFixture(Path dir, Set<String> acl, boolean secondTarget, int sharedAccountTargets)
            throws IOException {
        LeakWatch.install();
        server = new TargetServer(new TargetServer.Options(1, 2, 64, IDLE_SECONDS, new EnumMap<>(LoginKey.class)));
        try {
            List<TargetExport> targets = new ArrayList<>();
            FileVolume v0 = volume(dir.resolve("lun0.img"), LUN0_BYTES);
            FileVolume v1 = volume(dir.resolve("lun1.img"), LUN1_BYTES);
            LunMap luns = new LunMap(new TreeMap<>(Map.of(
                    0, new LogicalUnit(v0, LunIdentity.fromSerial("t1"), TestInitiator.BLOCK),
                    1, new LogicalUnit(v1, LunIdentity.fromSerial("t1-1"), TestInitiator.BLOCK))));
            targets.add(new TargetExport(IQN, luns, List.of(new ChapCredentials(USER, ChapSecret.of(SECRET))),
                    Optional.of(new ChapCredentials(TUSER, ChapSecret.of(TSECRET))), acl));
            if (secondTarget) {
                FileVolume v2 = volume(dir.resolve("t2.img"), 1 << 20);
                LunMap luns2 = new LunMap(new TreeMap<>(Map.of(
                        0, new LogicalUnit(v2, LunIdentity.fromSerial("t2"), TestInitiator.BLOCK))));
                targets.add(new TargetExport(IQN2, luns2,
                        List.of(new ChapCredentials(USER2, ChapSecret.of(SECRET2))), Optional.empty(), Set.of()));
            }
            for (int i = 0; i < sharedAccountTargets; i++) {
                // Long names (RFC 7143 §3.2.6.1 allows 223 bytes), same account and LUNs as IQN.
                targets.add(new TargetExport(longIqn(i), luns,
                        List.of(new ChapCredentials(USER, ChapSecret.of(SECRET))), Optional.empty(), Set.of()));
            }
            server.publish(new ExportTable(targets));
            address = server.listen(new InetSocketAddress("127.0.0.1", 0), 1, 1);
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    static TargetFixture start(Path dir, Set<String> acl, boolean secondTarget) throws IOException {
        return new TargetFixture(dir, acl, secondTarget, 0);
    }

    /** {@link #IQN} plus {@code count} targets named {@link #longIqn} that {@link #USER} also opens. */
    static TargetFixture startWithSharedAccountTargets(Path dir, int count) throws IOException {
        return new TargetFixture(dir, Set.of(), false, count);
    }

    static String longIqn(int i) {
        String prefix = "iqn.2025-01.dev.apiary:shared-" + i + "-";
        return prefix + "x".repeat(200 - prefix.length());
    }

    private FileVolume volume(Path p, long size) throws IOException {
        FileVolume v = FileVolume.openOrCreate(p, size);
        volumes.add(v);
        return v;
    }

    int port() {
        return address.getPort();
    }

    TestInitiator connect() throws IOException {
        return TestInitiator.connect(address);
    }

    /** A connection logged in to {@link #IQN} as {@code initiatorName} with one-way CHAP (SHA-256). */
    TestInitiator loggedIn(String initiatorName) throws IOException {
        return loggedInWithIsid(initiatorName, -1);
    }

    /** As {@link #loggedIn}, with a chosen ISID (-1: a random one). */
    TestInitiator loggedInWithIsid(String initiatorName, long isid) throws IOException {
        TestInitiator ini = connect();
        if (isid != -1) {
            ini.isid(isid);
        }
        try {
            LoginResult r = ini.login(initiatorName, IQN, USER, SECRET, ChapAlgorithm.SHA256, null, Map.of());
            assertThat(r.ok()).as("login of %s: %s", initiatorName, r).isTrue();
            return ini;
        } catch (IOException | RuntimeException | Error e) {
            ini.close();
            throw e;
        }
    }

    /** Whether the target still holds a session for this initiator port. */
    boolean hasSession(String initiatorName, long isid) {
        return server.sessions().all().stream()
                .anyMatch(s -> s.initiatorName().equals(initiatorName) && s.isid() == isid);
    }

    @Override
    public void close() {
        if (server != null) {
            server.close();
        }
        for (FileVolume v : volumes) {
            try {
                v.close();
            } catch (IOException e) {
                // temp files; nothing to do
            }
        }
    }
}
