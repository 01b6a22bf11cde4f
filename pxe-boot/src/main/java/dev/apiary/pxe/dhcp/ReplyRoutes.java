package dev.apiary.pxe.dhcp;

import java.net.InetSocketAddress;

/**
 * Where DHCP replies go. Production uses {@link #RFC2131}: broadcast to 255.255.255.255:68,
 * unicast to clients on 68 and to relays on 67. Tests on loopback use {@link #allTo}, which sends
 * every reply to one test socket, so nothing is ever broadcast on a real interface.
 *
 * @param testSink when true, every reply goes to {@code broadcast}
 */
public record ReplyRoutes(InetSocketAddress broadcast, int clientPort, int relayPort, boolean testSink) {
    public static final ReplyRoutes RFC2131 =
            new ReplyRoutes(new InetSocketAddress("255.255.255.255", 68), 68, 67, false);

    public static ReplyRoutes allTo(InetSocketAddress sink) {
        return new ReplyRoutes(sink, sink.getPort(), sink.getPort(), true);
    }

    /**
     * RFC 2131 §4.1 ("If the 'giaddr' field in a DHCP message from a client is non-zero ..."):
     * via the relay if there is one; DHCPNAK by broadcast; unicast to a client that already has an
     * address (ciaddr); otherwise broadcast, because unicasting to yiaddr would need an ARP entry
     * that a Java server cannot add.
     */
    public InetSocketAddress forReply(DhcpMessage request, boolean nak) {
        if (testSink) {
            return broadcast;
        }
        if (!PxeClient.isZero(request.giaddr())) {
            return new InetSocketAddress(request.giaddr(), relayPort);
        }
        if (!nak && !PxeClient.isZero(request.ciaddr())) {
            return new InetSocketAddress(request.ciaddr(), clientPort);
        }
        return broadcast;
    }
}
