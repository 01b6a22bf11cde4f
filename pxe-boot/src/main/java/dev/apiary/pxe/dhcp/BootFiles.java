package dev.apiary.pxe.dhcp;

import dev.apiary.pxe.Arch;
import dev.apiary.pxe.Machine;
import java.util.Optional;

/**
 * Which file a booting machine is told to fetch (the dnsmasq rules in boot-chain.md §4): an iPXE
 * client gets the HTTP URL of its own script, which ends the chainload loop; x64 UEFI firmware
 * (option 93 = 7, or 9 as OVMF sends) gets {@code uefiFile}; BIOS (0) gets {@code biosFile}.
 * 32-bit UEFI (6) gets nothing: the iPXE builds shipped are x64 only.
 *
 * @param uefiFile TFTP name for x64 UEFI, "snponly.efi" by default (or "ipxe.efi")
 * @param biosFile TFTP name for BIOS PXE, "undionly.kpxe" by default
 * @param httpBase base URL of the boot HTTP service without a trailing slash, e.g.
 *     "http://10.0.0.1:8080"; the script is at {@code <httpBase>/boot/<mac>}
 */
public record BootFiles(String uefiFile, String biosFile, String httpBase) {
    public BootFiles {
        if (httpBase.endsWith("/")) {
            httpBase = httpBase.substring(0, httpBase.length() - 1);
        }
    }

    public static BootFiles defaults(String httpBase) {
        return new BootFiles("snponly.efi", "undionly.kpxe", httpBase);
    }

    /** The boot file name or URL for {@code machine}, or empty when it cannot be booted. */
    public Optional<String> bootFile(Machine machine) {
        if (machine.ipxe()) {
            return Optional.of(httpBase + "/boot/" + machine.mac());
        }
        if (machine.arch() == null) {
            return Optional.empty();
        }
        return switch (machine.arch()) {
            case BIOS -> Optional.of(biosFile);
            case EFI_X64, EFI_BC -> Optional.of(uefiFile);
            case EFI_IA32 -> Optional.empty();
        };
    }

    /** Whether {@code arch} is one this class has a file for. */
    public static boolean bootable(Arch arch) {
        return arch != null && arch != Arch.EFI_IA32;
    }
}
