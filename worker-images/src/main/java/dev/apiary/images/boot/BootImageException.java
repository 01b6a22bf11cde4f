package dev.apiary.images.boot;

import java.io.IOException;

/**
 * A disk structure that is present but corrupt, hostile or of a kind this reader refuses: a
 * partition table, an ext2/3/4 filesystem or an extlinux configuration. The message says what is
 * wrong and where, e.g. {@code ext4 at byte 68157440: inode 12: extent header magic 0x0000, want 0xF30A}.
 */
public final class BootImageException extends IOException {
    private static final long serialVersionUID = 1L;

    public BootImageException(String message) {
        super(message);
    }
}
