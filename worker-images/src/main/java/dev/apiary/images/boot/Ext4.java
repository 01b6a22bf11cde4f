package dev.apiary.images.boot;

import dev.apiary.lun.Volume;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.Optional;

/**
 * A read-only ext2/3/4 filesystem inside one partition: the superblock, the group descriptors and
 * the inode table (Documentation/filesystems/ext4/ in the kernel: super.rst, group_descr.rst,
 * inodes.rst). Every number read from the disk is checked before it is used, so no read leaves the
 * filesystem and no crafted value makes us allocate or loop without bound.
 *
 * <p>The journal is not replayed, as GRUB and syslinux do not replay it either: a filesystem that
 * needs recovery (INCOMPAT_RECOVER) is read as it stands.
 */
final class Ext4 {
    static final long ROOT_INODE = 2;

    /**
     * Metadata (descriptors, inodes, tree nodes, indirect and directory blocks) read per filesystem.
     * Each structure has its own bound, but a crafted image can make lookups revisit them (a symbolic
     * link "d/../d/../d/.." through a 16 MiB directory); this bounds the whole walk. A real boot
     * reads a few hundred KiB; with at most eight partitions tried, a request costs at most 256 MiB.
     */
    static final long MAX_METADATA = 32 << 20;

    private static final int SUPERBLOCK_AT = 1024;
    private static final int MAGIC = 0xEF53;

    // s_feature_incompat (super.rst). What this reader does not name here, it refuses.
    private static final int INCOMPAT_FILETYPE = 0x2;
    private static final int INCOMPAT_RECOVER = 0x4;
    private static final int INCOMPAT_JOURNAL_DEV = 0x8;
    private static final int INCOMPAT_META_BG = 0x10;
    private static final int INCOMPAT_EXTENTS = 0x40;
    private static final int INCOMPAT_64BIT = 0x80;
    private static final int INCOMPAT_MMP = 0x100;
    private static final int INCOMPAT_FLEX_BG = 0x200;
    private static final int INCOMPAT_EA_INODE = 0x400;
    private static final int INCOMPAT_CSUM_SEED = 0x2000;
    private static final int INCOMPAT_LARGEDIR = 0x4000;
    private static final int INCOMPAT_INLINE_DATA = 0x8000;
    private static final int INCOMPAT_ENCRYPT = 0x10000;
    private static final int INCOMPAT_CASEFOLD = 0x20000;
    /**
     * Features that leave the superblock, group descriptors, inodes, extent trees, block maps and
     * directory entries as this reader parses them. Inline data and encryption are refused per
     * inode; META_BG (descriptors scattered through the disk), DIRDATA (longer directory entries)
     * and COMPRESSION change the layout and are refused here.
     */
    private static final int INCOMPAT_READABLE = INCOMPAT_FILETYPE | INCOMPAT_RECOVER | INCOMPAT_EXTENTS
            | INCOMPAT_64BIT | INCOMPAT_MMP | INCOMPAT_FLEX_BG | INCOMPAT_EA_INODE | INCOMPAT_CSUM_SEED
            | INCOMPAT_LARGEDIR | INCOMPAT_INLINE_DATA | INCOMPAT_ENCRYPT | INCOMPAT_CASEFOLD;

    final Volume disk;
    final long start;
    final int blockSize;
    final long blocksCount;
    /** Directory entries carry a file type byte, so name_len is one byte (directory.rst). */
    final boolean fileType;
    private final long inodesCount;
    private final long inodesPerGroup;
    private final int inodeSize;
    private final int descSize;
    private final long descTable;
    private long metadataRead;

    private Ext4(Volume disk, long start, ByteBuffer sb, long length) throws BootImageException {
        this.disk = disk;
        this.start = start;
        long incompat = u32(sb, 0x60);
        if ((incompat & INCOMPAT_META_BG) != 0) {
            throw fail("feature meta_bg is not supported (group descriptors are scattered)");
        }
        if ((incompat & ~INCOMPAT_READABLE) != 0) {
            throw fail("incompatible features 0x%X are not supported", incompat & ~INCOMPAT_READABLE);
        }
        boolean is64 = (incompat & INCOMPAT_64BIT) != 0;
        fileType = (incompat & INCOMPAT_FILETYPE) != 0;

        long logBlockSize = u32(sb, 0x18);
        if (logBlockSize > 6) {
            throw fail("block size exponent %d (1024 << %d bytes), want 0..6 (1 KiB..64 KiB)", logBlockSize, logBlockSize);
        }
        blockSize = 1024 << logBlockSize;
        blocksCount = u32(sb, 0x4) | (is64 ? u32(sb, 0x150) << 32 : 0);
        if (blocksCount == 0 || blocksCount > length / blockSize) {
            throw fail("%d blocks of %d bytes do not fit the partition's %d bytes", blocksCount, blockSize, length);
        }
        long firstDataBlock = u32(sb, 0x14);
        if (firstDataBlock > 1) {
            throw fail("s_first_data_block %d, want 0 or 1", firstDataBlock);
        }
        long blocksPerGroup = u32(sb, 0x20);
        if (blocksPerGroup == 0) {
            throw fail("s_blocks_per_group is 0");
        }
        long groupCount = Math.ceilDiv(blocksCount - firstDataBlock, blocksPerGroup);
        inodesPerGroup = u32(sb, 0x28);
        if (inodesPerGroup == 0 || inodesPerGroup > 8L * blockSize) {
            throw fail("s_inodes_per_group %d, want 1..%d", inodesPerGroup, 8L * blockSize);
        }
        inodesCount = u32(sb, 0x0);
        if (inodesCount < ROOT_INODE || Math.ceilDiv(inodesCount, inodesPerGroup) > groupCount) {
            throw fail("s_inodes_count %d, want 2..(%d groups of %d)", inodesCount, groupCount, inodesPerGroup);
        }
        // Revision 0 (GOOD_OLD_REV) has no s_inode_size: its inodes are 128 bytes.
        inodeSize = u32(sb, 0x4C) == 0 ? 128 : u16(sb, 0x58);
        if (inodeSize < 128 || inodeSize > blockSize || Integer.bitCount(inodeSize) != 1) {
            throw fail("inode size %d, want a power of two from 128 to the block size", inodeSize);
        }
        // Without 64BIT descriptors are 32 bytes; with it s_desc_size, 64..1024 (group_descr.rst).
        descSize = is64 ? u16(sb, 0xFE) : 32;
        if (is64 && (descSize < 64 || descSize > 1024 || Integer.bitCount(descSize) != 1)) {
            throw fail("s_desc_size %d, want a power of two from 64 to 1024", descSize);
        }
        // The descriptor table fills the blocks right after the superblock's (block 1, or 2 with 1 KiB blocks).
        descTable = (firstDataBlock + 1) * blockSize;
        if (groupCount > (blocksCount * blockSize - descTable) / descSize) {
            throw fail("%d group descriptors do not fit the filesystem", groupCount);
        }
    }

    /**
     * The ext2/3/4 filesystem at {@code start}, or empty if there is none (no superblock magic, or an
     * external journal device, which holds no files).
     */
    static Optional<Ext4> open(Volume disk, long start, long length) throws IOException {
        if (length < SUPERBLOCK_AT + 1024) {
            return Optional.empty();
        }
        ByteBuffer sb = ByteBuffer.allocate(1024).order(ByteOrder.LITTLE_ENDIAN);
        disk.read(start + SUPERBLOCK_AT, sb);
        if (u16(sb, 0x38) != MAGIC || (u32(sb, 0x60) & INCOMPAT_JOURNAL_DEV) != 0) {
            return Optional.empty();
        }
        return Optional.of(new Ext4(disk, start, sb, length));
    }

    /** Inode {@code number}, located through its group descriptor (inodes.rst, "Finding an Inode"). */
    Inode inode(long number) throws IOException {
        if (number < 1 || number > inodesCount) {
            throw fail("inode %d is outside 1..%d", number, inodesCount);
        }
        long group = (number - 1) / inodesPerGroup;
        long index = (number - 1) % inodesPerGroup;
        ByteBuffer desc = read(descTable + group * descSize, Math.min(descSize, 64));
        long table = u32(desc, 0x8) | (descSize >= 64 ? u32(desc, 0x28) << 32 : 0);
        long tableBlocks = Math.ceilDiv(inodesPerGroup * inodeSize, blockSize);
        if (table == 0 || table > blocksCount - tableBlocks) {
            throw fail("group %d: inode table at block %d is outside the filesystem's %d blocks", group, table, blocksCount);
        }
        ByteBuffer b = read(table * blockSize + index * inodeSize, 128);
        long size = u32(b, 0x4) | u32(b, 0x6C) << 32;
        if (size < 0) {
            throw fail("inode %d: i_size 0x%X is larger than 2^63", number, size);
        }
        byte[] block = new byte[Inode.BLOCK_BYTES];
        b.get(0x28, block);
        return new Inode(number, u16(b, 0x0), size, b.getInt(0x20), block);
    }

    /**
     * Locates {@code inode}'s data (its extent tree or block map) as a {@link BootFile}, refusing it
     * if it is larger than {@code maxSize} or stored in a way this reader does not read.
     */
    BootFile file(Inode inode, String path, long maxSize) throws IOException {
        if (inode.size() > maxSize) {
            throw fail("%s (inode %d): %d bytes, more than the %d allowed", path, inode.number(), inode.size(), maxSize);
        }
        if (inode.hasFlag(Inode.INLINE_DATA_FL)) {
            throw fail("%s (inode %d): inline data is not supported", path, inode.number());
        }
        if (inode.hasFlag(Inode.ENCRYPT_FL)) {
            throw fail("%s (inode %d): the file is encrypted", path, inode.number());
        }
        Runs runs = inode.hasFlag(Inode.EXTENTS_FL) ? BlockMap.extents(this, inode) : BlockMap.pointers(this, inode);
        return new BootFile(path, inode.size(), disk, start, blockSize, runs);
    }

    /** Block {@code block} of the filesystem, little-endian; the caller has checked it is in range. */
    ByteBuffer block(long block) throws IOException {
        return read(block * blockSize, blockSize);
    }

    /** Counts {@code bytes} of metadata about to be read against {@link #MAX_METADATA}. */
    void charge(long bytes) throws BootImageException {
        metadataRead += bytes;
        if (metadataRead > MAX_METADATA) {
            throw fail("more than %d bytes of metadata read: directories or maps revisited without end", MAX_METADATA);
        }
    }

    private ByteBuffer read(long offset, int length) throws IOException {
        charge(length);
        if (offset < 0 || offset > blocksCount * blockSize - length) {
            throw fail("read of %d bytes at %d is outside the filesystem", length, offset);
        }
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        disk.read(start + offset, b);
        return b.clear();
    }

    /** An exception that says which filesystem is at fault, e.g. "ext4 at byte 68157440: inode 12: ...". */
    BootImageException fail(String format, Object... args) {
        return new BootImageException("ext4 at byte " + start + ": " + String.format(Locale.ROOT, format, args));
    }

    static long u32(ByteBuffer b, int at) {
        return Integer.toUnsignedLong(b.getInt(at));
    }

    static int u16(ByteBuffer b, int at) {
        return Short.toUnsignedInt(b.getShort(at));
    }
}
