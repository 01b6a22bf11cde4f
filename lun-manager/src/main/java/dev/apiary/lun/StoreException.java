package dev.apiary.lun;

import java.io.IOException;

/** A store operation that cannot be done; {@link #reason} says why in a form the API can map to a status. */
public class StoreException extends IOException {
    private static final long serialVersionUID = 1L;

    public enum Reason {
        NOT_FOUND,
        ALREADY_EXISTS,
        /** Something depends on it: clones on a snapshot, or an open handle. */
        IN_USE,
        INVALID,
        /** On-disk state that fails its checks; never served as data. */
        CORRUPT
    }

    public final Reason reason;

    public StoreException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public StoreException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }
}
