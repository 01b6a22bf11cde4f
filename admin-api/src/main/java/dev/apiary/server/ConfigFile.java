package dev.apiary.server;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Apiary's YAML configuration file, read strictly: an unknown key, a wrong type or a bad value is
 * an error naming the key ("pxe.pool: ..."), because a silently ignored typo in a DHCP setting is
 * a network that does not boot. Each section is read by the class that owns it, through
 * {@link Section}; relative paths are taken from the file's own directory.
 */
public final class ConfigFile {
    /** A configuration error, with the key it is about. */
    public static final class ConfigException extends RuntimeException {
        public ConfigException(String message) {
            super(message);
        }
    }

    private final ObjectNode root;
    private final Path dir;

    private ConfigFile(ObjectNode root, Path dir) {
        this.root = root;
        this.dir = dir;
    }

    public static ConfigFile load(Path file, Set<String> sections) throws IOException {
        JsonNode node;
        try {
            node = new YAMLMapper().readTree(Files.readString(file));
        } catch (JacksonException e) {
            throw new ConfigException(file + ": not valid YAML: " + e.getOriginalMessage());
        }
        if (node == null || node.isMissingNode() || node.isNull()) {
            node = new YAMLMapper().createObjectNode();
        }
        if (!node.isObject()) {
            throw new ConfigException(file + ": expected a mapping of sections (" + String.join(", ", sections) + ")");
        }
        ConfigFile c = new ConfigFile((ObjectNode) node, file.toAbsolutePath().getParent());
        new Section("", c.root, c.dir).onlyKeys(sections);
        return c;
    }

    /** No file: every section empty, every setting at its default. */
    public static ConfigFile empty() {
        return new ConfigFile(new YAMLMapper().createObjectNode(), Path.of("").toAbsolutePath());
    }

    /** The named section; an empty one when the file does not have it. */
    public Section section(String name) {
        return new Section("", root, dir).child(name);
    }

    /** Typed access to one section's keys; every error names "section.key". */
    public record Section(String name, ObjectNode node, Path dir) {
        private static final Pattern DURATION = Pattern.compile("(\\d+)(s|m|h|d)");

        /** Refuses keys not in {@code known}. */
        public void onlyKeys(Set<String> known) {
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!known.contains(k)) {
                    throw new ConfigException("unknown setting " + key(k) + " (known: " + String.join(", ",
                            new TreeSet<>(known)) + ")");
                }
            }
        }

        /** A nested mapping; an empty one when absent. */
        public Section child(String k) {
            JsonNode v = node.get(k);
            if (v == null || v.isNull()) {
                return new Section(key(k), node.objectNode(), dir);
            }
            if (!v.isObject()) {
                throw new ConfigException(key(k) + ": expected a mapping");
            }
            return new Section(key(k), (ObjectNode) v, dir);
        }

        /** This section's keys, in file order. */
        public List<String> keys() {
            List<String> keys = new ArrayList<>();
            node.fieldNames().forEachRemaining(keys::add);
            return keys;
        }

        public boolean has(String k) {
            JsonNode v = node.get(k);
            return v != null && !v.isNull();
        }

        public String string(String k, String dflt) {
            JsonNode v = node.get(k);
            if (v == null || v.isNull()) {
                return dflt;
            }
            if (!v.isValueNode() || v.isBoolean()) {
                throw new ConfigException(key(k) + ": expected a string");
            }
            return v.asText();
        }

        /**
         * One of an enum's constants, written as its name in any case ("dhcp: full"). YAML 1.1
         * reads a bare {@code off} as the boolean false; the user meant the word, so it is read
         * as OFF where the enum has one.
         */
        public <E extends Enum<E>> E choice(String k, E dflt) {
            JsonNode v = node.get(k);
            String word = v != null && v.isBoolean() && !v.booleanValue() ? "off" : string(k, dflt.name());
            for (E e : dflt.getDeclaringClass().getEnumConstants()) {
                if (e.name().equalsIgnoreCase(word)) {
                    return e;
                }
            }
            List<String> names = new ArrayList<>();
            for (E e : dflt.getDeclaringClass().getEnumConstants()) {
                names.add(e.name().toLowerCase(java.util.Locale.ROOT));
            }
            throw new ConfigException(key(k) + ": expected " + String.join(", ", names.subList(0, names.size() - 1))
                    + " or " + names.get(names.size() - 1) + ", got \"" + word + "\"");
        }

        public String required(String k) {
            String s = string(k, null);
            if (s == null || s.isBlank()) {
                throw new ConfigException(key(k) + " is required");
            }
            return s;
        }

        public int port(String k, int dflt) {
            return integer(k, dflt, 0, 65535);
        }

        public int positive(String k, int dflt) {
            return integer(k, dflt, 1, Integer.MAX_VALUE);
        }

        public int integer(String k, int dflt, int min, int max) {
            JsonNode v = node.get(k);
            if (v == null || v.isNull()) {
                return dflt;
            }
            if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < min || v.intValue() > max) {
                throw new ConfigException(key(k) + ": expected a whole number from " + min + " to " + max + ", got " + v);
            }
            return v.intValue();
        }

        /** A list of strings (a YAML list, or a single one). */
        public List<String> stringList(String k) {
            JsonNode v = node.get(k);
            List<String> out = new ArrayList<>();
            if (v == null || v.isNull()) {
                return out;
            }
            if (!v.isArray()) {
                out.add(string(k, null));
                return out;
            }
            for (JsonNode e : v) {
                if (!e.isValueNode() || e.isNull() || e.isBoolean()) {
                    throw new ConfigException(key(k) + ": expected a list of strings");
                }
                out.add(e.asText());
            }
            return out;
        }

        /** A path; relative ones are taken from the configuration file's directory. */
        public Path path(String k, Path dflt) {
            String s = string(k, null);
            return s == null ? dflt : dir.resolve(s).normalize();
        }

        /** "30s", "10m", "1h" or "2d". */
        public Duration duration(String k, Duration dflt) {
            String s = string(k, null);
            if (s == null) {
                return dflt;
            }
            Matcher m = DURATION.matcher(s.trim());
            if (!m.matches()) {
                throw new ConfigException(key(k) + ": expected a duration like 30s, 10m, 1h or 2d, got \"" + s + "\"");
            }
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        }

        /** A dotted-quad IPv4 address; names are not resolved (a boot network has no DNS to trust). */
        public Inet4Address ipv4(String k, Inet4Address dflt) {
            String s = string(k, null);
            return s == null ? dflt : ipv4(k, s);
        }

        public Inet4Address ipv4(String k, String s) {
            if (!s.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
                throw new ConfigException(key(k) + ": expected an IPv4 address like 10.77.0.1, got \"" + s + "\"");
            }
            try {
                if (InetAddress.getByName(s) instanceof Inet4Address a) {
                    return a;
                }
            } catch (UnknownHostException e) {
                // falls through: a quad with a part over 255
            }
            throw new ConfigException(key(k) + ": expected an IPv4 address like 10.77.0.1, got \"" + s + "\"");
        }

        /** A list of IPv4 addresses (a YAML list, or a single one). */
        public List<Inet4Address> ipv4List(String k) {
            List<Inet4Address> out = new ArrayList<>();
            for (String a : stringList(k)) {
                out.add(ipv4(k, a));
            }
            return out;
        }

        public String key(String k) {
            return name.isEmpty() ? k : name + "." + k;
        }
    }
}
