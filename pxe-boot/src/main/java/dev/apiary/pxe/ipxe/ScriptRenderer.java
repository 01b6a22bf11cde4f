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

    private ScriptRenderer() {}

    /**
     * Boots a LUN over iSCSI, one URI per gateway portal so iPXE can fail over (iPXE multipath
     * sanboot), keeping the SAN hooked and described in the iBFT for the OS initiator.
     */
    public static String sanboot(SanbootTarget t) {
        check("initiator IQN", t.initiatorIqn(), IQN);
        check("target IQN", t.targetIqn(), IQN);
        check("CHAP user", t.chapUser(), TOKEN);
        check("CHAP secret", t.chapSecret(), TOKEN);
        if (t.portals().isEmpty()) {
            throw new IllegalArgumentException("a sanboot script needs at least one portal");
        }
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
        StringJoiner uris = new StringJoiner(" ");
        for (SanbootTarget.Portal p : t.portals()) {
            check("portal host", p.host(), HOST);
            if (p.port() < 1 || p.port() > 65535) {
                throw new IllegalArgumentException("portal port " + p.port() + " is outside 1..65535");
            }
            // iscsi:<server>:<protocol>:<port>:<lun>:<target> (https://ipxe.org/sanuri)
            uris.add("iscsi:" + p.host() + "::" + p.port() + ":" + t.lun() + ":" + t.targetIqn());
        }
        s.append("sanboot ").append(uris).append(" || goto failed\n");
        s.append(":failed\necho Apiary: sanboot failed, retrying in 10 s\nsleep 10\nreboot\n");
        return s.toString();
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
