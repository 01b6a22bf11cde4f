package dev.apiary.pxe;

import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which address each machine took in its last DHCP exchange. DESIGN.md's security model: a boot
 * script, which may carry CHAP secrets, is served only to the MAC/IP pair seen in DHCP, within a
 * short window, so another host that knows a worker's MAC cannot fetch its secrets. The DHCP
 * services report what they see; the HTTP service asks before it serves.
 *
 * <p>The window slides: a machine that keeps fetching from the same address (the approval loop
 * asks every few seconds) stays known. The table is bounded; a flood of invented MACs pushes out
 * the oldest entries, never grows memory.
 */
public final class Sightings {
    private static final int MAX = 65536;

    private record Sighting(InetAddress ip, Instant at) {}

    private final Map<String, Sighting> byMac = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Sighting> eldest) {
            return size() > MAX;
        }
    };
    private final Duration window;
    private final Clock clock;

    public Sightings(Duration window, Clock clock) {
        this.window = window;
        this.clock = clock;
    }

    /** DHCP saw {@code mac} take (or ask for) {@code ip}. */
    public synchronized void saw(String mac, InetAddress ip) {
        byMac.put(mac, new Sighting(ip, clock.instant()));
    }

    /** Whether {@code from} is where {@code mac} was seen within the window; if so the window restarts. */
    public synchronized boolean permits(String mac, InetAddress from) {
        Sighting s = byMac.get(mac);
        Instant now = clock.instant();
        if (s == null || !s.ip().equals(from) || s.at().plus(window).isBefore(now)) {
            return false;
        }
        byMac.put(mac, new Sighting(from, now));
        return true;
    }
}
