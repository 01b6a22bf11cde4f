package dev.apiary.lun;

import java.io.IOException;

/**
 * This node may no longer reach the volume because another node fenced it (Ceph blocklisted its
 * client after taking the volume's lock over). Nothing is wrong with the data, and the volume is
 * served elsewhere: the target tells initiators to use another path, not that the medium failed.
 */
public class VolumeFencedException extends IOException {
    private static final long serialVersionUID = 1L;

    public VolumeFencedException(String message) {
        super(message);
    }
}
