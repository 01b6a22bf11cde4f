package dev.apiary.pxe.dhcp;

import dev.apiary.pxe.BootDecision;
import dev.apiary.pxe.Sightings;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * proxyDHCP (PXE 2.1 §2.2.3, the default): another server hands out addresses; this one only tells
 * PXE clients what to boot, and never offers an address (yiaddr is always 0.0.0.0). As Pixiecore
 * does it for UEFI firmware:
 * <ul>
 *   <li>port 67: a DHCPDISCOVER from a PXE client gets a DHCPOFFER with option 60 "PXEClient",
 *       54 server id, 97 echoed, 43 discovery control and already the boot file and siaddr
 *       (several UEFI firmwares boot from the offer and never come to 4011);
 *   <li>port 4011: the client's DHCPREQUEST (PXE 2.1 §2.2.5, sent to the server id) gets a
 *       DHCPACK with the same answer, sent back to the address and port it came from.
 * </ul>
 * A DHCPREQUEST on 67 is for the real DHCP server and is ignored unless its option 54 names us.
 * Everything else, and every client that is not PXE or has no boot decision, is ignored.
 */
public final class ProxyDhcpService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProxyDhcpService.class);

    /**
     * @param bindAddress where to listen; 0.0.0.0 in production, since broadcasts only reach a
     *     socket bound to the wildcard (or broadcast) address
     * @param serverAddress this host's address on the boot network: option 54 and siaddr (the
     *     TFTP server)
     * @param dhcpPort 67 in production, 0 (ephemeral) in tests
     * @param pxePort 4011 in production, 0 in tests
     */
    public record Config(InetAddress bindAddress, Inet4Address serverAddress, int dhcpPort, int pxePort,
            BootFiles bootFiles, ReplyRoutes routes) {
        public static Config standard(Inet4Address serverAddress, BootFiles bootFiles) {
            return new Config(DhcpMessage.ZERO, serverAddress, 67, 4011, bootFiles, ReplyRoutes.RFC2131);
        }

        /** The same service answering on loopback, replies that would be broadcast going to {@code replyTo}. */
        public Config onLoopback(InetSocketAddress replyTo) {
            return new Config(replyTo.getAddress(), serverAddress, 0, 0, bootFiles,
                    ReplyRoutes.allTo(replyTo));
        }
    }

    private final Config config;
    private final BootDecision decision;
    private final Sightings sightings;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private DhcpEndpoint dhcp;
    private DhcpEndpoint dhcpPinned;
    private DhcpEndpoint pxe;

    public ProxyDhcpService(Config config, BootDecision decision) {
        this(config, decision, new Sightings(Duration.ofMinutes(5), Clock.systemUTC()));
    }

    /** @param sightings told which address each client asks the network's DHCP server for */
    public ProxyDhcpService(Config config, BootDecision decision, Sightings sightings) {
        this.config = config;
        this.decision = decision;
        this.sightings = sightings;
    }

    public ProxyDhcpService start() throws InterruptedException {
        try {
            if (config.bindAddress().isAnyLocalAddress()) { // broadcasts leave by serverAddress's interface
                DhcpEndpoint[] both = DhcpEndpoint.bindPinned(group, config.serverAddress(), config.dhcpPort(),
                        "proxyDHCP:67", this::onDhcpPort);
                dhcp = both[0];
                dhcpPinned = both[1];
            } else {
                dhcp = DhcpEndpoint.bind(group, new InetSocketAddress(config.bindAddress(), config.dhcpPort()),
                        "proxyDHCP:67", this::onDhcpPort);
            }
            pxe = DhcpEndpoint.bind(group, new InetSocketAddress(config.bindAddress(), config.pxePort()),
                    "proxyDHCP:4011", this::onPxePort);
        } catch (InterruptedException | RuntimeException e) {
            close();
            throw e;
        }
        return this;
    }

    public int dhcpPort() {
        return dhcp.port();
    }

    public int pxePort() {
        return pxe.port();
    }

    /** Datagrams received / rejected by the codec / replies sent, over all sockets. */
    public long[] counters() {
        long[] c = new long[3];
        for (DhcpEndpoint e : new DhcpEndpoint[] {dhcp, dhcpPinned, pxe}) {
            if (e != null) {
                c[0] += e.received.get();
                c[1] += e.malformed.get();
                c[2] += e.answered.get();
            }
        }
        return c;
    }

    private List<DhcpEndpoint.Reply> onDhcpPort(DhcpMessage m, InetSocketAddress sender) {
        int type = m.messageType();
        if (type == DhcpMessage.REQUEST && m.mac() != null) {
            // The client asking the home router for its address (RFC 2131 §4.3.2: option 50 while
            // selecting, ciaddr while renewing): the pair its boot script may be fetched from.
            m.options().requestedIp().or(() -> Optional.of(m.ciaddr()).filter(a -> !PxeClient.isZero(a)))
                    .ifPresent(ip -> sightings.saw(m.mac(), ip));
        }
        boolean forUs = type == DhcpMessage.REQUEST
                && m.options().serverId().map(config.serverAddress()::equals).orElse(false);
        if (type != DhcpMessage.DISCOVER && !forUs) {
            return List.of();
        }
        int replyType = type == DhcpMessage.DISCOVER ? DhcpMessage.OFFER : DhcpMessage.ACK;
        return answer(m, replyType).map(r -> List.of(new DhcpEndpoint.Reply(r, config.routes().forReply(m, false))))
                .orElse(List.of());
    }

    private List<DhcpEndpoint.Reply> onPxePort(DhcpMessage m, InetSocketAddress sender) {
        if (m.messageType() != DhcpMessage.REQUEST && m.messageType() != DhcpMessage.INFORM) {
            return List.of();
        }
        if (m.mac() != null && sender.getAddress() instanceof Inet4Address a && !PxeClient.isZero(a)) {
            sightings.saw(m.mac(), a);
        }
        // PXE 2.1 §2.2.5: the boot server replies to the client's source address and port.
        return answer(m, DhcpMessage.ACK).map(r -> List.of(new DhcpEndpoint.Reply(r, sender))).orElse(List.of());
    }

    private Optional<DhcpMessage> answer(DhcpMessage m, int replyType) {
        Optional<PxeClient> client = PxeClient.of(m, decision, config.bootFiles());
        if (client.isEmpty() || !client.get().pxe()) {
            return Optional.empty(); // proxyDHCP answers PXE clients only (PXE 2.1 §2.2.3)
        }
        DhcpOptions o = new DhcpOptions().putByte(DhcpOptions.MESSAGE_TYPE, replyType)
                .putAddress(DhcpOptions.SERVER_ID, config.serverAddress());
        String file = client.get().addBootOptions(m, o);
        if (replyType == DhcpMessage.OFFER) {
            decision.booting(client.get().machine());
        }
        log.info("proxyDHCP: {} {} ({}) -> {}", replyType == DhcpMessage.OFFER ? "offer" : "ack",
                m.mac(), client.get().machine().arch(), client.get().bootFile());
        return Optional.of(DhcpMessage.replyTo(m, DhcpMessage.ZERO, config.serverAddress(), file, o));
    }

    @Override
    public void close() {
        if (dhcp != null) {
            dhcp.close();
        }
        if (pxe != null) {
            pxe.close();
        }
        if (dhcpPinned != null) {
            dhcpPinned.close();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
