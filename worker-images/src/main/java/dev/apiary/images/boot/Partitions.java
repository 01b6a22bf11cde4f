package dev.apiary.images.boot;

import dev.apiary.lun.Volume;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.zip.CRC32;

/**
 * The places on a disk where a root filesystem may be: the partitions of its MBR or GPT, or the
 * whole disk when it has no partition table. Bootable partitions come first (the MBR's active flag,
 * GPT's Legacy BIOS Bootable attribute), the way a BIOS boot finds extlinux; then the rest in table
 * order. A partition that does not fit the disk is an error, so later reads need no second check.
 */
final class Partitions {
    /** Where a filesystem may start and how long it may be; {@code name} is for messages. */
    record Partition(String name, long start, long length, boolean bootable) {}

    private static final int SECTOR = 512;
    private static final int MBR_TABLE = 446;
    private static final int PROTECTIVE = 0xEE;
    private static final List<Integer> EXTENDED = List.of(0x05, 0x0F, 0x85);
    private static final long GPT_SIGNATURE = 0x5452415020494645L; // "EFI PART", little-endian
    private static final int MAX_GPT_ENTRIES = 128;
    private static final int MAX_GPT_ENTRY_SIZE = 512;

    private Partitions() {}

    static List<Partition> read(Volume disk) throws IOException {
        long size = disk.size();
        List<Partition> whole = List.of(new Partition("whole disk", 0, size, false));
        if (size < SECTOR) {
            return whole;
        }
        ByteBuffer mbr = read(disk, 0, SECTOR);
        if (Ext4.u16(mbr, 510) != 0xAA55) {
            return whole;
        }
        // An MBR's status bytes are 0x00 or 0x80. Anything else is a filesystem's own boot sector
        // (a whole-disk filesystem with a boot loader, say), whose signature is the same.
        for (int i = 0; i < 4; i++) {
            int status = Byte.toUnsignedInt(mbr.get(MBR_TABLE + 16 * i));
            if (status != 0 && status != 0x80) {
                return whole;
            }
        }
        for (int i = 0; i < 4; i++) {
            if (Byte.toUnsignedInt(mbr.get(MBR_TABLE + 16 * i + 4)) == PROTECTIVE) {
                return gpt(disk, size); // a GPT disk, or a hybrid MBR: the GPT is the real table
            }
        }
        List<Partition> found = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            int at = MBR_TABLE + 16 * i;
            int type = Byte.toUnsignedInt(mbr.get(at + 4));
            long first = Ext4.u32(mbr, at + 8);
            long sectors = Ext4.u32(mbr, at + 12);
            if (type == 0 || sectors == 0 || EXTENDED.contains(type)) {
                continue; // unused, or a container of logical partitions (not read)
            }
            String name = "MBR partition " + (i + 1);
            if (first == 0 || (first + sectors) * SECTOR > size) {
                throw new BootImageException(String.format(Locale.ROOT,
                        "%s: sectors %d..%d are outside the disk's %d sectors", name, first, first + sectors - 1, size / SECTOR));
            }
            found.add(new Partition(name, first * SECTOR, sectors * SECTOR, mbr.get(at) == (byte) 0x80));
        }
        return found.isEmpty() ? whole : bootableFirst(found);
    }

    /**
     * The GUID Partition Table behind a protective MBR (UEFI spec §5.3): the header at LBA 1, checked
     * by signature, size and CRC32, then its entry array, bounded and checked by its own CRC32.
     * Sectors of 512 bytes are tried first, then 4096. The backup header at the disk's end is not read.
     */
    private static List<Partition> gpt(Volume disk, long size) throws IOException {
        for (int sector : new int[] {SECTOR, 4096}) {
            if (size < 2L * sector) {
                continue;
            }
            ByteBuffer header = read(disk, sector, SECTOR);
            if (header.getLong(0) == GPT_SIGNATURE) {
                return gptEntries(disk, size, sector, header);
            }
        }
        throw new BootImageException("GPT: protective MBR (type 0xEE) but no \"EFI PART\" header at LBA 1");
    }

    private static List<Partition> gptEntries(Volume disk, long size, int sector, ByteBuffer header) throws IOException {
        String where = "GPT header at byte " + sector;
        long headerSize = Ext4.u32(header, 12);
        if (headerSize < 92 || headerSize > SECTOR) {
            throw fail(where, "header size %d, want 92..%d", headerSize, SECTOR);
        }
        long headerCrc = Ext4.u32(header, 16);
        header.putInt(16, 0);
        if (crc(header, (int) headerSize) != headerCrc) {
            throw fail(where, "header CRC32 0x%08X does not match its contents", headerCrc);
        }
        long arrayLba = header.getLong(72);
        long count = Ext4.u32(header, 80);
        long entrySize = Ext4.u32(header, 84);
        if (count > MAX_GPT_ENTRIES) {
            throw fail(where, "%d partition entries, more than the %d allowed", count, MAX_GPT_ENTRIES);
        }
        if (entrySize < 128 || entrySize > MAX_GPT_ENTRY_SIZE || Long.bitCount(entrySize) != 1) {
            throw fail(where, "partition entry size %d, want 128, 256 or 512", entrySize);
        }
        int arrayBytes = (int) (count * entrySize);
        if (arrayLba < 2 || arrayLba > (size - arrayBytes) / sector) {
            throw fail(where, "partition entries at LBA %d are outside the disk", arrayLba);
        }
        ByteBuffer array = read(disk, arrayLba * sector, arrayBytes);
        long arrayCrc = Ext4.u32(header, 88);
        if (crc(array, arrayBytes) != arrayCrc) {
            throw fail(where, "partition entry array CRC32 0x%08X does not match its contents", arrayCrc);
        }
        List<Partition> found = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int at = (int) (i * entrySize);
            if (array.getLong(at) == 0 && array.getLong(at + 8) == 0) {
                continue; // type GUID zero: unused entry
            }
            long first = array.getLong(at + 32);
            long last = array.getLong(at + 40); // inclusive
            String name = "GPT partition " + (i + 1);
            if (first < 1 || last < first || last >= size / sector) {
                throw fail(name, "LBAs %d..%d are outside the disk's %d sectors",
                        first, last, size / sector);
            }
            // Attribute bit 2: Legacy BIOS Bootable, what a BIOS boot loader looks for (§5.3.3).
            boolean bootable = (array.getLong(at + 48) & 4) != 0;
            found.add(new Partition(name, first * sector, (last - first + 1) * sector, bootable));
        }
        return bootableFirst(found);
    }

    private static List<Partition> bootableFirst(List<Partition> partitions) {
        List<Partition> sorted = new ArrayList<>(partitions);
        sorted.sort(Comparator.comparing(p -> !p.bootable())); // stable: table order otherwise
        return sorted;
    }

    private static long crc(ByteBuffer b, int length) {
        CRC32 crc = new CRC32();
        crc.update(b.duplicate().clear().limit(length));
        return crc.getValue();
    }

    private static ByteBuffer read(Volume disk, long offset, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        disk.read(offset, b);
        return b.clear();
    }

    private static BootImageException fail(String where, String format, Object... args) {
        return new BootImageException(where + ": " + String.format(Locale.ROOT, format, args));
    }
}
