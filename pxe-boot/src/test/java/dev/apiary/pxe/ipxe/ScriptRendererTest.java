package dev.apiary.pxe.ipxe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ScriptRendererTest {
    static SanbootTarget target(String secret) {
        return new SanbootTarget("iqn.2026-11.dev.apiary:worker1", "iqn.2026-11.dev.apiary:target.worker1",
                List.of(new SanbootTarget.Portal("10.77.0.1", 3260), new SanbootTarget.Portal("10.77.0.2", 3260)), 0,
                "worker1", secret, Optional.of("target1"), Optional.of("targetsecret99"));
    }

    @Test
    void rendersAMultipathSanbootScriptWithMutualChap() {
        assertThat(ScriptRenderer.sanboot(target("Zx3_kP9-aQ2mW7vB"))).isEqualTo("""
                #!ipxe
                echo Apiary: booting iqn.2026-11.dev.apiary:worker1
                set initiator-iqn iqn.2026-11.dev.apiary:worker1
                set username worker1
                set password Zx3_kP9-aQ2mW7vB
                set reverse-username target1
                set reverse-password targetsecret99
                set keep-san 1
                sanboot iscsi:10.77.0.1::3260:0:iqn.2026-11.dev.apiary:target.worker1 \
                iscsi:10.77.0.2::3260:0:iqn.2026-11.dev.apiary:target.worker1 || goto failed
                :failed
                echo Apiary: sanboot failed, retrying in 10 s
                sleep 10
                reboot
                """);
    }

    @Test
    void rendersAKernelBootWithTheSanHookedForTheIbft() {
        String s = ScriptRenderer.linux(target("Zx3_kP9-aQ2mW7vB"), new LinuxBoot("/boot/52-54-00-12-34-56/kernel",
                "/boot/52-54-00-12-34-56/initrd", "root=UUID=5e1f0a7e-0b00-4d15-8c1e-55a5b007b001 ro console=ttyS0,115200n8"));
        assertThat(s).startsWith("#!ipxe\n").contains("set password Zx3_kP9-aQ2mW7vB\n", "set reverse-password targetsecret99\n")
                .contains("""
                        sanhook iscsi:10.77.0.1::3260:0:iqn.2026-11.dev.apiary:target.worker1 \
                        iscsi:10.77.0.2::3260:0:iqn.2026-11.dev.apiary:target.worker1 || goto failed
                        kernel /boot/52-54-00-12-34-56/kernel initrd=initrd.img \
                        root=UUID=5e1f0a7e-0b00-4d15-8c1e-55a5b007b001 ro console=ttyS0,115200n8 || goto failed
                        initrd --name initrd.img /boot/52-54-00-12-34-56/initrd || goto failed
                        boot || goto failed
                        :failed
                        """).doesNotContain("sanboot");
        for (String bad : new String[] {"root=${x}", "a\nchain http://evil/", "quiet \"x\"", "a;b", "x".repeat(1025)}) {
            assertThatThrownBy(() -> ScriptRenderer.linux(target("Zx3_kP9-aQ2mW7vB"),
                    new LinuxBoot("/boot/k", "/boot/i", bad))).hasMessageContaining("kernel command line");
        }
        assertThatThrownBy(() -> ScriptRenderer.linux(target("Zx3_kP9-aQ2mW7vB"),
                new LinuxBoot("http://evil/k", "/boot/i", ""))).hasMessageContaining("kernel path");
    }

    @Test
    void refusesValuesThatIpxeWouldExpandOrSplit() {
        for (String bad : new String[] {"has space", "${root}", "a\nchain http://evil/", "x{y}", "", "q\"uote"}) {
            assertThatThrownBy(() -> ScriptRenderer.sanboot(target(bad)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageNotContaining(bad.isEmpty() ? "\u0000" : bad);
        }
        assertThatThrownBy(() -> ScriptRenderer.sanboot(new SanbootTarget("iqn.2026-11.x:a b", "iqn.2026-11.x:t",
                List.of(new SanbootTarget.Portal("h", 3260)), 0, "u", "secretsecret12", Optional.empty(),
                Optional.empty()))).hasMessageContaining("initiator IQN");
        assertThatThrownBy(() -> ScriptRenderer.sanboot(new SanbootTarget("iqn.2026-11.x:a", "iqn.2026-11.x:t",
                List.of(), 0, "u", "secretsecret12", Optional.empty(), Optional.empty()))).hasMessageContaining("portal");
    }

    @Test
    void aPendingMachineWaitsAndFetchesItsScriptAgain() {
        String s = ScriptRenderer.waitForApproval("this machine is new", 15);
        assertThat(s).startsWith("#!ipxe\n").contains("sleep 15\n").endsWith("chain --replace ${0}\n");
        assertThatThrownBy(() -> ScriptRenderer.waitForApproval("${evil}", 15)).isInstanceOf(IllegalArgumentException.class);
    }
}
