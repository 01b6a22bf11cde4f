package dev.apiary.pxe;

import java.net.InetAddress;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A machine asking to boot, as DHCP and HTTP see it: its MAC ("aa:bb:cc:dd:ee:ff", lower case),
 * its firmware's architecture (null when unknown, as for an HTTP request without one), whether it
 * is already running iPXE (user class "iPXE" or option 175), and the address it was seen from.
 */
public record Machine(String mac, Arch arch, boolean ipxe, Optional<InetAddress> address) {
    /** A MAC in the one form Apiary keeps: lower case, colons. */
    public static final Pattern MAC = Pattern.compile("([0-9a-f]{2}:){5}[0-9a-f]{2}");

    /**
     * A MAC as people and iPXE write it (either case, colons or dashes: {@code ${mac}} and
     * {@code ${mac:hexhyp}}) in the form Apiary keeps; empty if it is not a MAC.
     */
    public static Optional<String> parseMac(String text) {
        if (text == null) {
            return Optional.empty();
        }
        String mac = text.toLowerCase(Locale.ROOT).replace('-', ':');
        return MAC.matcher(mac).matches() ? Optional.of(mac) : Optional.empty();
    }
}
