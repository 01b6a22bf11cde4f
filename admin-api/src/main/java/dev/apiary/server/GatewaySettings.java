package dev.apiary.server;

import dev.apiary.server.ConfigFile.ConfigException;
import dev.apiary.server.ConfigFile.Section;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * This node as a gateway: the {@code gateway:} section of {@code apiary serve}'s file.
 *
 * <pre>
 * gateway:
 *   name: gw2                          # this gateway's name (default: the host name)
 *   down-after: 5s                     # API node: a gateway silent this long is down and its LUNs
 *                                      # move to the others (default 5s)
 *   join: https://10.0.0.1:8443        # a gateway node: the API node it serves the fleet of; it runs
 *                                      # the iSCSI target only (no API, no network boot)
 *   token: /etc/apiary/gateway.token   # with join: a file holding an API token
 *   cacert: /etc/apiary/api-cert.pem   # with join: the API node's certificate (its tls/api-cert.pem)
 * </pre>
 */
public record GatewaySettings(String name, Duration downAfter, Optional<Join> join) {
    /** Where a gateway node finds its API node. */
    public record Join(URI api, Path token, Path cacert) {}

    public static GatewaySettings from(Section s) {
        s.onlyKeys(Set.of("name", "down-after", "join", "token", "cacert"));
        String name = s.string("name", hostName());
        if (!name.matches("[a-z0-9][a-z0-9.-]{0,63}")) {
            throw new ConfigException(s.key("name") + ": expected 1-64 of a-z 0-9 . - (got \"" + name + "\")");
        }
        Duration down = s.duration("down-after", Duration.ofSeconds(5));
        if (down.toMillis() < 2000) {
            throw new ConfigException(s.key("down-after") + ": at least 2s (gateways beat once a second)");
        }
        String join = s.string("join", null);
        if (join == null) {
            for (String k : Set.of("token", "cacert")) {
                if (s.has(k)) {
                    throw new ConfigException(s.key(k) + " is for a gateway that joins an API node (join:)");
                }
            }
            return new GatewaySettings(name, down, Optional.empty());
        }
        URI api;
        try {
            api = URI.create(join);
        } catch (IllegalArgumentException e) {
            api = null;
        }
        if (api == null || !"https".equals(api.getScheme()) || api.getHost() == null) {
            throw new ConfigException(s.key("join") + ": expected https://HOST:PORT of the API node");
        }
        for (String k : Set.of("token", "cacert")) {
            if (!s.has(k)) {
                throw new ConfigException(s.key(k) + " is required with join:");
            }
        }
        return new GatewaySettings(name, down, Optional.of(new Join(api, s.path("token", null), s.path("cacert", null))));
    }

    /** The host name as a gateway name: lower case, anything else a dash. */
    static String hostName() {
        String h;
        try {
            h = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            h = "gateway";
        }
        String n = h.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.-]", "-").replaceAll("^[.-]+", "");
        return n.isEmpty() ? "gateway" : n.length() > 64 ? n.substring(0, 64) : n;
    }
}
