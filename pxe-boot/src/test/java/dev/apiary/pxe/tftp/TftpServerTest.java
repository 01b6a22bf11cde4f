package dev.apiary.pxe.tftp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Protocol-level tests with a hand-written client on a plain DatagramSocket. */
class TftpServerTest {
    @TempDir
    Path root;
    TftpServer server;
    byte[] small;

    @BeforeEach
    void start() throws Exception {
        small = new byte[3000];
        new Random(1).nextBytes(small);
        Files.write(root.resolve("small.bin"), small);
        server = new TftpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), new RootDirectory(root),
                TftpServer.Config.defaults().withTimeouts(Duration.ofMillis(200), 3)).start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    /** Minimal client: send to the request port, then talk to whichever TID answers. */
    final class Client implements AutoCloseable {
        final DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        InetSocketAddress tid;

        Client() throws Exception {
            s.setSoTimeout(3000);
        }

        void send(byte[] b) throws Exception {
            s.send(new DatagramPacket(b, b.length, tid != null ? tid : server.localAddress()));
        }

        ByteBuffer receive() throws Exception {
            DatagramPacket p = new DatagramPacket(new byte[70000], 70000);
            s.receive(p);
            if (tid == null && p.getPort() != server.localAddress().getPort()) {
                tid = (InetSocketAddress) p.getSocketAddress();
            }
            return ByteBuffer.wrap(Arrays.copyOf(p.getData(), p.getLength()));
        }

        void ack(int block) throws Exception {
            send(new byte[] {0, 4, (byte) (block >> 8), (byte) block});
        }

        /** Lock-step download after the first DATA or OACK-ACK; returns the file. */
        byte[] download(int blksize, ByteBuffer first) throws Exception {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteBuffer p = first;
            for (int expected = 1, n = 0; n < 1_000_000; n++) {
                assertThat(p.getShort(0)).isEqualTo((short) 3);
                int block = p.getShort(2) & 0xFFFF;
                if (block == (expected & 0xFFFF)) {
                    out.write(p.array(), 4, p.limit() - 4);
                    expected++;
                }
                ack(block);
                if (p.limit() - 4 < blksize) {
                    return out.toByteArray();
                }
                p = receive();
            }
            throw new AssertionError("too many blocks");
        }

        @Override
        public void close() {
            s.close();
        }
    }

    static int opcode(ByteBuffer p) {
        return p.getShort(0);
    }

    static int errorCode(ByteBuffer p) {
        assertThat(opcode(p)).isEqualTo(5);
        return p.getShort(2);
    }

    @Test
    void plainRfc1350Transfer() throws Exception {
        try (Client c = new Client()) {
            c.send(TftpCodecTest.req(1, "small.bin", "octet"));
            assertThat(c.download(512, c.receive())).isEqualTo(small);
            assertThat(c.tid.getPort()).isNotEqualTo(server.localAddress().getPort()); // own TID
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> server.activeTransfers() == 0);
    }

    @Test
    void pxeTsizeProbeThenRealRequest() throws Exception {
        try (Client c = new Client()) {
            c.send(TftpCodecTest.req(1, "small.bin", "octet", "tsize", "0", "blksize", "1024"));
            ByteBuffer oack = c.receive();
            assertThat(opcode(oack)).isEqualTo(6);
            String opts = new String(oack.array(), 2, oack.limit() - 2);
            assertThat(opts).isEqualTo("blksize\u00001024\u0000tsize\u00003000\u0000");
            c.send(new byte[] {0, 5, 0, 8, 'n', 'o', 0}); // ERROR 8 ends the probe
            c.tid = null;
            c.send(TftpCodecTest.req(1, "small.bin", "octet", "blksize", "1024"));
            assertThat(opcode(c.receive())).isEqualTo(6);
            c.ack(0);
            assertThat(c.download(1024, c.receive())).isEqualTo(small);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> server.activeTransfers() == 0);
    }

    @Test
    void retransmitsALostBlockWithBackOff() throws Exception {
        try (Client c = new Client()) {
            c.send(TftpCodecTest.req(1, "small.bin", "octet"));
            ByteBuffer first = c.receive();
            long t0 = System.nanoTime();
            ByteBuffer again = c.receive(); // we "lost" DATA 1: the server sends it again
            assertThat(System.nanoTime() - t0).isGreaterThan(100_000_000L);
            assertThat(again.array()).isEqualTo(first.array());
            assertThat(c.download(512, again)).isEqualTo(small);
        }
    }

    @Test
    void givesUpAfterMaxRetriesAndFreesTheSlot() throws Exception {
        try (Client c = new Client()) {
            c.send(TftpCodecTest.req(1, "small.bin", "octet"));
            int data = 0;
            ByteBuffer last = null;
            try {
                for (int i = 0; i < 10; i++) {
                    last = c.receive();
                    data++;
                }
            } catch (SocketTimeoutException expected) {
                // silence after the server gave up
            }
            assertThat(data).isEqualTo(5); // 1 + 3 retransmissions + ERROR 0 "timed out"
            assertThat(errorCode(last)).isEqualTo(0);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> server.activeTransfers() == 0);
    }

    @Test
    void windowsizeSendsBlocksInWindowsAndRecoversFromLoss() throws Exception {
        try (Client c = new Client()) {
            c.send(TftpCodecTest.req(1, "small.bin", "octet", "windowsize", "4", "blksize", "100"));
            assertThat(opcode(c.receive())).isEqualTo(6);
            c.ack(0);
            for (int b = 1; b <= 4; b++) {
                assertThat(c.receive().getShort(2)).isEqualTo((short) b);
            }
            c.ack(2); // "lost" 3: the next window starts at 3 (RFC 7440 §4)
            for (int b = 3; b <= 6; b++) {
                assertThat(c.receive().getShort(2)).isEqualTo((short) b);
            }
        }
    }

    @Test
    void refusesWritesMissingFilesAndEscapes() throws Exception {
        try (Client c = new Client()) {
            c.send(TftpCodecTest.req(2, "small.bin", "octet"));
            assertThat(errorCode(c.receive())).isEqualTo(2);
            c.send(TftpCodecTest.req(1, "nope", "octet"));
            assertThat(errorCode(c.receive())).isEqualTo(1);
            c.send(TftpCodecTest.req(1, "../etc/passwd", "octet"));
            ByteBuffer denied = c.receive();
            assertThat(errorCode(denied)).isEqualTo(2);
            assertThat(new String(denied.array(), 4, denied.limit() - 5)).isEqualTo("access violation: '..' is refused");
            c.send(TftpCodecTest.req(1, "/etc/passwd", "octet"));
            assertThat(errorCode(c.receive())).isEqualTo(2);
        }
    }

    @Test
    void malformedInputIsAnsweredAndTheServerKeepsServing() throws Exception {
        try (Client c = new Client()) {
            byte[][] junk = {{0}, {0, 9}, {0, 1, 'x'}, TftpCodecTest.req(1, "f", "mail"), {0, 4, 0},
                new byte[600], TftpCodecTest.req(1, "f", "octet", "blksize")};
            for (byte[] j : junk) {
                c.send(j);
                ByteBuffer r = c.receive();
                assertThat(errorCode(r)).as(Arrays.toString(j)).isEqualTo(4);
            }
            c.send(new byte[] {0, 5, 0, 1, 0}); // an ERROR is never answered
            c.send(TftpCodecTest.req(1, "small.bin", "octet"));
            assertThat(c.download(512, c.receive())).isEqualTo(small);
        }
    }

    @Test
    void aForeignTidGetsError5AndTheTransferGoesOn() throws Exception {
        try (Client c = new Client(); Client intruder = new Client()) {
            c.send(TftpCodecTest.req(1, "small.bin", "octet"));
            ByteBuffer first = c.receive();
            intruder.tid = c.tid;
            intruder.ack(1);
            assertThat(errorCode(intruder.receive())).isEqualTo(5);
            assertThat(c.download(512, first)).isEqualTo(small);
        }
    }

    @Test
    void requestsOverTheCapWaitThenRunOrAreToldBusy() throws Exception {
        server.close();
        server = new TftpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), new RootDirectory(root),
                TftpServer.Config.defaults().withMaxTransfers(1).withMaxWait(Duration.ofMillis(1500))
                        .withTimeouts(Duration.ofMillis(200), 3)).start();
        try (Client a = new Client(); Client b = new Client(); Client late = new Client()) {
            a.send(TftpCodecTest.req(1, "small.bin", "octet"));
            ByteBuffer aFirst = a.receive();
            b.send(TftpCodecTest.req(1, "small.bin", "octet"));
            b.send(TftpCodecTest.req(1, "small.bin", "octet")); // retransmitted RRQ: not queued twice
            await().atMost(Duration.ofSeconds(2)).until(() -> server.waitingRequests() == 1);
            Thread.sleep(300);
            assertThat(server.waitingRequests()).isEqualTo(1);
            assertThat(a.download(512, aFirst)).isEqualTo(small); // frees the slot: b starts
            assertThat(b.download(512, b.receive())).isEqualTo(small);
            a.tid = null;
            a.send(TftpCodecTest.req(1, "small.bin", "octet"));
            a.receive(); // a holds the slot and never acks
            late.send(TftpCodecTest.req(1, "small.bin", "octet"));
            late.s.setSoTimeout(2500);
            ByteBuffer busy = late.receive();
            assertThat(errorCode(busy)).isEqualTo(0);
            assertThat(new String(busy.array(), 4, busy.limit() - 5)).contains("busy");
        }
    }
}
