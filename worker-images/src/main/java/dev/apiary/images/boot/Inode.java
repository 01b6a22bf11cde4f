package dev.apiary.images.boot;

/**
 * The fields of an ext2/3/4 inode this reader needs (Documentation/filesystems/ext4/inodes.rst).
 *
 * @param number the inode number
 * @param mode i_mode: file type in the top four bits, permissions below
 * @param size i_size_lo | i_size_high << 32, checked to be non-negative
 * @param flags i_flags (EXT4_EXTENTS_FL, EXT4_INLINE_DATA_FL, ...)
 * @param block i_block: 60 bytes holding the extent tree root, 15 block pointers or a fast symlink's target
 */
record Inode(long number, int mode, long size, int flags, byte[] block) {
    static final int EXTENTS_FL = 0x80000;
    static final int INLINE_DATA_FL = 0x10000000;
    static final int ENCRYPT_FL = 0x800;
    static final int BLOCK_BYTES = 60;

    private static final int S_IFMT = 0xF000;

    boolean isDirectory() {
        return (mode & S_IFMT) == 0x4000;
    }

    boolean isRegular() {
        return (mode & S_IFMT) == 0x8000;
    }

    boolean isSymlink() {
        return (mode & S_IFMT) == 0xA000;
    }

    boolean hasFlag(int flag) {
        return (flags & flag) != 0;
    }

    /**
     * A fast symbolic link keeps its target in i_block instead of a data block. This is e2fsprogs'
     * test (ext2fs_is_fast_symlink): shorter than i_block, and neither an extent tree nor inline data
     * occupies i_block (the kernel clears EXT4_EXTENTS_FL on the fast symlinks it creates).
     */
    boolean isFastSymlink() {
        return isSymlink() && size > 0 && size < BLOCK_BYTES && !hasFlag(EXTENTS_FL) && !hasFlag(INLINE_DATA_FL);
    }
}
