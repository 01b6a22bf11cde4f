package dev.apiary.pxe.dhcp;

import dev.apiary.pxe.Arch;
import dev.apiary.pxe.BootDecision;
import dev.apiary.pxe.Machine;
import java.net.Inet4Address;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a DHCP request says about a booting client, and the PXE part of the answer to it. A PXE
 * client has option 60 starting "PXEClient" (PXE 2.1 §2.2.1) and an option 93 we know (RFC 4578
 * §2.1); iPXE additionally sends user class "iPXE" (option 77) and/or option 175.
 */
public record PxeClient(Machine machine, boolean pxe, String bootFile) {
    private static final Logger log = LoggerFactory.getLogger(PxeClient.class);
    /** Option 43, PXE 2.1 §2.4.2 table 2-1: PXE_DISCOVERY_CONTROL (6) = 8, "boot from the file field". */
    static final byte[] PXE_VENDOR_OPTIONS = {6, 1, 8, (byte) 255};

    /**
     * The client's boot identity and file, or empty when it is not a bootable PXE/iPXE client or
     * the boot decision ignores it (such a client gets no boot options, and from proxyDHCP no answer).
     */
    static Optional<PxeClient> of(DhcpMessage m, BootDecision decision, BootFiles files) {
        String mac = m.mac();
        DhcpOptions o = m.options();
        boolean pxe = o.vendorClass().map(v -> v.startsWith("PXEClient")).orElse(false);
        boolean ipxe = o.has(DhcpOptions.IPXE_ENCAP) || o.userClasses().contains("iPXE");
        Arch arch = o.clientArch() < 0 ? null : Arch.of(o.clientArch());
        if (mac == null || !(ipxe || pxe && BootFiles.bootable(arch))) {
            return Optional.empty();
        }
        Optional<java.net.InetAddress> seen = m.ciaddr().equals(DhcpMessage.ZERO) ? Optional.empty()
                : Optional.of(m.ciaddr());
        Machine machine = new Machine(mac, arch, ipxe, seen);
        Optional<String> file = files.bootFile(machine);
        try {
            if (file.isEmpty() || !decision.answers(machine)) {
                return Optional.empty();
            }
        } catch (RuntimeException e) {
            log.warn("boot decision for {} failed; not answering it", mac, e);
            return Optional.empty();
        }
        return Optional.of(new PxeClient(machine, pxe, file.get()));
    }

    /**
     * Adds the boot answer to a reply (PXE 2.1 §2.2.1 and §2.4): option 60 "PXEClient" and 43 to
     * a PXE firmware client (iPXE needs neither), 97 echoed (PXE 2.1 §2.2.1 requires it), and the
     * file in the file field, or in option 67 when it does not fit (RFC 2132 §9.5).
     * Returns the value for the reply's file field.
     */
    String addBootOptions(DhcpMessage request, DhcpOptions reply) {
        if (pxe) {
            reply.putString(DhcpOptions.VENDOR_CLASS, "PXEClient");
            if (!machine.ipxe()) {
                reply.put(DhcpOptions.VENDOR_SPECIFIC, PXE_VENDOR_OPTIONS);
            }
        }
        request.options().clientUuid().ifPresent(u -> reply.put(DhcpOptions.CLIENT_UUID, u));
        if (bootFile.length() > 127) {
            reply.putString(DhcpOptions.BOOTFILE, bootFile);
            return "";
        }
        return bootFile;
    }

    static boolean isZero(Inet4Address a) {
        return a.equals(DhcpMessage.ZERO);
    }
}
