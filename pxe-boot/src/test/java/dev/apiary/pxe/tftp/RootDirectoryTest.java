package dev.apiary.pxe.tftp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RootDirectoryTest {
    private static final InetSocketAddress CLIENT = new InetSocketAddress("127.0.0.1", 1000);

    @TempDir
    Path tmp;

    @Test
    void servesFilesUnderTheRootAndRefusesEscapes() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Files.createDirectories(root.resolve("ipxe"));
        Files.writeString(root.resolve("ipxe/undionly.kpxe"), "boot");
        Files.writeString(tmp.resolve("secret"), "s");
        Files.createSymbolicLink(root.resolve("escape"), tmp.resolve("secret"));
        Files.createSymbolicLink(root.resolve("inside"), root.resolve("ipxe/undionly.kpxe"));
        RootDirectory dir = new RootDirectory(root);

        try (FileSource.Source s = dir.open("ipxe/undionly.kpxe", CLIENT).orElseThrow()) {
            assertThat(s.size()).isEqualTo(4);
        }
        try (FileSource.Source s = dir.open("ipxe\\undionly.kpxe", CLIENT).orElseThrow()) {
            assertThat(s.size()).isEqualTo(4);
        }
        try (FileSource.Source s = dir.open("inside", CLIENT).orElseThrow()) {
            assertThat(s.size()).isEqualTo(4);
        }
        assertThat(dir.open("missing", CLIENT)).isEqualTo(Optional.empty());
        assertThat(dir.open("ipxe", CLIENT)).isEqualTo(Optional.empty()); // a directory
        for (String bad : new String[] {"../secret", "ipxe/../../secret", "..", "/etc/passwd", "\\etc\\passwd",
                "C:\\boot.ini", "ipxe\\..\\..\\secret", "escape"}) {
            assertThatThrownBy(() -> dir.open(bad, CLIENT)).as(bad).isInstanceOf(AccessDeniedException.class);
        }
    }
}
