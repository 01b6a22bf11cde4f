package dev.apiary.iscsi.wire;

import dev.apiary.chap.ChapAlgorithm;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A small blocking iSCSI initiator over one raw socket, for tests (RFC 7143): it logs in with CHAP,
 * runs SCSI commands through R2T/Data-Out and Data-In, and can send any bytes at all, so tests can
 * feed the target malformed PDUs. Every read has a socket timeout and every loop a bound.
 *
 * <p>While waiting for a response it answers the target's NOP-In pings (§11.19, TTT set), and
 * keeps PDUs nobody waited for in {@link #strays()}. Not thread-safe: one thread per initiator.
 */
public final class TestInitiator implements AutoCloseable {
    public static final int BLOCK = 512;
    private static final int MAX_PDUS_PER_WAIT = 100_000;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private long isid = 0x80_0000_0000_00L | ThreadLocalRandom.current().nextLong(1L << 40);
    private int loginItt = 0x1000;
    private int tsih;
    private int nextItt = 1;
    private int cmdSn = 1;
    private int expStatSn;
    private int expCmdSn;
    private int maxCmdSn;
    private Negotiated negotiated = Negotiated.LOGIN;
    private List<Pdu> recorded;
    private boolean sendImmediateData;
    private int dataOutChunk = 65536;
    private int pingsAnswered;
    private final List<Pdu> strays = new ArrayList<>();
    private final TaskTracker tasks = new TaskTracker();

    private TestInitiator(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
        this.out = new BufferedOutputStream(socket.getOutputStream(), 1 << 16);
    }

    public static TestInitiator connect(String host, int port) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.setSoTimeout(5_000);
        s.connect(new InetSocketAddress(host, port), 5_000);
        return new TestInitiator(s);
    }

    public static TestInitiator connect(InetSocketAddress a) throws IOException {
        return connect(a.getHostString(), a.getPort());
    }

    // ---- state ----

    public long isid() { return isid; }

    /** Sets the 48-bit ISID before login (same InitiatorName + ISID reinstates a session). */
    public TestInitiator isid(long v) {
        isid = v & 0xffff_ffff_ffffL;
        return this;
    }

    public int loginItt() { return loginItt; }

    public int tsih() { return tsih; }

    /** Sets the TSIH for the next login: nonzero asks to add a connection to that session (§6.3.1). */
    public TestInitiator tsih(int v) {
        tsih = v & 0xffff;
        return this;
    }

    public int cmdSn() { return cmdSn; }

    /** Sets the next CmdSN this initiator will use (tests of the command window). */
    public void cmdSn(int v) {
        cmdSn = v;
    }

    public int expStatSn() { return expStatSn; }

    public int expCmdSn() { return expCmdSn; }

    public int maxCmdSn() { return maxCmdSn; }

    public int newItt() { return nextItt++; }

    public Negotiated negotiated() { return negotiated; }

    /** Starts keeping every PDU the target sends, pings included, for tests to inspect. */
    public List<Pdu> record() {
        recorded = new ArrayList<>();
        return recorded;
    }

    public int pingsAnswered() { return pingsAnswered; }

    public int r2tsAnswered() { return tasks.r2tsAnswered(); }

    /** Send write data up to FirstBurstLength with the command when ImmediateData=Yes was agreed. */
    public TestInitiator sendImmediateData(boolean v) {
        sendImmediateData = v;
        return this;
    }

    public TestInitiator dataOutChunk(int v) {
        dataOutChunk = v;
        return this;
    }

    /** The Data-Out PDU size: the chosen chunk, within the target's MaxRecvDataSegmentLength. */
    int dataOutChunk() { return Math.min(dataOutChunk, negotiated.targetMaxRecv()); }

    public List<Pdu> strays() { return strays; }

    public void readTimeout(Duration d) throws IOException {
        socket.setSoTimeout((int) d.toMillis());
    }

    // ---- raw I/O ----

    public void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    public void send(Pdu p) throws IOException {
        sendRaw(p.encode());
    }

    /** The next PDU exactly as the target sent it, pings included. */
    public Pdu readRaw() throws IOException {
        Pdu p = Pdu.read(in);
        if (p.data().length > negotiated.ourMaxRecv()) {
            // §13.12: a target MUST NOT send more than the initiator declared it can receive.
            throw new IOException(p + " exceeds our MaxRecvDataSegmentLength " + negotiated.ourMaxRecv());
        }
        if (recorded != null) {
            recorded.add(p);
        }
        track(p);
        return p;
    }

    /** The next PDU other than a target ping, which is answered. */
    public Pdu next() throws IOException {
        for (int i = 0; i < 1000; i++) {
            Pdu p = readRaw();
            if (p.opcode() == Pdu.NOP_IN && p.itt() == Pdu.RESERVED && p.ttt() != Pdu.RESERVED) {
                Pdu answer = Pdu.of(Pdu.NOP_OUT, true).set8(1, 0x80).set64(8, p.i64(8)).set32(16, Pdu.RESERVED)
                        .set32(20, p.ttt()).set32(24, cmdSn).set32(28, expStatSn);
                send(answer);
                pingsAnswered++;
                continue;
            }
            return p;
        }
        throw new IOException("the target sent nothing but pings");
    }

    /** Follows the target's sequence numbers (§4.2.2): ExpStatSN from PDUs that carry status. */
    private void track(Pdu p) {
        boolean status = switch (p.opcode()) {
            case Pdu.SCSI_RESPONSE, Pdu.TEXT_RESPONSE, Pdu.LOGOUT_RESPONSE, Pdu.REJECT, Pdu.LOGIN_RESPONSE,
                    Pdu.TASK_MGMT_RESPONSE, Pdu.ASYNC -> true;
            case Pdu.DATA_IN -> (p.flags() & 0x01) != 0;
            case Pdu.NOP_IN -> p.itt() != Pdu.RESERVED;
            default -> false;
        };
        if (status && p.statSn() + 1 - expStatSn > 0) {
            expStatSn = p.statSn() + 1;
        }
        if (p.opcode() != Pdu.LOGIN_RESPONSE || p.u8(36) == 0) {
            expCmdSn = p.expCmdSn();
            maxCmdSn = p.maxCmdSn();
        }
    }

    /**
     * Waits for the target to close the connection, discarding whatever it still sends. True if it
     * closed (EOF or reset) within {@code max}.
     */
    public boolean awaitClosed(Duration max) throws IOException {
        long deadline = System.nanoTime() + max.toNanos();
        byte[] sink = new byte[8192];
        while (System.nanoTime() < deadline) {
            int left = (int) Math.max(1, Math.min(250, (deadline - System.nanoTime()) / 1_000_000));
            socket.setSoTimeout(left);
            try {
                if (in.read(sink) < 0) {
                    return true;
                }
            } catch (SocketTimeoutException e) {
                // keep waiting until the deadline
            } catch (IOException e) {
                return true; // connection reset
            }
        }
        return false;
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // nothing to do
        }
    }

    // ---- login ----

    /** Sends one Login Request and returns the target's Login Response. */
    public Pdu loginExchange(Pdu request) throws IOException {
        send(request);
        Pdu r = readRaw();
        if (r.opcode() != Pdu.LOGIN_RESPONSE) {
            throw new IOException("expected a Login Response, got " + r);
        }
        return r;
    }

    void enterFullFeature(Negotiated n) {
        negotiated = n;
    }

    /**
     * Logs in (security stage with CHAP, operational stage, full feature). {@code targetName} null
     * means a discovery session; {@code mutual} null means one-way CHAP.
     */
    public LoginResult login(String initiatorName, String targetName, String chapUser, String chapSecret,
            ChapAlgorithm alg, Login.Credentials mutual, Map<String, String> extraKeys) throws IOException {
        return Login.run(this, initiatorName, targetName, chapUser, chapSecret, alg, mutual, extraKeys,
                Login.Options.NORMAL);
    }

    public LoginResult login(String initiatorName, String targetName, String chapUser, String chapSecret,
            ChapAlgorithm alg, Login.Credentials mutual, Map<String, String> extraKeys, Login.Options options)
            throws IOException {
        return Login.run(this, initiatorName, targetName, chapUser, chapSecret, alg, mutual, extraKeys, options);
    }

    // ---- SCSI ----

    /**
     * Sends a SCSI Command (§11.3) without waiting: non-immediate, CmdSN taken and advanced. With
     * {@code track} the initiator answers R2Ts from {@code dataOut}; without, the test drives the
     * data phase itself.
     */
    public int sendCommand(long lun, byte[] cdb, byte[] dataOut, int expectedLength, boolean read, boolean write,
            boolean track) throws IOException {
        int itt = newItt();
        Pdu p = Pdu.of(Pdu.SCSI_COMMAND, false)
                .set8(1, 0x80 | (read ? 0x40 : 0) | (write ? 0x20 : 0) | 1)
                .set64(8, lun).set32(16, itt).set32(20, expectedLength).set32(24, cmdSn++).set32(28, expStatSn)
                .setBytes(32, Arrays.copyOf(cdb, 16));
        byte[] immediate = null;
        Negotiated n = negotiated;
        if (write && dataOut != null && sendImmediateData && n.immediateData()) {
            immediate = Arrays.copyOf(dataOut, Math.min(dataOut.length, Math.min(n.firstBurst(), n.targetMaxRecv())));
        }
        if (track) {
            tasks.track(itt, lun, dataOut, expectedLength, read);
        }
        send(p.withData(immediate));
        if (write && dataOut != null && !n.initialR2T()) {
            // §13.10: InitialR2T=No: unsolicited Data-Out up to FirstBurstLength follows the command.
            tasks.sendUnsolicited(this, lun, itt, dataOut, immediate == null ? 0 : immediate.length,
                    Math.min(n.firstBurst(), dataOut.length));
        }
        return itt;
    }

    /** Waits for a tracked command to end, answering R2Ts and gathering Data-In. */
    public ScsiResult await(int itt) throws IOException {
        if (!tasks.tracked(itt)) {
            throw new IllegalArgumentException("ITT " + itt + " is not a tracked command");
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        for (int i = 0; i < MAX_PDUS_PER_WAIT; i++) {
            ScsiResult r = tasks.take(itt);
            if (r != null) {
                return r;
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("command " + itt + " did not end in 30 s");
            }
            dispatch(next());
        }
        throw new IOException("command " + itt + " did not end");
    }

    private void dispatch(Pdu p) throws IOException {
        if (!tasks.dispatch(p, this)) {
            strays.add(p);
        }
    }

    /** One SCSI Data-Out PDU (§11.7). */
    public void sendDataOut(long lun, int itt, int ttt, int dataSn, int offset, byte[] data, boolean fin)
            throws IOException {
        send(Pdu.of(Pdu.DATA_OUT, false).set8(1, fin ? 0x80 : 0).set64(8, lun).set32(16, itt).set32(20, ttt)
                .set32(28, expStatSn).set32(36, dataSn).set32(40, offset).withData(data));
    }

    public ScsiResult scsi(long lun, byte[] cdb, byte[] dataOut, int expectedLength, boolean read, boolean write)
            throws IOException {
        return await(sendCommand(lun, cdb, dataOut, expectedLength, read, write, true));
    }

    public ScsiResult testUnitReady(long lun) throws IOException {
        return scsi(lun, Cdbs.testUnitReady(), null, 0, false, false);
    }

    public ScsiResult read10(long lun, long lba, int blocks) throws IOException {
        return scsi(lun, Cdbs.read10(lba, blocks), null, blocks * BLOCK, true, false);
    }

    public ScsiResult write10(long lun, long lba, byte[] data) throws IOException {
        if (data.length % BLOCK != 0) {
            throw new IllegalArgumentException("write of " + data.length + " bytes is not whole blocks");
        }
        return scsi(lun, Cdbs.write10(lba, data.length / BLOCK), data, data.length, false, true);
    }

    // ---- other requests ----

    /** A Text Request (§11.10) with these keys; returns the response's pairs, repeats kept. */
    public List<Map.Entry<String, String>> text(Map<String, String> keys) throws IOException {
        int itt = newItt();
        byte[] request = Pdu.text(keys);
        int ttt = Pdu.RESERVED;
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (int i = 0; i < 1000; i++) {
            send(Pdu.of(Pdu.TEXT_REQUEST, false).set8(1, 0x80).set32(16, itt).set32(20, ttt)
                    .set32(24, cmdSn++).set32(28, expStatSn).withData(request));
            Pdu r = awaitReply(itt, Pdu.TEXT_RESPONSE);
            all.writeBytes(r.data());
            if ((r.flags() & 0x80) != 0) {
                return Pdu.pairs(all.toByteArray());
            }
            // §11.11.2: C bit: more text follows; an empty request with the target's TTT asks for it.
            ttt = r.ttt();
            request = new byte[0];
        }
        throw new IOException("the text response never ended");
    }

    public List<Map.Entry<String, String>> textSendTargets() throws IOException { return text(Map.of("SendTargets", "All")); }

    /** An immediate NOP-Out ping (§11.18) carrying {@code data}; returns the NOP-In's data. */
    public byte[] nop(byte[] data) throws IOException {
        int itt = newItt();
        send(Pdu.of(Pdu.NOP_OUT, true).set8(1, 0x80).set32(16, itt).set32(20, Pdu.RESERVED).set32(24, cmdSn)
                .set32(28, expStatSn).withData(data));
        return awaitReply(itt, Pdu.NOP_IN).data();
    }

    /** Logout "close the session" (§11.14); returns the Logout Response's response code. */
    public int logout() throws IOException {
        int itt = newItt();
        send(Pdu.of(Pdu.LOGOUT_REQUEST, true).set8(1, 0x80).set32(16, itt).set32(24, cmdSn).set32(28, expStatSn));
        return awaitReply(itt, Pdu.LOGOUT_RESPONSE).u8(2);
    }

    /** Reads until a PDU with {@code opcode} and {@code itt} arrives; others go to the strays. */
    public Pdu awaitReply(int itt, int opcode) throws IOException {
        for (int i = 0; i < MAX_PDUS_PER_WAIT; i++) {
            Pdu p = next();
            if (p.opcode() == opcode && p.itt() == itt) {
                return p;
            }
            if (p.opcode() == Pdu.REJECT) {
                throw new IOException("target rejected the request: reason 0x" + Integer.toHexString(p.u8(2)));
            }
            dispatch(p);
        }
        throw new IOException("no reply to ITT " + itt);
    }
}
