package dev.apiary.pxe.dhcp;

import java.io.IOException;
import java.net.Inet4Address;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The address pool and its leases, kept in a text file ("mac ip expiry-epoch-seconds" a line,
 * written to a temporary file and renamed over the old one, so a crash leaves one or the other).
 * A MAC keeps its address after its lease expires or is released, and gets it again (RFC 2131
 * §4.3.1 "the client's current address ... or the client's previous address"): Debian's initramfs
 * asks again after iPXE and must get the address iPXE had. Another MAC gets a bound address only
 * when the pool has no never-used address left, and then the one that expired longest ago.
 * Not thread-safe: the service calls it from its one event-loop thread.
 */
final class Leases {
    private static final Logger log = LoggerFactory.getLogger(Leases.class);
    private static final Pattern LINE = Pattern.compile("([0-9a-f]{2}:){5}[0-9a-f]{2} \\d+\\.\\d+\\.\\d+\\.\\d+ \\d+");

    record Lease(String mac, Inet4Address ip, long expires) {}

    private final Path file;
    private final int first, last;
    private final Clock clock;
    private final Map<String, Lease> byMac = new LinkedHashMap<>();
    private final Map<Integer, Lease> byIp = new HashMap<>();
    /** Addresses a client declined (RFC 2131 §4.3.3), until this epoch second. */
    private final Map<Integer, Long> declined = new HashMap<>();

    Leases(Path file, Inet4Address first, Inet4Address last, Clock clock) {
        this.file = file;
        this.first = DhcpMessage.toInt(first);
        this.last = DhcpMessage.toInt(last);
        this.clock = clock;
        if (Integer.compareUnsigned(this.first, this.last) > 0 || this.last - this.first > 65535) {
            throw new IllegalArgumentException("bad pool " + first + " - " + last);
        }
    }

    /** Reads the lease file if there is one; bad lines and addresses outside the pool are skipped. */
    void load() throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (!LINE.matcher(line).matches()) {
                continue;
            }
            String[] f = line.split(" ");
            try {
                Inet4Address ip = DhcpMessage.ip(f[1]);
                if (inPool(ip)) {
                    bind(new Lease(f[0], ip, Long.parseLong(f[2])));
                }
            } catch (RuntimeException e) {
                log.warn("lease file {}: skipping bad line '{}'", file, line);
            }
        }
    }

    boolean inPool(Inet4Address ip) {
        int v = DhcpMessage.toInt(ip);
        return Integer.compareUnsigned(v, first) >= 0 && Integer.compareUnsigned(v, last) <= 0;
    }

    Lease leaseOf(String mac) {
        return byMac.get(mac);
    }

    /** Whether {@code mac} may have {@code ip}: in the pool, not declined, not leased to another MAC. */
    boolean available(Inet4Address ip, String mac) {
        if (!inPool(ip) || isDeclined(DhcpMessage.toInt(ip))) {
            return false;
        }
        Lease l = byIp.get(DhcpMessage.toInt(ip));
        return l == null || l.mac().equals(mac) || l.expires() <= now();
    }

    /**
     * The address to offer {@code mac}: its own, else {@code wanted} if free, else a free one; null
     * if none. {@code offered} holds addresses offered to other MACs and not yet requested.
     */
    Inet4Address choose(String mac, Inet4Address wanted, java.util.Set<Integer> offered) {
        Lease own = byMac.get(mac);
        if (own != null && !isDeclined(DhcpMessage.toInt(own.ip()))) {
            return own.ip();
        }
        if (wanted != null && available(wanted, mac) && !byIp.containsKey(DhcpMessage.toInt(wanted))
                && !offered.contains(DhcpMessage.toInt(wanted))) {
            return wanted;
        }
        Lease oldest = null;
        for (long v = first & 0xffffffffL; v <= (last & 0xffffffffL); v++) {
            int ip = (int) v;
            Lease l = byIp.get(ip);
            if (isDeclined(ip) || offered.contains(ip)) {
                continue;
            }
            if (l == null) {
                return DhcpMessage.fromInt(ip);
            }
            if (l.expires() <= now() && (oldest == null || l.expires() < oldest.expires())) {
                oldest = l;
            }
        }
        return oldest == null ? null : oldest.ip();
    }

    /** Binds {@code ip} to {@code mac} for {@code time} and saves the file. */
    void commit(String mac, Inet4Address ip, Duration time) throws IOException {
        bind(new Lease(mac, ip, now() + time.toSeconds()));
        save();
    }

    /** DHCPRELEASE (RFC 2131 §4.3.4): the lease ends now; the MAC keeps its claim to the address. */
    void release(String mac, Inet4Address ip) throws IOException {
        Lease l = byMac.get(mac);
        if (l != null && l.ip().equals(ip)) {
            bind(new Lease(mac, ip, Math.min(l.expires(), now())));
            save();
        }
    }

    /** DHCPDECLINE (RFC 2131 §4.3.3): someone else uses {@code ip}; nobody gets it for {@code hold}. */
    void decline(Inet4Address ip, Duration hold) throws IOException {
        int v = DhcpMessage.toInt(ip);
        if (!inPool(ip)) {
            return;
        }
        declined.put(v, now() + hold.toSeconds());
        Lease l = byIp.remove(v);
        if (l != null) {
            byMac.remove(l.mac());
            save();
        }
    }

    List<Lease> all() {
        return new ArrayList<>(byMac.values());
    }

    private boolean isDeclined(int ip) {
        Long until = declined.get(ip);
        if (until != null && until <= now()) {
            declined.remove(ip);
            return false;
        }
        return until != null;
    }

    private void bind(Lease l) {
        Lease old = byMac.remove(l.mac());
        if (old != null) {
            byIp.remove(DhcpMessage.toInt(old.ip()));
        }
        Lease other = byIp.remove(DhcpMessage.toInt(l.ip()));
        if (other != null) {
            byMac.remove(other.mac());
        }
        byMac.put(l.mac(), l);
        byIp.put(DhcpMessage.toInt(l.ip()), l);
    }

    private void save() throws IOException {
        StringBuilder sb = new StringBuilder("# Apiary DHCP leases: mac ip expiry-epoch-seconds\n");
        for (Lease l : byMac.values()) {
            sb.append(l.mac()).append(' ').append(l.ip().getHostAddress()).append(' ').append(l.expires()).append('\n');
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(tmp,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8)));
            ch.force(true); // the rename must not overtake the data
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private long now() {
        return clock.instant().getEpochSecond();
    }
}
