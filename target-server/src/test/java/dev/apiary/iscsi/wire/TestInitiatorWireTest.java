package dev.apiary.iscsi.wire;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.iscsi.pdu.InitiatorPdu;
import dev.apiary.iscsi.pdu.IscsiFrameDecoder;
import dev.apiary.iscsi.pdu.PduEncoder;
import dev.apiary.iscsi.pdu.TargetPdu;
import dev.apiary.iscsi.pdu.WireSettings;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Checks the test initiator against the target's own codec, both ways, with a scripted fake target
 * on a loopback socket: what the initiator writes parses as RFC 7143 lays it out, and it follows an
 * R2T and a Data-In sequence as the target encodes them.
 */
@Timeout(20)
class TestInitiatorWireTest {
    private ServerSocket server;
    private TestInitiator ini;
    private Socket peer;
    private DataInputStream peerIn;
    private final EmbeddedChannel decoder = new EmbeddedChannel(new IscsiFrameDecoder());
    private final EmbeddedChannel encoder = new EmbeddedChannel(PduEncoder.INSTANCE);

    @BeforeEach
    void connect() throws IOException {
        server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ini = TestInitiator.connect("127.0.0.1", server.getLocalPort());
        server.setSoTimeout(5_000);
        peer = server.accept();
        peer.setSoTimeout(5_000);
        peerIn = new DataInputStream(peer.getInputStream());
        WireSettings.of(decoder).enterFullFeature(false, false, 262144);
    }

    @AfterEach
    void close() throws IOException {
        ini.close();
        peer.close();
        server.close();
        decoder.finishAndReleaseAll();
        encoder.finishAndReleaseAll();
    }

    /** Reads one PDU the initiator sent and parses it with the target's decoder. */
    private InitiatorPdu receive() throws IOException {
        byte[] bhs = new byte[48];
        peerIn.readFully(bhs);
        int len = ((bhs[5] & 0xff) << 16) | ((bhs[6] & 0xff) << 8) | (bhs[7] & 0xff);
        byte[] rest = new byte[(len + 3) & ~3];
        peerIn.readFully(rest);
        decoder.writeInbound(Unpooled.wrappedBuffer(bhs, rest));
        InitiatorPdu p = decoder.readInbound();
        assertThat(p).isNotNull();
        return p;
    }

    /** Encodes a target PDU with the target's encoder and writes it to the initiator. */
    private void transmit(TargetPdu pdu) throws IOException {
        encoder.writeOutbound(pdu);
        for (ByteBuf b = encoder.readOutbound(); b != null; b = encoder.readOutbound()) {
            peer.getOutputStream().write(ByteBufUtil.getBytes(b));
            b.release();
        }
        peer.getOutputStream().flush();
    }

    @Test
    void loginRequestLayout() throws IOException {
        ini.isid(0x80_1122_3344_55L);
        ini.send(Login.request(ini, true, false, Login.SECURITY, Login.OPERATIONAL, Pdu.text(
                java.util.Map.of("InitiatorName", "iqn.x"))));
        InitiatorPdu.LoginRequest req = (InitiatorPdu.LoginRequest) receive();
        try {
            assertThat((int) req.frame().buf().getUnsignedByte(0)).isEqualTo(0x43);
            assertThat(req.transit()).isTrue();
            assertThat(req.cont()).isFalse();
            assertThat(req.csg()).isZero();
            assertThat(req.nsg()).isEqualTo(1);
            assertThat(req.isid()).isEqualTo(0x80_1122_3344_55L);
            assertThat(req.tsih()).isZero();
            assertThat(req.cmdSn()).isEqualTo(1);
            assertThat(ByteBufUtil.getBytes(req.data())).isEqualTo("InitiatorName=iqn.x\0".getBytes());
        } finally {
            req.release();
        }
    }

    @Test
    void writeFollowsTheR2tAndEndsWithTheResponse() throws Exception {
        byte[] data = new byte[3 * 512];
        new Random(1).nextBytes(data);
        ini.dataOutChunk(1024);
        CompletableFuture<ScsiResult> result = CompletableFuture.supplyAsync(() -> {
            try {
                return ini.write10(Cdbs.lun(1), 77, data);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        InitiatorPdu.ScsiCommand cmd = (InitiatorPdu.ScsiCommand) receive();
        int itt = cmd.itt();
        try {
            assertThat(cmd.write()).isTrue();
            assertThat(cmd.read()).isFalse();
            assertThat(cmd.fin()).isTrue();
            assertThat(cmd.immediate()).isFalse();
            assertThat(cmd.attributes()).isEqualTo(1);
            assertThat(cmd.lun()).isEqualTo(1L << 48);
            assertThat(cmd.expectedLength()).isEqualTo(data.length);
            assertThat(cmd.cmdSn()).isEqualTo(1);
            assertThat(Arrays.copyOf(cmd.cdb(), 10)).isEqualTo(Cdbs.write10(77, 3));
            assertThat(cmd.data().readableBytes()).as("no immediate data unless asked").isZero();
        } finally {
            cmd.release();
        }
        transmit(new TargetPdu.R2T(1L << 48, itt, 0x55, 0, 1, 64, 0, 0, data.length));
        byte[] got = new byte[data.length];
        for (int sn = 0; sn < 2; sn++) {
            InitiatorPdu.DataOut d = (InitiatorPdu.DataOut) receive();
            try {
                assertThat(d.itt()).isEqualTo(itt);
                assertThat(d.ttt()).isEqualTo(0x55);
                assertThat(d.dataSn()).isEqualTo(sn);
                assertThat(d.bufferOffset()).isEqualTo(sn * 1024);
                assertThat(d.fin()).isEqualTo(sn == 1);
                d.data().getBytes(d.data().readerIndex(), got, d.bufferOffset(), d.data().readableBytes());
            } finally {
                d.release();
            }
        }
        assertThat(got).isEqualTo(data);
        transmit(new TargetPdu.ScsiResponse(false, false, 0, itt, 7, 2, 65, 1, 0, null));
        ScsiResult r = result.get(5, TimeUnit.SECONDS);
        assertThat(r.good()).isTrue();
        assertThat(ini.expStatSn()).isEqualTo(8);
        assertThat(ini.maxCmdSn()).isEqualTo(65);
    }

    @Test
    void readGathersDataInAndAnswersPings() throws Exception {
        byte[] data = new byte[2 * 512];
        new Random(2).nextBytes(data);
        CompletableFuture<ScsiResult> result = CompletableFuture.supplyAsync(() -> {
            try {
                return ini.read10(Cdbs.lun(0), 5, 2);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        InitiatorPdu.ScsiCommand cmd = (InitiatorPdu.ScsiCommand) receive();
        int itt = cmd.itt();
        assertThat(cmd.read()).isTrue();
        cmd.release();
        transmit(new TargetPdu.NopIn(0, TargetPdu.RESERVED_TAG, 0x99, 3, 2, 65, null));
        InitiatorPdu.NopOut pong = (InitiatorPdu.NopOut) receive();
        assertThat(pong.itt()).isEqualTo(InitiatorPdu.RESERVED_TAG);
        assertThat(pong.ttt()).isEqualTo(0x99);
        assertThat(pong.immediate()).isTrue();
        pong.release();
        transmit(new TargetPdu.DataIn(false, false, false, false, 0, 0, itt, 0, 2, 65, 0, 0, 0,
                Unpooled.wrappedBuffer(data, 0, 512)));
        transmit(new TargetPdu.DataIn(true, true, false, false, 0, 0, itt, 3, 2, 65, 1, 512, 0,
                Unpooled.wrappedBuffer(data, 512, 512)));
        ScsiResult r = result.get(5, TimeUnit.SECONDS);
        assertThat(r.good()).isTrue();
        assertThat(r.data()).isEqualTo(data);
        assertThat(ini.expStatSn()).isEqualTo(4);
        assertThat(ini.pingsAnswered()).isEqualTo(1);
    }
}
