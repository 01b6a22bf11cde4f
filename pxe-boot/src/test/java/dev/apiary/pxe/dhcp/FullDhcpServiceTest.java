package dev.apiary.pxe.dhcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.Inet4Address;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import dev.apiary.pxe.TestClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Full DHCP over loopback; the pool's 10.77.0.x addresses are only data, nothing is sent to them. */
class FullDhcpServiceTest {
    static final String A = "52:54:00:00:00:0a", B = "52:54:00:00:00:0b", C = "52:54:00:00:00:0c";
    static final Inet4Address SERVER = DhcpMessage.ip("10.77.0.1");

    @TempDir
    Path dir;
    final TestClock clock = new TestClock();
    DhcpTestClient client;
    FullDhcpService service;

    @BeforeEach
    void start() throws Exception {
        client = new DhcpTestClient();
        service = newService().start();
    }

    final dev.apiary.pxe.Sightings sightings = new dev.apiary.pxe.Sightings(java.time.Duration.ofMinutes(5),
            java.time.Clock.systemUTC());

    FullDhcpService newService() {
        FullDhcpService.Config c = FullDhcpService.Config.standard(null, SERVER, DhcpMessage.ip("255.255.255.0"),
                DhcpMessage.ip("10.77.0.100"), DhcpMessage.ip("10.77.0.102"), dir.resolve("leases.txt"),
                BootFiles.defaults("http://10.77.0.1:8080"));
        return new FullDhcpService(c.onLoopback(client.address(), clock), new dev.apiary.pxe.BootDecision() {
            @Override
            public Optional<String> script(dev.apiary.pxe.Machine m) {
                return Optional.of("#!ipxe\n");
            }

            @Override
            public void booting(dev.apiary.pxe.Machine m) {
                booting.add(m.mac());
            }
        }, sightings);
    }

    final java.util.List<String> booting = new java.util.concurrent.CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        service.close();
        client.close();
    }

    DhcpMessage send(DhcpMessage m) throws Exception {
        client.send(m, service.port());
        return client.receive();
    }

    DhcpMessage discover(String mac, int xid, DhcpOptions extra) throws Exception {
        DhcpOptions o = extra == null ? new DhcpOptions().putByte(53, 1) : extra;
        return send(DhcpMessage.request(xid, mac, o));
    }

    DhcpMessage select(String mac, int xid, Inet4Address ip) throws Exception {
        return send(DhcpMessage.request(xid, mac, new DhcpOptions().putByte(53, DhcpMessage.REQUEST)
                .putAddress(54, SERVER).putAddress(50, ip)));
    }

    Inet4Address lease(String mac, int xid) throws Exception {
        DhcpMessage offer = discover(mac, xid, null);
        assertThat(offer.messageType()).isEqualTo(DhcpMessage.OFFER);
        DhcpMessage ack = select(mac, xid, offer.yiaddr());
        assertThat(ack.messageType()).isEqualTo(DhcpMessage.ACK);
        assertThat(ack.yiaddr()).isEqualTo(offer.yiaddr());
        return ack.yiaddr();
    }

    @Test
    void offersThenAcksWithNetworkOptionsAndSavesTheLease() throws Exception {
        DhcpMessage offer = discover(A, 1, new DhcpOptions().putByte(53, 1).putString(60, "Linux ipconfig"));
        assertThat(offer.yiaddr()).isEqualTo(DhcpMessage.ip("10.77.0.100"));
        assertThat(offer.options().serverId()).contains(SERVER);
        assertThat(offer.options().get(51).orElseThrow()).containsExactly(0, 0, 0x0e, 0x10);
        assertThat(offer.options().get(1).orElseThrow()).containsExactly(255, 255, 255, 0);
        assertThat(offer.options().get(28).orElseThrow()).containsExactly(10, 77, 0, 255);
        assertThat(offer.file()).isEmpty(); // not a PXE client: address only
        assertThat(booting).as("an OS asking for an address is no boot").isEmpty();
        assertThat(offer.siaddr()).isEqualTo(DhcpMessage.ZERO);
        assertThat(sightings.permits(A, offer.yiaddr())).as("an offer is not yet an address").isFalse();
        DhcpMessage ack = select(A, 1, offer.yiaddr());
        assertThat(ack.messageType()).isEqualTo(DhcpMessage.ACK);
        assertThat(Files.readString(dir.resolve("leases.txt"))).contains(A + " 10.77.0.100 ");
        assertThat(sightings.permits(A, DhcpMessage.ip("10.77.0.100"))).as("its boot script may go there").isTrue();
    }

    @Test
    void givesPxeClientsTheirBootFile() throws Exception {
        DhcpMessage offer = discover(A, 2, DhcpTestClient.pxeOptions(1, 7));
        assertThat(offer.yiaddr()).isEqualTo(DhcpMessage.ip("10.77.0.100"));
        assertThat(offer.file()).isEqualTo("snponly.efi");
        assertThat(offer.siaddr()).isEqualTo(SERVER);
        assertThat(offer.options().vendorClass()).contains("PXEClient");
        DhcpMessage ipxe = discover(A, 3, new DhcpOptions().putByte(53, 1).putString(77, "iPXE"));
        assertThat(ipxe.file()).isEqualTo("http://10.77.0.1:8080/boot/" + A);
        assertThat(ipxe.yiaddr()).isEqualTo(offer.yiaddr());
        assertThat(booting).as("each PXE offer tells the boot timeline").containsExactly(A, A);
    }

    @Test
    void keepsTheAddressPerMacAcrossRequestsReleasesAndRestarts() throws Exception {
        Inet4Address a = lease(A, 10);
        Inet4Address b = lease(B, 11);
        assertThat(b).isNotEqualTo(a);
        assertThat(lease(A, 12)).isEqualTo(a); // Debian's initramfs asking again after iPXE
        client.send(DhcpMessage.request(13, A, new DhcpOptions().putByte(53, DhcpMessage.RELEASE)
                .putAddress(54, SERVER)).withCiaddr(a), service.port());
        assertThat(lease(C, 14)).isEqualTo(DhcpMessage.ip("10.77.0.102")); // a free one, not A's
        service.close();
        service = newService().start();
        assertThat(service.leases()).hasSize(3);
        assertThat(lease(A, 15)).isEqualTo(a);
        assertThat(lease(B, 16)).isEqualTo(b);
    }

    @Test
    void keysOffersOnMacAndXid() throws Exception {
        DhcpMessage offerA = discover(A, 99, null);
        DhcpMessage offerB = discover(B, 99, null);
        assertThat(offerA.yiaddr()).isNotEqualTo(offerB.yiaddr());
        assertThat(select(B, 99, offerB.yiaddr()).messageType()).isEqualTo(DhcpMessage.ACK);
        assertThat(select(A, 99, offerA.yiaddr()).messageType()).isEqualTo(DhcpMessage.ACK);
        // A asking for B's address with the same xid is refused
        DhcpMessage nak = select(A, 99, offerB.yiaddr());
        assertThat(nak.messageType()).isEqualTo(DhcpMessage.NAK);
        assertThat(nak.yiaddr()).isEqualTo(DhcpMessage.ZERO);
    }

    @Test
    void naksInitRebootForAnotherMacsAddressAndAcksRenewal() throws Exception {
        Inet4Address a = lease(A, 20);
        DhcpMessage reboot = DhcpMessage.request(21, B, new DhcpOptions().putByte(53, 3).putAddress(50, a));
        assertThat(send(reboot).messageType()).isEqualTo(DhcpMessage.NAK);
        DhcpMessage renew = DhcpMessage.request(22, A, new DhcpOptions().putByte(53, 3)).withCiaddr(a);
        DhcpMessage ack = send(renew);
        assertThat(ack.messageType()).isEqualTo(DhcpMessage.ACK);
        assertThat(ack.yiaddr()).isEqualTo(a);
    }

    @Test
    void declinedAddressesAreNotOfferedForAWhile() throws Exception {
        Inet4Address a = lease(A, 30);
        client.send(DhcpMessage.request(31, A, new DhcpOptions().putByte(53, DhcpMessage.DECLINE)
                .putAddress(54, SERVER).putAddress(50, a)), service.port());
        Inet4Address next = discover(A, 32, null).yiaddr();
        assertThat(next).isNotEqualTo(a);
        clock.now = clock.now.plus(Duration.ofMinutes(11));
        assertThat(discover(B, 33, null).yiaddr()).isEqualTo(a);
    }

    @Test
    void informGetsConfigurationWithoutALease() throws Exception {
        Inet4Address ci = DhcpMessage.ip("10.77.0.7");
        DhcpMessage ack = send(DhcpMessage.request(40, A, new DhcpOptions().putByte(53, DhcpMessage.INFORM))
                .withCiaddr(ci));
        assertThat(ack.messageType()).isEqualTo(DhcpMessage.ACK);
        assertThat(ack.yiaddr()).isEqualTo(DhcpMessage.ZERO);
        assertThat(ack.ciaddr()).isEqualTo(ci);
        assertThat(ack.options().has(51)).isFalse();
        assertThat(service.leases()).isEmpty();
    }

    @Test
    void stopsOfferingWhenThePoolIsFull() throws Exception {
        lease(A, 50);
        lease(B, 51);
        lease(C, 52);
        client.send(DhcpMessage.request(53, "52:54:00:00:00:0d", new DhcpOptions().putByte(53, 1)), service.port());
        assertThat(client.receive(300)).isNull();
        clock.now = clock.now.plus(Duration.ofHours(2)); // all expired: the oldest expiry is reused
        assertThat(discover("52:54:00:00:00:0d", 54, null).yiaddr()).isEqualTo(DhcpMessage.ip("10.77.0.100"));
    }

    @Test
    void ignoresClientsFromOtherSubnetsAndBadInput() throws Exception {
        client.send(DhcpMessage.request(60, A, new DhcpOptions().putByte(53, 8)).withCiaddr(
                DhcpMessage.ip("192.168.1.5")), service.port());
        client.send(new byte[10], service.port());
        client.send(Arrays.copyOf(DhcpCodecTest.DISCOVER, 1600), service.port());
        client.send(DhcpCodecTest.single(93, 0, 7, 0), service.port());
        assertThat(discover(A, 61, null).messageType()).isEqualTo(DhcpMessage.OFFER);
        assertThat(client.receive(300)).isNull();
    }

    @Test
    void skipsBadLinesInTheLeaseFile() throws Exception {
        service.close();
        Files.writeString(dir.resolve("leases.txt"), "# header\ngarbage\n" + B + " 10.77.0.101 9999999999\n"
                + C + " 10.1.2.3 9999999999\n");
        service = newService().start();
        assertThat(service.leases()).containsExactly(B + " 10.77.0.101 9999999999");
        assertThat(discover(B, 70, null).yiaddr()).isEqualTo(DhcpMessage.ip("10.77.0.101"));
    }

    @Test
    void refusesAnInterfaceThatDoesNotCarryTheServerAddress() {
        FullDhcpService.Config c = FullDhcpService.Config.standard("apiary-nonexistent0", SERVER,
                DhcpMessage.ip("255.255.255.0"), DhcpMessage.ip("10.77.0.100"), DhcpMessage.ip("10.77.0.102"),
                dir.resolve("x"), BootFiles.defaults("http://h"));
        assertThatThrownBy(() -> new FullDhcpService(c, m -> Optional.empty()).start())
                .hasMessageContaining("apiary-nonexistent0 does not exist");
        FullDhcpService.Config lo = FullDhcpService.Config.standard("lo", SERVER, DhcpMessage.ip("255.255.255.0"),
                DhcpMessage.ip("10.77.0.100"), DhcpMessage.ip("10.77.0.102"), dir.resolve("x"),
                BootFiles.defaults("http://h"));
        assertThatThrownBy(() -> new FullDhcpService(lo, m -> Optional.empty()).start())
                .hasMessageContaining("does not carry 10.77.0.1");
    }

    @Test
    void routesRepliesAsRfc2131Says() {
        ReplyRoutes r = ReplyRoutes.RFC2131;
        DhcpMessage m = DhcpMessage.request(1, A, new DhcpOptions().putByte(53, 3));
        assertThat(r.forReply(m, false).toString()).contains("255.255.255.255:68");
        assertThat(r.forReply(m.withCiaddr(DhcpMessage.ip("10.77.0.9")), false).toString()).contains("10.77.0.9:68");
        assertThat(r.forReply(m.withCiaddr(DhcpMessage.ip("10.77.0.9")), true).toString())
                .contains("255.255.255.255:68");
    }
}
