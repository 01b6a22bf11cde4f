package dev.apiary.server;

import dev.apiary.pxe.BootDecision;
import dev.apiary.pxe.Machine;
import dev.apiary.pxe.StaticBootDecision;
import dev.apiary.pxe.ipxe.SanbootTarget;
import dev.apiary.pxe.ipxe.ScriptRenderer;
import dev.apiary.server.ConfigFile.ConfigException;
import dev.apiary.server.ConfigFile.Section;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * What each machine boots until the fleet decides (issue 4's "config file maps MACs to scripts"):
 * the {@code machines:} mapping of the pxe: section, and/or a directory of MAC-named scripts.
 * Each entry is exactly one of
 * <ul>
 *   <li>{@code script: FILE}: an iPXE script file, read on every request so edits apply at once;
 *   <li>{@code sanboot: {initiator-iqn, target-iqn, portals, lun, chap, mutual}}: rendered by
 *       {@link ScriptRenderer#sanboot} when the file is read, so a bad IQN stops start-up;
 *   <li>{@code wait: MESSAGE} (and {@code retry: 10s}): the pending-approval loop.
 * </ul>
 * Lookup order: the MAC's entry, the MAC's file in the directory, the {@code default} entry,
 * the directory's default.ipxe. Nothing found: the machine is ignored.
 */
public final class MachineScripts implements BootDecision {
    private static final Set<String> KINDS = Set.of("script", "sanboot", "wait", "retry");
    private static final Set<String> SANBOOT_KEYS = Set.of("initiator-iqn", "target-iqn", "portals", "lun", "chap",
            "mutual");

    private final Map<String, Supplier<String>> byMac;
    private final StaticBootDecision dir;

    private MachineScripts(Map<String, Supplier<String>> byMac, StaticBootDecision dir) {
        this.byMac = byMac;
        this.dir = dir;
    }

    /** Reads {@code machines} (possibly empty); {@code scriptsDir} may be null. */
    public static MachineScripts from(Section machines, Path scriptsDir) {
        Map<String, Supplier<String>> byMac = new LinkedHashMap<>();
        for (String key : machines.keys()) {
            String mac = key.equals("default") ? key : mac(machines, key);
            if (byMac.containsKey(mac)) {
                throw new ConfigException(machines.key(key) + ": " + mac + " appears twice");
            }
            byMac.put(mac, entry(machines.child(key)));
        }
        return new MachineScripts(byMac, scriptsDir == null ? null : new StaticBootDecision(scriptsDir));
    }

    @Override
    public Optional<String> script(Machine machine) {
        return fromConfig(machine.mac())
                .or(() -> dir == null ? Optional.empty() : dir.forMac(machine.mac()))
                .or(() -> fromConfig("default"))
                .or(() -> dir == null ? Optional.empty() : dir.fallback());
    }

    private Optional<String> fromConfig(String key) {
        Supplier<String> s = byMac.get(key);
        return s == null ? Optional.empty() : Optional.of(s.get());
    }

    private static String mac(Section machines, String key) {
        return Machine.parseMac(key).orElseThrow(() -> new ConfigException(machines.key(key)
                + ": expected a MAC address like 52:54:00:12:34:56, or default"));
    }

    private static Supplier<String> entry(Section e) {
        e.onlyKeys(KINDS);
        List<String> kinds = new ArrayList<>();
        for (String k : List.of("script", "sanboot", "wait")) {
            if (e.has(k)) {
                kinds.add(k);
            }
        }
        if (kinds.size() != 1) {
            throw new ConfigException(e.name() + ": expected exactly one of script, sanboot or wait");
        }
        if (e.has("retry") && !kinds.get(0).equals("wait")) {
            throw new ConfigException(e.key("retry") + " applies only to wait");
        }
        try {
            return switch (kinds.get(0)) {
                case "script" -> file(e);
                case "sanboot" -> fixed(ScriptRenderer.sanboot(sanboot(e.child("sanboot"))));
                default -> fixed(ScriptRenderer.waitForApproval(e.required("wait"),
                        (int) Math.min(Integer.MAX_VALUE, e.duration("retry", Duration.ofSeconds(10)).toSeconds())));
            };
        } catch (IllegalArgumentException ex) {
            throw new ConfigException(e.name() + ": " + ex.getMessage());
        }
    }

    private static Supplier<String> fixed(String script) {
        return () -> script;
    }

    private static Supplier<String> file(Section e) {
        Path p = e.path("script", null);
        if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
            throw new ConfigException(e.key("script") + ": " + p + " is not a readable file");
        }
        return () -> {
            try {
                return Files.readString(p, StandardCharsets.UTF_8);
            } catch (IOException ex) {
                throw new UncheckedIOException(ex);
            }
        };
    }

    private static SanbootTarget sanboot(Section s) {
        s.onlyKeys(SANBOOT_KEYS);
        String[] chap = account(s, "chap");
        String[] mutual = s.has("mutual") ? account(s, "mutual") : null;
        List<SanbootTarget.Portal> portals = new ArrayList<>();
        for (String p : s.stringList("portals")) {
            portals.add(portal(s, p));
        }
        if (portals.isEmpty()) {
            throw new ConfigException(s.key("portals") + " is required: one HOST[:PORT] per gateway");
        }
        return new SanbootTarget(s.required("initiator-iqn"), s.required("target-iqn"), portals,
                s.integer("lun", 0, 0, 255),
                chap[0], chap[1], Optional.ofNullable(mutual).map(m -> m[0]), Optional.ofNullable(mutual).map(m -> m[1]));
    }

    /** "USER:SECRET", as apiary export's --chap takes it. */
    private static String[] account(Section s, String k) {
        String v = s.required(k);
        int colon = v.indexOf(':');
        if (colon <= 0 || colon == v.length() - 1) {
            throw new ConfigException(s.key(k) + ": expected USER:SECRET");
        }
        return new String[] {v.substring(0, colon), v.substring(colon + 1)};
    }

    private static SanbootTarget.Portal portal(Section s, String p) {
        int colon = p.lastIndexOf(':');
        if (colon < 0) {
            return new SanbootTarget.Portal(p, 3260);
        }
        try {
            return new SanbootTarget.Portal(p.substring(0, colon), Integer.parseInt(p.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new ConfigException(s.key("portals") + ": expected HOST[:PORT], got \"" + p + "\"");
        }
    }
}
