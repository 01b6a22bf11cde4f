package dev.apiary.iscsi.portal;

import static dev.apiary.iscsi.portal.TargetFixture.IQN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.iscsi.wire.Cdbs;
import dev.apiary.iscsi.wire.Login;
import dev.apiary.iscsi.wire.Pdu;
import dev.apiary.iscsi.wire.TestInitiator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

/** What the hostile-input tests share: names, PDU builders and the checks that a session still works. */
final class Hostile {
    static final String HEALTHY = "iqn.2025-01.dev.apiary:healthy";
    static final String HOSTILE = "iqn.2025-01.dev.apiary:hostile";
    static final Duration CLOSE_SOON = Duration.ofSeconds(5);

    private Hostile() {}

    static Pdu nopOut(TestInitiator ini, byte[] data) {
        return Pdu.of(Pdu.NOP_OUT, true).set8(1, 0x80).set32(16, ini.newItt()).set32(20, Pdu.RESERVED)
                .set32(24, ini.cmdSn()).set32(28, ini.expStatSn()).withData(data);
    }

    static void assertUsable(TestInitiator ini) throws IOException {
        assertThat(ini.testUnitReady(Cdbs.lun(0)).good()).isTrue();
        byte[] echo = "still here".getBytes(StandardCharsets.UTF_8);
        assertThat(ini.nop(echo)).isEqualTo(echo);
        assertThat(ini.strays()).as("PDUs nobody asked for").isEmpty();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** Starts an 8-block WRITE(10) at {@code lba} and returns its R2T. */
    static Pdu startWrite(TestInitiator ini, long lba, int itt) throws IOException {
        ini.send(Pdu.of(Pdu.SCSI_COMMAND, false).set8(1, 0xa1).set64(8, Cdbs.lun(0)).set32(16, itt)
                .set32(20, 4096).set32(24, ini.cmdSn()).set32(28, ini.expStatSn())
                .setBytes(32, Arrays.copyOf(Cdbs.write10(lba, 8), 16)));
        ini.cmdSn(ini.cmdSn() + 1);
        Pdu r2t = ini.next();
        assertThat(r2t.opcode()).isEqualTo(Pdu.R2T);
        assertThat(r2t.itt()).isEqualTo(itt);
        assertThat(r2t.i32(40)).isZero();
        assertThat(r2t.i32(44)).isEqualTo(4096);
        return r2t;
    }

    static void assertAbortedCommand(Pdu response, int itt) {
        assertThat(response.opcode()).isEqualTo(Pdu.SCSI_RESPONSE);
        assertThat(response.itt()).isEqualTo(itt);
        assertThat(response.u8(3)).as("CHECK CONDITION").isEqualTo(0x02);
        byte[] d = response.data();
        assertThat(d.length).isGreaterThan(2 + 2);
        byte[] sense = Arrays.copyOfRange(d, 2, d.length);
        int key = (sense[0] & 0x7f) >= 0x72 ? sense[1] & 0x0f : sense[2] & 0x0f;
        assertThat(key).as("ABORTED COMMAND").isEqualTo(0x0b);
    }

    static final byte[] IDENTIFY = ascii("InitiatorName=" + HOSTILE + "\0TargetName=" + IQN + "\0");

    /** The login status the target answers a first Login Request carrying {@code text} with. */
    static int firstLoginStatus(TargetFixture target, byte[] text) throws IOException {
        try (TestInitiator ini = target.connect()) {
            Pdu r = ini.loginExchange(Login.request(ini, true, false, Login.SECURITY, Login.OPERATIONAL, text));
            return r.u8(36) << 8 | r.u8(37);
        }
    }
}
