package dev.apiary.iscsi.portal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.chap.ChapAlgorithm;
import dev.apiary.iscsi.wire.LoginResult;
import dev.apiary.iscsi.wire.Pdu;
import dev.apiary.iscsi.wire.TestInitiator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SendTargets (RFC 7143 §13.3, Appendix C) when the answer is longer than the initiator can take
 * in one PDU: the target must split it over Text Responses with the C bit (§11.11.2), never cut a
 * key=value pair.
 */
@Timeout(30)
class SendTargetsTest {
    static final String INITIATOR = "iqn.2025-01.dev.apiary:discoverer";
    static final int SHARED = 8;

    @TempDir
    static Path dir;

    static TargetFixture target;

    @BeforeAll
    static void start() throws IOException {
        target = TargetFixture.startWithSharedAccountTargets(dir, SHARED);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (target != null) {
            target.close();
        }
        LeakWatch.assertNoLeaks();
    }

    private static List<String> expectedNames() {
        List<String> l = new ArrayList<>();
        l.add(TargetFixture.IQN);
        for (int i = 0; i < SHARED; i++) {
            l.add(TargetFixture.longIqn(i));
        }
        return l;
    }

    @Test
    void discoveryListsEveryTargetOfTheAccount() throws IOException {
        try (TestInitiator ini = target.connect()) {
            LoginResult r = ini.login(INITIATOR, null, TargetFixture.USER, TargetFixture.SECRET, ChapAlgorithm.SHA256,
                    null, Map.of());
            assertThat(r.ok()).as("%s", r).isTrue();
            List<Map.Entry<String, String>> st = ini.textSendTargets();
            assertThat(st.stream().filter(e -> e.getKey().equals("TargetName")).map(Map.Entry::getValue))
                    .containsExactlyElementsOf(expectedNames());
        }
    }

    @Test
    void longSendTargetsAnswerIsSplitAtTheInitiatorsLimit() throws IOException {
        try (TestInitiator ini = target.connect()) {
            LoginResult r = ini.login(INITIATOR, null, TargetFixture.USER, TargetFixture.SECRET, ChapAlgorithm.SHA256,
                    null, Map.of("MaxRecvDataSegmentLength", "512"));
            assertThat(r.ok()).as("%s", r).isTrue();
            List<Pdu> seen = ini.record();
            List<Map.Entry<String, String>> st = ini.textSendTargets(); // readRaw enforces the 512-byte limit
            assertThat(seen).allSatisfy(p -> assertThat(p.data().length).isLessThanOrEqualTo(512));
            assertThat(st.stream().filter(e -> e.getKey().equals("TargetName")).map(Map.Entry::getValue))
                    .as("every target, each name whole").containsExactlyElementsOf(expectedNames());
            assertThat(st.stream().filter(e -> e.getKey().equals("TargetAddress")).map(Map.Entry::getValue))
                    .hasSize(SHARED + 1).allMatch(a -> a.equals("127.0.0.1:" + target.port() + ",1"));
        }
    }

    @Test
    void everyGatewaysPortalIsListedWithItsGroupSoAMultipathInitiatorFindsEachPath() throws IOException {
        ExportTable before = target.server.exports();
        target.server.publish(new ExportTable(before.targets(), List.of(new ExportTable.Portal("127.0.0.1:"
                + target.port(), 1), new ExportTable.Portal("10.0.0.2:3260", 2), new ExportTable.Portal("10.0.0.3:3260", 3))));
        try (TestInitiator ini = target.connect()) {
            LoginResult r = ini.login(INITIATOR, null, TargetFixture.USER, TargetFixture.SECRET, ChapAlgorithm.SHA256,
                    null, Map.of());
            assertThat(r.ok()).as("%s", r).isTrue();
            List<Map.Entry<String, String>> st = ini.textSendTargets();
            // Each target: its name, then the portal asked first, then the other gateways'.
            assertThat(st.subList(0, 4)).containsExactly(Map.entry("TargetName", TargetFixture.IQN),
                    Map.entry("TargetAddress", "127.0.0.1:" + target.port() + ",1"),
                    Map.entry("TargetAddress", "10.0.0.2:3260,2"), Map.entry("TargetAddress", "10.0.0.3:3260,3"));
            assertThat(st.stream().filter(e -> e.getKey().equals("TargetAddress"))).hasSize(3 * (SHARED + 1));
        } finally {
            target.server.publish(before);
        }
    }
}
