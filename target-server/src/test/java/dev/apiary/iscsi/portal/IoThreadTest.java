package dev.apiary.iscsi.portal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.chap.ChapAlgorithm;
import dev.apiary.chap.ChapCredentials;
import dev.apiary.chap.ChapSecret;
import dev.apiary.iscsi.login.LoginKey;
import dev.apiary.iscsi.scsi.LogicalUnit;
import dev.apiary.iscsi.scsi.LunIdentity;
import dev.apiary.iscsi.scsi.LunMap;
import dev.apiary.iscsi.wire.Cdbs;
import dev.apiary.iscsi.wire.TestInitiator;
import dev.apiary.lun.Volume;
import dev.apiary.lun.file.FileVolume;
import io.netty.util.concurrent.FastThreadLocalThread;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DESIGN.md: volume I/O never runs on a Netty event loop. A volume that notes its callers' threads proves it. */
class IoThreadTest {
    @TempDir
    Path dir;

    /** Delegates to a file volume and records every thread that calls it. */
    static final class WatchedVolume implements Volume {
        final Volume inner;
        final Set<Thread> callers = ConcurrentHashMap.newKeySet();

        WatchedVolume(Volume inner) {
            this.inner = inner;
        }

        private void note() {
            callers.add(Thread.currentThread());
        }

        @Override public String name() { return inner.name(); }
        @Override public long size() { return inner.size(); }
        @Override public void read(long o, ByteBuffer d) throws IOException { note(); inner.read(o, d); }
        @Override public void write(long o, ByteBuffer s, boolean fua) throws IOException { note(); inner.write(o, s, fua); }
        @Override public void flush() throws IOException { note(); inner.flush(); }
        @Override public void unmap(long o, long l) throws IOException { note(); inner.unmap(o, l); }
        @Override public void resize(long n) throws IOException { inner.resize(n); }
        @Override public void close() throws IOException { inner.close(); }
    }

    @Test
    void volumeCallsComeFromTheScsiExecutorNeverAnEventLoop() throws Exception {
        WatchedVolume volume = new WatchedVolume(FileVolume.openOrCreate(dir.resolve("v.img"), 4 << 20));
        try (dev.apiary.iscsi.portal.TargetServer server = new TargetServer(
                new TargetServer.Options(2, 2, 64, 15, new EnumMap<>(LoginKey.class)))) {
            server.publish(new ExportTable(List.of(new TargetExport("iqn.2026-11.test:io",
                    new LunMap(new TreeMap<>(Map.of(0, new LogicalUnit(volume, LunIdentity.fromSerial("io"), 512)))),
                    List.of(new ChapCredentials("u", ChapSecret.of("secretsecret12"))), Optional.empty(), Set.of()))));
            InetSocketAddress at = server.listen(new InetSocketAddress("127.0.0.1", 0), 1, 1);
            try (TestInitiator ini = TestInitiator.connect(at)) {
                assertThat(ini.login("iqn.2026-11.test:i", "iqn.2026-11.test:io", "u", "secretsecret12",
                        ChapAlgorithm.MD5, null, Map.of()).ok()).isTrue();
                for (int i = 0; i < 20; i++) {
                    assertThat(ini.write10(Cdbs.lun(0), i * 8L, new byte[4096]).good()).isTrue();
                    assertThat(ini.read10(Cdbs.lun(0), i * 8L, 8).good()).isTrue();
                }
                byte[] sync = new byte[10];
                sync[0] = 0x35;
                assertThat(ini.scsi(Cdbs.lun(0), sync, null, 0, false, false).good()).isTrue();
            }
        }
        assertThat(volume.callers).isNotEmpty();
        assertThat(volume.callers).allSatisfy(t -> {
            assertThat(t).isNotInstanceOf(FastThreadLocalThread.class); // Netty's event-loop threads
            assertThat(t.getName()).startsWith("scsi-");
        });
    }
}
