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

    /**
     * Whether a failed write failed for lack of space (ENOSPC or EDQUOT). The JDK reports errno
     * only as the message text, so the text is what there is to go on.
     */
    public static boolean isNoSpace(IOException e) {
        String m = e.getMessage();
        return m != null && (m.contains("No space left") || m.contains("Disk quota exceeded"));
    }
}
