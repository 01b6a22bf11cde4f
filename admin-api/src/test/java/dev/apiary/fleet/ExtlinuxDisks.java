package dev.apiary.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Disk images laid out as the worker image recipe lays them out, made with the real mkfs.ext4. */
public final class ExtlinuxDisks {
    private ExtlinuxDisks() {}

    /** An MBR disk: p2 (active) an ext4 root made by mkfs.ext4 -d, as worker-images/recipes lays it out. */
    public static Path build(Path dir, String name, byte[] kernel, byte[] initrd, String append) throws Exception {
        Path root = Files.createDirectories(dir.resolve(name + "-root/boot/extlinux"));
        Files.writeString(root.resolve("extlinux.conf"),
                "DEFAULT apiary\nPROMPT 0\nLABEL apiary\n  LINUX /vmlinuz\n  INITRD /initrd.img\n  " + append + "\n");
        Path top = root.getParent().getParent();
        Files.write(top.resolve("boot/vmlinuz-6.1.0-1-amd64"), kernel);
        Files.write(top.resolve("boot/initrd.img-6.1.0-1-amd64"), initrd);
        Files.createSymbolicLink(top.resolve("vmlinuz"), Path.of("boot/vmlinuz-6.1.0-1-amd64"));
        Files.createSymbolicLink(top.resolve("initrd.img"), Path.of("boot/initrd.img-6.1.0-1-amd64"));
        Path fs = dir.resolve(name + ".ext4");
        Process p = new ProcessBuilder("mkfs.ext4", "-q", "-F", "-O", "^64bit,^metadata_csum", "-d", top.toString(),
                fs.toString(), "24M").redirectErrorStream(true).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0).as(new String(p.getInputStream().readAllBytes())).isTrue();
        Path image = dir.resolve(name + ".img");
        long start = 1 << 20, size = Files.size(fs);
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            ByteBuffer mbr = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
            mbr.put(446 + 16, (byte) 0x80).put(446 + 16 + 4, (byte) 0x83)
                    .putInt(446 + 16 + 8, (int) (start / 512)).putInt(446 + 16 + 12, (int) (size / 512))
                    .put(510, (byte) 0x55).put(511, (byte) 0xAA);
            f.write(mbr.array());
            f.seek(start);
            f.write(Files.readAllBytes(fs));
        }
        return image;
    }
}
