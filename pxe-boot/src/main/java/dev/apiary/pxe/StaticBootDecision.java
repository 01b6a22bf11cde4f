package dev.apiary.pxe;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Boot decisions from a directory, until the fleet decides: {@code aa-bb-cc-dd-ee-ff.ipxe} is the
 * script for that MAC, {@code default.ipxe} (if present) for any other machine; no file means
 * "ignore this machine". Files are read on every request, so edits apply at once.
 */
public final class StaticBootDecision implements BootDecision {
    private static final Pattern MAC = Pattern.compile("([0-9a-f]{2}:){5}[0-9a-f]{2}");
    private final Path dir;

    public StaticBootDecision(Path dir) {
        this.dir = dir;
    }

    @Override
    public Optional<String> script(Machine machine) {
        String mac = machine.mac().toLowerCase(java.util.Locale.ROOT);
        if (!MAC.matcher(mac).matches()) {
            return Optional.empty();
        }
        for (String name : new String[] {mac.replace(':', '-') + ".ipxe", "default.ipxe"}) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                try {
                    return Optional.of(Files.readString(p, StandardCharsets.UTF_8));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        return Optional.empty();
    }
}
