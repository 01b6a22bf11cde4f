package dev.apiary.iscsi.session;

import dev.apiary.iscsi.login.LoginNegotiator;
import dev.apiary.iscsi.login.LoginReply;
import dev.apiary.iscsi.login.LoginStatus;
import dev.apiary.iscsi.login.TextKeys;
import dev.apiary.iscsi.pdu.Frame;
import dev.apiary.iscsi.pdu.InitiatorPdu;
import dev.apiary.iscsi.pdu.InitiatorPdu.DataOut;
import dev.apiary.iscsi.pdu.InitiatorPdu.Invalid;
import dev.apiary.iscsi.pdu.InitiatorPdu.LoginRequest;
import dev.apiary.iscsi.pdu.InitiatorPdu.LogoutRequest;
import dev.apiary.iscsi.pdu.InitiatorPdu.NopOut;
import dev.apiary.iscsi.pdu.InitiatorPdu.ScsiCommand;
import dev.apiary.iscsi.pdu.InitiatorPdu.SnackRequest;
import dev.apiary.iscsi.pdu.InitiatorPdu.TaskMgmtRequest;
import dev.apiary.iscsi.pdu.InitiatorPdu.TextRequest;
import dev.apiary.iscsi.pdu.RejectReason;
import dev.apiary.iscsi.pdu.TargetPdu;
import dev.apiary.iscsi.pdu.TargetPdu.LoginResponse;
import dev.apiary.iscsi.pdu.TargetPdu.LogoutResponse;
import dev.apiary.iscsi.pdu.TargetPdu.NopIn;
import dev.apiary.iscsi.pdu.TargetPdu.Reject;
import dev.apiary.iscsi.pdu.WireSettings;
import dev.apiary.iscsi.scsi.Nexus;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * One iSCSI connection: the login phase, then the full feature phase's dispatch (RFC 7143 §4.2).
 * Everything here runs on the channel's event loop. SCSI commands and their data are
 * {@link ScsiTasks}'s; task management {@link TaskManagement}'s; text requests {@link SendTargets}'.
 */
public final class Connection extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(Connection.class);

    final PortalContext portal;
    Channel channel;
    private LoginNegotiator login;
    Session session;
    CommandWindow<InitiatorPdu> window;
    private int statSn;
    private int nextTtt = 1;
    private int pingTtt = TargetPdu.RESERVED_TAG;
    /** Set when a reinstating login took this session's place; its nexus was already ended then. */
    volatile boolean replaced;
    final ScsiTasks scsi = new ScsiTasks(this);
    private final TaskManagement tmf = new TaskManagement(this);
    private final SendTargets text = new SendTargets(this);

    public Connection(PortalContext portal) {
        this.portal = portal;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        login = new LoginNegotiator(portal.exports().get(), portal.portalGroupTag(), portal.random(), portal.offers());
        // A login must finish within this time however the peer trickles bytes (LIO has a fixed
        // login timeout too); the idle timer alone restarts on every byte.
        ctx.executor().schedule(() -> {
            if (login != null && channel.isActive()) {
                log.info("[iscsi] {}: login not completed in {} s; closing", channel.remoteAddress(),
                        portal.loginTimeoutSeconds());
                channel.close();
            }
        }, portal.loginTimeoutSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        InitiatorPdu pdu = (InitiatorPdu) msg;
        if (login != null) {
            loginPhase(pdu);
        } else {
            fullFeature(pdu);
        }
    }

    // ---- sequence numbers (RFC 7143 §4.2.2) ----

    /** StatSN for a PDU that carries status; it advances. */
    int takeStatSn() {
        return statSn++;
    }

    /** StatSN for a PDU without status (R2T, Data-In without S, the target's NOP-In ping). */
    int currentStatSn() {
        return statSn;
    }

    int expCmdSn() {
        return window.expCmdSn();
    }

    int maxCmdSn() {
        return window.maxCmdSn();
    }

    int nextTtt() {
        int t = nextTtt++;
        if (nextTtt == TargetPdu.RESERVED_TAG) {
            nextTtt = 1;
        }
        return t;
    }

    void send(TargetPdu pdu) {
        channel.write(pdu, channel.voidPromise());
    }

    void flush() {
        channel.flush();
    }

    void close() {
        if (channel != null) {
            channel.close();
        }
    }

    // ---- login phase (§6) ----

    private void loginPhase(InitiatorPdu pdu) {
        try {
            if (!(pdu instanceof LoginRequest req)) {
                // §6.1: only Login PDUs are allowed before the login completes; there is no safe answer.
                log.info("[iscsi] {}: {} before login completed; dropping the connection", channel.remoteAddress(),
                        pdu.getClass().getSimpleName());
                channel.close();
                return;
            }
            if (window == null) {
                window = new CommandWindow<>(req.cmdSn(), portal.queueDepth());
                statSn = req.expStatSn();
            }
            LoginReply reply = login.handle(req, ByteBufUtil.getBytes(req.data()));
            int tsih = req.tsih();
            if (reply.completesLogin()) {
                LoginStatus refused = establish();
                if (refused != null) {
                    reply = new LoginReply(refused, false, reply.csg(), 0, java.util.Map.of());
                } else {
                    tsih = session.tsih();
                }
            }
            ByteBuf data = reply.keys().isEmpty() ? null : channel.alloc().buffer().writeBytes(TextKeys.encode(reply.keys()));
            LoginStatus status = reply.status();
            send(new LoginResponse(reply.transit(), false, reply.csg(), reply.nsg(), req.isid(), tsih, req.itt(),
                    takeStatSn(), expCmdSn(), maxCmdSn(), status.statusClass, status.detail, data));
            if (reply.failed()) {
                log.info("[iscsi] login from {} ({}) refused: {}", channel.remoteAddress(), login.initiatorName(), status);
                closeAfterFlush();
                return;
            }
            flush();
            if (reply.completesLogin()) {
                // §13.1: digests start with the first PDU after the final login response.
                WireSettings.of(channel).enterFullFeature(session.params().headerDigest(), session.params().dataDigest(),
                        session.params().targetMaxRecvDataSegmentLength());
                log.atLevel(portal.logSessions() ? Level.INFO : Level.DEBUG)
                        .log("[iscsi] {} logged in to {} from {} (tsih {}, header digest {}, data digest {})",
                        session.initiatorName(), session.discovery() ? "discovery" : session.targetName(),
                        channel.remoteAddress(), session.tsih(), session.params().headerDigest() ? "CRC32C" : "None",
                        session.params().dataDigest() ? "CRC32C" : "None");
                login = null;
            }
        } finally {
            pdu.release();
        }
    }

    /** Creates the session once CHAP has passed; reinstates an older one with the same ISID (§6.3.5). */
    private LoginStatus establish() {
        if (login.tsih() != 0) {
            // MaxConnections is 1: a login naming an existing TSIH would add a second connection.
            return portal.sessions().exists(login.tsih()) ? LoginStatus.TOO_MANY_CONNECTIONS
                    : LoginStatus.SESSION_DOES_NOT_EXIST;
        }
        String targetName = login.target() == null ? "" : login.target().iqn();
        Nexus nexus = Nexus.iscsi(login.initiatorName(), login.isid(), targetName, portal.portalGroupTag(),
                portal.relativePort());
        session = new Session(login.initiatorName(), login.isid(), portal.sessions().allocateTsih(), login.target(),
                login.params(), nexus, login.chapUser(), this);
        Session old = portal.sessions().register(session);
        if (old != null) {
            // §6.3.5: reinstatement ends the old I_T nexus now, before the new session can take a
            // reservation that the old connection's teardown would otherwise release.
            log.info("[iscsi] {} reinstates its session (tsih {} -> {})", session.initiatorName(), old.tsih(), session.tsih());
            old.connection().replaced = true;
            nexusLost(old);
            old.close();
        }
        if (session.target() != null) {
            session.target().luns().units().values().forEach(lu -> lu.nexusEstablished(nexus));
        }
        return null;
    }

    // ---- full feature phase ----

    private void fullFeature(InitiatorPdu pdu) {
        switch (pdu) {
            case DataOut d -> scsi.dataOut(d);
            case Invalid i -> invalid(i);
            case SnackRequest s -> { // §11.16: no SNACK at ErrorRecoveryLevel 0
                reject(RejectReason.PROTOCOL_ERROR, s);
                s.release();
            }
            case LoginRequest l -> { // §6.1: a login on a logged-in connection
                reject(RejectReason.PROTOCOL_ERROR, l);
                l.release();
            }
            case NopOut n when n.itt() == TargetPdu.RESERVED_TAG -> pingAnswered(n);
            default -> ordered(pdu);
        }
        flush();
    }

    private static int cmdSn(InitiatorPdu pdu) {
        return switch (pdu) {
            case ScsiCommand c -> c.cmdSn();
            case NopOut n -> n.cmdSn();
            case TaskMgmtRequest t -> t.cmdSn();
            case TextRequest t -> t.cmdSn();
            case LogoutRequest l -> l.cmdSn();
            default -> throw new IllegalArgumentException(pdu.toString());
        };
    }

    private static boolean immediate(InitiatorPdu pdu) {
        return switch (pdu) {
            case ScsiCommand c -> c.immediate();
            case NopOut n -> n.immediate();
            case TaskMgmtRequest t -> t.immediate();
            case TextRequest t -> t.immediate();
            case LogoutRequest l -> l.immediate();
            default -> true;
        };
    }

    /** §3.2.2.1: immediate commands run at once; the rest in CmdSN order, inside the window. */
    private void ordered(InitiatorPdu pdu) {
        if (immediate(pdu)) {
            if (pdu instanceof ScsiCommand && scsi.tasks.size() >= portal.queueDepth()) {
                // Immediate commands bypass the window; without this bound a peer could make the
                // target hold any number of write buffers (§11.17.1: "too many immediate commands").
                reject(RejectReason.IMMEDIATE_COMMAND_REJECTED, pdu);
                pdu.release();
                return;
            }
            execute(pdu);
            return;
        }
        switch (window.accept(cmdSn(pdu), pdu)) {
            case DELIVER -> {
                execute(pdu);
                for (InitiatorPdu next = window.nextInOrder(); next != null; next = window.nextInOrder()) {
                    execute(next);
                }
            }
            case QUEUED -> {}
            case IGNORED -> pdu.release(); // §3.2.2.1: silently ignored
        }
    }

    private void execute(InitiatorPdu pdu) {
        switch (pdu) {
            case ScsiCommand c -> scsi.command(c);
            case NopOut n -> nop(n);
            case TaskMgmtRequest t -> tmf.handle(t);
            case TextRequest t -> text.handle(t);
            case LogoutRequest l -> logout(l);
            default -> throw new IllegalStateException(pdu.toString());
        }
    }

    /** A non-immediate command other than a SCSI task has been answered: the window opens (§4.2.2.1). */
    void finishedNonTask(InitiatorPdu pdu) {
        if (!immediate(pdu)) {
            window.finished();
        }
    }

    /** §11.18/§11.19: a ping is answered with its own data, up to the initiator's receive limit. */
    private void nop(NopOut n) {
        try {
            finishedNonTask(n);
            ByteBuf data = n.data();
            int len = Math.min(data.readableBytes(), session.params().initiatorMaxRecvDataSegmentLength());
            ByteBuf echo = len == 0 ? null : data.retainedSlice(data.readerIndex(), len);
            send(new NopIn(n.lun(), n.itt(), TargetPdu.RESERVED_TAG, takeStatSn(), expCmdSn(), maxCmdSn(), echo));
        } finally {
            n.release();
        }
    }

    private void pingAnswered(NopOut n) {
        if (n.ttt() == pingTtt) {
            pingTtt = TargetPdu.RESERVED_TAG;
        }
        n.release();
    }

    /** §11.14: close the session or the connection; connection recovery needs ERL 2. */
    private void logout(LogoutRequest l) {
        try {
            finishedNonTask(l);
            int response = l.reason() == 2 ? 2 : 0;
            channel.write(new LogoutResponse(response, l.itt(), takeStatSn(), expCmdSn(), maxCmdSn(), 0, 0));
            if (response == 0) {
                closeAfterFlush();
            }
        } finally {
            l.release();
        }
    }

    private void invalid(Invalid i) {
        log.info("[iscsi] {}: rejecting a PDU: {}", channel.remoteAddress(), i.why());
        int reason = i.rejectReason();
        reject(reason, i);
        i.release();
        if (channel.pipeline().get(dev.apiary.iscsi.pdu.IscsiFrameDecoder.class).broken()
                || reason == RejectReason.DATA_DIGEST_ERROR.code) {
            // ERL 0 cannot recover a lost PDU boundary or lost data (§7.1.1, §7.8): end the connection.
            closeAfterFlush();
        }
    }

    /** Sends a Reject carrying the offending PDU's header (§11.17); the caller still owns the PDU. */
    void reject(RejectReason reason, InitiatorPdu pdu) {
        reject(reason.code, pdu);
    }

    private void reject(int reasonCode, InitiatorPdu pdu) {
        ByteBuf header = pdu.frame().buf().retainedSlice(0, Frame.BHS_LENGTH);
        send(new Reject(reasonCode, takeStatSn(), expCmdSn(), maxCmdSn(), 0, header));
    }

    /** Sends what is queued, then closes: the peer gets the answer that explains the close. */
    private void closeAfterFlush() {
        channel.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    // ---- keep-alive and teardown ----

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (!(evt instanceof IdleStateEvent)) {
            ctx.fireUserEventTriggered(evt);
            return;
        }
        if (login != null || pingTtt != TargetPdu.RESERVED_TAG) {
            // A login that stalls, or a peer that did not answer our last ping, holds resources for nothing.
            log.info("[iscsi] {}: idle {}; closing", channel.remoteAddress(), login != null ? "during login" : "after a ping");
            ctx.close();
            return;
        }
        pingTtt = nextTtt();
        ctx.writeAndFlush(new NopIn(0, TargetPdu.RESERVED_TAG, pingTtt, currentStatSn(), expCmdSn(), maxCmdSn(), null));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        scsi.connectionClosed();
        if (window != null) {
            for (InitiatorPdu p : window.queued()) {
                p.release();
            }
        }
        if (session != null) {
            portal.sessions().remove(session);
            if (!replaced) {
                nexusLost(session);
            }
            log.atLevel(portal.logSessions() ? Level.INFO : Level.DEBUG)
                    .log("[iscsi] {} connection to {} closed", session.initiatorName(), session.targetName());
        }
        ctx.fireChannelInactive();
    }

    private static void nexusLost(Session s) {
        if (s.target() != null) {
            s.target().luns().units().values().forEach(lu -> lu.nexusLost(s.nexus()));
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.info("[iscsi] {}: {}; closing", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
