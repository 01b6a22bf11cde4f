package dev.apiary.pxe.dhcp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/** A DHCP client on 127.0.0.1 (ephemeral port) that sends crafted datagrams and reads replies. */
final class DhcpTestClient implements AutoCloseable {
    final DatagramSocket socket;
    byte[] lastRaw;

    DhcpTestClient() throws IOException {
        socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    InetSocketAddress address() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    void send(byte[] data, int port) throws IOException {
        socket.send(new DatagramPacket(data, data.length, InetAddress.getLoopbackAddress(), port));
    }

    void send(DhcpMessage m, int port) throws IOException {
        send(DhcpCodec.encodeBytes(m), port);
    }

    /** The next reply within {@code millis}, or null. */
    DhcpMessage receive(int millis) throws IOException {
        socket.setSoTimeout(millis);
        DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
        try {
            socket.receive(p);
        } catch (SocketTimeoutException e) {
            return null;
        }
        lastRaw = java.util.Arrays.copyOf(p.getData(), p.getLength());
        ByteBuf buf = Unpooled.wrappedBuffer(lastRaw);
        try {
            DhcpCodec.Result r = DhcpCodec.decode(buf);
            if (r instanceof DhcpCodec.Ok ok) {
                return ok.message();
            }
            throw new AssertionError("server sent an undecodable reply: " + r);
        } finally {
            buf.release();
        }
    }

    DhcpMessage receive() throws IOException {
        DhcpMessage m = receive(5000);
        if (m == null) {
            throw new AssertionError("no reply within 5 s");
        }
        return m;
    }

    static byte[] resource(String name) {
        try (InputStream in = DhcpTestClient.class.getResourceAsStream("/dhcp/" + name)) {
            return HexFormat.of().parseHex(new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Options of a PXE firmware client: 60 "PXEClient:Arch:xxxxx:...", 93, 94, 97. */
    static DhcpOptions pxeOptions(int type, int arch) {
        byte[] uuid = new byte[17];
        for (int i = 1; i < 17; i++) {
            uuid[i] = (byte) (0x0f + i);
        }
        return new DhcpOptions().putByte(DhcpOptions.MESSAGE_TYPE, type)
                .put(DhcpOptions.CLIENT_UUID, uuid)
                .put(DhcpOptions.CLIENT_NDI, new byte[] {1, 3, 0})
                .put(DhcpOptions.CLIENT_ARCH, new byte[] {0, (byte) arch})
                .putString(DhcpOptions.VENDOR_CLASS, String.format("PXEClient:Arch:%05d:UNDI:003000", arch));
    }

    @Override
    public void close() {
        socket.close();
    }
}
