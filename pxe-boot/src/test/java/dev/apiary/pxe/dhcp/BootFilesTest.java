package dev.apiary.pxe.dhcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.pxe.Arch;
import dev.apiary.pxe.Machine;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class BootFilesTest {
    final BootFiles files = BootFiles.defaults("http://10.0.0.1:8080/");
    static final String MAC = "52:54:00:12:34:56";

    static Machine machine(Arch arch, boolean ipxe) {
        return new Machine(MAC, arch, ipxe, Optional.empty());
    }

    @Test
    void picksTheFileByArchitecture() {
        assertThat(files.bootFile(machine(Arch.EFI_X64, false))).contains("snponly.efi");
        assertThat(files.bootFile(machine(Arch.EFI_BC, false))).contains("snponly.efi");
        assertThat(files.bootFile(machine(Arch.BIOS, false))).contains("undionly.kpxe");
        assertThat(files.bootFile(machine(Arch.EFI_IA32, false))).isEmpty();
        assertThat(files.bootFile(machine(null, false))).isEmpty();
        assertThat(new BootFiles("ipxe.efi", "undionly.kpxe", "http://h").bootFile(machine(Arch.EFI_X64, false)))
                .contains("ipxe.efi");
    }

    @Test
    void iPxeGetsItsScriptUrlWhateverTheArch() {
        for (Arch a : new Arch[] {Arch.BIOS, Arch.EFI_X64, Arch.EFI_IA32, null}) {
            assertThat(files.bootFile(machine(a, true))).contains("http://10.0.0.1:8080/boot/" + MAC);
        }
    }
}
