package dev.apiary.lun.rbd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.lun.StoreException;
import dev.apiary.lun.StoreException.Reason;
import dev.apiary.lun.VolumeFullException;
import dev.apiary.lun.VolumeTimeoutException;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** How librbd's negative errno values become exceptions; needs no cluster (and no librbd). */
class RbdErrorsTest {
    private static Reason reason(int errno) {
        IOException e = RbdErrors.error(-errno, "volume v1");
        assertThat(e).isInstanceOf(StoreException.class);
        assertThat(e.getMessage()).startsWith("volume v1: ");
        return ((StoreException) e).reason;
    }

    @Test
    void controlErrorsMapToStoreReasons() {
        assertThat(reason(2)).isEqualTo(Reason.NOT_FOUND); // ENOENT
        assertThat(reason(17)).isEqualTo(Reason.ALREADY_EXISTS); // EEXIST
        assertThat(reason(16)).isEqualTo(Reason.IN_USE); // EBUSY: watchers, or a protected snapshot with clones
        assertThat(reason(39)).isEqualTo(Reason.IN_USE); // ENOTEMPTY: an image with snapshots
        assertThat(reason(22)).isEqualTo(Reason.INVALID); // EINVAL
    }

    @Test
    void timeoutsAndFullClustersHaveTheirOwnExceptions() {
        assertThat(RbdErrors.error(-110, "writing v1")).isInstanceOf(VolumeTimeoutException.class)
                .hasMessageContaining("ETIMEDOUT").hasMessageContaining("writing v1");
        assertThat(RbdErrors.error(-28, "writing v1")).isInstanceOf(VolumeFullException.class)
                .hasMessageContaining("ENOSPC");
        assertThat(RbdErrors.error(-122, "writing v1")).isInstanceOf(VolumeFullException.class)
                .hasMessageContaining("EDQUOT");
    }

    @Test
    void otherErrorsNameTheErrnoAndWhatItMeans() {
        IOException fenced = RbdErrors.error(-108, "writing v1");
        assertThat(fenced).isNotInstanceOf(StoreException.class);
        assertThat(fenced.getMessage()).contains("EBLOCKLISTED").contains("blocklisted");
        assertThat(RbdErrors.error(-30, "writing v1").getMessage()).contains("EROFS").contains("exclusive lock");
        assertThat(RbdErrors.error(-5, "reading v1").getMessage()).isEqualTo("reading v1: EIO");
        assertThat(RbdErrors.error(-4095, "x").getMessage()).isEqualTo("x: errno 4095");
    }
}
