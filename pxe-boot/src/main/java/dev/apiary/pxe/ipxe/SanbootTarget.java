package dev.apiary.pxe.ipxe;

import java.util.List;
import java.util.Optional;

/**
 * What a worker boots from: its initiator name, its target on one or more gateway portals
 * (multipath), the LUN, and the CHAP credentials iPXE logs in with (and the target's, for mutual
 * CHAP). iPXE hands all of it to the operating system in the iBFT.
 */
public record SanbootTarget(
        String initiatorIqn,
        String targetIqn,
        List<Portal> portals,
        int lun,
        String chapUser,
        String chapSecret,
        Optional<String> reverseUser,
        Optional<String> reverseSecret) {

    /** One gateway portal: host (IPv4 or name) and port. */
    public record Portal(String host, int port) {}
}
