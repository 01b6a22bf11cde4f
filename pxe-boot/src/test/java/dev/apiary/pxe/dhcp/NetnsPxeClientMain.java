package dev.apiary.pxe.dhcp;

import io.netty.buffer.Unpooled;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * A PXE firmware stand-in for {@link NetnsUdhcpcTest}, run in the client namespace: broadcasts
 * OVMF's DISCOVER from port 68 to 255.255.255.255:67, prints the proxy OFFER, sends a DHCPREQUEST
 * to the server's port 4011 (PXE 2.1 §2.2.5) and prints the ACK. Arg: server address. Exits 1 on
 * any timeout (3 s per reply).
 */
public final class NetnsPxeClientMain {
    public static void main(String[] args) throws Exception {
        try (DatagramSocket s = new DatagramSocket(null)) {
            s.setReuseAddress(true);
            s.setBroadcast(true);
            s.bind(new InetSocketAddress(68));
            s.setSoTimeout(3000);
            byte[] discover = DhcpTestClient.resource("ovmf-discover.hex");
            s.send(new DatagramPacket(discover, discover.length, InetAddress.getByName("255.255.255.255"), 67));
            DhcpMessage offer = receive(s);
            System.out.println("OFFER from=" + offer.options().serverId().orElseThrow().getHostAddress() + " yiaddr="
                    + offer.yiaddr().getHostAddress() + " siaddr=" + offer.siaddr().getHostAddress() + " file="
                    + offer.file() + " type=" + offer.messageType());
            DhcpMessage req = DhcpMessage.request(offer.xid(), offer.mac(), DhcpTestClient.pxeOptions(3, 7)
                    .putAddress(DhcpOptions.SERVER_ID, offer.siaddr()));
            byte[] out = DhcpCodec.encodeBytes(req);
            s.send(new DatagramPacket(out, out.length, InetAddress.getByName(args[0]), 4011));
            DhcpMessage ack = receive(s);
            System.out.println("ACK file=" + ack.file() + " type=" + ack.messageType());
        }
    }

    private static DhcpMessage receive(DatagramSocket s) throws Exception {
        DatagramPacket p = new DatagramPacket(new byte[1600], 1600);
        s.receive(p);
        var buf = Unpooled.wrappedBuffer(p.getData(), 0, p.getLength());
        try {
            return ((DhcpCodec.Ok) DhcpCodec.decode(buf)).message();
        } finally {
            buf.release();
        }
    }
}
