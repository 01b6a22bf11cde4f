package dev.apiary.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenFileTest {
    @TempDir
    Path dir;

    @Test
    void aTokenVerifiesAndOnlyItsHashIsKept() throws Exception {
        TokenFile f = new TokenFile(dir.resolve("api-tokens"));
        String admin = f.create("admin", new SecureRandom());
        String ci = f.create("ci", new SecureRandom());
        assertThat(f.verify(admin)).contains("admin");
        assertThat(f.verify(ci)).contains("ci");
        assertThat(f.verify(admin + "x")).isEmpty();
        assertThat(f.verify(admin.substring(0, 12) + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")).isEmpty();
        assertThat(f.verify("")).isEmpty();
        assertThat(f.verify(null)).isEmpty();
        String stored = Files.readString(dir.resolve("api-tokens"));
        assertThat(stored).doesNotContain(admin).doesNotContain(ci).contains("$argon2id$");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("api-tokens"))))
                .isEqualTo("rw-------");
        assertThat(f.list()).extracting(TokenFile.Entry::name).containsExactly("admin", "ci");
    }

    @Test
    void namesAreCheckedAndUnique() throws Exception {
        TokenFile f = new TokenFile(dir.resolve("api-tokens"));
        f.create("admin", new SecureRandom());
        assertThatThrownBy(() -> f.create("admin", new SecureRandom())).hasMessageContaining("exists");
        assertThatThrownBy(() -> f.create("two words", new SecureRandom())).hasMessageContaining("token name");
        assertThatThrownBy(() -> f.create("", new SecureRandom())).hasMessageContaining("token name");
    }

    @Test
    void aDamagedFileAdmitsNobodyAndANewTokenIsSeenWithoutRestart() throws Exception {
        Path p = dir.resolve("api-tokens");
        TokenFile server = new TokenFile(p);
        assertThat(server.verify("apy_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")).isEmpty();
        String t = new TokenFile(p).create("later", new SecureRandom()); // another process, e.g. the CLI
        assertThat(server.verify(t)).contains("later");
        Files.writeString(p, "garbage line\nlater x y z\n\n", java.nio.file.StandardOpenOption.APPEND);
        assertThat(server.verify(t)).contains("later");
        assertThat(server.verify("garbage line")).isEmpty();
    }

    @Test
    void aRememberedTokenIsRevokedTheMomentItsLineGoes() throws Exception {
        Path p = dir.resolve("api-tokens");
        TokenFile server = new TokenFile(p);
        String keep = server.create("keep", new SecureRandom());
        String gone = server.create("gone", new SecureRandom());
        for (int i = 0; i < 3; i++) { // the first verifies by Argon2id, the rest are remembered
            assertThat(server.verify(gone)).contains("gone");
            assertThat(server.verify(keep)).contains("keep");
        }
        char last = gone.charAt(gone.length() - 1); // one character off (not the same one: 1 token in 64 ends in A)
        assertThat(server.verify(gone.substring(0, gone.length() - 1) + (last == 'A' ? 'B' : 'A'))).as("a near miss").isEmpty();
        List<String> lines = Files.readAllLines(p);
        Files.write(p, lines.stream().filter(l -> !l.startsWith("gone ")).toList());
        Files.setLastModifiedTime(p, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 5000));
        assertThat(server.verify(gone)).as("its line is gone").isEmpty();
        assertThat(server.verify(keep)).contains("keep");
    }
}
