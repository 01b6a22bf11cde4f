package dev.apiary.pxe;

import java.net.InetAddress;
import java.util.Optional;

/**
 * A machine asking to boot, as DHCP and HTTP see it: its MAC ("aa:bb:cc:dd:ee:ff", lower case),
 * its firmware's architecture (null when unknown, as for an HTTP request without one), whether it
 * is already running iPXE (user class "iPXE" or option 175), and the address it was seen from.
 */
public record Machine(String mac, Arch arch, boolean ipxe, Optional<InetAddress> address) {}
