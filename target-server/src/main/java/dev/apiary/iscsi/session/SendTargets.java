package dev.apiary.iscsi.session;

import dev.apiary.iscsi.login.TextKeys;
import dev.apiary.iscsi.pdu.InitiatorPdu.TextRequest;
import dev.apiary.iscsi.pdu.RejectReason;
import dev.apiary.iscsi.pdu.TargetPdu;
import dev.apiary.iscsi.pdu.TargetPdu.TextResponse;
import dev.apiary.iscsi.portal.ExportTable;
import dev.apiary.iscsi.portal.TargetExport;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Text requests in the full feature phase (RFC 7143 §11.10): SendTargets (§13.3, Appendix C),
 * which lists only targets this initiator may log in to with the CHAP account it proved, and
 * "NotUnderstood" for any other key (renegotiation is not offered). An answer longer than the
 * initiator's MaxRecvDataSegmentLength goes out in pieces: each but the last has C = 1 and a
 * target transfer tag, and the initiator fetches the next with an empty request carrying it
 * (§11.11.2).
 */
final class SendTargets {
    private final Connection conn;
    private byte[] pending;
    private int pendingTtt = TargetPdu.RESERVED_TAG;

    SendTargets(Connection conn) {
        this.conn = conn;
    }

    void handle(TextRequest req) {
        try {
            conn.finishedNonTask(req);
            if (req.ttt() != TargetPdu.RESERVED_TAG) {
                if (req.ttt() != pendingTtt || pending == null) {
                    conn.reject(RejectReason.INVALID_PDU_FIELD, req); // §11.10.4: a tag we never gave
                    return;
                }
                sendPiece(req);
                return;
            }
            pending = null; // §11.10.4: a new request (reserved TTT) ends any earlier exchange
            Map<String, String> keys;
            try {
                keys = TextKeys.parse(ByteBufUtil.getBytes(req.data()));
            } catch (TextKeys.FormatException e) {
                conn.reject(RejectReason.PROTOCOL_ERROR, req);
                return;
            }
            StringBuilder text = new StringBuilder();
            Map<String, String> others = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : keys.entrySet()) {
                if (e.getKey().equals("SendTargets")) {
                    list(e.getValue(), text);
                } else {
                    others.put(e.getKey(), "NotUnderstood");
                }
            }
            text.append(new String(TextKeys.encode(others), StandardCharsets.UTF_8));
            pending = text.toString().getBytes(StandardCharsets.UTF_8);
            pendingTtt = conn.nextTtt();
            sendPiece(req);
        } finally {
            req.release();
        }
    }

    private void sendPiece(TextRequest req) {
        int max = conn.session.params().initiatorMaxRecvDataSegmentLength();
        int length = Math.min(pending.length, max);
        boolean more = pending.length > length;
        ByteBuf data = length == 0 ? null : conn.channel.alloc().buffer(length).writeBytes(pending, 0, length);
        pending = more ? Arrays.copyOfRange(pending, length, pending.length) : null;
        conn.send(new TextResponse(!more, more, req.lun(), req.itt(), more ? pendingTtt : TargetPdu.RESERVED_TAG,
                conn.takeStatSn(), conn.expCmdSn(), conn.maxCmdSn(), data));
    }

    /**
     * "All" in a discovery session; in a normal session only its own target (§13.3). Each target
     * with the address this connection came to first, then every other gateway's portal.
     */
    private void list(String value, StringBuilder text) {
        Session s = conn.session;
        ExportTable table = conn.portal.exports().get();
        for (TargetExport t : table.targets()) {
            boolean visible = s.discovery()
                    ? value.equals("All") && t.admits(s.initiatorName()) && s.chapUser().flatMap(t::account).isPresent()
                    : t.iqn().equals(s.targetName()) && (value.isEmpty() || value.equals(t.iqn()) || value.equals("All"));
            if (visible) {
                text.append("TargetName=").append(t.iqn()).append('\0');
                text.append("TargetAddress=").append(address()).append(',').append(conn.portal.portalGroupTag()).append('\0');
                for (ExportTable.Portal p : table.portals()) {
                    if (p.group() != conn.portal.portalGroupTag()) {
                        text.append("TargetAddress=").append(p.address()).append(',').append(p.group()).append('\0');
                    }
                }
            }
        }
    }

    private String address() {
        InetSocketAddress local = (InetSocketAddress) conn.channel.localAddress();
        String host = local.getAddress().getHostAddress();
        if (local.getAddress() instanceof Inet6Address) {
            host = "[" + host + "]";
        }
        return host + ":" + local.getPort();
    }
}
