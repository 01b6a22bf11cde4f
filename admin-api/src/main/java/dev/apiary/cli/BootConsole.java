package dev.apiary.cli;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a worker's serial console says about its boot, one line at a time: the milestones of the
 * chain (the lines worker-images/recipes/boot-test.sh looks for), the end of a boot that cannot go
 * on, and the agent's up marker. Pure text in, facts out, so a transcript can test it.
 */
final class BootConsole {
    /** The boot chain's milestones, in the order a good boot reaches them. */
    enum Milestone {
        IPXE("iPXE started (the NIC's boot ROM)", "Open Source Network Boot Firmware"),
        DHCP("iPXE has an address (DHCP from QEMU's user-mode network)", "Configuring \\(net0 .*ok"),
        SCRIPT("iPXE fetched its boot script from Apiary", "/boot/[^ ]*\\.\\.\\. ok"),
        // sanhook when the kernel comes over HTTP, sanboot when the disk's own loader runs
        SANBOOT("iPXE logged in to the root LUN", "Registered SAN device|Booting from SAN device"),
        KERNEL_HTTP("iPXE fetched the kernel and initrd over HTTP", "/boot/\\S*/initrd\\.\\.\\..*ok"),
        KERNEL("Linux started", "Linux version"),
        // the image's own login (scripts/local-top/iscsi) says APIARY-ISCSI; open-iscsi's, Connection
        LOGIN("initramfs: iscsistart logged in from the iBFT",
                "Connection[0-9:]+ to \\[target|APIARY-ISCSI \\d+ portals?, [1-9]\\d* logged in"),
        // sda2, or with several portals the multipath map's partition
        ROOT("root filesystem mounted from the iSCSI LUN", "EXT4-fs \\((sda2|dm-\\d+)\\): mounted"),
        SYSTEMD("systemd started", "Welcome to Debian"),
        DATA("data LUN", "APIARY-DATA (formatted|mounted|none)"),
        UP("APIARY-WORKER-UP", "APIARY-WORKER-UP "),
        OFF("powered off", "reboot: Power down");

        final String label;
        final Pattern pattern;

        Milestone(String label, String regex) {
            this.label = label;
            this.pattern = Pattern.compile(regex);
        }
    }

    /** A milestone reached, at {@code seconds} since power-on, with the console line that showed it. */
    record Hit(Milestone milestone, double seconds, String line) {}

    /** The agent's marker: {@code APIARY-WORKER-UP <hostname> version=<v> data=<mount point|none> uptime=<s>}. */
    record Up(String hostname, String version, String data) {
        private static final Pattern MARKER = Pattern.compile(
                "APIARY-WORKER-UP (\\S+) version=(\\S*) data=(\\S*)");

        static Optional<Up> parse(String line) {
            Matcher m = MARKER.matcher(line);
            return m.find() ? Optional.of(new Up(m.group(1), m.group(2), m.group(3))) : Optional.empty();
        }
    }

    /** Lines after which this boot will not reach the marker; waiting out the timeout would teach nothing. */
    private static final Pattern FATAL = Pattern.compile(
            "Kernel panic|Gave up waiting for root|Could not open SAN device|SANBOOT-FAILED|No such device \\(http");
    /** The agent says it powers the worker off after the marker (image built with --poweroff-after-up). */
    private static final Pattern POWEROFF = Pattern.compile("APIARY-POWEROFF");
    /** Terminal control sequences that iPXE, GRUB and systemd colour and move the cursor with. */
    private static final Pattern ESCAPES = Pattern.compile("\u001b\\[[0-9;?=]*[A-Za-z]|\u001b[()][0-9A-B]|\r");

    private final Map<Milestone, Hit> reached = new EnumMap<>(Milestone.class);
    private final List<String> tail = new ArrayList<>();
    private String fatal;
    private boolean poweroff;
    private Up up;

    /** One console line, as the serial port sent it; returns the milestones it reached (usually none). */
    synchronized List<Hit> feed(double seconds, String raw) {
        String line = clean(raw);
        tail.add(line);
        if (tail.size() > 40) {
            tail.remove(0);
        }
        if (fatal == null && FATAL.matcher(line).find()) {
            fatal = line.strip();
        }
        poweroff |= POWEROFF.matcher(line).find();
        List<Hit> hits = new ArrayList<>();
        for (Milestone m : Milestone.values()) {
            if (!reached.containsKey(m) && m.pattern.matcher(line).find()) {
                Hit h = new Hit(m, seconds, line.strip());
                reached.put(m, h);
                hits.add(h);
                if (m == Milestone.UP) {
                    up = Up.parse(line).orElse(null);
                }
            }
        }
        return hits;
    }

    /** The line without carriage returns and terminal escapes: what a person reading the console sees. */
    static String clean(String raw) {
        return ESCAPES.matcher(raw).replaceAll("");
    }

    synchronized Optional<Hit> reached(Milestone m) {
        return Optional.ofNullable(reached.get(m));
    }

    /** The marker, once it came. */
    synchronized Optional<Up> up() {
        return Optional.ofNullable(up);
    }

    /** The line that ended the boot (a panic, no root, no SAN device), if one came. */
    synchronized Optional<String> fatal() {
        return Optional.ofNullable(fatal);
    }

    /** Whether the agent announced it powers off after the marker. */
    synchronized boolean poweroffAnnounced() {
        return poweroff;
    }

    /** The last {@code n} lines (at most 40 are kept), for a failure report. */
    synchronized List<String> tail(int n) {
        return List.copyOf(tail.subList(Math.max(0, tail.size() - n), tail.size()));
    }
}
