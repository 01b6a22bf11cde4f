package dev.apiary.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * QEMU's libiscsi block driver boots a disk from an Apiary LUN with CHAP: SeaBIOS reads the boot
 * sector over iSCSI and runs it, and the sector prints a marker on the serial port. Software
 * emulation (-accel tcg): this machine's KVM cannot run every firmware.
 */
class QemuBootIT {
    static final String MARKER = "APIARY-BOOT-OK";

    @TempDir
    Path dir;

    /** A 512-byte MBR: print MARKER on COM1 (0x3f8) and halt. Hand-assembled, annotated per instruction. */
    static byte[] bootSector() {
        byte[] code = {
            (byte) 0xfa, // cli
            0x31, (byte) 0xc0, // xor ax, ax
            (byte) 0x8e, (byte) 0xd8, // mov ds, ax
            (byte) 0xbe, 0x16, 0x7c, // mov si, 0x7c16 (the message, right after this code)
            (byte) 0xba, (byte) 0xf8, 0x03, // mov dx, 0x3f8
            (byte) 0xac, // loop: lodsb
            (byte) 0x84, (byte) 0xc0, // test al, al
            0x74, 0x03, // jz done
            (byte) 0xee, // out dx, al
            (byte) 0xeb, (byte) 0xf8, // jmp loop
            (byte) 0xf4, // done: hlt
            (byte) 0xeb, (byte) 0xfd, // jmp done
        };
        byte[] sector = new byte[512];
        System.arraycopy(code, 0, sector, 0, code.length);
        byte[] msg = (MARKER + "\r\n\0").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        System.arraycopy(msg, 0, sector, code.length, msg.length);
        sector[510] = 0x55;
        sector[511] = (byte) 0xaa;
        return sector;
    }

    List<String> qemu(String url, Path serial) {
        return qemu(url, serial, "NONE");
    }

    List<String> qemu(String url, Path serial, String headerDigest) {
        return List.of("qemu-system-x86_64", "-accel", "tcg", "-m", "64", "-nodefaults", "-display", "none",
                "-no-reboot", "-serial", "file:" + serial,
                "-iscsi", "initiator-name=iqn.2026-11.dev.apiary.test:qemu,header-digest=" + headerDigest,
                "-drive", "file=" + url + ",format=raw,if=none,id=d0,cache=none",
                "-device", "virtio-blk-pci,drive=d0,bootindex=1");
    }

    @Test
    void qemuBootsTheLunThroughLibiscsiWithChap() throws Exception {
        bootsWith("NONE");
    }

    /** RFC 7143 §13.1: libiscsi negotiates CRC32C header digests when QEMU asks it to. */
    @Test
    void qemuBootsWithCrc32cHeaderDigests() throws Exception {
        bootsWith("CRC32C");
    }

    private void bootsWith(String headerDigest) throws Exception {
        Path img = dir.resolve("boot.img");
        Files.write(img, bootSector());
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(16 << 20);
        }
        int port = Tools.freePort();
        try (ExportProcess e = ExportProcess.start("--portal", "127.0.0.1:" + port, "--chap", "qemu:secretsecret12",
                img.toString()).awaitReady(1)) {
            Path serial = dir.resolve("serial.log");
            Process q = new ProcessBuilder(qemu(e.url("qemu", "secretsecret12", 0), serial, headerDigest))
                    .redirectErrorStream(true).redirectOutput(dir.resolve("qemu.log").toFile()).start();
            try {
                long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
                while (System.nanoTime() < deadline && q.isAlive()
                        && !(Files.exists(serial) && Files.readString(serial).contains(MARKER))) {
                    Thread.sleep(200);
                }
                assertThat(Files.exists(serial) ? Files.readString(serial) : "")
                        .as("serial output; qemu log: %s", Files.readString(dir.resolve("qemu.log")))
                        .contains(MARKER);
            } finally {
                q.destroyForcibly().waitFor();
            }
            String expected = headerDigest.equals("CRC32C") ? "CRC32C" : "None";
            assertThat(Files.readString(e.log)).contains("header digest " + expected);
        }
    }

    @Test
    void qemuWithAWrongSecretCannotOpenTheLun() throws Exception {
        Path img = dir.resolve("boot.img");
        Files.write(img, bootSector());
        int port = Tools.freePort();
        try (ExportProcess e = ExportProcess.start("--portal", "127.0.0.1:" + port, "--chap", "qemu:secretsecret12",
                img.toString()).awaitReady(1)) {
            Tools.Result r = Tools.run(Duration.ofSeconds(60), qemu(e.url("qemu", "wrongsecret12", 0), dir.resolve("s2.log")));
            assertThat(r.exit()).isNotZero();
            assertThat(r.all()).contains("Authentication failure");
        }
    }
}
