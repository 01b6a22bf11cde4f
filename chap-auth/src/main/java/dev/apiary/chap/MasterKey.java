package dev.apiary.chap;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * The 256-bit key that seals secrets at rest ({@link SecretBox}), kept in a file only its owner
 * may read.
 *
 * <p>The file holds exactly 32 raw random bytes. It is created with mode 0600 from the start (never
 * created wider and narrowed later, which would leave a window in which others could read it) and
 * published under its final name with a hard link, which fails rather than replaces if another
 * process got there first: two servers starting at once must not end up sealing with different
 * keys. A file that is a symlink, that group or others may access, or that is not exactly 32 bytes
 * is refused rather than repaired, because each of those means someone or something other than
 * Apiary has been at it; the message names the file and what to do.
 *
 * <p>{@link #toString()} names the file, never the key.
 */
public final class MasterKey {
    /** AES-256 (NIST SP 800-38D with FIPS 197): 32 bytes. */
    static final int LENGTH = 32;

    private static final Set<PosixFilePermission> OWNER_ONLY =
            EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    private static final Set<PosixFilePermission> GROUP_OR_OTHERS = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private final Path file;
    private final SecretKey key;

    private MasterKey(Path file, byte[] raw) {
        this.file = file;
        this.key = new SecretKeySpec(raw, "AES");
        Arrays.fill(raw, (byte) 0);
    }

    /**
     * The key in {@code file}, created with 32 bytes from {@link SecureRandom} if the file does not
     * exist yet. Missing parent directories are created with mode 0700.
     *
     * @throws IllegalStateException if the file is a symlink, is accessible to group or others, has
     *     the wrong length or cannot be read or written; the message names the file and the fix
     */
    public static MasterKey loadOrCreate(Path file) {
        Objects.requireNonNull(file, "file");
        Path path = file.toAbsolutePath();
        try {
            if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                return load(path);
            }
            return create(path);
        } catch (UnsupportedOperationException e) {
            throw new IllegalStateException("master key file " + path + " must be on a file system "
                    + "with POSIX permissions, so that only its owner can read it", e);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read or create master key file " + path + ": " + e, e);
        }
    }

    private static MasterKey load(Path path) throws IOException {
        PosixFileAttributes attrs =
                Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (attrs.isSymbolicLink()) {
            throw new IllegalStateException("master key file " + path + " is a symbolic link; replace it "
                    + "with the file itself (a link lets whoever controls its target choose the key)");
        }
        if (!attrs.isRegularFile()) {
            throw new IllegalStateException("master key file " + path + " is not a regular file");
        }
        Set<PosixFilePermission> loose = EnumSet.copyOf(attrs.permissions());
        loose.retainAll(GROUP_OR_OTHERS);
        if (!loose.isEmpty()) {
            throw new IllegalStateException("master key file " + path + " is accessible to group or others ("
                    + PosixFilePermissions.toString(attrs.permissions()) + "); run: chmod 600 " + path);
        }
        // NOFOLLOW_LINKS again at open: the file could have been swapped for a link since the check.
        // One byte more than expected is read so that a longer file is seen as such.
        byte[] raw = new byte[LENGTH + 1];
        int n = 0;
        try (SeekableByteChannel ch = Files.newByteChannel(path,
                Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS))) {
            ByteBuffer buf = ByteBuffer.wrap(raw);
            while (buf.hasRemaining()) {
                int r = ch.read(buf);
                if (r < 0) {
                    break;
                }
                n += r;
            }
        }
        if (n != LENGTH) {
            Arrays.fill(raw, (byte) 0);
            throw new IllegalStateException("master key file " + path + " must hold exactly " + LENGTH
                    + " bytes but holds " + (n > LENGTH ? "more" : String.valueOf(n))
                    + "; restore it from backup (a new key cannot open secrets sealed with the old one)");
        }
        return new MasterKey(path, Arrays.copyOf(raw, LENGTH));
    }

    private static MasterKey create(Path path) throws IOException {
        Path dir = path.getParent();
        FileAttribute<Set<PosixFilePermission>> ownerOnlyDir =
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, ownerOnlyDir);
        }
        byte[] raw = new byte[LENGTH];
        new SecureRandom().nextBytes(raw);
        // The temporary file is created 0600 by open(2) itself (the umask can only narrow it).
        Path tmp = Files.createTempFile(dir, "." + path.getFileName(), ".tmp",
                PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(raw);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            try {
                Files.createLink(path, tmp);
            } catch (FileAlreadyExistsException e) {
                // Another process created the key meanwhile: use theirs, or both would seal differently.
                Arrays.fill(raw, (byte) 0);
                return load(path);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        syncDirectory(dir);
        return new MasterKey(path, raw);
    }

    /** Makes the new directory entry durable, so a crash cannot lose a key already used to seal. */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Some file systems refuse fsync on a directory; the file itself was already forced.
        }
    }

    /** The file the key lives in. */
    public Path file() {
        return file;
    }

    /** The AES key, for {@link SecretBox} only. */
    SecretKey aesKey() {
        return key;
    }

    @Override
    public String toString() {
        return "MasterKey[" + file + ", ***]";
    }
}
