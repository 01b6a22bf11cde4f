package dev.apiary.lun;

import java.io.IOException;

/**
 * The backing store has no space left for a write. The target reports it as a thin-provisioning
 * space allocation failure (SBC-3 §4.7.3.7) rather than a medium error, so the initiator knows the
 * data it already had acknowledged is intact and only this write failed.
 */
public class VolumeFullException extends IOException {
    private static final long serialVersionUID = 1L;

    public VolumeFullException(String message, Throwable cause) {
        super(message, cause);
    }
}
