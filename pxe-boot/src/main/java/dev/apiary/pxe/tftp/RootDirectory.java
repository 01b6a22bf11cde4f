package dev.apiary.pxe.tftp;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * Serves regular files under one directory and nothing else: paths with a {@code ..} segment,
 * absolute paths (Unix, DOS drive or UNC style) and symbolic links that resolve outside the root
 * are refused with ERROR 2. Backslashes are treated as separators, as PXE ROMs of Windows lineage
 * send them.
 */
public final class RootDirectory implements FileSource {
    private final Path root;

    public RootDirectory(Path root) throws IOException {
        this.root = root.toRealPath();
        if (!Files.isDirectory(this.root)) {
            throw new IOException("[tftp] root " + root + " is not a directory");
        }
    }

    public Path root() {
        return root;
    }

    @Override
    public Optional<Source> open(String path, InetSocketAddress client) throws IOException {
        Path file = resolve(path);
        Path real;
        try {
            real = file.toRealPath(); // follows every symbolic link on the way
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        if (!real.startsWith(root)) {
            throw new AccessDeniedException(path, null, "resolves outside the TFTP root");
        }
        if (!Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty(); // directories, devices, sockets: nothing to send
        }
        if (!Files.isReadable(real)) {
            throw new AccessDeniedException(path, null, "not readable");
        }
        FileChannel ch = FileChannel.open(real, StandardOpenOption.READ);
        try {
            return Optional.of(new Source(ch.size(), ch));
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** The lexical checks; the symlink check needs the file system and happens in {@link #open}. */
    Path resolve(String path) throws AccessDeniedException {
        String p = path.replace('\\', '/');
        if (p.startsWith("/") || (p.length() >= 2 && p.charAt(1) == ':')) {
            throw new AccessDeniedException(path, null, "absolute paths are refused");
        }
        for (String segment : p.split("/", -1)) {
            if (segment.equals("..")) {
                throw new AccessDeniedException(path, null, "'..' is refused");
            }
        }
        Path file = root.resolve(p).normalize();
        if (!file.startsWith(root)) {
            throw new AccessDeniedException(path, null, "outside the TFTP root");
        }
        return file;
    }
}
