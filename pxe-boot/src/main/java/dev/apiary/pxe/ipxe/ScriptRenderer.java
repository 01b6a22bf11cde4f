package dev.apiary.pxe.ipxe;

import java.util.StringJoiner;
import java.util.regex.Pattern;

/**
 * iPXE scripts (https://ipxe.org/scripting). Every value put into a script is checked against a
 * strict pattern rather than escaped: iPXE expands {@code ${...}} anywhere and splits on spaces,
 * so a value that could carry either is refused, not quoted.
 */
public final class ScriptRenderer {
    private static final Pattern IQN = Pattern.compile("(iqn\\.[0-9]{4}-[0-9]{2}\\.[a-z0-9.-]+(:[A-Za-z0-9.:_-]+)?|eui\\.[0-9A-F]{16})");
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9.-]{1,253}");
    /** CHAP user names and secrets: what Apiary generates (base64url) and what users sensibly type. */
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9._@+=-]{1,255}");
    private static final Pattern TEXT = Pattern.compile("[A-Za-z0-9 .,:_()/-]{0,200}");
    /** A path on the script's own server: iPXE resolves it against the script's URI. */
    private static final Pattern PATH = Pattern.compile("/[A-Za-z0-9/._-]{1,200}");
    /** A kernel command line as Debian's loaders write one; no '$', quotes or controls. */
    private static final Pattern CMDLINE = Pattern.compile("[A-Za-z0-9 =.,:_/@+-]{0,1024}");

    private ScriptRenderer() {}

    /**
     * Boots a LUN over iSCSI, one URI per gateway portal so iPXE can fail over (iPXE multipath
     * sanboot), keeping the SAN hooked and described in the iBFT for the OS initiator.
     */
    public static String sanboot(SanbootTarget t) {
        StringBuilder s = credentials(t);
        s.append("sanboot ").append(uris(t)).append(" || goto failed\n");
        s.append(":failed\necho Apiary: sanboot failed, retrying in 10 s\nsleep 10\nreboot\n");
        return s.toString();
    }

    /**
     * Hooks the LUN as {@link #sanboot} does (the same iBFT reaches the OS, which mounts its root
     * over iSCSI) but fetches the kernel and initrd over HTTP and boots them directly, as the
     * disk's boot loader would have: one streamed download instead of the boot loader reading
     * through iPXE's SAN device one block request at a time. {@code initrd=} names the initrd for
     * the kernel's EFI stub, which loads it from iPXE's file system (https://ipxe.org/cmd/kernel);
     * a BIOS kernel gets it from iPXE directly and ignores the argument.
     */
    public static String linux(SanbootTarget t, LinuxBoot linux) {
        check("kernel path", linux.kernelPath(), PATH);
        check("initrd path", linux.initrdPath(), PATH);
        check("kernel command line", linux.cmdline(), CMDLINE);
        StringBuilder s = credentials(t);
        s.append("sanhook ").append(uris(t)).append(" || goto failed\n");
        s.append("kernel ").append(linux.kernelPath()).append(" initrd=initrd.img");
        s.append(linux.cmdline().isEmpty() ? "" : " " + linux.cmdline()).append(" || goto failed\n");
        s.append("initrd --name initrd.img ").append(linux.initrdPath()).append(" || goto failed\n");
        s.append("boot || goto failed\n");
        s.append(":failed\necho Apiary: boot failed, retrying in 10 s\nsleep 10\nreboot\n");
        return s.toString();
    }

    /** The script's start: who the machine is and the CHAP credentials iPXE logs in with (and puts in the iBFT). */
    private static StringBuilder credentials(SanbootTarget t) {
        check("initiator IQN", t.initiatorIqn(), IQN);
        check("target IQN", t.targetIqn(), IQN);
        check("CHAP user", t.chapUser(), TOKEN);
        check("CHAP secret", t.chapSecret(), TOKEN);
        if (t.lun() < 0 || t.lun() > 255) {
            throw new IllegalArgumentException("LUN " + t.lun() + " is outside 0..255");
        }
        StringBuilder s = new StringBuilder("#!ipxe\n");
        s.append("echo Apiary: booting ").append(t.initiatorIqn()).append('\n');
        s.append("set initiator-iqn ").append(t.initiatorIqn()).append('\n');
        s.append("set username ").append(t.chapUser()).append('\n');
        s.append("set password ").append(t.chapSecret()).append('\n');
        if (t.reverseUser().isPresent() != t.reverseSecret().isPresent()) {
            throw new IllegalArgumentException("mutual CHAP needs both a user and a secret");
        }
        if (t.reverseUser().isPresent()) {
            check("reverse CHAP user", t.reverseUser().get(), TOKEN);
            check("reverse CHAP secret", t.reverseSecret().get(), TOKEN);
            s.append("set reverse-username ").append(t.reverseUser().get()).append('\n');
            s.append("set reverse-password ").append(t.reverseSecret().get()).append('\n');
        }
        // Keep the SAN device after the OS takes over: Linux's initramfs logs in again from the iBFT.
        s.append("set keep-san 1\n");
        return s;
    }

    /** iscsi:<server>:<protocol>:<port>:<lun>:<target> per portal (https://ipxe.org/sanuri). */
    private static String uris(SanbootTarget t) {
        if (t.portals().isEmpty()) {
            throw new IllegalArgumentException("a sanboot script needs at least one portal");
        }
        StringJoiner uris = new StringJoiner(" ");
        for (SanbootTarget.Portal p : t.portals()) {
            check("portal host", p.host(), HOST);
            if (p.port() < 1 || p.port() > 65535) {
                throw new IllegalArgumentException("portal port " + p.port() + " is outside 1..65535");
            }
            uris.add("iscsi:" + p.host() + "::" + p.port() + ":" + t.lun() + ":" + t.targetIqn());
        }
        return uris.toString();
    }

    /**
     * For a machine waiting for an operator's approval: say so on the console, wait, and fetch
     * the script again (the same URL), until the machine is approved.
     */
    public static String waitForApproval(String message, int seconds) {
        check("message", message, TEXT);
        if (seconds < 1 || seconds > 3600) {
            throw new IllegalArgumentException("retry interval " + seconds + " s is outside 1..3600");
        }
        return "#!ipxe\necho Apiary: " + message + "\necho Apiary: waiting for approval; retrying in " + seconds
                + " s\nsleep " + seconds + "\nchain --replace ${0}\n";
    }

    private static void check(String what, String value, Pattern p) {
        if (value == null || !p.matcher(value).matches()) {
            throw new IllegalArgumentException(what + " has characters an iPXE script cannot carry safely");
        }
    }
}
