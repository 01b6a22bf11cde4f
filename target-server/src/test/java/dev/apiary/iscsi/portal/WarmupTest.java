package dev.apiary.iscsi.portal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.iscsi.login.LoginKey;
import dev.apiary.iscsi.wire.TestInitiator;
import dev.apiary.lun.file.FileVolume;
import dev.apiary.chap.ChapAlgorithm;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.time.Duration;
import java.util.EnumMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The start-up warm-up: it really drives the target (every read, write and flush ends GOOD, its
 * writes land on the volume, and it sends the commands a boot sends besides), and it leaves
 * nothing behind: no listening port, no session, no change to what the real portals export.
 */
class WarmupTest {
    @TempDir
    Path dir;

    @Test
    void runsBootLikeCommandsThroughTheRealStackAndLeavesNothingBehind() throws Exception {
        try (TargetFixture fx = TargetFixture.start(dir, java.util.Set.of(), false);
                FileVolume scratch = FileVolume.openOrCreate(dir.resolve("scratch.img"), 16L << 20)) {
            ExportTable before = fx.server.exports();
            Warmup.Report r = Warmup.run(fx.server, scratch, 2_000, Duration.ofSeconds(60));

            assertThat(r.commands()).isEqualTo(2_000);
            assertThat(r.failed()).as("reads, writes and flushes all ended GOOD").isZero();
            assertThat(r.others()).as("scans, flushes and pings among them").isGreaterThan(100);
            assertThat(patternBytes(scratch)).as("the warm-up's writes reached the volume").isPositive();
            assertThat(fx.server.exports()).isSameAs(before);
            assertThat(fx.server.sessions().all()).as("the warm-up's sessions, logged out or dropped, are gone").isEmpty();

            // The real portal still serves its own targets, and a login there still works.
            try (TestInitiator ini = TestInitiator.connect(fx.address)) {
                assertThat(ini.login("iqn.2025-01.dev.apiary:i1", TargetFixture.IQN, TargetFixture.USER,
                        TargetFixture.SECRET, ChapAlgorithm.MD5, null, Map.of()).ok()).isTrue();
            }
        }
    }

    @Test
    void stopsAtItsBudgetAndClosesItsPrivatePortal() throws Exception {
        TargetServer server = new TargetServer(new TargetServer.Options(1, 2, 64, 2, new EnumMap<>(LoginKey.class)));
        try (server; FileVolume scratch = FileVolume.openOrCreate(dir.resolve("s.img"), 16L << 20)) {
            Warmup.Report r = Warmup.run(server, scratch, Integer.MAX_VALUE, Duration.ofMillis(500));
            assertThat(r.took()).isLessThan(Duration.ofSeconds(10));
            assertThat(r.commands()).isPositive().isLessThan(Integer.MAX_VALUE);
            assertThat(server.exports().targets()).as("never published").isEmpty();
        }
    }

    @Test
    void theWarmupTargetIsNotReachableThroughTheRealPortal() throws Exception {
        try (TargetFixture fx = TargetFixture.start(dir, java.util.Set.of(), false);
                FileVolume scratch = FileVolume.openOrCreate(dir.resolve("scratch.img"), 16L << 20)) {
            Warmup.run(fx.server, scratch, 100, Duration.ofSeconds(30));
            try (TestInitiator ini = TestInitiator.connect(fx.address)) {
                assertThat(ini.login("iqn.2025-01.dev.apiary:i1", null, TargetFixture.USER, TargetFixture.SECRET,
                        ChapAlgorithm.SHA256, null, Map.of()).ok()).isTrue();
                var names = ini.textSendTargets().stream().filter(e -> e.getKey().equals("TargetName"))
                        .map(Map.Entry::getValue).toList();
                assertThat(names).containsExactly(TargetFixture.IQN);
            }
        }
    }

    /** How many bytes of the volume hold the warm-up's write pattern (0x5a). */
    private static long patternBytes(FileVolume v) throws IOException {
        long n = 0;
        ByteBuffer b = ByteBuffer.allocate(1 << 20);
        for (long off = 0; off < v.size(); off += b.capacity()) {
            v.read(off, b.clear());
            for (int i = 0; i < b.capacity(); i++) {
                n += b.get(i) == 0x5a ? 1 : 0;
            }
        }
        return n;
    }
}
