package dev.apiary.iscsi.login;

import java.util.Map;

/** What the target answers one login request with: a status, the stage transition and text keys. */
public record LoginReply(LoginStatus status, boolean transit, int csg, int nsg, Map<String, String> keys) {

    static LoginReply fail(LoginStatus status, int csg) {
        return new LoginReply(status, false, csg, 0, Map.of());
    }

    public boolean failed() {
        return status != LoginStatus.SUCCESS;
    }

    /** True when this reply moves the connection into full feature phase. */
    public boolean completesLogin() {
        return !failed() && transit && nsg == LoginNegotiator.FULL_FEATURE;
    }
}
