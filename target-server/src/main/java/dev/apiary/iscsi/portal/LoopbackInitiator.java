package dev.apiary.iscsi.portal;

import dev.apiary.chap.ChapAlgorithm;
import dev.apiary.chap.ChapCredentials;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The smallest initiator that drives this target the way a booting worker does: CHAP login
 * (RFC 7143 §6.3, §12.1.3), then pipelined SCSI commands with Data-In, immediate data and
 * R2T/Data-Out, and pings. {@link Warmup} uses it over loopback, so the JVM compiles the data
 * path before the first machine boots. It is not a general initiator: no digests, no error
 * recovery, one connection, and any protocol surprise is an IOException.
 */
final class LoopbackInitiator implements AutoCloseable {
    private static final int BHS = 48;
    private static final int MAX_RECV = 262_144;
    private static final int FIRST_BURST = 65_536;
    private static final byte[] PAD = new byte[3];
    /** PDUs one command may take at most: Data-In at 8 KiB for 256 KiB is 32, plus R2Ts. */
    private static final int MAX_PDUS_PER_COMMAND = 1_000;

    /**
     * The keys that shape the data path: iPXE declares MaxRecvDataSegmentLength=8192 and
     * ImmediateData=No (its Data-In comes in 8 KiB PDUs, its writes wait for R2T); Linux's
     * initiator 262144 and Yes. Each has its own ISID qualifier, so one initiator name can hold
     * both sessions at once, as a booting machine does (iPXE never logs out).
     */
    record Style(int maxRecv, boolean immediateData, int isidQualifier) {
        static final Style IPXE = new Style(8192, false, 1);
        static final Style LINUX = new Style(MAX_RECV, true, 2);
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final byte[] header = new byte[BHS];
    private final byte[] sink = new byte[MAX_RECV];
    /** What writes carry: a recognisable pattern (0x5a), not zeros, so they are real allocating writes. */
    private final byte[] pattern = new byte[MAX_RECV];
    private int cmdSn = 1;
    private int expStatSn;
    private int itt;
    private int targetMaxRecv = 8192;
    private final Style style;
    private boolean immediate;

    LoopbackInitiator(InetSocketAddress portal, Style style) throws IOException {
        this.style = style;
        socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(10_000);
        socket.connect(portal, 5_000);
        in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 1 << 16));
        java.util.Arrays.fill(pattern, (byte) 0x5a);
        out = new BufferedOutputStream(socket.getOutputStream(), 1 << 16);
    }

    /** Logs in to {@code target} with one-way CHAP (MD5) and the keys of this initiator's style. */
    void login(String initiatorName, String target, ChapCredentials chap) throws IOException {
        Map<String, String> k = new LinkedHashMap<>();
        k.put("InitiatorName", initiatorName);
        k.put("SessionType", "Normal");
        k.put("TargetName", target);
        k.put("AuthMethod", "CHAP");
        loginStep(0, 1, k);
        Map<String, String> challenge = loginStep(0, 1, Map.of("CHAP_A", Integer.toString(ChapAlgorithm.MD5.code())));
        int id = Integer.parseInt(challenge.getOrDefault("CHAP_I", "-1"));
        String c = challenge.getOrDefault("CHAP_C", "");
        if (id < 0 || !c.startsWith("0x")) {
            throw new IOException("no CHAP challenge: " + challenge.keySet());
        }
        byte[] r = ChapAlgorithm.MD5.response(id, chap.secret().bytes(), HexFormat.of().parseHex(c.substring(2)));
        loginStep(0, 1, Map.of("CHAP_N", chap.user(), "CHAP_R", "0x" + HexFormat.of().formatHex(r)));
        Map<String, String> ops = new LinkedHashMap<>();
        ops.put("HeaderDigest", "None");
        ops.put("DataDigest", "None");
        ops.put("ImmediateData", style.immediateData() ? "Yes" : "No");
        ops.put("InitialR2T", "Yes");
        ops.put("MaxRecvDataSegmentLength", Integer.toString(style.maxRecv()));
        ops.put("MaxBurstLength", "262144");
        ops.put("FirstBurstLength", Integer.toString(FIRST_BURST));
        ops.put("ErrorRecoveryLevel", "0");
        Map<String, String> agreed = loginStep(1, 3, ops);
        targetMaxRecv = Integer.parseInt(agreed.getOrDefault("MaxRecvDataSegmentLength", "8192"));
        immediate = style.immediateData() && "Yes".equals(agreed.get("ImmediateData"));
    }

    /** One Login Request (§11.12) with T set, answered by a successful Login Response; its keys. */
    private Map<String, String> loginStep(int csg, int nsg, Map<String, String> keys) throws IOException {
        StringBuilder text = new StringBuilder();
        keys.forEach((key, v) -> text.append(key).append('=').append(v).append('\0'));
        ByteBuffer bhs = bhs(0x43, 0x80 | csg << 2 | nsg); // immediate Login Request, T=1
        bhs.putLong(8, (0x80_0000_0000_0000L | style.isidQualifier()) << 16); // ISID (random format), TSIH 0
        bhs.putInt(16, 0x4000_0000);
        bhs.putInt(24, cmdSn);
        bhs.putInt(28, expStatSn);
        byte[] keyText = text.toString().getBytes(StandardCharsets.UTF_8);
        send(bhs, keyText, keyText.length);
        int len = readHeader();
        if ((header[0] & 0x3f) != 0x23 || header[36] != 0) {
            throw new IOException("login refused: opcode 0x" + Integer.toHexString(header[0] & 0x3f) + " status "
                    + header[36] + "/" + header[37]);
        }
        expStatSn = intAt(24) + 1;
        byte[] data = new byte[(len + 3) & ~3];
        readData(data, len);
        Map<String, String> reply = new LinkedHashMap<>();
        for (String pair : new String(data, 0, len, StandardCharsets.UTF_8).split("\0")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                reply.put(pair.substring(0, eq), pair.substring(eq + 1));
            }
        }
        return reply;
    }

    /**
     * Sends {@code cdbs.length} commands back to back, then waits until each has ended. Command i
     * transfers {@code lengths[i]} bytes: out of the initiator if {@code writes[i]} (immediate
     * data up to FirstBurstLength, the rest on R2T), else in (Data-In). Returns how many ended
     * with a status other than GOOD.
     */
    int run(byte[][] cdbs, int[] lengths, boolean[] writes) throws IOException {
        for (int i = 0; i < cdbs.length; i++) {
            ByteBuffer bhs = bhs(0x01, 0x80 | (writes[i] ? 0x20 : lengths[i] > 0 ? 0x40 : 0) | 1); // F, R/W, SIMPLE
            bhs.putInt(16, itt++);
            bhs.putInt(20, lengths[i]);
            bhs.putInt(24, cmdSn++);
            bhs.putInt(28, expStatSn);
            bhs.put(32, cdbs[i], 0, cdbs[i].length);
            send(bhs, pattern, writes[i] && immediate ? Math.min(lengths[i], Math.min(FIRST_BURST, targetMaxRecv)) : 0);
        }
        out.flush();
        int ended = 0, failed = 0;
        for (int pdus = 0; ended < cdbs.length; pdus++) {
            if (pdus > MAX_PDUS_PER_COMMAND * cdbs.length) {
                throw new IOException("runaway exchange: " + pdus + " PDUs for " + cdbs.length + " commands");
            }
            int len = readHeader();
            int opcode = header[0] & 0x3f;
            readData(sink, len);
            switch (opcode) {
                case 0x25 -> { // Data-In: S set means the status came with the data (§11.7.4)
                    if ((header[1] & 0x01) != 0) {
                        ended++;
                        expStatSn = intAt(24) + 1;
                        failed += header[3] == 0 ? 0 : 1;
                    }
                }
                case 0x21 -> { // SCSI Response
                    ended++;
                    expStatSn = intAt(24) + 1;
                    failed += header[2] == 0 && header[3] == 0 ? 0 : 1;
                }
                case 0x31 -> dataOut(intAt(16), intAt(20), intAt(40), intAt(44)); // R2T
                case 0x20 -> { } // NOP-In: a ping with TTT would need an answer; a warm-up ends long before one
                default -> throw new IOException("unexpected PDU opcode 0x" + Integer.toHexString(opcode));
            }
        }
        return failed;
    }

    /** Answers an R2T (§11.8) with Data-Out PDUs of the pattern, each within the target's MaxRecvDataSegmentLength. */
    private void dataOut(int taskTag, int ttt, int offset, int length) throws IOException {
        int dataSn = 0;
        for (int done = 0; done < length; ) {
            int n = Math.min(targetMaxRecv, length - done);
            ByteBuffer bhs = bhs(0x05, done + n == length ? 0x80 : 0);
            bhs.putInt(16, taskTag);
            bhs.putInt(20, ttt);
            bhs.putInt(28, expStatSn);
            bhs.putInt(36, dataSn++);
            bhs.putInt(40, offset + done);
            send(bhs, pattern, n);
            done += n;
        }
        out.flush();
    }

    /**
     * An immediate NOP-Out that asks for an answer (§11.18), as Linux's initiator sends every few
     * seconds; waits for the NOP-In that answers it.
     */
    void ping() throws IOException {
        int tag = itt++;
        ByteBuffer bhs = bhs(0x40, 0x80); // I: immediate, F
        bhs.putInt(16, tag);
        bhs.putInt(20, -1); // TTT 0xffffffff: not an answer to a target's ping
        bhs.putInt(24, cmdSn);
        bhs.putInt(28, expStatSn);
        send(bhs, null, 0);
        out.flush();
        for (int pdus = 0; ; pdus++) {
            if (pdus > MAX_PDUS_PER_COMMAND) {
                throw new IOException("no answer to a ping in " + pdus + " PDUs");
            }
            int len = readHeader();
            readData(sink, len);
            if ((header[0] & 0x3f) == 0x20 && intAt(16) == tag) {
                expStatSn = intAt(24) + 1;
                return;
            }
        }
    }

    /** Logout, close the session (§11.14). */
    void logout() throws IOException {
        ByteBuffer bhs = bhs(0x46, 0x80);
        bhs.putInt(16, itt++);
        bhs.putInt(24, cmdSn);
        bhs.putInt(28, expStatSn);
        send(bhs, null, 0);
        out.flush();
        readData(sink, readHeader());
    }

    private static ByteBuffer bhs(int opcode, int flags) {
        ByteBuffer b = ByteBuffer.allocate(BHS);
        b.put(0, (byte) opcode).put(1, (byte) flags);
        return b;
    }

    /** One PDU: the BHS, then the first {@code len} bytes of {@code data}, padded. */
    private void send(ByteBuffer bhs, byte[] data, int len) throws IOException {
        bhs.putInt(4, len); // TotalAHSLength 0, DataSegmentLength
        out.write(bhs.array());
        if (len > 0) {
            out.write(data, 0, len);
            out.write(PAD, 0, (4 - len % 4) % 4); // §11.2.1.5: padded to 4 bytes
        }
        if ((bhs.get(0) & 0x3f) == 0x03) {
            out.flush();
        }
    }

    /** Reads one BHS; returns the data segment length that follows it. */
    private int readHeader() throws IOException {
        in.readFully(header);
        if (header[4] != 0) {
            throw new IOException("unexpected AHS");
        }
        return intAt(4) & 0xff_ffff;
    }

    /** Reads a data segment and its padding into {@code into}, which holds what this initiator may receive. */
    private void readData(byte[] into, int len) throws IOException {
        int padded = (len + 3) & ~3;
        if (padded > into.length) {
            // §13.12: the target may not send more than the MaxRecvDataSegmentLength we declared.
            throw new IOException("a " + len + "-byte data segment exceeds our MaxRecvDataSegmentLength");
        }
        in.readFully(into, 0, padded);
    }

    private int intAt(int offset) {
        return ByteBuffer.wrap(header).getInt(offset);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
