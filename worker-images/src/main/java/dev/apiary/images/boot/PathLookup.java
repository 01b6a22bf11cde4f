package dev.apiary.images.boot;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.Optional;

/**
 * Finds files by path in an {@link Ext4}, as the kernel would: "." and "..", absolute and relative
 * symbolic links (at most 8 followed per lookup, as GRUB allows), names compared byte for byte.
 *
 * <p>Directories are scanned block by block (Documentation/filesystems/ext4/directory.rst, "Linear
 * (Classic) Directories"). Hashed (htree) directories are readable the same way: their index blocks
 * look like one empty entry spanning the block, so a linear scan passes over them. Every entry's
 * rec_len is checked, so a crafted directory cannot send the scan backwards, past the block, or
 * round in place.
 */
final class PathLookup {
    static final int MAX_SYMLINKS = 8;
    static final int MAX_NAME = 255;
    static final long MAX_DIRECTORY = 16 << 20;
    /** PATH_MAX: the kernel refuses longer symbolic link targets. */
    static final long MAX_SYMLINK = 4096;

    private static final byte[] DOT = {'.'};
    private static final byte[] DOT_DOT = {'.', '.'};

    private final Ext4 fs;

    PathLookup(Ext4 fs) {
        this.fs = fs;
    }

    /**
     * The inode at absolute {@code path}, following symbolic links (the last one too). Empty if a
     * component does not exist or one before the last is not a directory.
     */
    Optional<Inode> find(String path) throws IOException {
        Inode root = fs.inode(Ext4.ROOT_INODE);
        if (!root.isDirectory()) {
            throw fs.fail("inode %d, the root directory, is not a directory (mode 0%o)", root.number(), root.mode());
        }
        // The directories walked through, innermost on top: ".." pops, so a relative symbolic link
        // resolves from the directory that holds it, and ".." at the root stays there.
        Deque<Inode> walked = new ArrayDeque<>();
        walked.push(root);
        Deque<byte[]> todo = new ArrayDeque<>();
        push(todo, path.getBytes(StandardCharsets.UTF_8), path);
        int links = 0;
        while (!todo.isEmpty()) {
            byte[] name = todo.pop();
            Inode dir = walked.peek();
            if (!dir.isDirectory()) {
                return Optional.empty(); // ENOTDIR
            }
            if (Arrays.equals(name, DOT)) {
                continue;
            }
            if (Arrays.equals(name, DOT_DOT)) {
                if (walked.size() > 1) {
                    walked.pop();
                }
                continue;
            }
            long number = entry(dir, name);
            if (number == 0) {
                return Optional.empty(); // ENOENT
            }
            Inode inode = fs.inode(number);
            if (inode.isSymlink()) {
                if (++links > MAX_SYMLINKS) {
                    throw fs.fail("%s: too many symbolic links (more than %d)", path, MAX_SYMLINKS);
                }
                byte[] target = readLink(inode);
                if (target[0] == '/') {
                    while (walked.size() > 1) {
                        walked.pop();
                    }
                }
                push(todo, target, path);
                continue;
            }
            walked.push(inode);
        }
        return Optional.of(walked.peek());
    }

    /** Puts {@code path}'s components on top of {@code todo}, its first component topmost. */
    private void push(Deque<byte[]> todo, byte[] path, String looking) throws BootImageException {
        int end = path.length;
        for (int i = path.length - 1; i >= -1; i--) {
            if (i == -1 || path[i] == '/') {
                if (end - i - 1 > MAX_NAME) {
                    throw fs.fail("%s: a path component is longer than %d bytes", looking, MAX_NAME);
                }
                if (end - i - 1 > 0) {
                    todo.push(Arrays.copyOfRange(path, i + 1, end));
                }
                end = i;
            }
        }
    }

    /** The inode number of {@code name} in directory {@code dir}, or 0 if it has no such entry. */
    private long entry(Inode dir, byte[] name) throws IOException {
        int bs = fs.blockSize;
        if (dir.size() % bs != 0) {
            throw fs.fail("directory inode %d: size %d is not a whole number of %d-byte blocks", dir.number(), dir.size(), bs);
        }
        BootFile file = fs.file(dir, "directory inode " + dir.number(), MAX_DIRECTORY);
        ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(dir.size(), 1 << 20)).order(ByteOrder.LITTLE_ENDIAN);
        for (long offset = 0; offset < dir.size(); offset += chunk.capacity()) {
            chunk.clear().limit((int) Math.min(chunk.capacity(), dir.size() - offset));
            fs.charge(chunk.limit());
            file.read(offset, chunk);
            for (int base = 0; base < chunk.limit(); base += bs) {
                long found = entryInBlock(dir, (offset + base) / bs, chunk, base, name);
                if (found != 0) {
                    return found;
                }
            }
        }
        return 0;
    }

    private long entryInBlock(Inode dir, long blockIndex, ByteBuffer b, int base, byte[] name) throws BootImageException {
        int bs = fs.blockSize;
        int pos = 0;
        while (pos < bs) {
            if (bs - pos < 8) {
                throw fs.fail("directory inode %d, block %d: entry at byte %d runs past the block", dir.number(), blockIndex, pos);
            }
            long inode = Ext4.u32(b, base + pos);
            int recLen = Ext4.u16(b, base + pos + 4);
            int nameLen = fs.fileType ? Byte.toUnsignedInt(b.get(base + pos + 6)) : Ext4.u16(b, base + pos + 6);
            if (bs >= 65536) {
                // 64 KiB blocks do not fit rec_len's 16 bits: ext2fs_get_rec_len's encoding.
                recLen = recLen == 65535 || recLen == 0 ? bs : (recLen & 65532) | ((recLen & 3) << 16);
            }
            // The smallest record holds the 8-byte header and the name, rounded up to 4 bytes.
            if (recLen < 8 || recLen % 4 != 0 || recLen > bs - pos || nameLen > MAX_NAME || ((8 + nameLen + 3) & ~3) > recLen) {
                throw fs.fail("directory inode %d, block %d, byte %d: rec_len %d with name_len %d is invalid",
                        dir.number(), blockIndex, pos, recLen, nameLen);
            }
            int at = b.arrayOffset() + base + pos + 8;
            if (inode != 0 && nameLen == name.length && Arrays.equals(b.array(), at, at + nameLen, name, 0, nameLen)) {
                return inode;
            }
            pos += recLen;
        }
        return 0;
    }

    /** A symbolic link's target: in i_block for a fast link, else in its data blocks. */
    private byte[] readLink(Inode link) throws IOException {
        if (link.size() == 0) {
            throw fs.fail("inode %d: empty symbolic link", link.number());
        }
        if (link.isFastSymlink()) {
            return Arrays.copyOf(link.block(), (int) link.size());
        }
        return fs.file(link, "symbolic link inode " + link.number(), MAX_SYMLINK).readAll();
    }
}
