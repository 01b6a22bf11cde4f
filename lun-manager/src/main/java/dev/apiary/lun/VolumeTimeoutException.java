package dev.apiary.lun;

import java.io.IOException;

/**
 * The backing store did not answer within its configured time (a Ceph cluster that lost quorum,
 * has no OSD up for the data, or is full). Unlike a medium error nothing is known to be wrong with
 * the data: the operation may still complete later, so the target reports it as a retryable
 * condition and not as corrupt data.
 */
public class VolumeTimeoutException extends IOException {
    private static final long serialVersionUID = 1L;

    public VolumeTimeoutException(String message) {
        super(message);
    }
}
