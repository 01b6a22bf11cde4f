package dev.apiary.lun;

import java.io.IOException;

/**
 * This node may not write to the volume now: another node fenced it (Ceph blocklisted its client
 * after taking the volume's lock over), or another node holds the volume's exclusive lock. Nothing
 * is wrong with the data, and the volume is served elsewhere: the target tells initiators to use
 * another path, not that the medium failed.
 */
public class VolumeFencedException extends IOException {
    private static final long serialVersionUID = 1L;

    public VolumeFencedException(String message) {
        super(message);
    }
}
