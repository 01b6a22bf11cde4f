package dev.apiary.pxe;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class SightingsTest {
    static final String MAC = "52:54:00:12:34:56";

    @Test
    void onlyThePairSeenInDhcpWithinTheWindow() throws Exception {
        TestClock clock = new TestClock();
        Sightings s = new Sightings(Duration.ofMinutes(5), clock);
        InetAddress ip = InetAddress.getByName("10.77.0.100"), other = InetAddress.getByName("10.77.0.101");
        assertThat(s.permits(MAC, ip)).as("never seen").isFalse();
        s.saw(MAC, ip);
        assertThat(s.permits(MAC, other)).as("another address").isFalse();
        assertThat(s.permits("52:54:00:12:34:57", ip)).as("another MAC").isFalse();
        clock.now = clock.now.plusSeconds(240);
        assertThat(s.permits(MAC, ip)).isTrue(); // and the window restarts here
        clock.now = clock.now.plusSeconds(240);
        assertThat(s.permits(MAC, ip)).as("the approval loop keeps it alive").isTrue();
        clock.now = clock.now.plusSeconds(301);
        assertThat(s.permits(MAC, ip)).as("silent for longer than the window").isFalse();
        s.saw(MAC, other); // a new DHCP exchange moves the pair
        assertThat(s.permits(MAC, other)).isTrue();
        assertThat(s.permits(MAC, ip)).isFalse();
    }

    @Test
    void aFloodOfMacsCannotGrowTheTable() throws Exception {
        Sightings s = new Sightings(Duration.ofMinutes(5), Clock.systemUTC());
        InetAddress ip = InetAddress.getByName("10.77.0.100");
        s.saw(MAC, ip);
        for (int i = 0; i < 70_000; i++) {
            s.saw(String.format("02:00:00:%02x:%02x:%02x", i >> 16, (i >> 8) & 0xff, i & 0xff), ip);
        }
        assertThat(s.permits(MAC, ip)).as("the oldest entry went first").isFalse();
        assertThat(s.permits("02:00:00:01:11:6f", ip)).as("a recent one stays").isTrue();
    }
}
