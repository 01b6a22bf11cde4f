package dev.apiary.pxe;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * Boot decisions from a directory, until the fleet decides: {@code aa-bb-cc-dd-ee-ff.ipxe} is the
 * script for that MAC, {@code default.ipxe} (if present) for any other machine; no file means
 * "ignore this machine". Files are read on every request, so edits apply at once.
 */
public final class StaticBootDecision implements BootDecision {
    private final Path dir;

    public StaticBootDecision(Path dir) {
        this.dir = dir;
    }

    @Override
    public Optional<String> script(Machine machine) {
        return forMac(machine.mac()).or(this::fallback);
    }

    /** The script named for {@code mac} alone, without the default. */
    public Optional<String> forMac(String mac) {
        mac = mac.toLowerCase(Locale.ROOT);
        return Machine.MAC.matcher(mac).matches() ? read(mac.replace(':', '-') + ".ipxe") : Optional.empty();
    }

    /** default.ipxe, for machines without a script of their own. */
    public Optional<String> fallback() {
        return read("default.ipxe");
    }

    private Optional<String> read(String name) {
        Path p = dir.resolve(name);
        if (!Files.isRegularFile(p)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Files.readString(p, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
