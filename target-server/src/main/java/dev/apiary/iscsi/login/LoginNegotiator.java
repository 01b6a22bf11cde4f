package dev.apiary.iscsi.login;

import dev.apiary.chap.ChapStep;
import dev.apiary.chap.TargetChap;
import dev.apiary.iscsi.pdu.InitiatorPdu.LoginRequest;
import dev.apiary.iscsi.portal.ExportTable;
import dev.apiary.iscsi.portal.TargetExport;
import java.io.ByteArrayOutputStream;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The login phase of one connection (RFC 7143 §6.3): the security stage (CHAP, always required)
 * and the operational stage, one request at a time. Pure logic: it sees parsed requests and
 * returns replies; the connection handler does the I/O.
 *
 * <p>Order of checks, after LIO: the request's framing fields, then who the initiator is and which
 * target it wants, then CHAP; a session is only created or reinstated after authentication, so a
 * forged ISID cannot knock out another initiator's session (LIO iscsi_target_nego.c).
 */
public final class LoginNegotiator {
    public static final int SECURITY = 0;
    public static final int OPERATIONAL = 1;
    public static final int FULL_FEATURE = 3;
    /** A whole login's text, across continued PDUs, is bounded so a peer cannot make us buffer without end. */
    private static final int MAX_TEXT = 64 * 1024;

    public enum SessionType {
        NORMAL,
        DISCOVERY
    }

    private final ExportTable exports;
    private final int portalGroupTag;
    private final SecureRandom random;
    private final OperationalNegotiation operational;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    /** No request has been fully read yet (the first may span several continued PDUs). */
    private boolean first = true;
    /** The ISID, TSIH, CID and stage of the first PDU are recorded; later PDUs must match them. */
    private boolean framingRecorded;
    private int stage;
    private long isid;
    private int tsih;
    private int cid;
    private String initiatorName;
    private SessionType sessionType;
    private TargetExport target;
    private boolean chapAgreed;
    private TargetChap chap;
    private boolean authenticated;

    public LoginNegotiator(ExportTable exports, int portalGroupTag, SecureRandom random, Map<LoginKey, String> offers) {
        this.exports = exports;
        this.portalGroupTag = portalGroupTag;
        this.random = random;
        this.operational = new OperationalNegotiation(offers);
    }

    public LoginReply handle(LoginRequest req, byte[] data) {
        LoginStatus framing = checkFraming(req);
        if (framing != null) {
            return LoginReply.fail(framing, req.csg());
        }
        if (pending.size() + data.length > MAX_TEXT) {
            return LoginReply.fail(LoginStatus.INITIATOR_ERROR, stage);
        }
        pending.writeBytes(data);
        if (req.cont()) {
            // §6.3 / §11.12.2: more text follows; answer with an empty response and wait for it.
            return new LoginReply(LoginStatus.SUCCESS, false, stage, 0, Map.of());
        }
        Map<String, String> keys;
        try {
            keys = TextKeys.parse(pending.toByteArray());
        } catch (TextKeys.FormatException e) {
            return LoginReply.fail(LoginStatus.INITIATOR_ERROR, stage);
        } finally {
            pending.reset();
        }
        Map<String, String> reply = new LinkedHashMap<>();
        LoginStatus status = first ? identify(req, keys, reply) : null;
        first = false;
        if (status == null) {
            status = stage == SECURITY ? security(keys, reply) : operational(keys, reply);
        }
        if (status != LoginStatus.SUCCESS) {
            return LoginReply.fail(status, stage);
        }
        return transition(req, reply);
    }

    /** §11.12: version, stage codes, and the ISID/TSIH/CID staying the same across the login. */
    private LoginStatus checkFraming(LoginRequest req) {
        if (req.versionMin() > 0) {
            return LoginStatus.UNSUPPORTED_VERSION; // §11.12.4: only version 0 exists
        }
        if (req.csg() == 2 || (req.transit() && (req.nsg() == 2 || req.nsg() <= req.csg()))) {
            return LoginStatus.INITIATOR_ERROR;
        }
        if (req.transit() && req.cont()) {
            return LoginStatus.INITIATOR_ERROR; // §11.12.2: C and T MUST NOT both be set
        }
        if (!framingRecorded) {
            if (req.csg() != SECURITY && req.csg() != OPERATIONAL) {
                return LoginStatus.INITIATOR_ERROR;
            }
            framingRecorded = true;
            stage = req.csg();
            isid = req.isid();
            tsih = req.tsih();
            cid = req.cid();
            return null;
        }
        if (req.csg() != stage || req.isid() != isid || req.tsih() != tsih || req.cid() != cid) {
            return LoginStatus.INITIATOR_ERROR;
        }
        return null;
    }

    /** The first request names the initiator, the session type and, for a normal session, the target. */
    private LoginStatus identify(LoginRequest req, Map<String, String> keys, Map<String, String> reply) {
        initiatorName = keys.remove("InitiatorName");
        if (initiatorName == null || initiatorName.isEmpty()) {
            return LoginStatus.MISSING_PARAMETER; // §13.5: required in the first login request
        }
        String type = keys.remove("SessionType");
        if (type == null || type.equals("Normal")) {
            sessionType = SessionType.NORMAL;
        } else if (type.equals("Discovery")) {
            sessionType = SessionType.DISCOVERY;
        } else {
            return LoginStatus.SESSION_TYPE_NOT_SUPPORTED;
        }
        keys.remove("InitiatorAlias");
        String targetName = keys.remove("TargetName");
        if (sessionType == SessionType.NORMAL) {
            if (targetName == null) {
                return LoginStatus.MISSING_PARAMETER; // §13.4: required for a normal session
            }
            Optional<TargetExport> t = exports.target(targetName);
            if (t.isEmpty()) {
                return LoginStatus.NOT_FOUND;
            }
            if (!t.get().admits(initiatorName)) {
                return LoginStatus.AUTHORIZATION_FAILED;
            }
            target = t.get();
            // §13.9: the target returns its portal group tag in the first response of a normal session.
            reply.put("TargetPortalGroupTag", Integer.toString(portalGroupTag));
        }
        if (stage != SECURITY) {
            // CHAP is mandatory (docs/security.md): skipping the security stage is an authentication failure.
            return LoginStatus.AUTHENTICATION_FAILED;
        }
        return null;
    }

    private LoginStatus security(Map<String, String> keys, Map<String, String> reply) {
        String authMethod = keys.remove("AuthMethod");
        if (authMethod != null) {
            boolean offered = false;
            for (String m : authMethod.split(",")) {
                offered |= m.equals("CHAP");
            }
            if (!offered || chap != null) {
                return LoginStatus.AUTHENTICATION_FAILED;
            }
            chapAgreed = true;
            reply.put("AuthMethod", "CHAP");
        }
        String chapA = keys.remove("CHAP_A");
        String chapN = keys.remove("CHAP_N");
        String chapR = keys.remove("CHAP_R");
        String chapI = keys.remove("CHAP_I");
        String chapC = keys.remove("CHAP_C");
        if (chapA != null) {
            if (!chapAgreed || chap != null || chapN != null) {
                return LoginStatus.INITIATOR_ERROR;
            }
            chap = new TargetChap(new LoginChapAuthority(exports, target, initiatorName), random);
            ChapStep step = chap.offer(chapA);
            if (step instanceof ChapStep.Failure f) {
                if (f.reason() == ChapStep.Reason.UNSUPPORTED_ALGORITHM) {
                    return LoginStatus.AUTHENTICATION_FAILED;
                }
                return LoginStatus.INITIATOR_ERROR;
            }
            reply.putAll(((ChapStep.Reply) step).keys());
        } else if (chapN != null || chapR != null) {
            if (chap == null || chapN == null || chapR == null) {
                return LoginStatus.INITIATOR_ERROR;
            }
            ChapStep step = chap.verify(chapN, chapR, chapI, chapC);
            if (step instanceof ChapStep.Failure f) {
                return f.reason() == ChapStep.Reason.PROTOCOL_ERROR
                        ? LoginStatus.INITIATOR_ERROR
                        : LoginStatus.AUTHENTICATION_FAILED;
            }
            reply.putAll(((ChapStep.Reply) step).keys());
            authenticated = true;
        } else if (chapI != null || chapC != null) {
            return LoginStatus.INITIATOR_ERROR;
        }
        // Initiators may send operational keys early; they are negotiated as in the operational stage.
        return operational(keys, reply);
    }

    private LoginStatus operational(Map<String, String> keys, Map<String, String> reply) {
        for (Map.Entry<String, String> e : keys.entrySet()) {
            String k = e.getKey();
            if (k.startsWith("CHAP_") || k.equals("AuthMethod") || k.equals("SessionType")
                    || k.equals("InitiatorName") || k.equals("TargetName")) {
                return LoginStatus.INITIATOR_ERROR; // §6.3: only valid in the first request or the security stage
            }
            if (k.equals("InitiatorAlias")) {
                continue;
            }
            if (!operational.answer(k, e.getValue(), reply)) {
                return LoginStatus.INITIATOR_ERROR;
            }
        }
        return LoginStatus.SUCCESS;
    }

    private LoginReply transition(LoginRequest req, Map<String, String> reply) {
        if (!req.transit()) {
            return new LoginReply(LoginStatus.SUCCESS, false, stage, 0, reply);
        }
        if (stage == SECURITY && !authenticated) {
            if (chap == null && !chapAgreed) {
                return LoginReply.fail(LoginStatus.AUTHENTICATION_FAILED, stage);
            }
            // CHAP is under way: stay in the security stage until the initiator proves its secret.
            return new LoginReply(LoginStatus.SUCCESS, false, stage, 0, reply);
        }
        int from = stage;
        if (req.nsg() == FULL_FEATURE) {
            operational.declareOurs(reply);
        }
        stage = req.nsg();
        return new LoginReply(LoginStatus.SUCCESS, true, from, req.nsg(), reply);
    }

    public String initiatorName() {
        return initiatorName;
    }

    public long isid() {
        return isid;
    }

    public int tsih() {
        return tsih;
    }

    public SessionType sessionType() {
        return sessionType;
    }

    /** The target of a normal session; null for discovery. */
    public TargetExport target() {
        return target;
    }

    public Optional<String> chapUser() {
        return chap == null ? Optional.empty() : chap.authenticatedUser();
    }

    public SessionParams params() {
        return operational.result();
    }
}
