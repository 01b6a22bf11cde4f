package dev.apiary.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.apiary.iscsi.portal.TargetServer;
import dev.apiary.iscsi.scsi.LogicalUnit;
import dev.apiary.iscsi.scsi.Nexus;
import dev.apiary.iscsi.scsi.ScsiRequest;
import dev.apiary.iscsi.scsi.ScsiResult;
import dev.apiary.iscsi.scsi.ScsiStatus;
import dev.apiary.lun.file.FileStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One gateway's side of multipath: the table it serves from a configuration, each LUN's state
 * through every gateway's port group (REPORT TARGET PORT GROUPS, as an initiator reads it), the
 * change of owner, and a write through a gateway that does not own the LUN.
 */
class ExportPublisherTest {
    static final String IQN = "iqn.2026-11.dev.apiary:worker1";
    static final byte[] RTPG = {(byte) 0xa3, 0x0a, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0};

    @TempDir
    Path dir;

    FileStore store;
    TargetServer target;
    ExportPublisher gw2;

    @BeforeEach
    void open() throws Exception {
        store = FileStore.open(dir.resolve("store"));
        store.create("w1.root", 1 << 20);
        store.create("w1.data", 1 << 20);
        target = new TargetServer(TargetServer.Options.defaults());
        gw2 = new ExportPublisher(target, store, "gw2", t -> {
            throw new AssertionError("a gateway node does not plan");
        });
    }

    @AfterEach
    void close() throws Exception {
        gw2.close();
        target.close();
        store.close();
    }

    static ExportConfig config(String owner, boolean gw1Up) {
        return new ExportConfig(List.of(new ExportConfig.Gateway("gw1", 1, "10.0.0.1:3260", gw1Up),
                new ExportConfig.Gateway("gw2", 2, "10.0.0.2:3260", true)),
                List.of(new ExportConfig.Target(IQN, IQN + ".init", "worker1", "0123456789abcdef0123", "target1",
                        "fedcba9876543210fedc", List.of(new ExportConfig.Lun(0, "w1.root", owner),
                                new ExportConfig.Lun(1, "w1.data", owner)))));
    }

    LogicalUnit unit(int lun) {
        return target.exports().target(IQN).orElseThrow().luns().units().get(lun);
    }

    /** The access state of each group (1, 2) as REPORT TARGET PORT GROUPS through gateway 2 reports it. */
    int[] states(int lun) {
        Nexus via = Nexus.iscsi(IQN + ".init", 7, IQN, 2, 2);
        ByteBuffer in = ByteBuffer.allocate(1024);
        ScsiResult r = unit(lun).execute(new ScsiRequest(via, lun, RTPG, null, in));
        if (r.status() == ScsiStatus.CHECK_CONDITION) { // the unit attention of a change; then the answer
            r = unit(lun).execute(new ScsiRequest(via, lun, RTPG, null, in.clear()));
        }
        assertThat(r.status()).isEqualTo(ScsiStatus.GOOD);
        byte[] d = in.array();
        assertThat(((d[0] & 0xff) << 24 | (d[1] & 0xff) << 16 | (d[2] & 0xff) << 8 | (d[3] & 0xff))).isEqualTo(24);
        assertThat(d[6] << 8 | d[7]).as("first group").isEqualTo(1);
        assertThat(d[18] << 8 | d[19]).as("second group").isEqualTo(2);
        return new int[] {d[4] & 0x0f, d[16] & 0x0f};
    }

    @Test
    void eachLunIsActiveOptimizedOnItsOwnerAndNonOptimizedElsewhere() {
        gw2.apply(config("gw1", true), true);
        assertThat(target.exports().targets()).hasSize(1);
        assertThat(states(0)).containsExactly(0x0, 0x1); // AO on gw1, AN here
        LogicalUnit root = unit(0);

        gw2.apply(config("gw2", true), true); // the owner moved here: same unit, the state follows
        assertThat(unit(0)).isSameAs(root);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(states(0)).containsExactly(0x1, 0x0));

        gw2.apply(config("gw2", false), true); // gw1 fell silent: unavailable through it
        assertThat(states(1)).containsExactly(0x3, 0x0);
    }

    @Test
    void aWriteThroughAGatewayThatDoesNotOwnTheLunClaimsIt() {
        gw2.apply(config("gw1", true), true);
        assertThat(gw2.claims()).isEmpty();
        Nexus via = Nexus.iscsi(IQN + ".init", 7, IQN, 2, 2);
        byte[] write10 = {0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0};
        ByteBuffer out = ByteBuffer.allocate(512);
        // As an initiator does: again after a unit attention (the claim changes the port groups,
        // which is one, raised by the publisher's lock thread whenever it gets there).
        ScsiResult r = null;
        for (int i = 0; i < 4 && (r == null || r.status() != ScsiStatus.GOOD); i++) {
            r = unit(1).execute(new ScsiRequest(via, 1, write10, out.clear(), null));
        }
        assertThat(r.status()).isEqualTo(ScsiStatus.GOOD);
        assertThat(gw2.claims()).containsExactly("w1.data");
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(states(1)).containsExactly(0x1, 0x0));
        assertThat(states(0)).as("the root LUN saw no write: still gw1's").containsExactly(0x0, 0x1);

        // The API node's next configuration still names gw1 (it has not had the heartbeat yet): the
        // claim stands. Once it names gw2, the claim is confirmed and no longer reported.
        gw2.apply(config("gw1", true), true);
        assertThat(gw2.claims()).containsExactly("w1.data");
        ExportConfig confirmed = config("gw1", true);
        confirmed = new ExportConfig(confirmed.gateways(), List.of(new ExportConfig.Target(IQN, IQN + ".init",
                "worker1", "0123456789abcdef0123", "target1", "fedcba9876543210fedc", List.of(
                        new ExportConfig.Lun(0, "w1.root", "gw1"), new ExportConfig.Lun(1, "w1.data", "gw2")))));
        gw2.apply(confirmed, true);
        assertThat(gw2.claims()).isEmpty();
        assertThat(states(1)).containsExactly(0x1, 0x0);
    }

    @Test
    void newCredentialsAndARemovedTargetAreServedAtOnce() {
        gw2.apply(config("gw1", true), true);
        ExportConfig c = config("gw1", true);
        ExportConfig.Target t = c.targets().get(0);
        ExportConfig rotated = new ExportConfig(c.gateways(), List.of(new ExportConfig.Target(t.iqn(), t.initiator(),
                t.chapUser(), "a-new-secret-0123456789", t.mutualUser(), t.mutualSecret(), t.luns())));
        gw2.apply(rotated, true);
        assertThat(target.exports().target(IQN).orElseThrow().account("worker1").orElseThrow().secret().reveal())
                .isEqualTo("a-new-secret-0123456789");
        gw2.apply(new ExportConfig(c.gateways(), List.of()), true);
        assertThat(target.exports().targets()).isEmpty();
    }
}
