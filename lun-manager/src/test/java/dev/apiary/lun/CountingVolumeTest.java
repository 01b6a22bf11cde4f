package dev.apiary.lun;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.lun.file.FileVolume;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CountingVolumeTest {
    @TempDir
    Path dir;

    @Test
    void countsOperationsAndBytesAndPassesEverythingThrough() throws Exception {
        try (CountingVolume v = new CountingVolume(FileVolume.openOrCreate(dir.resolve("v.img"), 1 << 20))) {
            v.write(4096, ByteBuffer.wrap(new byte[] {1, 2, 3, 4}), false);
            v.write(0, ByteBuffer.allocate(512), true);
            ByteBuffer b = ByteBuffer.allocate(4);
            v.read(4096, b);
            assertThat(b.array()).containsExactly(1, 2, 3, 4);
            assertThat(v.reads()).isEqualTo(1);
            assertThat(v.readBytes()).isEqualTo(4);
            assertThat(v.writes()).isEqualTo(2);
            assertThat(v.writtenBytes()).isEqualTo(516);
            assertThat(v.size()).isEqualTo(1 << 20);
        }
    }
}
