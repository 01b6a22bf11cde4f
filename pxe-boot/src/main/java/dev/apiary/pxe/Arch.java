package dev.apiary.pxe;

/**
 * Client system architecture from DHCP option 93 (RFC 4578 §2.1, IANA "Processor Architecture
 * Types"): which boot file a PXE client can run.
 */
public enum Arch {
    BIOS(0),
    EFI_IA32(6),
    EFI_X64(7),
    EFI_BC(9); // "EFI byte code" in RFC 4578, but x64 UEFI firmware (OVMF, many PCs) sends 9 too

    public final int code;

    Arch(int code) {
        this.code = code;
    }

    /** The architecture for an option 93 value, or null for one Apiary cannot boot. */
    public static Arch of(int code) {
        for (Arch a : values()) {
            if (a.code == code) {
                return a;
            }
        }
        return null;
    }

    public boolean uefi() {
        return this != BIOS;
    }
}
