package dev.apiary.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

/**
 * The worker image the story tests boot, built with the real recipe
 * (worker-images/recipes/build-worker-image.sh; its Debian base is cached in
 * /var/cache/apiary-worker, so only the first build on a machine downloads it), plus:
 * <ul>
 *   <li>package {@code apiary-test-p} 1.0 installed, whose unit prints its version on the console,
 *       and a local apt repository (served by the test) that offers 1.1 and is the image's only
 *       apt source, for the upgrade story;</li>
 *   <li>a story unit that prints what the last boot left on the root and on the data volume, then
 *       leaves its own mark on both: {@code APIARY-STORY host=H root=R data=D wrote=W}; and that
 *       keeps the machine up, its agent asking for actions every 5 s, when the firmware says so
 *       ({@link Power#stay}); otherwise the image powers off after its up marker. With fw_cfg
 *       {@code opt/apiary/writer} it stays up writing a synced record a second to the data volume
 *       ({@code APIARY-WRITE n} on the console), 300 at most, then powers off.</li>
 * </ul>
 */
final class WorkerImage {
    static final String PACKAGE = "apiary-test-p";
    static final int REPO_PORT = 8099;

    final Path image;
    final Path repo;

    private WorkerImage(Path image, Path repo) {
        this.image = image;
        this.repo = repo;
    }

    static WorkerImage build(Path dir, String version) throws Exception {
        Path debs = Files.createDirectories(dir.resolve("debs-1.0"));
        Path repo = Files.createDirectories(dir.resolve("repo"));
        Path deb10 = deb(dir, "1.0", debs);
        Path deb11 = deb(dir, "1.1", repo);
        Files.writeString(repo.resolve("Packages"), packagesEntry(deb11));
        Files.writeString(repo.resolve("Release"), release(repo.resolve("Packages")));
        assertThat(deb10).exists();

        Path overlay = dir.resolve("overlay");
        write(overlay.resolve("etc/apt/sources.list"), "deb [trusted=yes] http://" + BootNetwork.APIARY + ":" + REPO_PORT
                + "/ ./\n");
        write(overlay.resolve("etc/systemd/system/apiary-story.service"), """
                [Unit]
                Description=Apiary story test: what the last boot left on root and data
                After=apiary-data.service apiary-identity.service
                Before=apiary-up.service apiary-agent.service
                [Service]
                Type=oneshot
                ExecStart=/usr/local/sbin/apiary-story
                [Install]
                WantedBy=multi-user.target
                """);
        write(overlay.resolve("usr/local/sbin/apiary-story"), """
                #!/bin/sh
                # Power.stay(): fw_cfg opt/apiary/stay keeps this machine up, watching for actions.
                modprobe qemu_fw_cfg 2>/dev/null
                if [ -e /sys/firmware/qemu_fw_cfg/by_name/opt/apiary/stay/raw ]; then
                    rm -f /etc/apiary/poweroff-after-up
                    sed -i 's/^WATCH_INTERVAL=.*/WATCH_INTERVAL=5/' /etc/apiary/worker.conf
                else
                    touch /etc/apiary/poweroff-after-up
                fi
                data=$(cat /run/apiary/data 2>/dev/null || echo none)
                root=$(cat /var/lib/apiary-story 2>/dev/null || echo absent)
                old=absent
                [ "$data" != none ] && old=$(cat "$data/apiary-story" 2>/dev/null || echo absent)
                mark="$(hostname)-$(cut -c1-8 /proc/sys/kernel/random/boot_id)"
                echo "$mark" > /var/lib/apiary-story
                [ "$data" != none ] && echo "$mark" > "$data/apiary-story"
                sync
                echo "APIARY-STORY host=$(hostname) root=$root data=$old wrote=$mark" > /dev/ttyS0
                for f in /sys/firmware/ibft/target0/chap-secret; do
                    [ -e "$f" ] && echo "APIARY-IBFT-SECRETS mode=$(stat -c %a "$f")" > /dev/ttyS0
                done
                # fw_cfg opt/apiary/writer: stay up and write to the data LUN (apiary-writer).
                if [ -e /sys/firmware/qemu_fw_cfg/by_name/opt/apiary/writer/raw ] && [ "$data" != none ]; then
                    rm -f /etc/apiary/poweroff-after-up
                    systemd-run --no-block --unit=apiary-writer /usr/local/sbin/apiary-writer "$data"
                fi
                """);
        write(overlay.resolve("usr/local/sbin/apiary-writer"), """
                #!/bin/sh
                # A record a second, appended to the data volume and synced, 300 at most, then power
                # off: RbdGatewaysIT cuts a gateway meanwhile and watches the records go on.
                i=1
                while [ $i -le 300 ]; do
                    echo "$i" >> "$1/apiary-writer"
                    sync "$1/apiary-writer"
                    echo "APIARY-WRITE $i" > /dev/ttyS0
                    i=$((i + 1))
                    sleep 1
                done
                systemctl poweroff
                """);
        for (String script : List.of("apiary-story", "apiary-writer")) {
            overlay.resolve("usr/local/sbin/" + script).toFile().setExecutable(true, false);
        }
        Path wants = Files.createDirectories(overlay.resolve("etc/systemd/system/multi-user.target.wants"));
        Files.createSymbolicLink(wants.resolve("apiary-story.service"), Path.of("/etc/systemd/system/apiary-story.service"));

        Path image = dir.resolve("worker.img");
        Tools.Result b = Tools.run(Duration.ofMinutes(20), List.of(Tools.repo().resolve("worker-images/recipes/build-worker-image.sh").toString(), "--out",
                        image.toString(), "--version", version, "--poweroff-after-up", "--size", "1536M",
                        "--data-path", "/var/lib/rancher", "--overlay", overlay.toString(), "--install-debs", debs.toString()));
        assertThat(b.exit()).as("image build: %s", b.all()).isZero();
        return new WorkerImage(image, repo);
    }

    /** A tiny Debian package: its version in a file, and a unit (enabled by its own link) that prints it. */
    private static Path deb(Path dir, String version, Path out) throws Exception {
        Path root = dir.resolve("pkg-" + version);
        write(root.resolve("DEBIAN/control"), """
                Package: %s
                Version: %s
                Architecture: all
                Maintainer: Apiary tests <tests@apiary.invalid>
                Description: Apiary upgrade test package
                """.formatted(PACKAGE, version));
        write(root.resolve("usr/share/" + PACKAGE + "/version"), version + "\n");
        write(root.resolve("lib/systemd/system/" + PACKAGE + ".service"), """
                [Unit]
                Description=Apiary upgrade test package
                Before=apiary-up.service apiary-agent.service
                [Service]
                Type=oneshot
                ExecStart=/bin/sh -c 'echo "APIARY-TEST-P version=$(cat /usr/share/%s/version)" > /dev/ttyS0'
                [Install]
                WantedBy=multi-user.target
                """.formatted(PACKAGE));
        Path wants = Files.createDirectories(root.resolve("etc/systemd/system/multi-user.target.wants"));
        Files.createSymbolicLink(wants.resolve(PACKAGE + ".service"), Path.of("/lib/systemd/system/" + PACKAGE + ".service"));
        Path deb = out.resolve(PACKAGE + "_" + version + "_all.deb");
        Tools.Result r = Tools.run(Duration.ofMinutes(1), "dpkg-deb", "--root-owner-group", "--build", root.toString(),
                deb.toString());
        assertThat(r.exit()).as(r.all()).isZero();
        return deb;
    }

    /** The deb's stanza of a flat repository's Packages index (what dpkg-scanpackages writes). */
    private static String packagesEntry(Path deb) throws Exception {
        Tools.Result control = Tools.run(Duration.ofSeconds(30), "dpkg-deb", "-f", deb.toString());
        assertThat(control.exit()).as(control.all()).isZero();
        byte[] bytes = Files.readAllBytes(deb);
        return control.out().strip() + "\nFilename: ./" + deb.getFileName() + "\nSize: " + bytes.length
                + "\nSHA256: " + sha256(bytes) + "\n\n";
    }

    /** An unsigned Release file; the source line says [trusted=yes]. */
    private static String release(Path packages) throws Exception {
        byte[] p = Files.readAllBytes(packages);
        return "Origin: apiary-tests\nLabel: apiary-tests\nSuite: stable\nCodename: apiary\nArchitectures: all amd64\n"
                + "Date: Sat, 21 Nov 2026 00:00:00 UTC\nSHA256:\n " + sha256(p) + " " + p.length + " Packages\n";
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    private static void write(Path p, String text) throws Exception {
        Files.createDirectories(p.getParent());
        Files.writeString(p, text, StandardCharsets.UTF_8);
    }
}
