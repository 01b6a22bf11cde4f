package dev.apiary.pxe;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;

/**
 * Wake-on-LAN: the "magic packet" (AMD, 1995) is six 0xFF bytes then the target MAC sixteen times,
 * sent as a UDP datagram (port 9 by convention) to a broadcast address of the worker's network.
 * It goes only to the address the caller names.
 */
public final class WakeOnLan {
    private WakeOnLan() {}

    static byte[] magicPacket(String mac) {
        String hex = mac.replace(":", "").replace("-", "");
        if (!hex.matches("[0-9A-Fa-f]{12}")) {
            throw new IllegalArgumentException("not a MAC address: " + mac);
        }
        byte[] m = new byte[6];
        for (int i = 0; i < 6; i++) {
            m[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        }
        byte[] p = new byte[6 + 16 * 6];
        java.util.Arrays.fill(p, 0, 6, (byte) 0xff);
        for (int i = 0; i < 16; i++) {
            System.arraycopy(m, 0, p, 6 + 6 * i, 6);
        }
        return p;
    }

    /** Sends the magic packet for {@code mac} to {@code target} (e.g. 192.168.1.255:9 on the workers' LAN). */
    public static void wake(String mac, InetSocketAddress target) throws IOException {
        byte[] p = magicPacket(mac);
        try (DatagramSocket s = new DatagramSocket()) {
            s.setBroadcast(true);
            s.send(new DatagramPacket(p, p.length, target));
        }
    }
}
