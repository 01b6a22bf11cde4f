package dev.apiary.images.boot;

import dev.apiary.lun.Volume;
import java.io.IOException;
import java.util.Objects;
import java.util.Optional;

/**
 * What a disk's extlinux configuration boots: kernel, initrd, command line.
 *
 * <p>The server serves {@code kernel} and {@code initrd} over HTTP and gives iPXE {@code append} as
 * the kernel's command line, which is faster than iPXE's sanboot reading them through GRUB or
 * syslinux over INT 13h one sector at a time.
 *
 * @param kernel the LINUX (or KERNEL) file
 * @param initrd the INITRD file (or the {@code initrd=} option of APPEND when there is no INITRD line)
 * @param append the APPEND line, trimmed, without an {@code initrd=} option taken as the initrd; may be empty
 */
public record BootEntry(BootFile kernel, BootFile initrd, String append) {
    /** Partitions looked at, at most: Debian's images have one or two, a crafted table up to 128. */
    static final int MAX_CANDIDATES = 8;

    public BootEntry {
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(initrd, "initrd");
        Objects.requireNonNull(append, "append");
    }

    /**
     * Empty when the disk has no ext2/3/4 filesystem with an extlinux configuration (an image of
     * another kind; the caller falls back to sanboot), or when the configuration's entry is not a
     * Linux kernel with one initrd. Throws BootImageException for a structure that is present but
     * corrupt or hostile.
     *
     * <p>Candidates are the bootable partitions, then the others, then (without a partition table)
     * the whole disk; the first with an ext2/3/4 filesystem holding an extlinux configuration is the
     * one read. The returned files read from {@code disk}, which must stay open while they are used.
     */
    public static Optional<BootEntry> read(Volume disk) throws IOException {
        // The disk is the worker's own, so a crafted one could list 128 partitions all pointing at
        // one filesystem built to cost the most reads: look at a few, each place once.
        java.util.Set<Long> seen = new java.util.HashSet<>();
        for (Partitions.Partition p : Partitions.read(disk)) {
            if (!seen.add(p.start())) {
                continue;
            }
            if (seen.size() > MAX_CANDIDATES) {
                break;
            }
            Optional<Ext4> fs = Ext4.open(disk, p.start(), p.length());
            if (fs.isEmpty()) {
                continue;
            }
            Optional<Extlinux> config = Extlinux.find(fs.get());
            if (config.isPresent()) {
                return config.get().entry();
            }
        }
        return Optional.empty();
    }
}
