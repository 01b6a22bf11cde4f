package dev.apiary.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CHAP and the initiator ACL as libiscsi (iscsi-inq, iscsi-ls) meets them: no credentials or wrong
 * ones fail with an authentication failure, mutual CHAP with a wrong target secret is refused by
 * the initiator, and an initiator outside the ACL neither sees the target nor logs in.
 */
class ChapIT {
    static final String ALLOWED = "iqn.2026-11.dev.apiary.test:allowed";
    static final String OTHER = "iqn.2026-11.dev.apiary.test:other";
    static final String IQN = "iqn.2026-11.dev.apiary:chap-it";

    @TempDir
    static Path dir;

    static ExportProcess export;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        int port = Tools.freePort();
        export = ExportProcess.start("--portal", "127.0.0.1:" + port, "--iqn", IQN, "--size", "64M",
                "--chap", "worker1:secretsecret12", "--mutual", "target1:targetsecret99", "--initiator", ALLOWED,
                dir.resolve("lun0.img").toString()).awaitReady(1);
        base = "127.0.0.1:" + port;
    }

    @AfterAll
    static void stop() throws Exception {
        export.close();
    }

    static Tools.Result inq(String initiator, String url) {
        return Tools.run(Duration.ofSeconds(60), "iscsi-inq", "-i", initiator, url);
    }

    @Test
    void rightCredentialsLogIn() {
        Tools.Result r = inq(ALLOWED, "iscsi://worker1%secretsecret12@" + base + "/" + IQN + "/0");
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).contains("Vendor:APIARY");
    }

    @Test
    void noCredentialsIsAnAuthenticationFailure() {
        Tools.Result r = inq(ALLOWED, "iscsi://" + base + "/" + IQN + "/0");
        assertThat(r.exit()).isNotZero();
        assertThat(r.all()).contains("Authentication failure");
    }

    @Test
    void wrongSecretIsAnAuthenticationFailure() {
        Tools.Result r = inq(ALLOWED, "iscsi://worker1%wrongsecret12@" + base + "/" + IQN + "/0");
        assertThat(r.exit()).isNotZero();
        assertThat(r.all()).contains("Authentication failure");
    }

    @Test
    void mutualChapWithTheRightTargetSecretLogsIn() {
        Tools.Result r = inq(ALLOWED, "iscsi://worker1%secretsecret12@" + base + "/" + IQN
                + "/0?target_user=target1&target_password=targetsecret99");
        assertThat(r.exit()).as(r.all()).isZero();
    }

    @Test
    void mutualChapWithAWrongTargetSecretIsRefusedByTheInitiator() {
        Tools.Result r = inq(ALLOWED, "iscsi://worker1%secretsecret12@" + base + "/" + IQN
                + "/0?target_user=target1&target_password=notthesecret1");
        assertThat(r.exit()).isNotZero();
        assertThat(r.all()).containsIgnoringCase("CHAP");
    }

    @Test
    void initiatorOutsideTheAclCannotLogIn() {
        Tools.Result r = inq(OTHER, "iscsi://worker1%secretsecret12@" + base + "/" + IQN + "/0");
        assertThat(r.exit()).isNotZero();
        assertThat(r.all()).contains("Failed to log in");
    }

    @Test
    void discoveryShowsTheTargetOnlyToAnAdmittedInitiator() {
        Tools.Result mine = Tools.run(Duration.ofSeconds(60), "iscsi-ls", "-i", ALLOWED, "-s",
                "iscsi://worker1%secretsecret12@" + base);
        assertThat(mine.exit()).as(mine.all()).isZero();
        assertThat(mine.out()).contains("Target:" + IQN + " Portal:" + base + ",1");

        Tools.Result other = Tools.run(Duration.ofSeconds(60), "iscsi-ls", "-i", OTHER, "-s",
                "iscsi://worker1%secretsecret12@" + base);
        assertThat(other.out()).doesNotContain(IQN);
    }

    @Test
    void discoveryWithoutCredentialsShowsNothing() {
        Tools.Result r = Tools.run(Duration.ofSeconds(60), "iscsi-ls", "-i", ALLOWED, "-s", "iscsi://" + base);
        assertThat(r.out()).doesNotContain(IQN);
    }
}
