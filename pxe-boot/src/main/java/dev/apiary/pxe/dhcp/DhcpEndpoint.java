package dev.apiary.pxe.dhcp;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.socket.nio.NioDatagramChannel;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One UDP socket speaking DHCP: decodes each datagram with {@link DhcpCodec}, hands good messages
 * to a {@link Handler} and sends what it returns. Bad datagrams and handler failures are logged and
 * dropped; the socket keeps serving (the issue's "bad input" rule).
 */
final class DhcpEndpoint implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DhcpEndpoint.class);

    /** Answers one decoded request from {@code sender}; an empty list means "ignore it". */
    @FunctionalInterface
    interface Handler {
        List<Reply> handle(DhcpMessage request, InetSocketAddress sender);
    }

    record Reply(DhcpMessage message, InetSocketAddress to) {}

    final AtomicLong received = new AtomicLong(), malformed = new AtomicLong(), answered = new AtomicLong();
    private final Channel channel;
    private final String name;
    private final Channel sendVia;

    private DhcpEndpoint(Channel channel, String name, Channel sendVia) {
        this.channel = channel;
        this.name = name;
        this.sendVia = sendVia;
    }

    static DhcpEndpoint bind(EventLoopGroup group, InetSocketAddress local, String name, Handler handler)
            throws InterruptedException {
        return bind(group, local, name, handler, null);
    }

    /**
     * Binds the wildcard address, which is what receives broadcasts, and a second socket on
     * {@code serverAddress} and the same port, which receives unicasts to the server and sends all
     * replies. Linux sends a limited broadcast (255.255.255.255) from a socket bound to a local
     * address out of the interface owning that address, even with no route for it (the "special
     * hack" in ip_route_output_key_hash_rcu); from a wildcard socket it would follow the default
     * route, or fail with "Network is unreachable" on an isolated boot network. This is the
     * nearest Java gets to SO_BINDTODEVICE, which neither the JDK nor Netty 4.2 expose.
     */
    static DhcpEndpoint[] bindPinned(EventLoopGroup group, java.net.InetAddress serverAddress, int port,
            String name, Handler handler) throws InterruptedException {
        DhcpEndpoint pinned = bind(group, new InetSocketAddress(serverAddress, port), name + "@"
                + serverAddress.getHostAddress(), handler, null);
        try {
            DhcpEndpoint wildcard = bind(group, new InetSocketAddress(port == 0 ? pinned.port() : port), name, handler,
                    pinned.channel);
            return new DhcpEndpoint[] {wildcard, pinned};
        } catch (InterruptedException | RuntimeException e) {
            pinned.close();
            throw e;
        }
    }

    static DhcpEndpoint bind(EventLoopGroup group, InetSocketAddress local, String name, Handler handler,
            Channel sendVia) throws InterruptedException {
        DhcpEndpoint[] self = new DhcpEndpoint[1];
        Bootstrap b = new Bootstrap().group(group).channelFactory(() -> new NioDatagramChannel(SocketProtocolFamily.INET))
                .option(ChannelOption.SO_BROADCAST, true)
                .option(ChannelOption.SO_REUSEADDR, true)
                // Larger than MAX_MESSAGE, so an oversized datagram is seen as oversized, not cut to fit.
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(DhcpCodec.MAX_MESSAGE + 548))
                .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
                        self[0].receive(ctx, p, handler);
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        log.warn("{}: socket error, still serving", name, cause);
                    }
                });
        Channel ch = b.bind(local).sync().channel();
        self[0] = new DhcpEndpoint(ch, name, sendVia);
        log.info("{}: listening on {}", name, ch.localAddress());
        return self[0];
    }

    private void receive(ChannelHandlerContext ctx, DatagramPacket p, Handler handler) {
        received.incrementAndGet();
        DhcpCodec.Result r = DhcpCodec.decode(p.content());
        if (r instanceof DhcpCodec.Error e) {
            malformed.incrementAndGet();
            log.debug("{}: ignoring datagram from {}: {}", name, p.sender(), e.reason());
            return;
        }
        DhcpMessage m = ((DhcpCodec.Ok) r).message();
        if (m.op() != DhcpMessage.BOOTREQUEST) {
            return; // replies from other servers are not for us
        }
        List<Reply> replies;
        try {
            replies = handler.handle(m, p.sender());
        } catch (RuntimeException ex) {
            log.warn("{}: failed to answer {}; still serving", name, m, ex);
            return;
        }
        for (Reply reply : replies) {
            byte[] out;
            try {
                out = DhcpCodec.encodeBytes(reply.message());
            } catch (IllegalArgumentException ex) {
                log.warn("{}: cannot encode reply to {}: {}", name, m.mac(), ex.getMessage());
                continue;
            }
            answered.incrementAndGet();
            log.debug("{}: {} -> {}", name, reply.message(), reply.to());
            Channel via = sendVia != null ? sendVia : ctx.channel();
            via.writeAndFlush(new DatagramPacket(via.alloc().buffer(out.length).writeBytes(out), reply.to()))
                    .addListener(f -> {
                        if (!f.isSuccess()) {
                            log.warn("{}: sending to {} failed: {}", name, reply.to(), f.cause().toString());
                        }
                    });
        }
    }

    int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
    }
}
