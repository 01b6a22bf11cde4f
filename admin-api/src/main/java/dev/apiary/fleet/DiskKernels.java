package dev.apiary.fleet;

import dev.apiary.images.boot.BootEntry;
import dev.apiary.images.boot.BootFile;
import dev.apiary.images.boot.BootImageException;
import dev.apiary.lun.Volume;
import dev.apiary.lun.VolumeStore;
import dev.apiary.pxe.ServedFile;
import dev.apiary.pxe.ipxe.LinuxBoot;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The kernel, initrd and command line that a worker's boot disk would boot, read from that disk
 * (its extlinux configuration, the one the BIOS path already uses), so iPXE can fetch them over
 * HTTP instead of running the disk's boot loader over iSCSI. Read from the volume the worker
 * boots at every script, so a kernel upgraded in the image, a rollback or a maintenance boot
 * needs nothing cached to be right. A disk without that configuration, or with one that cannot
 * be read, boots its own loader through sanboot as before.
 */
public final class DiskKernels {
    private static final Logger log = LoggerFactory.getLogger(DiskKernels.class);

    private final VolumeStore store;

    public DiskKernels(VolumeStore store) {
        this.store = store;
    }

    /** What the worker's script boots from {@code volume}, or empty to sanboot. Never throws. */
    Optional<LinuxBoot> linux(Worker w, String volume) {
        try (Volume disk = store.open(volume)) {
            Optional<BootEntry> entry = BootEntry.read(disk);
            if (entry.isEmpty()) {
                log.info("[boot] {}: no extlinux configuration on {}; booting its own loader", w.name(), volume);
                return Optional.empty();
            }
            String base = "/boot/" + w.mac().replace(':', '-') + "/";
            return Optional.of(new LinuxBoot(base + "kernel", base + "initrd", entry.get().append()));
        } catch (IOException | RuntimeException e) {
            log.warn("[boot] {}: reading the kernel of {} failed, booting its own loader: {}", w.name(), volume, e.toString());
            return Optional.empty();
        }
    }

    /** The kernel or initrd of {@code volume}, holding the volume open until closed. */
    public Optional<ServedFile> open(String volume, String name) throws IOException {
        Volume disk = store.open(volume);
        try {
            Optional<BootEntry> entry = BootEntry.read(disk);
            if (entry.isEmpty()) {
                disk.close();
                return Optional.empty();
            }
            BootFile file = switch (name) {
                case "kernel" -> entry.get().kernel();
                case "initrd" -> entry.get().initrd();
                default -> throw new BootImageException("no boot file called " + name);
            };
            return Optional.of(new ServedFile() {
                @Override
                public long size() {
                    return file.size();
                }

                @Override
                public void read(long offset, ByteBuffer dst) throws IOException {
                    file.read(offset, dst);
                }

                @Override
                public void close() throws IOException {
                    disk.close();
                }
            });
        } catch (IOException | RuntimeException e) {
            disk.close();
            throw e;
        }
    }
}
