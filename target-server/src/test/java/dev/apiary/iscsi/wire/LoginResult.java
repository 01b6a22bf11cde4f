package dev.apiary.iscsi.wire;

import java.util.Map;

/**
 * The outcome of a login: the status class and detail of the last Login Response (0/0 when the
 * connection reached full feature phase), the TSIH the target assigned, and every key the target
 * sent during the login.
 */
public record LoginResult(int statusClass, int statusDetail, int tsih, Map<String, String> keys) {
    public boolean ok() {
        return statusClass == 0;
    }

    /** Class and detail as one number, e.g. 0x0201 for an authentication failure. */
    public int status() {
        return statusClass << 8 | statusDetail;
    }

    @Override
    public String toString() {
        return String.format("LoginResult[status=0x%04x tsih=%d keys=%s]", status(), tsih, keys.keySet());
    }
}
