package dev.apiary.pxe.dhcp;

import dev.apiary.pxe.BootDecision;
import dev.apiary.pxe.Sightings;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A full DHCP server (RFC 2131 §4.3) for an isolated boot network: addresses from a pool, leases
 * saved across restarts ({@link Leases}), the same address for a MAC every time, and the PXE boot
 * answer ({@link PxeClient}) for PXE and iPXE clients. Other clients (the Linux initramfs) get an
 * address only. Offers in flight are keyed on MAC + xid, since several UEFI clients may send the
 * same xid (boot-chain.md §7).
 *
 * <p>Interface binding: neither the JDK nor Netty 4.2.18 expose SO_BINDTODEVICE or IP_PKTINFO, and
 * broadcasts only reach a socket bound to 0.0.0.0. So the service sends every reply from a socket
 * bound to {@code serverAddress} ({@link DhcpEndpoint#bindPinned}: broadcasts leave by that
 * address's interface); with {@code interfaceName} set it checks at start that the interface
 * exists, is up and carries {@code serverAddress}; and it drops requests whose ciaddr or giaddr
 * lies outside the boot subnet. A broadcast DISCOVER arriving on another interface is still
 * received, so full isolation comes from running it in the boot network's namespace
 * (boot-chain.md §8, {@code ip netns exec bootlab}).
 */
public final class FullDhcpService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(FullDhcpService.class);
    private static final int MAX_OFFERS = 4096;

    public record Config(InetAddress bindAddress, int dhcpPort, String interfaceName, Inet4Address serverAddress,
            Inet4Address subnetMask, Inet4Address router, List<Inet4Address> dns, Inet4Address poolFirst,
            Inet4Address poolLast, Duration leaseTime, Duration offerTime, Duration declineHold, Path leaseFile,
            BootFiles bootFiles, ReplyRoutes routes, Clock clock) {
        public static Config standard(String interfaceName, Inet4Address serverAddress, Inet4Address subnetMask,
                Inet4Address poolFirst, Inet4Address poolLast, Path leaseFile, BootFiles bootFiles) {
            return new Config(DhcpMessage.ZERO, 67, interfaceName, serverAddress, subnetMask, null, List.of(),
                    poolFirst, poolLast, Duration.ofHours(1), Duration.ofSeconds(60), Duration.ofMinutes(10),
                    leaseFile, bootFiles, ReplyRoutes.RFC2131, Clock.systemUTC());
        }

        public Config onLoopback(InetSocketAddress replyTo, Clock clock) {
            return new Config(replyTo.getAddress(), 0, null, serverAddress, subnetMask, router, dns, poolFirst,
                    poolLast, leaseTime, offerTime, declineHold, leaseFile, bootFiles, ReplyRoutes.allTo(replyTo),
                    clock);
        }
    }

    private record Key(String mac, int xid) {}

    private record Offer(Inet4Address ip, Instant expires) {}

    private final Config config;
    private final BootDecision decision;
    private final Sightings sightings;
    private final Leases leases;
    private final Map<Key, Offer> offers = new LinkedHashMap<>();
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private DhcpEndpoint endpoint;
    private DhcpEndpoint pinned;

    public FullDhcpService(Config config, BootDecision decision) {
        this(config, decision, new Sightings(Duration.ofMinutes(5), config.clock()));
    }

    /** @param sightings told which address each client is given */
    public FullDhcpService(Config config, BootDecision decision, Sightings sightings) {
        this.config = config;
        this.decision = decision;
        this.sightings = sightings;
        this.leases = new Leases(config.leaseFile(), config.poolFirst(), config.poolLast(), config.clock());
    }

    public FullDhcpService start() throws IOException, InterruptedException {
        if (config.interfaceName() != null) {
            checkInterface();
        }
        leases.load();
        try {
            if (config.bindAddress().isAnyLocalAddress()) {
                DhcpEndpoint[] both = DhcpEndpoint.bindPinned(group, config.serverAddress(), config.dhcpPort(), "DHCP",
                        this::handle);
                endpoint = both[0];
                pinned = both[1];
            } else {
                endpoint = DhcpEndpoint.bind(group, new InetSocketAddress(config.bindAddress(), config.dhcpPort()),
                        "DHCP", this::handle);
            }
        } catch (InterruptedException | RuntimeException e) {
            close();
            throw e;
        }
        return this;
    }

    public int port() {
        return endpoint.port();
    }

    /** Datagrams received / rejected by the codec / replies sent, over both sockets. */
    public long[] counters() {
        long[] c = new long[3];
        for (DhcpEndpoint e : new DhcpEndpoint[] {endpoint, pinned}) {
            if (e != null) {
                c[0] += e.received.get();
                c[1] += e.malformed.get();
                c[2] += e.answered.get();
            }
        }
        return c;
    }

    /** The current leases, for tests and status pages. */
    public synchronized List<String> leases() {
        return leases.all().stream().map(l -> l.mac() + " " + l.ip().getHostAddress() + " " + l.expires()).toList();
    }

    private void checkInterface() throws SocketException {
        NetworkInterface nif = NetworkInterface.getByName(config.interfaceName());
        if (nif == null) {
            throw new IllegalStateException("interface " + config.interfaceName() + " does not exist");
        }
        if (!nif.isUp()) {
            // No carrier yet (a cable out, a bridge with no machine on it): like dnsmasq, serve once
            // the link comes up rather than refuse to start.
            log.warn("DHCP: interface {} has no link yet", config.interfaceName());
        }
        if (nif.inetAddresses().noneMatch(config.serverAddress()::equals)) {
            throw new IllegalStateException("interface " + config.interfaceName() + " does not carry "
                    + config.serverAddress().getHostAddress());
        }
    }

    private boolean onSubnet(Inet4Address a) {
        int mask = DhcpMessage.toInt(config.subnetMask());
        return PxeClient.isZero(a) || (DhcpMessage.toInt(a) & mask) == (DhcpMessage.toInt(config.serverAddress()) & mask);
    }

    synchronized List<DhcpEndpoint.Reply> handle(DhcpMessage m, InetSocketAddress sender) {
        String mac = m.mac();
        if (mac == null || !onSubnet(m.ciaddr()) || !onSubnet(m.giaddr())) {
            return List.of();
        }
        Key key = new Key(mac, m.xid());
        expireOffers();
        try {
            return switch (m.messageType()) {
                case DhcpMessage.DISCOVER -> discover(m, key);
                case DhcpMessage.REQUEST -> request(m, key);
                case DhcpMessage.DECLINE -> {
                    if (forUs(m)) { // RFC 2131 §4.3.3
                        m.options().requestedIp().ifPresent(ip -> io(() -> leases.decline(ip, config.declineHold())));
                        offers.remove(key);
                        log.warn("DHCP: {} declined {}", mac, m.options().requestedIp().orElse(null));
                    }
                    yield List.of();
                }
                case DhcpMessage.RELEASE -> {
                    if (forUs(m)) { // RFC 2131 §4.3.4
                        io(() -> leases.release(mac, m.ciaddr()));
                    }
                    yield List.of();
                }
                case DhcpMessage.INFORM -> // RFC 2131 §4.3.5: configuration only, no lease, no yiaddr
                        List.of(new DhcpEndpoint.Reply(reply(m, DhcpMessage.ACK, DhcpMessage.ZERO).withCiaddr(m.ciaddr()),
                                config.routes().forReply(m, false)));
                default -> List.of();
            };
        } catch (UncheckedIOException e) {
            log.error("DHCP: lease file {} cannot be written; not answering {}", config.leaseFile(), mac, e);
            return List.of();
        }
    }

    private List<DhcpEndpoint.Reply> discover(DhcpMessage m, Key key) {
        Inet4Address ip = leases.choose(key.mac(), m.options().requestedIp().orElse(null), offeredToOthers(key.mac()));
        if (ip == null) {
            log.warn("DHCP: pool exhausted, no offer for {}", key.mac());
            return List.of();
        }
        if (offers.size() >= MAX_OFFERS) {
            offers.remove(offers.keySet().iterator().next());
        }
        offers.put(key, new Offer(ip, config.clock().instant().plus(config.offerTime())));
        return List.of(new DhcpEndpoint.Reply(reply(m, DhcpMessage.OFFER, ip), config.routes().forReply(m, false)));
    }

    /** RFC 2131 §4.3.2: SELECTING (54 present), INIT-REBOOT (50, no ciaddr), RENEWING/REBINDING (ciaddr). */
    private List<DhcpEndpoint.Reply> request(DhcpMessage m, Key key) {
        Optional<Inet4Address> serverId = m.options().serverId();
        Optional<Inet4Address> wanted = m.options().requestedIp();
        Inet4Address ip;
        if (serverId.isPresent()) {
            Offer offer = offers.remove(key);
            if (!forUs(m)) {
                return List.of(); // the client chose another server
            }
            ip = wanted.orElse(null);
            boolean ok = ip != null && (offer != null ? offer.ip().equals(ip) : isOwn(key.mac(), ip));
            if (!ok) {
                return nak(m, "requested address was not offered");
            }
        } else if (!PxeClient.isZero(m.ciaddr())) {
            ip = m.ciaddr();
        } else if (wanted.isPresent()) {
            ip = wanted.get();
        } else {
            return List.of();
        }
        if (!leases.available(ip, key.mac()) || offeredToOthers(key.mac()).contains(DhcpMessage.toInt(ip))) {
            return nak(m, "address not available");
        }
        Inet4Address bound = ip;
        io(() -> leases.commit(key.mac(), bound, config.leaseTime()));
        log.info("DHCP: ack {} for {}", ip.getHostAddress(), key.mac());
        sightings.saw(key.mac(), ip);
        return List.of(new DhcpEndpoint.Reply(reply(m, DhcpMessage.ACK, ip), config.routes().forReply(m, false)));
    }

    private java.util.Set<Integer> offeredToOthers(String mac) {
        java.util.Set<Integer> out = new java.util.HashSet<>();
        offers.forEach((k, o) -> {
            if (!k.mac().equals(mac)) {
                out.add(DhcpMessage.toInt(o.ip()));
            }
        });
        return out;
    }

    private boolean isOwn(String mac, Inet4Address ip) {
        Leases.Lease l = leases.leaseOf(mac);
        return l != null && l.ip().equals(ip);
    }

    private List<DhcpEndpoint.Reply> nak(DhcpMessage m, String why) {
        log.info("DHCP: nak {} ({})", m.mac(), why);
        DhcpOptions o = new DhcpOptions().putByte(DhcpOptions.MESSAGE_TYPE, DhcpMessage.NAK)
                .putAddress(DhcpOptions.SERVER_ID, config.serverAddress()).putString(DhcpOptions.MESSAGE, why);
        return List.of(new DhcpEndpoint.Reply(DhcpMessage.replyTo(m, DhcpMessage.ZERO, DhcpMessage.ZERO, "", o),
                config.routes().forReply(m, true)));
    }

    /**
     * An OFFER or ACK (RFC 2131 §4.3.1 table 3) with network options and, for PXE clients, the boot
     * answer. (An INFORM's ACK also carries the client's ciaddr, which the caller adds.)
     */
    private DhcpMessage reply(DhcpMessage m, int type, Inet4Address yiaddr) {
        DhcpOptions o = new DhcpOptions().putByte(DhcpOptions.MESSAGE_TYPE, type)
                .putAddress(DhcpOptions.SERVER_ID, config.serverAddress());
        if (!PxeClient.isZero(yiaddr)) {
            long t = config.leaseTime().toSeconds();
            o.putInt(DhcpOptions.LEASE_TIME, t).putInt(DhcpOptions.RENEWAL_T1, t / 2)
                    .putInt(DhcpOptions.REBINDING_T2, t * 7 / 8); // RFC 2131 §4.4.5 defaults
        }
        o.putAddress(DhcpOptions.SUBNET_MASK, config.subnetMask());
        if (config.router() != null) {
            o.putAddress(DhcpOptions.ROUTER, config.router());
        }
        if (!config.dns().isEmpty()) {
            o.putAddress(DhcpOptions.DNS, config.dns().toArray(new Inet4Address[0]));
        }
        int mask = DhcpMessage.toInt(config.subnetMask());
        o.putAddress(DhcpOptions.BROADCAST,
                DhcpMessage.fromInt(DhcpMessage.toInt(config.serverAddress()) & mask | ~mask));
        Optional<PxeClient> pxe = PxeClient.of(m, decision, config.bootFiles());
        String file = pxe.map(p -> p.addBootOptions(m, o)).orElse("");
        if (pxe.isPresent() && m.messageType() == DhcpMessage.DISCOVER) {
            decision.booting(pxe.get().machine());
        }
        Inet4Address siaddr = pxe.isPresent() ? config.serverAddress() : DhcpMessage.ZERO;
        return DhcpMessage.replyTo(m, yiaddr, siaddr, file, o);
    }

    private boolean forUs(DhcpMessage m) {
        return m.options().serverId().map(config.serverAddress()::equals).orElse(false);
    }

    private void expireOffers() {
        Instant now = config.clock().instant();
        for (Iterator<Offer> it = offers.values().iterator(); it.hasNext(); ) {
            if (it.next().expires().isBefore(now)) {
                it.remove();
            }
        }
    }

    private interface IoAction {
        void run() throws IOException;
    }

    private static void io(IoAction a) {
        try {
            a.run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        if (endpoint != null) {
            endpoint.close();
        }
        if (pinned != null) {
            pinned.close();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
