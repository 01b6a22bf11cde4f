package dev.apiary.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The document a gateway receives: what it accepts, and the hostile forms it refuses as a whole. */
class ExportConfigTest {
    static final ExportConfig.Target T1 = target("iqn.2026-11.dev.apiary:worker1", "gw1");

    static ExportConfig.Target target(String iqn, String owner) {
        return new ExportConfig.Target(iqn, iqn + ".init", "worker1", "0123456789abcdef0123", "target1",
                "fedcba9876543210fedc", List.of(new ExportConfig.Lun(0, "fleet.w1.root", owner),
                        new ExportConfig.Lun(1, "fleet.w1.data", owner)));
    }

    static ExportConfig config() {
        return new ExportConfig(List.of(new ExportConfig.Gateway("gw1", 1, "10.0.0.1:3260", true),
                new ExportConfig.Gateway("gw2", 2, "10.0.0.2:3260", false)), List.of(T1));
    }

    @Test
    void roundTripsThroughJsonWithTheSameDigest() {
        ExportConfig c = config();
        ExportConfig back = ExportConfig.fromJson(c.toJson());
        assertThat(back).isEqualTo(c);
        assertThat(back.digest()).isEqualTo(c.digest()).hasSize(32);
        assertThat(new ExportConfig(c.gateways(), List.of(target(T1.iqn(), "gw2"))).digest()).isNotEqualTo(c.digest());
        assertThat(back.gateway("gw2")).hasValueSatisfying(g -> assertThat(g.group()).isEqualTo(2));
    }

    @Test
    void neverPrintsSecrets() {
        assertThat(T1.toString()).doesNotContain(T1.chapSecret()).doesNotContain(T1.mutualSecret());
        assertThat(config().toString()).doesNotContain(T1.chapSecret());
    }

    @Test
    void refusesMalformedAndHostileDocumentsNamingTheFault() {
        String good = new String(config().toJson(), StandardCharsets.UTF_8);
        assertRefused("", "export configuration");
        assertRefused("not json", "export configuration");
        assertRefused("[]", "export configuration");
        assertRefused("null", "empty document");
        assertRefused("{}", "gateways and targets");
        assertRefused(good.replace("\"gateways\"", "\"extra\":1,\"gateways\""), "extra");
        assertRefused(good.replace("\"gw2\"", "\"gw1\""), "listed twice");
        assertRefused(good.replace("\"group\":2", "\"group\":1"), "listed twice");
        assertRefused(good.replace("\"group\":2", "\"group\":70000"), "port group 70000");
        assertRefused(good.replace("\"gw2\"", "\"../etc\""), "gateway name ../etc");
        assertRefused(good.replace("\"lun\":1", "\"lun\":0"), "LUN 0 is listed twice");
        assertRefused(good.replace("\"lun\":1", "\"lun\":-1"), "LUN -1");
        assertRefused(good.replace("\"owner\":\"gw1\"", "\"owner\":\"gw9\""), "unknown gateway gw9");
        assertRefused(good.replace("\"iqn\":\"iqn.", "\"iqn\":\"eui."), "target IQN");
        assertRefused(good.replace("\"chapSecret\":\"0123456789abcdef0123\"", "\"chapSecret\":null"), "CHAP");
        assertRefused(good.replace("\"luns\":[", "\"luns\":null,\"x\":["), "export configuration");
        assertRefused(good.replace("\"lun\":1", "\"lun\":1e400"), "export configuration");
    }

    private static void assertRefused(String json, String says) {
        assertThatThrownBy(() -> ExportConfig.fromJson(json.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("export configuration")
                .hasMessageContaining(says);
    }
}
