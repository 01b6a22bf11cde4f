package dev.apiary.pxe.tftp;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.AccessDeniedException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Read-only TFTP server (RFC 1350) with option negotiation (RFC 2347: blksize 2348, tsize and
 * timeout 2349, windowsize 7440). The well-known port only takes requests; each admitted RRQ gets
 * its own channel on an ephemeral port of the same local address, its TID (RFC 1350 §4). Write
 * requests are refused. A cap on concurrent transfers queues, rather than fails, a boot storm.
 *
 * <p>Bind it to the boot interface's address rather than the wildcard: transfer channels bind to
 * the same address, and a wildcard bind lets the kernel pick their source address.
 */
public final class TftpServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TftpServer.class);

    /**
     * @param maxTransfers concurrent transfers; more requests wait (boot-storm admission control)
     * @param maxWait how long a request may wait for a slot before ERROR 0 "busy"
     * @param initialTimeout first retransmission timeout unless the client negotiates one; doubles per retry
     * @param maxRetries retransmissions of one packet before the transfer is given up
     * @param maxBlockSize largest blksize granted (RFC 2348 allows up to 65464)
     * @param maxWindowSize largest windowsize granted (RFC 7440 allows up to 65535)
     */
    public record Config(int maxTransfers, Duration maxWait, Duration initialTimeout, int maxRetries,
            int maxBlockSize, int maxWindowSize) {
        public Config {
            if (maxTransfers < 1 || maxRetries < 0 || maxBlockSize < 8 || maxBlockSize > TftpCodec.MAX_BLOCK_SIZE
                    || maxWindowSize < 1 || maxWindowSize > 65535 || initialTimeout.toMillis() < 1) {
                throw new IllegalArgumentException("bad TFTP config " + this);
            }
        }

        public static Config defaults() {
            return new Config(64, Duration.ofSeconds(60), Duration.ofSeconds(1), 5, TftpCodec.MAX_BLOCK_SIZE, 64);
        }

        public Config withMaxTransfers(int n) {
            return new Config(n, maxWait, initialTimeout, maxRetries, maxBlockSize, maxWindowSize);
        }

        public Config withMaxWait(Duration d) {
            return new Config(maxTransfers, d, initialTimeout, maxRetries, maxBlockSize, maxWindowSize);
        }

        public Config withTimeouts(Duration initial, int retries) {
            return new Config(maxTransfers, maxWait, initial, retries, maxBlockSize, maxWindowSize);
        }
    }

    private final InetSocketAddress bindAddress;
    private final FileSource source;
    private final Config config;
    private final Admission admission;
    private final EventLoopGroup group;
    private final Class<? extends DatagramChannel> channelClass;
    private volatile Predicate<ByteBuf> dropOutbound; // test hook for packet loss
    private Channel channel;

    public TftpServer(InetSocketAddress bindAddress, FileSource source, Config config) {
        this.bindAddress = bindAddress;
        this.source = source;
        this.config = config;
        this.admission = new Admission(config.maxTransfers());
        // NIO, not epoll: with the epoll transport, closing one transfer's channel and binding the
        // next one's from the same read loop (admission hand-over) lost the new channel's first
        // inbound datagram now and then (seen with 50 curl clients and a cap of 1), costing a
        // retransmission timeout. NIO shows no such loss and is as fast on loopback here.
        this.group = new MultiThreadIoEventLoopGroup(NioIoHandler.newFactory());
        this.channelClass = NioDatagramChannel.class;
    }

    /** Binds the request port. */
    public TftpServer start() throws InterruptedException {
        ChannelFuture f = new Bootstrap().group(group).channel(channelClass)
                .option(ChannelOption.SO_RCVBUF, 1 << 20)
                .handler(new RequestHandler())
                .bind(bindAddress).sync();
        channel = f.channel();
        log.info("[tftp] listening on {}", localAddress());
        return this;
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** Transfers running now. */
    public int activeTransfers() {
        return admission.active();
    }

    /** Requests waiting for a transfer slot. */
    public int waitingRequests() {
        return admission.waiting();
    }

    /** Test hook: outbound DATA/OACK packets for which this returns true are dropped (not sent). */
    void dropOutbound(Predicate<ByteBuf> drop) {
        this.dropOutbound = drop;
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close().syncUninterruptibly();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** The well-known port: RRQs start transfers, everything else is refused or ignored. */
    private final class RequestHandler extends SimpleChannelInboundHandler<DatagramPacket> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
            InetSocketAddress client = p.sender();
            TftpPacket packet;
            try {
                packet = TftpCodec.decode(p.content());
            } catch (TftpCodec.MalformedPacketException e) {
                log.debug("[tftp] {}: malformed request: {}", client, e.getMessage());
                reply(ctx, client, TftpPacket.Error.ILLEGAL_OPERATION, "malformed request: " + e.getMessage());
                return;
            }
            switch (packet) {
                case TftpPacket.ReadRequest r -> read(ctx, client, r);
                case TftpPacket.WriteRequest w -> {
                    log.info("[tftp] {}: write request for {} refused", client, w.filename());
                    reply(ctx, client, TftpPacket.Error.ACCESS_VIOLATION, "read-only server: write requests are refused");
                }
                // An ERROR is never answered (RFC 1350 §7); stray DATA/ACK/OACK belong to no transfer here.
                case TftpPacket.Error e -> log.debug("[tftp] {}: stray ERROR {} on the request port", client, e.code());
                default -> reply(ctx, client, TftpPacket.Error.ILLEGAL_OPERATION, "only read requests are served here");
            }
        }

        private void read(ChannelHandlerContext ctx, InetSocketAddress client, TftpPacket.ReadRequest r) {
            Optional<FileSource.Source> opened;
            try {
                opened = source.open(r.filename(), client);
            } catch (AccessDeniedException e) {
                log.info("[tftp] {}: {} refused: {}", client, r.filename(), e.getReason());
                reply(ctx, client, TftpPacket.Error.ACCESS_VIOLATION,
                        e.getReason() == null ? "access violation" : "access violation: " + e.getReason());
                return;
            } catch (IOException | RuntimeException e) {
                log.warn("[tftp] {}: opening {} failed: {}", client, r.filename(), e.toString());
                reply(ctx, client, TftpPacket.Error.NOT_DEFINED, "cannot open file");
                return;
            }
            if (opened.isEmpty()) {
                log.info("[tftp] {}: {} not found", client, r.filename());
                reply(ctx, client, TftpPacket.Error.FILE_NOT_FOUND, "file not found");
                return;
            }
            FileSource.Source src = opened.get();
            boolean netascii = r.mode() == TftpPacket.Mode.NETASCII;
            ReadableByteChannel in = netascii ? new NetasciiChannel(src.channel()) : src.channel();
            TftpOptions options = TftpOptions.negotiate(r.options(), netascii ? -1 : src.size(),
                    config.maxBlockSize(), config.maxWindowSize());
            Admission.Key key = new Admission.Key(client, r.filename(), r.options());
            Transfer transfer = new Transfer(client, r.filename(), in, options, config.initialTimeout().toMillis(),
                    config.maxRetries(), dropOutbound, () -> admission.answered(key), () -> admission.release(key));
            Admission.Waiting w = new Admission.Waiting(key, () -> launch(transfer, in, key));
            Admission.Outcome outcome = admission.submit(w);
            if (outcome == Admission.Outcome.DUPLICATE) {
                close(in); // the same client's retransmitted RRQ; the first one keeps its place
            } else if (outcome == Admission.Outcome.QUEUED) {
                log.debug("[tftp] {}: {} waits for a transfer slot", client, r.filename());
                ctx.executor().schedule(() -> {
                    if (admission.withdraw(w)) {
                        close(in);
                        log.warn("[tftp] {}: {} waited {} for a slot, refused as busy", client, r.filename(),
                                config.maxWait());
                        reply(ctx, client, TftpPacket.Error.NOT_DEFINED, "busy, try later");
                    }
                }, config.maxWait().toMillis(), TimeUnit.MILLISECONDS);
            }
        }

        /** Opens the transfer's own TID channel on the request channel's address, port 0. */
        private void launch(Transfer transfer, ReadableByteChannel in, Admission.Key key) {
            InetSocketAddress local = new InetSocketAddress(localAddress().getAddress(), 0);
            new Bootstrap().group(group).channel(channelClass)
                    .option(ChannelOption.SO_SNDBUF, 1 << 20)
                    .handler(transfer)
                    .bind(local).addListener((ChannelFuture f) -> {
                        if (!f.isSuccess()) {
                            log.warn("[tftp] {}: cannot open a transfer port: {}", key.client(), f.cause().toString());
                            close(in);
                            admission.release(key);
                        }
                    });
        }

        private void reply(ChannelHandlerContext ctx, InetSocketAddress to, int code, String message) {
            ByteBuf b = TftpCodec.encode(ctx.alloc(), new TftpPacket.Error(code, message));
            ctx.writeAndFlush(new DatagramPacket(b, to));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.warn("[tftp] request port: {}", cause.toString());
        }
    }

    /**
     * Stand-alone use, for benchmarks and manual checks: {@code TftpServer ADDRESS PORT ROOT [MAX_TRANSFERS]}.
     * Runs until killed.
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: TftpServer ADDRESS PORT ROOT [MAX_TRANSFERS]");
            System.exit(2);
        }
        Config config = Config.defaults();
        if (args.length > 3) {
            config = config.withMaxTransfers(Integer.parseInt(args[3]));
        }
        TftpServer server = new TftpServer(new InetSocketAddress(args[0], Integer.parseInt(args[1])),
                new RootDirectory(java.nio.file.Path.of(args[2])), config).start();
        Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        System.out.println("[tftp] serving " + args[2] + " on " + server.localAddress());
        Thread.currentThread().join();
    }

    private static void close(ReadableByteChannel in) {
        try {
            in.close();
        } catch (IOException e) {
            log.debug("[tftp] close: {}", e.toString());
        }
    }
}
