package dev.apiary.images.boot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An extlinux (syslinux) configuration file and the entry it boots, as syslinux reads it
 * (syslinux's doc/syslinux.txt): keywords are case-insensitive, the DEFAULT label's entry boots,
 * or the first LABEL when there is no DEFAULT, and relative paths are relative to the directory
 * holding the configuration (syslinux's working directory).
 *
 * <p>Only what the server needs is read: DEFAULT, LABEL, LINUX or KERNEL, INITRD and APPEND
 * (a global APPEND serves labels without their own). Anything else (menus, INCLUDE, COM32 modules)
 * is ignored; if the chosen entry is then not one Linux kernel with one initrd, there is no
 * {@link BootEntry} and the caller falls back to sanboot, which runs syslinux itself.
 */
final class Extlinux {
    /** Where extlinux and syslinux look, in their order; the first that exists is the configuration. */
    static final List<String> CONFIGS = List.of(
            "/boot/extlinux/extlinux.conf", "/extlinux/extlinux.conf", "/boot/extlinux.conf", "/extlinux.conf",
            "/boot/syslinux/syslinux.cfg", "/syslinux/syslinux.cfg");
    static final long MAX_CONFIG = 64 << 10;
    static final long MAX_BOOT_FILE = 512L << 20;

    /** KERNEL picks the file type by extension (syslinux.txt, "KERNEL file"); these are not Linux kernels. */
    private static final List<String> NOT_LINUX = List.of(".c32", ".com", ".cbt", ".bs", ".bss", ".bin", ".0");
    /** An initrd= option in APPEND, which syslinux takes for the initrd when there is no INITRD line. */
    private static final Pattern INITRD_OPTION = Pattern.compile("(?:^|\\s)initrd=(\\S*)");

    private final Ext4 fs;
    private final PathLookup lookup;
    private final String path;
    private final String text;

    private Extlinux(Ext4 fs, PathLookup lookup, String path, String text) {
        this.fs = fs;
        this.lookup = lookup;
        this.path = path;
        this.text = text;
    }

    /** The first of {@link #CONFIGS} that exists and is a regular file, or empty. */
    static Optional<Extlinux> find(Ext4 fs) throws IOException {
        PathLookup lookup = new PathLookup(fs);
        for (String candidate : CONFIGS) {
            Optional<Inode> inode = lookup.find(candidate);
            if (inode.isPresent() && inode.get().isRegular()) {
                byte[] bytes = fs.file(inode.get(), candidate, MAX_CONFIG).readAll();
                return Optional.of(new Extlinux(fs, lookup, candidate, new String(bytes, StandardCharsets.UTF_8)));
            }
        }
        return Optional.empty();
    }

    /** One LABEL block; null fields were not given. */
    private static final class Label {
        final String name;
        String kernel;
        boolean kernelKeyword;
        String initrd;
        String append;

        Label(String name) {
            this.name = name;
        }
    }

    /**
     * What the configuration boots. Empty when it names no label to boot (no LABEL, or a DEFAULT
     * that is a command line rather than a label), or the entry is not one Linux kernel and one
     * initrd. A kernel or initrd that the configuration names but the disk lacks is an error.
     */
    Optional<BootEntry> entry() throws IOException {
        String defaultName = null;
        String globalAppend = null;
        List<Label> labels = new ArrayList<>();
        Label label = null;
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int space = 0;
            while (space < line.length() && !Character.isWhitespace(line.charAt(space))) {
                space++;
            }
            String rest = line.substring(space).strip();
            switch (line.substring(0, space).toLowerCase(Locale.ROOT)) {
                case "default" -> defaultName = rest;
                case "label" -> labels.add(label = new Label(rest));
                case "linux", "kernel" -> {
                    if (label != null) {
                        label.kernel = firstWord(rest);
                        label.kernelKeyword = line.regionMatches(true, 0, "kernel", 0, 6);
                    }
                }
                case "initrd" -> {
                    if (label != null) {
                        label.initrd = firstWord(rest);
                    }
                }
                case "append" -> {
                    if (label != null) {
                        label.append = rest;
                    } else {
                        globalAppend = rest;
                    }
                }
                default -> { } // comments' cousins: MENU, TIMEOUT, PROMPT, SERIAL, INCLUDE, ...
            }
        }
        Label chosen = choose(labels, defaultName);
        if (chosen == null || chosen.kernel == null || chosen.kernel.isEmpty()) {
            return Optional.empty();
        }
        String kernelName = chosen.kernel.toLowerCase(Locale.ROOT);
        if (chosen.kernelKeyword && NOT_LINUX.stream().anyMatch(kernelName::endsWith)) {
            return Optional.empty();
        }
        String append = chosen.append != null ? chosen.append : globalAppend != null ? globalAppend : "";
        if (append.equals("-")) {
            append = ""; // "APPEND -": no options, not even the global ones
        }
        String initrd = chosen.initrd;
        if (initrd == null) {
            Matcher m = INITRD_OPTION.matcher(append);
            if (m.find()) {
                initrd = m.group(1);
                append = append.substring(0, m.start()) + append.substring(m.end());
            }
        }
        if (initrd == null || initrd.isEmpty() || initrd.contains(",")) {
            return Optional.empty(); // no initrd, or several (initrd=a,b): not what BootEntry describes
        }
        return Optional.of(new BootEntry(file(chosen.kernel, "kernel"), file(initrd, "initrd"), append.strip()));
    }

    private static Label choose(List<Label> labels, String defaultName) {
        if (defaultName == null) {
            return labels.isEmpty() ? null : labels.get(0);
        }
        for (Label l : labels) {
            if (l.name.equals(defaultName)) {
                return l;
            }
        }
        return null;
    }

    /** The file {@code name} names, relative to the configuration's directory unless absolute. */
    private BootFile file(String name, String what) throws IOException {
        String absolute = name.startsWith("/") ? name : path.substring(0, path.lastIndexOf('/') + 1) + name;
        Inode inode = lookup.find(absolute)
                .orElseThrow(() -> fs.fail("%s: %s %s does not exist", path, what, absolute));
        if (!inode.isRegular()) {
            throw fs.fail("%s: %s %s is not a regular file (mode 0%o)", path, what, absolute, inode.mode());
        }
        return fs.file(inode, absolute, MAX_BOOT_FILE);
    }

    private static String firstWord(String s) {
        String[] words = s.split("\\s+", 2);
        return words[0];
    }
}
