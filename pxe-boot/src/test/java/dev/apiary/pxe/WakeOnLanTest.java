package dev.apiary.pxe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class WakeOnLanTest {
    @Test
    void sendsSixFfThenTheMacSixteenTimesToTheNamedAddress() throws Exception {
        try (DatagramSocket listener = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            listener.setSoTimeout(5000);
            WakeOnLan.wake("52:54:00:12:34:56",
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort()));
            DatagramPacket p = new DatagramPacket(new byte[200], 200);
            listener.receive(p);
            assertThat(p.getLength()).isEqualTo(102);
            byte[] d = java.util.Arrays.copyOf(p.getData(), 102);
            for (int i = 0; i < 6; i++) {
                assertThat(d[i]).isEqualTo((byte) 0xff);
            }
            for (int r = 0; r < 16; r++) {
                assertThat(java.util.Arrays.copyOfRange(d, 6 + 6 * r, 12 + 6 * r))
                        .containsExactly(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
            }
        }
    }

    @Test
    void refusesWhatIsNotAMac() {
        assertThatThrownBy(() -> WakeOnLan.magicPacket("52:54:00:12:34")).hasMessageContaining("not a MAC");
        assertThatThrownBy(() -> WakeOnLan.magicPacket("zz:54:00:12:34:56")).hasMessageContaining("not a MAC");
    }
}
