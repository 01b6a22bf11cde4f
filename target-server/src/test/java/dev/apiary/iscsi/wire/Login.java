package dev.apiary.iscsi.wire;

import dev.apiary.chap.ChapAlgorithm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The initiator side of a login (RFC 7143 §6.3, §12.1.3): security stage with CHAP, optionally
 * mutual, then the operational stage to full feature phase. Written from the RFC, independently of
 * the target's code, so it checks the target rather than agreeing with it by construction.
 */
public final class Login {
    public static final int SECURITY = 0;
    public static final int OPERATIONAL = 1;
    public static final int FULL_FEATURE = 3;

    /** A CHAP name and secret. */
    public record Credentials(String user, String secret) {}

    /** The target's CHAP_N/CHAP_R did not prove the secret the initiator expects: the initiator refuses. */
    public static final class MutualChapException extends IOException {
        private static final long serialVersionUID = 1L;

        MutualChapException(String message) {
            super(message);
        }
    }

    /** Special behaviours for hostile-login tests. */
    public record Options(boolean reflectChallenge) {
        public static final Options NORMAL = new Options(false);
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    private Login() {}

    /** The operational keys the brief asks for (RFC 7143 §13). */
    public static Map<String, String> operationalDefaults() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("HeaderDigest", "None");
        m.put("DataDigest", "None");
        m.put("ImmediateData", "Yes");
        m.put("InitialR2T", "Yes");
        m.put("MaxRecvDataSegmentLength", "262144");
        m.put("MaxBurstLength", "262144");
        m.put("FirstBurstLength", "65536");
        m.put("ErrorRecoveryLevel", "0");
        m.put("MaxConnections", "1");
        return m;
    }

    /** A Login Request (§11.12) with this initiator's ISID and TSIH, CID 0, and its CmdSN/ExpStatSN. */
    public static Pdu request(TestInitiator ini, boolean transit, boolean cont, int csg, int nsg, byte[] data) {
        Pdu p = Pdu.of(Pdu.LOGIN_REQUEST, true);
        p.set8(1, (transit ? 0x80 : 0) | (cont ? 0x40 : 0) | (csg << 2) | (transit ? nsg : 0));
        p.set64(8, ini.isid() << 16 | ini.tsih()); // ISID in bytes 8-13, TSIH in 14-15
        p.set32(16, ini.loginItt());
        p.set16(20, 0);
        p.set32(24, ini.cmdSn());
        p.set32(28, ini.expStatSn());
        return p.withData(data);
    }

    static LoginResult run(TestInitiator ini, String initiatorName, String targetName, String chapUser,
            String chapSecret, ChapAlgorithm alg, Credentials mutual, Map<String, String> extra, Options options)
            throws IOException {
        Map<String, String> seen = new LinkedHashMap<>();

        // 1. Identify and offer CHAP (open-iscsi sets T and NSG=1 from the first PDU).
        Map<String, String> k = new LinkedHashMap<>();
        k.put("InitiatorName", initiatorName);
        if (targetName == null) {
            k.put("SessionType", "Discovery");
        } else {
            k.put("SessionType", "Normal");
            k.put("TargetName", targetName);
        }
        k.put("AuthMethod", "CHAP");
        Pdu r = ini.loginExchange(request(ini, true, false, SECURITY, OPERATIONAL, Pdu.text(k)));
        Map<String, String> keys = Pdu.keys(r.data());
        seen.putAll(keys);
        if (r.u8(36) != 0) {
            return failed(r, seen);
        }
        expect("CHAP".equals(keys.get("AuthMethod")), "target did not agree AuthMethod=CHAP: " + keys);

        // 2. CHAP_A; the target answers CHAP_A, CHAP_I, CHAP_C.
        r = ini.loginExchange(request(ini, true, false, SECURITY, OPERATIONAL,
                Pdu.text(Map.of("CHAP_A", Integer.toString(alg.code())))));
        keys = Pdu.keys(r.data());
        seen.putAll(keys);
        if (r.u8(36) != 0) {
            return failed(r, seen);
        }
        expect(Integer.toString(alg.code()).equals(keys.get("CHAP_A")), "target chose another CHAP_A: " + keys);
        int id = Integer.parseInt(keys.get("CHAP_I"));
        byte[] challenge = hex(keys.get("CHAP_C"));

        // 3. CHAP_N/CHAP_R, and for mutual CHAP our own CHAP_I/CHAP_C.
        Map<String, String> k3 = new LinkedHashMap<>();
        k3.put("CHAP_N", chapUser);
        k3.put("CHAP_R", "0x" + HexFormat.of().formatHex(
                alg.response(id, chapSecret.getBytes(StandardCharsets.UTF_8), challenge)));
        int myId = RANDOM.nextInt(256);
        byte[] myChallenge = null;
        if (mutual != null || options.reflectChallenge()) {
            myChallenge = options.reflectChallenge() ? challenge.clone() : new byte[32];
            if (!options.reflectChallenge()) {
                RANDOM.nextBytes(myChallenge);
            }
            k3.put("CHAP_I", Integer.toString(myId));
            k3.put("CHAP_C", "0x" + HexFormat.of().formatHex(myChallenge));
        }
        r = ini.loginExchange(request(ini, true, false, SECURITY, OPERATIONAL, Pdu.text(k3)));
        keys = Pdu.keys(r.data());
        seen.putAll(keys);
        if (r.u8(36) != 0) {
            return failed(r, seen);
        }
        if (mutual != null) {
            String tn = keys.get("CHAP_N");
            String tr = keys.get("CHAP_R");
            byte[] want = alg.response(myId, mutual.secret().getBytes(StandardCharsets.UTF_8), myChallenge);
            if (tn == null || tr == null || !tn.equals(mutual.user()) || !MessageDigest.isEqual(want, hex(tr))) {
                ini.close();
                throw new MutualChapException("the target failed mutual CHAP (CHAP_N=" + tn + ")");
            }
        }
        expect((r.flags() & 0x80) != 0 && (r.flags() & 0x03) == OPERATIONAL,
                String.format("target did not move to the operational stage (flags 0x%02x)", r.flags()));

        // 4. Operational keys, then full feature phase.
        Map<String, String> ops = operationalDefaults();
        ops.putAll(extra == null ? Map.of() : extra);
        byte[] text = Pdu.text(ops);
        for (int round = 0; round < 4; round++) {
            r = ini.loginExchange(request(ini, true, false, OPERATIONAL, FULL_FEATURE, text));
            keys = Pdu.keys(r.data());
            seen.putAll(keys);
            if (r.u8(36) != 0) {
                return failed(r, seen);
            }
            if ((r.flags() & 0x80) != 0 && (r.flags() & 0x03) == FULL_FEATURE) {
                int tsih = r.u16(14);
                ini.enterFullFeature(Negotiated.of(ops, seen));
                return new LoginResult(0, 0, tsih, seen);
            }
            text = new byte[0];
        }
        throw new IOException("target never moved to full feature phase: " + seen);
    }

    private static LoginResult failed(Pdu r, Map<String, String> seen) {
        return new LoginResult(r.u8(36), r.u8(37), r.u16(14), seen);
    }

    private static void expect(boolean ok, String what) throws IOException {
        if (!ok) {
            throw new IOException(what);
        }
    }

    /** RFC 7143 §6.1 hex binary value (the form this target sends). */
    static byte[] hex(String v) throws IOException {
        if (v == null || !(v.startsWith("0x") || v.startsWith("0X"))) {
            throw new IOException("not a hex binary value: " + v);
        }
        String d = v.substring(2);
        return HexFormat.of().parseHex(d.length() % 2 == 0 ? d : "0" + d);
    }
}
