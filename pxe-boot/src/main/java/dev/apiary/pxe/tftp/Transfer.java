package dev.apiary.pxe.tftp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One read transfer on its own channel, i.e. its own TID (RFC 1350 §4). Sends windows of DATA
 * (RFC 7440; a window of 1 is plain RFC 1350 lock-step), keeps the unacknowledged blocks for
 * retransmission, and retransmits on a timer with exponential back-off. All state is touched on
 * the channel's event loop only.
 */
final class Transfer extends SimpleChannelInboundHandler<DatagramPacket> {
    private static final Logger log = LoggerFactory.getLogger(Transfer.class);
    private static final long MAX_BACKOFF_MS = 30_000;

    private final InetSocketAddress client;
    private final String filename;
    private final ReadableByteChannel in;
    private final TftpOptions options;
    private final long initialTimeoutMs;
    private final int maxRetries;
    private final Runnable onEnd;
    private final Runnable onFirstAnswer;
    private boolean answered;
    private final Predicate<ByteBuf> dropOutbound;

    /** DATA packets of blocks acked+1 .. acked+unacked.size(), kept until acknowledged. */
    private final ArrayDeque<ByteBuf> unacked = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private ByteBuf oack; // kept until ACK 0 (RFC 2347 §2)
    private long acked; // 64-bit block index: block numbers roll over 65535 -> 0, indices do not
    private long lastBlock = -1; // index of the final, short block once read
    private int retries;
    private ScheduledFuture<?> timer;
    private boolean ended;

    Transfer(InetSocketAddress client, String filename, ReadableByteChannel in, TftpOptions options,
            long initialTimeoutMs, int maxRetries, Predicate<ByteBuf> dropOutbound, Runnable onFirstAnswer,
            Runnable onEnd) {
        this.client = client;
        this.filename = filename;
        this.in = in;
        this.options = options;
        // RFC 2349 §3: a negotiated timeout is the interval both sides use before retransmitting.
        this.initialTimeoutMs = options.timeoutSeconds() > 0 ? options.timeoutSeconds() * 1000L : initialTimeoutMs;
        this.maxRetries = maxRetries;
        this.dropOutbound = dropOutbound;
        this.onFirstAnswer = onFirstAnswer;
        this.onEnd = onEnd;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        log.debug("[tftp] {} {}: transfer from {} with {}", client, filename, ctx.channel().localAddress(),
                options.oack());
        if (!options.oack().isEmpty()) {
            oack = TftpCodec.encode(ctx.alloc(), new TftpPacket.OAck(options.oack()));
            send(oack.retainedDuplicate());
            ctx.flush();
            arm();
        } else {
            sendWindow(); // RFC 1350 §4: DATA 1 is the answer to an RRQ without options
        }
        ctx.fireChannelActive();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
        if (ended) {
            return;
        }
        if (!p.sender().equals(client)) {
            // RFC 1350 §4: a packet from a foreign TID gets ERROR 5 and does not disturb the transfer.
            error(p.sender(), TftpPacket.Error.UNKNOWN_TID, "unknown transfer ID");
            ctx.flush();
            return;
        }
        TftpPacket packet;
        try {
            packet = TftpCodec.decode(p.content());
        } catch (TftpCodec.MalformedPacketException e) {
            log.debug("[tftp] {} {}: ignoring malformed packet: {}", client, filename, e.getMessage());
            return;
        }
        if (!answered) {
            answered = true;
            onFirstAnswer.run();
        }
        switch (packet) {
            case TftpPacket.Ack a -> onAck(a.block());
            case TftpPacket.Error e -> {
                // RFC 2347 §4 and PXE ROMs: ERROR 8 (or 0) right after an OACK ends a tsize probe.
                if (oack != null) {
                    log.debug("[tftp] {} {}: client ended after OACK: {} {}", client, filename, e.code(), e.message());
                } else {
                    log.info("[tftp] {} {}: client aborted: {} {}", client, filename, e.code(), e.message());
                }
                end();
            }
            default -> {
                error(client, TftpPacket.Error.ILLEGAL_OPERATION, "unexpected " + packet.getClass().getSimpleName());
                ctx.flush();
                end();
            }
        }
    }

    private void onAck(int block) {
        if (oack != null) {
            if (block == 0) { // RFC 2347 §2: ACK 0 confirms the OACK; data starts at block 1
                oack.release();
                oack = null;
                retries = 0;
                sendWindow();
            }
            return;
        }
        // Distance of the acknowledged block past the last acknowledged one, modulo 2^16 (rollover).
        int distance = (block - (int) (acked & 0xFFFF)) & 0xFFFF;
        if (distance == 0 || distance > unacked.size()) {
            return; // duplicate or stray ACK: never resend on it (Sorcerer's Apprentice, RFC 1123 §4.2.3.1)
        }
        for (int i = 0; i < distance; i++) {
            unacked.pollFirst().release();
        }
        acked += distance;
        if (acked == lastBlock) {
            // As dnsmasq does ("sent /srv/tftp/x to 10.0.0.5"): one line per file served.
            log.info("[tftp] sent {} to {} ({} blocks of {} bytes)", filename, client, lastBlock,
                    options.blockSize());
            end();
            return;
        }
        retries = 0;
        // RFC 7440 §4: an ACK inside the window means loss; the next window starts after it.
        sendWindow();
    }

    /** Sends blocks acked+1 .. acked+windowsize, reading those not read yet, and arms the timer. */
    private void sendWindow() {
        try {
            while (unacked.size() < options.windowSize() && lastBlock < 0) {
                long index = acked + unacked.size() + 1;
                ByteBuf data = readBlock(index);
                unacked.addLast(data);
                if (data.readableBytes() - 4 < options.blockSize()) {
                    lastBlock = index; // RFC 1350 §6: a block shorter than blksize ends the file
                }
            }
        } catch (IOException e) {
            log.warn("[tftp] {} {}: read failed: {}", client, filename, e.toString());
            error(client, TftpPacket.Error.NOT_DEFINED, "read error");
            ctx.flush();
            end();
            return;
        }
        for (ByteBuf data : unacked) {
            send(data.retainedDuplicate());
        }
        ctx.flush();
        arm();
    }

    private ByteBuf readBlock(long index) throws IOException {
        int size = options.blockSize();
        ByteBuf buf = TftpCodec.dataHeader(ctx.alloc(), (int) index, size);
        try {
            for (int spins = 0; buf.writerIndex() < 4 + size && spins < 1000; spins++) {
                ByteBuffer nio = buf.nioBuffer(buf.writerIndex(), 4 + size - buf.writerIndex());
                int n = in.read(nio);
                if (n < 0) {
                    break;
                }
                buf.writerIndex(buf.writerIndex() + n);
            }
            return buf;
        } catch (IOException | RuntimeException e) {
            buf.release();
            throw e;
        }
    }

    private void arm() {
        if (timer != null) {
            timer.cancel(false);
        }
        long delay = Math.min(MAX_BACKOFF_MS, initialTimeoutMs << Math.min(retries, 16));
        timer = ctx.executor().schedule(this::timedOut, delay, TimeUnit.MILLISECONDS);
    }

    /** RFC 1350 §2 / RFC 7440 §4: nothing came back in time, so send the OACK or whole window again. */
    private void timedOut() {
        if (ended) {
            return;
        }
        if (++retries > maxRetries) {
            log.warn("[tftp] {} {}: no answer after {} retransmissions, giving up at block {}",
                    client, filename, maxRetries, acked);
            error(client, TftpPacket.Error.NOT_DEFINED, "timed out");
            ctx.flush();
            end();
            return;
        }
        log.debug("[tftp] {} {}: retransmission {} after block {}", client, filename, retries, acked);
        if (oack != null) {
            send(oack.retainedDuplicate());
            ctx.flush();
            arm();
        } else {
            sendWindow();
        }
    }

    private void send(ByteBuf packet) {
        if (dropOutbound != null && dropOutbound.test(packet)) {
            packet.release(); // test hook: simulated loss
            return;
        }
        ctx.write(new DatagramPacket(packet, client));
    }

    private void error(InetSocketAddress to, int code, String message) {
        ctx.write(new DatagramPacket(TftpCodec.encode(ctx.alloc(), new TftpPacket.Error(code, message)), to));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        end();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            // e.g. ICMP port unreachable once the client has gone; the retry limit ends the transfer
            log.debug("[tftp] {} {}: {}", client, filename, cause.toString());
        } else {
            log.warn("[tftp] {} {}: {}", client, filename, cause.toString(), cause);
        }
    }

    /** Idempotent: frees buffers, the file and the admission slot, and closes the TID's channel. */
    private void end() {
        if (ended) {
            return;
        }
        ended = true;
        if (timer != null) {
            timer.cancel(false);
        }
        if (oack != null) {
            oack.release();
            oack = null;
        }
        ByteBuf b;
        while ((b = unacked.pollFirst()) != null) {
            b.release();
        }
        try {
            in.close();
        } catch (IOException e) {
            log.debug("[tftp] closing {}: {}", filename, e.toString());
        }
        if (ctx != null) {
            ctx.close();
        }
        onEnd.run();
    }
}
