package dev.apiary.server;

import dev.apiary.pxe.PxeServer;
import dev.apiary.pxe.PxeServer.DhcpMode;
import dev.apiary.server.ConfigFile.ConfigException;
import dev.apiary.server.ConfigFile.Section;
import java.net.Inet4Address;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/**
 * The {@code pxe:} section of the configuration file: which DHCP role Apiary plays on the boot
 * network and where its boot files and scripts are. docs/boot.md shows a complete example.
 *
 * @param server the boot services' settings
 * @param machines what each machine boots until the fleet decides: the {@code machines:} mapping
 *     and/or the {@code scripts:} directory of {@code aa-bb-cc-dd-ee-ff.ipxe} and {@code default.ipxe}
 */
public record PxeSettings(PxeServer.Config server, MachineScripts machines) {
    static final Set<String> KEYS = Set.of("dhcp", "address", "interface", "http-port", "tftp-port", "ipxe-dir",
            "uefi-boot-file", "bios-boot-file", "files", "scripts", "max-transfers", "pool", "netmask", "router",
            "dns", "lease-time", "lease-file", "machines");

    /** For {@code apiary pxe serve}: what machines boot comes from machines: or scripts:. */
    public static PxeSettings from(Section s) {
        return from(s, true);
    }

    /** For {@code apiary serve}, where the fleet decides what each machine boots. */
    public static PxeServer.Config forFleet(Section s) {
        for (String k : new String[] {"machines", "scripts"}) {
            if (s.has(k)) {
                throw new ConfigException(s.key(k) + " is for apiary pxe serve; under apiary serve the fleet"
                        + " decides what each machine boots");
            }
        }
        return from(s, false).server();
    }

    private static PxeSettings from(Section s, boolean standalone) {
        s.onlyKeys(KEYS);
        DhcpMode mode = s.choice("dhcp", DhcpMode.PROXY);
        Inet4Address address = s.ipv4("address", s.required("address"));
        String iface = s.string("interface", null);
        Path ipxeDir = s.path("ipxe-dir", PxeServer.Config.DEBIAN_IPXE);
        PxeServer.Pool pool = null;
        if (mode == DhcpMode.FULL) {
            if (iface == null) {
                throw new ConfigException(s.key("interface") + " is required with dhcp: full (DHCP answers only"
                        + " on the boot network's interface)");
            }
            pool = pool(s, address);
        } else {
            for (String k : new String[] {"pool", "router", "dns", "lease-time", "lease-file"}) {
                if (s.has(k)) {
                    throw new ConfigException(s.key(k) + " applies only with dhcp: full");
                }
            }
        }
        PxeServer.Config c = new PxeServer.Config(mode, address, iface, s.port("http-port", 8080),
                s.port("tftp-port", 69), ipxeDir, fileName(s, "uefi-boot-file", "snponly.efi"),
                fileName(s, "bios-boot-file", "undionly.kpxe"), s.path("files", ipxeDir),
                s.positive("max-transfers", 64), pool);
        if (!standalone) {
            return new PxeSettings(c, null);
        }
        Path scripts = s.path("scripts", null);
        if (scripts == null && !s.has("machines")) {
            throw new ConfigException(s.key("machines") + " or " + s.key("scripts")
                    + " is required: nothing would boot without one");
        }
        if (scripts != null && !Files.isDirectory(scripts)) {
            throw new ConfigException(s.key("scripts") + ": " + scripts + " is not a directory");
        }
        return new PxeSettings(c, MachineScripts.from(s.child("machines"), scripts));
    }

    /** "10.77.0.100-10.77.0.199" inside the boot network's subnet, not holding Apiary's own address. */
    private static PxeServer.Pool pool(Section s, Inet4Address address) {
        String range = s.required("pool");
        String[] ends = range.split("-", -1);
        if (ends.length != 2) {
            throw new ConfigException(s.key("pool") + ": expected FIRST-LAST, e.g. 10.77.0.100-10.77.0.199");
        }
        Inet4Address first = s.ipv4("pool", ends[0].trim());
        Inet4Address last = s.ipv4("pool", ends[1].trim());
        Inet4Address mask = s.ipv4("netmask", s.string("netmask", "255.255.255.0"));
        int m = toInt(mask);
        if (Integer.bitCount(m) != Integer.numberOfLeadingZeros(~m)) {
            throw new ConfigException(s.key("netmask") + ": not a netmask: " + mask.getHostAddress());
        }
        int net = toInt(address) & m;
        if ((toInt(first) & m) != net || (toInt(last) & m) != net) {
            throw new ConfigException(s.key("pool") + ": " + range + " is not inside " + address.getHostAddress()
                    + "'s subnet (netmask " + mask.getHostAddress() + ")");
        }
        if (Integer.compareUnsigned(toInt(first), toInt(last)) > 0) {
            throw new ConfigException(s.key("pool") + ": the first address comes after the last");
        }
        if (Integer.compareUnsigned(toInt(first), toInt(address)) <= 0
                && Integer.compareUnsigned(toInt(address), toInt(last)) <= 0) {
            throw new ConfigException(s.key("pool") + ": " + range + " holds Apiary's own address "
                    + address.getHostAddress());
        }
        return new PxeServer.Pool(first, last, mask, s.ipv4("router", (Inet4Address) null), s.ipv4List("dns"),
                s.duration("lease-time", Duration.ofHours(1)), s.path("lease-file", s.dir().resolve("dhcp-leases")));
    }

    /** A boot file is a plain name inside ipxe-dir: it goes into DHCP's 128-byte file field. */
    private static String fileName(Section s, String key, String dflt) {
        String f = s.string(key, dflt);
        if (!f.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,100}")) {
            throw new ConfigException(s.key(key) + ": expected a file name inside ipxe-dir, got \"" + f + "\"");
        }
        return f;
    }

    private static int toInt(Inet4Address a) {
        return ByteBuffer.wrap(a.getAddress()).getInt();
    }
}
