package dev.apiary.lun.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileVolumeTest {
    @TempDir
    Path dir;

    @Test
    void createsSparseAndReadsZeros() throws IOException {
        Path p = dir.resolve("v.img");
        try (FileVolume v = FileVolume.openOrCreate(p, 64 << 20)) {
            assertThat(v.size()).isEqualTo(64 << 20);
            ByteBuffer b = ByteBuffer.allocate(4096);
            v.read(32 << 20, b);
            assertThat(b.array()).containsOnly(0);
        }
        assertThat(Files.size(p)).isEqualTo(64 << 20);
    }

    @Test
    void writesReadBackAndSurviveReopen() throws IOException {
        Path p = dir.resolve("v.img");
        byte[] data = new byte[12345];
        new Random(7).nextBytes(data);
        try (FileVolume v = FileVolume.openOrCreate(p, 1 << 20)) {
            v.write(4096, ByteBuffer.wrap(data), false);
            v.write(100_000, ByteBuffer.wrap(data), true);
        }
        try (FileVolume v = FileVolume.open(p, true)) {
            ByteBuffer b = ByteBuffer.allocate(data.length);
            v.read(100_000, b);
            assertThat(b.array()).isEqualTo(data);
            assertThat(v.readOnly()).isTrue();
        }
    }

    @Test
    void unmapReadsAsZeros() throws IOException {
        try (FileVolume v = FileVolume.openOrCreate(dir.resolve("v.img"), 8 << 20)) {
            byte[] ones = new byte[3 << 20];
            Arrays.fill(ones, (byte) 1);
            v.write(0, ByteBuffer.wrap(ones), false);
            v.unmap(512, (2 << 20) + 512);
            ByteBuffer b = ByteBuffer.allocate(3 << 20);
            v.read(0, b);
            assertThat(b.get(511)).isEqualTo((byte) 1);
            assertThat(b.get(512)).isZero();
            assertThat(b.get((2 << 20) + 1023)).isZero();
            assertThat(b.get((2 << 20) + 1024)).isEqualTo((byte) 1);
        }
    }

    @Test
    void growsButNeverShrinks() throws IOException {
        try (FileVolume v = FileVolume.openOrCreate(dir.resolve("v.img"), 1 << 20)) {
            v.resize(2 << 20);
            assertThat(v.size()).isEqualTo(2 << 20);
            assertThatThrownBy(() -> v.resize(1 << 20)).hasMessageContaining("shrinking");
        }
    }

    @Test
    void missingFileWithoutSizeIsAClearError() {
        assertThatThrownBy(() -> FileVolume.openOrCreate(dir.resolve("none.img"), 0))
                .hasMessageContaining("none.img").hasMessageContaining("no size");
        assertThatThrownBy(() -> FileVolume.open(dir, false)).hasMessageContaining("not a regular file");
    }
}
