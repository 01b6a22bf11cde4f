package dev.apiary.server;

import dev.apiary.fleet.FleetPolicy;
import dev.apiary.pxe.PxeServer;
import dev.apiary.pxe.ipxe.SanbootTarget;
import dev.apiary.server.ConfigFile.ConfigException;
import dev.apiary.server.ConfigFile.Section;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Everything {@code apiary serve} reads from its YAML file; every section may be left out.
 *
 * <pre>
 * target:
 *   listen: 127.0.0.1:3260        # where the iSCSI target listens (default)
 *   portals: [10.77.0.1:3260]     # what boot scripts name, one per gateway (default: pxe.address:3260, else listen)
 *   warmup: 20000                 # reads and writes run over loopback before ready, so the first boot meets
 *                                 # compiled code (default 20000; 0 = none)
 * fleet:
 *   enrollment: auto              # auto | approve | off
 *   name-pattern: worker%d
 *   iqn-prefix: iqn.2026-11.dev.apiary
 *   image: golden@v1              # snapshot in the data directory's store that roots are cloned from
 *   data-size: 8G
 *   wake-to: 192.168.1.255        # Wake-on-LAN broadcast address[:port 9]; none = no wake
 * pxe: ...                        # as for apiary pxe serve, without machines:/scripts:; absent = no network boot
 * store: ...                      # file (default) or rbd: see StoreSettings
 * api:
 *   listen: 127.0.0.1:8443        # HTTPS (default)
 *   names: [apiary.lan]           # extra names for the generated certificate
 * gateway: ...                    # this node's gateway name; or join: another node's fleet as a gateway
 *                                 # (an iSCSI target only): see GatewaySettings
 * </pre>
 */
public record ServeSettings(InetSocketAddress listen, List<SanbootTarget.Portal> portals, FleetPolicy fleet,
        Optional<PxeServer.Config> pxe, InetSocketAddress api, List<String> apiNames, InetSocketAddress wakeTo,
        int warmup, StoreSettings store, GatewaySettings gateway) {
    public static final Set<String> SECTIONS = Set.of("target", "fleet", "pxe", "api", "store", "gateway");

    public static ServeSettings from(ConfigFile file) {
        GatewaySettings gateway = GatewaySettings.from(file.section("gateway"));
        StoreSettings store = StoreSettings.from(file.section("store"));
        if (gateway.join().isPresent()) {
            for (String only : List.of("fleet", "pxe", "api")) {
                if (!file.section(only).keys().isEmpty()) {
                    throw new ConfigException(only + ": is for the API node; a gateway that joins one (gateway.join)"
                            + " runs the iSCSI target only");
                }
            }
            if (store.rbd().isEmpty()) {
                throw new ConfigException("gateway.join needs store: {type: rbd}: a gateway reaches the fleet's volumes"
                        + " in the shared pool");
            }
        }
        Section pxeSection = file.section("pxe");
        Optional<PxeServer.Config> pxe = pxeSection.keys().isEmpty() ? Optional.empty()
                : Optional.of(PxeSettings.forFleet(pxeSection));

        Section t = file.section("target");
        t.onlyKeys(Set.of("listen", "portals", "warmup"));
        int warmup = t.integer("warmup", 20_000, 0, 1_000_000);
        InetSocketAddress listen = address(t, "listen", t.string("listen", "127.0.0.1:3260"));
        List<SanbootTarget.Portal> portals = new ArrayList<>();
        for (String p : t.stringList("portals")) {
            InetSocketAddress a = address(t, "portals", p);
            portals.add(new SanbootTarget.Portal(a.getHostString(), a.getPort()));
        }
        if (portals.isEmpty()) {
            String host = pxe.map(c -> c.address().getHostAddress()).orElse(listen.getHostString());
            if (host.equals("0.0.0.0")) {
                throw new ConfigException(t.key("portals") + " is required when the target listens on 0.0.0.0"
                        + " and there is no pxe.address: boot scripts must name a reachable address");
            }
            portals.add(new SanbootTarget.Portal(host, listen.getPort()));
        }

        Section f = file.section("fleet");
        f.onlyKeys(Set.of("enrollment", "name-pattern", "iqn-prefix", "image", "data-size", "wake-to"));
        FleetPolicy d = FleetPolicy.defaults();
        FleetPolicy.Enrollment enrollment = f.choice("enrollment", FleetPolicy.Enrollment.AUTO);
        String image = f.string("image", null);
        if (image != null && !dev.apiary.lun.VolumeStore.SNAPSHOT_REF.matcher(image).matches()) {
            throw new ConfigException(f.key("image") + ": expected VOLUME@SNAPSHOT of the data directory's store");
        }
        String iqn = f.string("iqn-prefix", d.iqnPrefix());
        if (!iqn.matches("iqn\\.[0-9]{4}-[0-9]{2}\\.[a-z0-9.-]+")) {
            throw new ConfigException(f.key("iqn-prefix") + ": expected iqn.YYYY-MM.reversed.domain (RFC 3720 §3.2.6.3.1)");
        }
        String pattern = f.string("name-pattern", d.namePattern());
        if (!pattern.matches("[a-z0-9-]*%d[a-z0-9-]*")) {
            throw new ConfigException(f.key("name-pattern") + ": expected lower-case letters, digits and dashes"
                    + " around one %d, e.g. worker%d");
        }
        long dataSize;
        try {
            dataSize = Sizes.parse(f.string("data-size", "8G"));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(f.key("data-size") + ": " + e.getMessage());
        }
        String wake = f.string("wake-to", null);
        InetSocketAddress wakeTo = wake == null ? null
                : address(f, "wake-to", wake.contains(":") ? wake : wake + ":9");
        Section a = file.section("api");
        a.onlyKeys(Set.of("listen", "names"));
        InetSocketAddress api = address(a, "listen", a.string("listen", "127.0.0.1:8443"), 0);
        return new ServeSettings(listen, portals, new FleetPolicy(enrollment, pattern, iqn, image, dataSize), pxe,
                api, a.stringList("names"), wakeTo, warmup, store, gateway);
    }

    private static InetSocketAddress address(Section s, String key, String text) {
        return address(s, key, text, 1);
    }

    /** IPV4:PORT; {@code minPort} 0 lets the system choose (tests). */
    private static InetSocketAddress address(Section s, String key, String text, int minPort) {
        int colon = text.lastIndexOf(':');
        int port = -1;
        if (colon > 0) {
            try {
                port = Integer.parseInt(text.substring(colon + 1));
            } catch (NumberFormatException e) {
                port = -1;
            }
        }
        if (port < minPort || port > 65535) {
            throw new ConfigException(s.key(key) + ": expected IPV4:PORT, got \"" + text + "\"");
        }
        return new InetSocketAddress(s.ipv4(key, text.substring(0, colon)), port);
    }
}
