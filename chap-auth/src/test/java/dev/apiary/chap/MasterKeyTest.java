package dev.apiary.chap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MasterKeyTest {
    @TempDir
    Path dir;

    @Test
    void createsThirtyTwoRandomBytesReadableByTheOwnerOnly() throws Exception {
        Path file = dir.resolve("master.key");
        MasterKey key = MasterKey.loadOrCreate(file);

        assertThat(file).isRegularFile();
        assertThat(Files.size(file)).isEqualTo(32);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(key.aesKey().getEncoded()).isEqualTo(Files.readAllBytes(file));
        assertThat(key.aesKey().getEncoded()).isNotEqualTo(new byte[32]);
        // No temporary file is left behind.
        try (var files = Files.list(dir)) {
            assertThat(files).containsExactly(file);
        }
    }

    @Test
    void loadsTheSameKeyAgain() {
        Path file = dir.resolve("master.key");
        byte[] first = MasterKey.loadOrCreate(file).aesKey().getEncoded();
        byte[] second = MasterKey.loadOrCreate(file).aesKey().getEncoded();
        assertThat(second).isEqualTo(first);
    }

    @Test
    void twoFilesGetDifferentKeys() {
        byte[] a = MasterKey.loadOrCreate(dir.resolve("a.key")).aesKey().getEncoded();
        byte[] b = MasterKey.loadOrCreate(dir.resolve("b.key")).aesKey().getEncoded();
        assertThat(a).isNotEqualTo(b);
    }

    @Test
    void createsMissingDirectoriesForOwnerOnly() throws Exception {
        Path file = dir.resolve("data/keys/master.key");
        MasterKey.loadOrCreate(file);
        assertThat(file).isRegularFile();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())))
                .isEqualTo("rwx------");
    }

    @Test
    void concurrentCreatorsAgreeOnOneKey() throws Exception {
        Path file = dir.resolve("master.key");
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<byte[]>> results = new ArrayList<>();
            Callable<byte[]> create = () -> MasterKey.loadOrCreate(file).aesKey().getEncoded();
            for (int i = 0; i < 16; i++) {
                results.add(pool.submit(create));
            }
            byte[] onDisk = null;
            for (Future<byte[]> f : results) {
                byte[] k = f.get();
                onDisk = onDisk == null ? Files.readAllBytes(file) : onDisk;
                assertThat(k).isEqualTo(onDisk);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void refusesAGroupReadableFile() throws Exception {
        Path file = dir.resolve("master.key");
        MasterKey.loadOrCreate(file);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));

        assertThatThrownBy(() -> MasterKey.loadOrCreate(file))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("chmod 600");
        // Refused, not repaired: the permissions are left for the operator to look at.
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-r-----");
    }

    @Test
    void refusesAFileOthersCanWrite() throws Exception {
        Path file = dir.resolve("master.key");
        Files.write(file, new byte[32]);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-----w-"));
        assertThatThrownBy(() -> MasterKey.loadOrCreate(file))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("chmod 600");
    }

    @Test
    void acceptsAnOwnerReadOnlyFile() throws Exception {
        Path file = dir.resolve("master.key");
        byte[] k = MasterKey.loadOrCreate(file).aesKey().getEncoded();
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--------"));
        assertThat(MasterKey.loadOrCreate(file).aesKey().getEncoded()).isEqualTo(k);
    }

    @Test
    void refusesFilesOfTheWrongLength() throws Exception {
        for (int length : new int[] {0, 1, 16, 31, 33, 64, 4096}) {
            Path file = dir.resolve("len" + length + ".key");
            Files.write(file, new byte[length]);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            assertThatThrownBy(() -> MasterKey.loadOrCreate(file))
                    .as("length %d", length)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(file.toString())
                    .hasMessageContaining("32 bytes");
            assertThat(Files.size(file)).isEqualTo(length);
        }
    }

    @Test
    void refusesASymlinkEvenToAGoodKeyFile() throws Exception {
        Path real = dir.resolve("real.key");
        MasterKey.loadOrCreate(real);
        Path link = Files.createSymbolicLink(dir.resolve("master.key"), real);
        assertThatThrownBy(() -> MasterKey.loadOrCreate(link))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(link.toString())
                .hasMessageContaining("symbolic link");
    }

    @Test
    void refusesADanglingSymlinkInsteadOfCreatingItsTarget() throws Exception {
        Path target = dir.resolve("elsewhere.key");
        Path link = Files.createSymbolicLink(dir.resolve("master.key"), target);
        assertThatThrownBy(() -> MasterKey.loadOrCreate(link))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("symbolic link");
        assertThat(target).doesNotExist();
    }

    @Test
    void refusesADirectory() throws Exception {
        Path d = Files.createDirectory(dir.resolve("master.key"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        assertThatThrownBy(() -> MasterKey.loadOrCreate(d))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(d.toString());
    }

    @Test
    void toStringNamesTheFileButNotTheKey() throws Exception {
        Path file = dir.resolve("master.key");
        MasterKey key = MasterKey.loadOrCreate(file);
        String s = key.toString();
        assertThat(s).contains(file.toString()).contains("***");
        byte[] raw = Files.readAllBytes(file);
        assertThat(s).doesNotContain(java.util.HexFormat.of().formatHex(raw))
                .doesNotContain(java.util.Base64.getEncoder().encodeToString(raw))
                .doesNotContain(java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(raw));
    }
}
