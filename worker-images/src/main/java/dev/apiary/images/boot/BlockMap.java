package dev.apiary.images.boot;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;

/**
 * Resolves where a file's blocks lie into {@link Runs}, from either of the two on-disk maps:
 *
 * <ul>
 *   <li>the ext4 extent tree (Documentation/filesystems/ext4/ifork.rst, "Extent Tree"): a 12-byte
 *       header (magic 0xF30A, entries, max, depth), then index entries pointing to lower nodes or,
 *       at depth 0, extents of up to 32768 blocks, unwritten when ee_len is above 32768;
 *   <li>the ext2/3 block map (blockmap.rst): 12 direct pointers, then single, double and triple
 *       indirect blocks; a zero pointer is a hole, and covers the whole subtree below it.
 * </ul>
 *
 * Only blocks before the end of the file are mapped, every block number is checked against the
 * filesystem's size before it is read or recorded, and the tree walk is bounded in depth and in the
 * number of nodes visited, so a crafted tree (a cycle, an index fan-out onto the same leaf) ends in
 * a {@link BootImageException}.
 */
final class BlockMap {
    private static final int EXTENT_MAGIC = 0xF30A;
    /** The kernel's own bound (EXT4_MAX_EXTENT_DEPTH); ext4 never builds trees deeper than 5. */
    private static final int MAX_DEPTH = 5;
    /**
     * Bytes of tree nodes read per file: a 512 MiB file in 65536 extents needs under 1 MiB of them,
     * while a crafted index fanning out onto one empty leaf would otherwise be read again and again.
     */
    private static final long MAX_NODE_BYTES = 32 << 20;
    /** ee_len above this marks an unwritten (preallocated) extent of ee_len - 32768 blocks. */
    private static final int MAX_INIT_LEN = 32768;
    private static final int DIRECT = 12;

    private final Ext4 fs;
    private final Inode inode;
    private final Runs runs;
    private final long fileBlocks;
    private long nodeBytes;

    private BlockMap(Ext4 fs, Inode inode) {
        this.fs = fs;
        this.inode = inode;
        this.fileBlocks = Math.ceilDiv(inode.size(), fs.blockSize);
        this.runs = new Runs(fs, inode, fileBlocks);
    }

    /** The runs of an inode with EXT4_EXTENTS_FL: its tree's root is i_block. */
    static Runs extents(Ext4 fs, Inode inode) throws IOException {
        BlockMap m = new BlockMap(fs, inode);
        m.extentNode(ByteBuffer.wrap(inode.block()).order(ByteOrder.LITTLE_ENDIAN), -1);
        return m.runs;
    }

    /** The runs of an inode with a classic block map: i_block holds 15 pointers. */
    static Runs pointers(Ext4 fs, Inode inode) throws IOException {
        BlockMap m = new BlockMap(fs, inode);
        ByteBuffer b = ByteBuffer.wrap(inode.block()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < DIRECT && i < m.fileBlocks; i++) {
            m.data(i, Ext4.u32(b, 4 * i));
        }
        long first = DIRECT;
        long span = 1;
        for (int level = 1; level <= 3 && first < m.fileBlocks; level++) {
            span *= fs.blockSize / 4;
            m.indirect(Ext4.u32(b, 4 * (DIRECT - 1 + level)), level, first);
            first += span;
        }
        return m.runs;
    }

    /**
     * One node of the extent tree: the header at the buffer's start, entries after it. The root
     * (in i_block, {@code wantDepth} -1) may have any depth up to 5; a lower node must be exactly
     * one level below its parent, which also rules out cycles.
     */
    private void extentNode(ByteBuffer b, int wantDepth) throws IOException {
        int magic = Ext4.u16(b, 0);
        int entries = Ext4.u16(b, 2);
        int max = Ext4.u16(b, 4);
        int depth = Ext4.u16(b, 6);
        if (magic != EXTENT_MAGIC) {
            throw fail("extent header magic 0x%04X, want 0x%04X", magic, EXTENT_MAGIC);
        }
        int fits = (b.capacity() - 12) / 12;
        if (max > fits || entries > max) {
            throw fail("extent node with %d entries of %d, but room for %d", entries, max, fits);
        }
        if (depth > MAX_DEPTH || (wantDepth >= 0 && depth != wantDepth)) {
            throw fail("extent node at depth %d, want %s", depth, wantDepth >= 0 ? wantDepth : "0.." + MAX_DEPTH);
        }
        for (int i = 0; i < entries; i++) {
            int at = 12 + 12 * i;
            long logical = Ext4.u32(b, at);
            if (depth == 0) {
                int len = Ext4.u16(b, at + 4);
                long start = (long) Ext4.u16(b, at + 6) << 32 | Ext4.u32(b, at + 8);
                boolean unwritten = len > MAX_INIT_LEN;
                if (unwritten) {
                    len -= MAX_INIT_LEN;
                }
                if (len == 0) {
                    throw fail("extent at logical block %d has length 0", logical);
                }
                checkBlocks(logical, start, len);
                runs.add(logical, unwritten ? -1 : start, len);
            } else {
                long child = (long) Ext4.u16(b, at + 8) << 32 | Ext4.u32(b, at + 4);
                if (logical >= fileBlocks) {
                    continue; // all of it lies past the end of the file: preallocated, never read
                }
                checkBlocks(logical, child, 1);
                nodeBytes += fs.blockSize;
                if (nodeBytes > MAX_NODE_BYTES) {
                    throw fail("extent tree has more than %d bytes of nodes", MAX_NODE_BYTES);
                }
                extentNode(fs.block(child), depth - 1);
            }
        }
    }

    /** The subtree under indirect block {@code pointer} at {@code level} (1 single, 2 double, 3 triple). */
    private void indirect(long pointer, int level, long first) throws IOException {
        if (pointer == 0) {
            return; // a hole as large as the whole subtree
        }
        checkBlocks(first, pointer, 1);
        ByteBuffer b = fs.block(pointer);
        long span = 1;
        for (int l = 1; l < level; l++) {
            span *= fs.blockSize / 4;
        }
        for (int i = 0; i < fs.blockSize / 4; i++) {
            long logical = first + i * span;
            if (logical >= fileBlocks) {
                return;
            }
            long p = Ext4.u32(b, 4 * i);
            if (level == 1) {
                data(logical, p);
            } else {
                indirect(p, level - 1, logical);
            }
        }
    }

    private void data(long logical, long pointer) throws BootImageException {
        if (pointer != 0) {
            checkBlocks(logical, pointer, 1);
            runs.add(logical, pointer, 1);
        }
    }

    /** Physical blocks {@code start..start+len-1} must lie inside the filesystem (and not be block 0). */
    private void checkBlocks(long logical, long start, long len) throws BootImageException {
        if (start == 0 || start > fs.blocksCount - len) {
            throw fail("logical block %d maps to blocks %d..%d, outside the filesystem's %d blocks",
                    logical, start, start + len - 1, fs.blocksCount);
        }
    }

    private BootImageException fail(String format, Object... args) {
        return fs.fail("inode %d: %s", inode.number(), String.format(Locale.ROOT, format, args));
    }
}
