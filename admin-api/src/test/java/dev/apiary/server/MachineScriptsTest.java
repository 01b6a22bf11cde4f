package dev.apiary.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.apiary.pxe.Machine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The machines: mapping: each kind of entry, the lookup order, and bad entries named by key. */
class MachineScriptsTest {
    static final String A = "52:54:00:00:00:0a", B = "52:54:00:00:00:0b", C = "52:54:00:00:00:0c";

    @TempDir
    Path dir;

    MachineScripts read(String machinesYaml, Path scripts) throws Exception {
        Path f = dir.resolve("apiary.yaml");
        Files.writeString(f, "pxe:\n  machines:\n" + machinesYaml.indent(4));
        return MachineScripts.from(ConfigFile.load(f, Set.of("pxe")).section("pxe").child("machines"), scripts);
    }

    static Optional<String> boot(MachineScripts m, String mac) {
        return m.script(new Machine(mac, null, true, Optional.empty()));
    }

    @Test
    void eachKindOfEntry() throws Exception {
        Files.writeString(dir.resolve("b.ipxe"), "#!ipxe\necho b\n");
        MachineScripts m = read("""
                52:54:00:00:00:0A:
                  sanboot:
                    initiator-iqn: iqn.2026-11.dev.apiary:worker1
                    target-iqn: iqn.2026-11.dev.apiary:worker1-root
                    portals: [10.77.0.1, "10.77.0.2:3261"]
                    lun: 1
                    chap: worker1:workersecret12
                    mutual: apiary:targetsecret12
                52-54-00-00-00-0b:
                  script: b.ipxe
                default:
                  wait: not approved yet
                  retry: 30s
                """, null);
        assertThat(boot(m, A)).get().asString()
                .contains("set initiator-iqn iqn.2026-11.dev.apiary:worker1\n", "set username worker1\n",
                        "set password workersecret12\n", "set reverse-username apiary\n",
                        "set reverse-password targetsecret12\n",
                        "sanboot iscsi:10.77.0.1::3260:1:iqn.2026-11.dev.apiary:worker1-root"
                                + " iscsi:10.77.0.2::3261:1:iqn.2026-11.dev.apiary:worker1-root || goto failed");
        assertThat(boot(m, B)).contains("#!ipxe\necho b\n");
        Files.writeString(dir.resolve("b.ipxe"), "#!ipxe\necho edited\n");
        assertThat(boot(m, B)).as("read on every request").contains("#!ipxe\necho edited\n");
        assertThat(boot(m, C)).get().asString().contains("not approved yet", "sleep 30", "chain --replace");
    }

    @Test
    void lookupOrderWithADirectory() throws Exception {
        Path scripts = Files.createDirectories(dir.resolve("scripts"));
        Files.writeString(scripts.resolve("52-54-00-00-00-0a.ipxe"), "dir A\n");
        Files.writeString(scripts.resolve("52-54-00-00-00-0b.ipxe"), "dir B\n");
        Files.writeString(scripts.resolve("default.ipxe"), "dir default\n");
        MachineScripts m = read("""
                52:54:00:00:00:0a: {wait: config A}
                default: {wait: config default}
                """, scripts);
        assertThat(boot(m, A)).get().asString().contains("config A"); // the MAC's own entry first
        assertThat(boot(m, B)).contains("dir B\n"); // then the MAC's own file
        assertThat(boot(m, C)).get().asString().contains("config default"); // then the default entry
        assertThat(boot(read("{}", scripts), C)).contains("dir default\n"); // then default.ipxe
        assertThat(boot(read("{}", null), C)).isEmpty(); // nothing: the machine is ignored
    }

    @Test
    void badEntriesNameTheirKey() {
        String san = "  sanboot:\n    initiator-iqn: iqn.2026-11.dev.apiary:w1\n    target-iqn: iqn.2026-11.dev.apiary:t1\n";
        String[][] cases = {
            {"52:54:00:00:00:zz: {wait: x}\n", "pxe.machines.52:54:00:00:00:zz: expected a MAC address"},
            {"52:54:00:00:00:0a: {wait: x}\n52-54-00-00-00-0A: {wait: y}\n", "52:54:00:00:00:0a appears twice"},
            {"default: {wait: x, script: y}\n", "pxe.machines.default: expected exactly one of script, sanboot or wait"},
            {"default: {}\n", "expected exactly one of"},
            {"default: {boot: x}\n", "unknown setting pxe.machines.default.boot"},
            {"default: {script: missing.ipxe}\n", "pxe.machines.default.script: " + dir.resolve("missing.ipxe")},
            {"default: {wait: \"${password}\"}\n", "pxe.machines.default: message has characters"},
            {"default: {script: x, retry: 5s}\n", "pxe.machines.default.retry applies only to wait"},
            {"default:\n" + san + "    portals: [10.77.0.1]\n", "pxe.machines.default.sanboot.chap is required"},
            {"default:\n" + san + "    chap: nocolon\n    portals: [h]\n", "pxe.machines.default.sanboot.chap: expected USER:SECRET"},
            {"default:\n" + san + "    chap: u:s3cretsecret\n", "pxe.machines.default.sanboot.portals is required"},
            {"default:\n" + san + "    chap: u:s3cretsecret\n    portals: [\"h:port\"]\n", "expected HOST[:PORT]"},
            {"default:\n" + san + "    chap: u:s3cretsecret\n    portals: [h]\n    lun: 256\n",
                "pxe.machines.default.sanboot.lun: expected a whole number from 0 to 255"},
            {"default:\n" + san + "    chap: u:s3cret secret\n    portals: [h]\n", "CHAP secret has characters"},
            {"default:\n  sanboot:\n    initiator-iqn: bad\n    target-iqn: iqn.2026-11.dev.apiary:t1\n"
                + "    chap: u:s3cretsecret\n    portals: [h]\n", "initiator IQN has characters"},
            {"- a list\n", "pxe.machines: expected a mapping"},
        };
        for (String[] c : cases) {
            assertThatThrownBy(() -> read(c[0], null)).as(c[0]).isInstanceOf(ConfigFile.ConfigException.class)
                    .hasMessageContaining(c[1]);
        }
    }
}
