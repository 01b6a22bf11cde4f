package dev.apiary.iscsi.portal;

import dev.apiary.iscsi.login.LoginKey;
import dev.apiary.iscsi.pdu.IscsiFrameDecoder;
import dev.apiary.iscsi.pdu.PduEncoder;
import dev.apiary.iscsi.session.Connection;
import dev.apiary.iscsi.session.PortalContext;
import dev.apiary.iscsi.session.SessionRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.timeout.IdleStateHandler;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * The iSCSI target process-wide: the Netty event loops that own the connections, the executor
 * that runs SCSI commands (volume I/O never runs on an event loop), the session registry, and the
 * current export table, which {@link #publish} swaps atomically.
 */
public final class TargetServer implements AutoCloseable {
    /** Tunables; the defaults suit a small gateway. A login must complete within twice {@code idleSeconds}. */
    public record Options(int eventLoops, int scsiThreads, int queueDepth, int idleSeconds, Map<LoginKey, String> offers) {
        public static Options defaults() {
            return new Options(2, 8, 128, 15, new EnumMap<>(LoginKey.class));
        }

        /**
         * For volumes whose calls wait on the network (Ceph RBD: each I/O is a round trip to an
         * OSD). READ and WRITE hold no thread while in flight (Volume.readAsync/writeAsync), but
         * SYNCHRONIZE CACHE, UNMAP and a gateway's lock takeover still wait on their SCSI thread:
         * 32, a Linux initiator's default queue depth, so those never starve the rest.
         */
        public static Options forNetworkVolumes() {
            return new Options(2, 32, 128, 15, new EnumMap<>(LoginKey.class));
        }
    }

    private final Options options;
    private final EventLoopGroup loops;
    private final ExecutorService scsiExecutor;
    private final SessionRegistry sessions = new SessionRegistry();
    private final AtomicReference<ExportTable> exports = new AtomicReference<>(new ExportTable(List.of()));
    private final List<Channel> listeners = new ArrayList<>();
    private final Class<? extends ServerChannel> channelClass;

    public TargetServer(Options options) {
        this.options = options;
        IoHandlerFactory io = Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.channelClass = Epoll.isAvailable() ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        this.loops = new MultiThreadIoEventLoopGroup(options.eventLoops(), io);
        AtomicInteger n = new AtomicInteger();
        this.scsiExecutor = new ThreadPoolExecutor(options.scsiThreads(), options.scsiThreads(), 60, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "scsi-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
    }

    public void publish(ExportTable table) {
        exports.set(table);
    }

    public ExportTable exports() {
        return exports.get();
    }

    public SessionRegistry sessions() {
        return sessions;
    }

    /**
     * Listens on {@code address}. A port that is taken is an error naming the address: there is no
     * fallback to another address (tgt silently falls back to 0.0.0.0, which users do not expect).
     */
    public synchronized InetSocketAddress listen(InetSocketAddress address, int portalGroupTag, int relativePort)
            throws IOException {
        return (InetSocketAddress) bind(address, portalGroupTag, relativePort, exports::get, true).localAddress();
    }

    /**
     * A portal that serves {@code table} instead of the published exports, with this server's loops,
     * SCSI threads and sessions ({@link Warmup}'s private target); closing the channel ends it.
     */
    synchronized Channel listenPrivate(InetSocketAddress address, ExportTable table) throws IOException {
        Channel ch = bind(address, 0, 1, () -> table, false);
        listeners.remove(ch);
        return ch;
    }

    private Channel bind(InetSocketAddress address, int portalGroupTag, int relativePort,
            Supplier<ExportTable> table, boolean logSessions) throws IOException {
        PortalContext ctx = new PortalContext(table, sessions, scsiExecutor, new SecureRandom(), portalGroupTag,
                relativePort, options.offers(), options.queueDepth(), 2 * options.idleSeconds(), logSessions);
        ServerBootstrap b = new ServerBootstrap()
                .group(loops)
                .channel(channelClass)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline()
                                .addLast(new IdleStateHandler(options.idleSeconds(), 0, 0))
                                .addLast(new FlushConsolidationHandler(64, true))
                                .addLast(new IscsiFrameDecoder())
                                .addLast(PduEncoder.INSTANCE)
                                .addLast(new Connection(ctx));
                    }
                });
        try {
            Channel ch = b.bind(address).sync().channel();
            listeners.add(ch);
            return ch;
        } catch (Exception e) {
            if (e instanceof BindException || e.getCause() instanceof BindException
                    || String.valueOf(e.getMessage()).contains("Address already in use")) {
                throw new IOException("cannot listen on " + address.getHostString() + ":" + address.getPort()
                        + ": address already in use", e);
            }
            throw new IOException("cannot listen on " + address + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        for (Channel ch : listeners) {
            ch.close().syncUninterruptibly();
        }
        sessions.all().forEach(s -> s.close());
        loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        scsiExecutor.shutdown();
        try {
            scsiExecutor.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
