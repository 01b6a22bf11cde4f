package dev.apiary.pxe.dhcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.pxe.BootDecision;
import dev.apiary.pxe.Machine;
import dev.apiary.pxe.Sightings;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** proxyDHCP over loopback: replies that would be broadcast come to the test client's socket. */
class ProxyDhcpServiceTest {
    static final String MAC = "52:54:00:12:34:56";
    final List<Machine> asked = new CopyOnWriteArrayList<>();
    volatile boolean known = true;
    final List<String> booting = new CopyOnWriteArrayList<>();
    final BootDecision decision = new BootDecision() {
        @Override
        public Optional<String> script(Machine m) {
            asked.add(m);
            return known ? Optional.of("#!ipxe\n") : Optional.empty();
        }

        @Override
        public void booting(Machine m) {
            booting.add(m.mac());
        }
    };
    DhcpTestClient client;
    ProxyDhcpService service;
    final Sightings sightings = new Sightings(java.time.Duration.ofMinutes(5), java.time.Clock.systemUTC());

    @BeforeEach
    void start() throws Exception {
        client = new DhcpTestClient();
        service = new ProxyDhcpService(ProxyDhcpService.Config.standard(DhcpMessage.ip("10.77.0.1"),
                BootFiles.defaults("http://10.77.0.1:8080")).onLoopback(client.address()), decision, sightings).start();
    }

    @AfterEach
    void stop() {
        service.close();
        client.close();
    }

    @Test
    void offersTheUefiFileToOvmfWithoutAnAddress() throws Exception {
        client.send(DhcpCodecTest.DISCOVER, service.dhcpPort());
        DhcpMessage offer = client.receive();
        assertThat(client.lastRaw).isEqualTo(DhcpCodecTest.OFFER); // golden bytes
        assertThat(offer.yiaddr()).isEqualTo(DhcpMessage.ZERO);
        assertThat(offer.options().messageType()).isEqualTo(DhcpMessage.OFFER);
        assertThat(asked).singleElement().satisfies(m -> {
            assertThat(m.mac()).isEqualTo(MAC);
            assertThat(m.arch()).isEqualTo(dev.apiary.pxe.Arch.EFI_X64);
            assertThat(m.ipxe()).isFalse();
        });
        assertThat(booting).as("the offer starts the boot timeline").containsExactly(MAC);
    }

    @Test
    void offersUndionlyToBios() throws Exception {
        client.send(DhcpMessage.request(7, MAC, DhcpTestClient.pxeOptions(DhcpMessage.DISCOVER, 0)),
                service.dhcpPort());
        DhcpMessage offer = client.receive();
        assertThat(offer.file()).isEqualTo("undionly.kpxe");
        assertThat(offer.siaddr()).isEqualTo(DhcpMessage.ip("10.77.0.1"));
        assertThat(offer.options().get(43).orElseThrow()).containsExactly(6, 1, 8, 255);
        assertThat(offer.options().clientUuid()).isPresent();
    }

    @Test
    void givesIpxeItsScriptUrlAndNoDiscoveryControl() throws Exception {
        DhcpOptions o = DhcpTestClient.pxeOptions(DhcpMessage.DISCOVER, 7).putString(77, "iPXE")
                .put(175, new byte[] {(byte) 0xb1, 1, 1});
        client.send(DhcpMessage.request(8, MAC, o), service.dhcpPort());
        DhcpMessage offer = client.receive();
        assertThat(offer.file()).isEqualTo("http://10.77.0.1:8080/boot/" + MAC);
        assertThat(offer.options().has(43)).isFalse();
        assertThat(asked.get(0).ipxe()).isTrue();
    }

    @Test
    void acksARequestOnPort4011BackToItsSender() throws Exception {
        try (DhcpTestClient other = new DhcpTestClient()) {
            DhcpMessage req = DhcpMessage.request(9, MAC, DhcpTestClient.pxeOptions(DhcpMessage.REQUEST, 9)
                    .putAddress(54, DhcpMessage.ip("10.77.0.1")));
            other.send(req, service.pxePort());
            DhcpMessage ack = other.receive();
            assertThat(ack.options().messageType()).isEqualTo(DhcpMessage.ACK);
            assertThat(ack.file()).isEqualTo("snponly.efi");
            assertThat(ack.yiaddr()).isEqualTo(DhcpMessage.ZERO);
            assertThat(ack.xid()).isEqualTo(9);
            assertThat(booting).as("only an offer starts a boot").isEmpty();
        }
    }

    @Test
    void ignoresRequestsForTheRealDhcpServerOnPort67ButNotesTheAddress() throws Exception {
        DhcpMessage req = DhcpMessage.request(10, MAC, DhcpTestClient.pxeOptions(DhcpMessage.REQUEST, 7)
                .putAddress(54, DhcpMessage.ip("10.77.0.254")).putAddress(50, DhcpMessage.ip("10.77.0.50")));
        client.send(req, service.dhcpPort());
        assertThat(client.receive(300)).isNull();
        // The address the client asked the router for is the one its boot script may go to.
        assertThat(sightings.permits(MAC, DhcpMessage.ip("10.77.0.50"))).isTrue();
        assertThat(sightings.permits(MAC, DhcpMessage.ip("10.77.0.51"))).isFalse();
    }

    @Test
    void ignoresNonPxeClientsAndClientsWithoutADecision() throws Exception {
        DhcpOptions linux = new DhcpOptions().putByte(53, DhcpMessage.DISCOVER).putString(60, "Linux ipconfig");
        client.send(DhcpMessage.request(11, MAC, linux), service.dhcpPort());
        DhcpOptions ia32 = DhcpTestClient.pxeOptions(DhcpMessage.DISCOVER, 6);
        client.send(DhcpMessage.request(12, MAC, ia32), service.dhcpPort());
        DhcpOptions noArch = new DhcpOptions().putByte(53, 1).putString(60, "PXEClient:Arch:00000:UNDI:002001");
        client.send(DhcpMessage.request(13, MAC, noArch), service.dhcpPort());
        assertThat(client.receive(300)).isNull();
        known = false;
        client.send(DhcpCodecTest.DISCOVER, service.dhcpPort());
        assertThat(client.receive(300)).isNull();
        assertThat(asked).hasSize(1); // only the last was asked about
    }

    @Test
    void answersClientsSharingAnXidSeparately() throws Exception {
        String mac2 = "52:54:00:00:00:02";
        client.send(DhcpMessage.request(77, MAC, DhcpTestClient.pxeOptions(1, 7)), service.dhcpPort());
        client.send(DhcpMessage.request(77, mac2, DhcpTestClient.pxeOptions(1, 0)), service.dhcpPort());
        DhcpMessage a = client.receive(), b = client.receive();
        assertThat(List.of(a.mac() + " " + a.file(), b.mac() + " " + b.file()))
                .containsExactlyInAnyOrder(MAC + " snponly.efi", mac2 + " undionly.kpxe");
    }

    @Test
    void survivesBadInputAndKeepsServing() throws Exception {
        byte[] pastEnd = DhcpCodecTest.DISCOVER.clone();
        pastEnd[DhcpCodecTest.indexOfOption(pastEnd, 93) + 1] = (byte) 250;
        byte[] garbage = new byte[300];
        new java.util.Random(5).nextBytes(garbage);
        List<byte[]> bad = List.of(new byte[0], Arrays.copyOf(DhcpCodecTest.DISCOVER, 120), pastEnd,
                DhcpCodecTest.single(93, 0, 7, 0), Arrays.copyOf(DhcpCodecTest.DISCOVER, 1472), garbage);
        for (int port : new int[] {service.dhcpPort(), service.pxePort()}) {
            for (byte[] b : bad) {
                client.send(b, port);
            }
        }
        byte[] oversized = Arrays.copyOf(DhcpCodecTest.DISCOVER, 1600);
        client.send(oversized, service.dhcpPort());
        client.send(DhcpMessage.request(14, MAC, new DhcpOptions().putByte(53, 1)), service.dhcpPort()); // non-PXE
        client.send(DhcpCodecTest.DISCOVER, service.dhcpPort());
        // the 1472-byte copy is only zero-padded, so valid: answered on 67, ignored on 4011 (a DISCOVER)
        assertThat(client.receive().xid()).isEqualTo((int) 2294173776L);
        assertThat(client.receive().xid()).isEqualTo((int) 2294173776L);
        assertThat(client.receive(300)).isNull();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(service.counters()).containsExactly(15, 11, 2));
    }
}
