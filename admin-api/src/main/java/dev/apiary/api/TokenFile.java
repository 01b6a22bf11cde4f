package dev.apiary.api;

import dev.apiary.api.auth.ApiToken;
import dev.apiary.api.auth.TokenHash;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The API's bearer tokens: {@code api-tokens} in the data directory, one line per token,
 * {@code NAME PREFIX ARGON2ID-PHC CREATED}, file mode 0600. Only the Argon2id hash is kept; the
 * token itself is shown once, by {@code apiary token create}. The prefix (the token's first 12
 * characters, 48 random bits) finds the line to verify, so a request costs one hash, not one per
 * token. It is a file rather than a table so that {@code apiary token create} works while the
 * server holds the database; the server reads it again whenever it changes.
 *
 * <p>Argon2id is slow on purpose (tens of milliseconds of CPU), so a token that verified is
 * remembered for a minute by its SHA-256: a client's next calls skip the hash. A remembered token
 * still has to name a line that is in the file now, with the same hash, so removing a token's line
 * revokes it at once.
 */
public final class TokenFile {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final int PREFIX = 12;

    public record Entry(String name, String prefix, String hash, Instant created) {}

    private final Path file;
    private volatile List<Entry> entries = List.of();
    private volatile long loadedStamp = -1;
    private static final java.time.Duration REMEMBER = java.time.Duration.ofMinutes(1);
    private static final int REMEMBERED = 1024;

    /** A token that verified: which line it matched, and until when that is trusted without hashing. */
    private record Verified(Entry entry, Instant until) {}

    private final java.util.Map<String, Verified> verified = java.util.Collections.synchronizedMap(
            new java.util.LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(java.util.Map.Entry<String, Verified> eldest) {
                    return size() > REMEMBERED;
                }
            });

    public TokenFile(Path file) {
        this.file = file;
    }

    /** Adds a token named {@code name}; returns the token, which is never stored. */
    public String create(String name, SecureRandom random) throws IOException {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("a token name is 1-64 of A-Z a-z 0-9 . _ -");
        }
        String token = ApiToken.generate(random);
        String line = name + " " + token.substring(0, PREFIX) + " " + TokenHash.hash(token, random) + " "
                + Instant.now() + "\n";
        Files.createDirectories(file.toAbsolutePath().getParent());
        if (!Files.exists(file)) {
            try {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // made by another process just now
            }
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
                FileLock lock = ch.lock()) {
            for (Entry e : read()) {
                if (e.name().equals(name)) {
                    throw new IllegalArgumentException("a token named " + name + " exists");
                }
            }
            ch.write(java.nio.ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8)));
            ch.force(true);
        }
        return token;
    }

    /** The name of the token {@code presented} is, if it is one of ours. */
    public Optional<String> verify(String presented) {
        if (presented == null || presented.length() <= PREFIX) {
            return Optional.empty();
        }
        String key = sha256(presented);
        List<Entry> now = current();
        Verified v = verified.get(key);
        if (v != null && Instant.now().isBefore(v.until()) && now.contains(v.entry())) {
            return Optional.of(v.entry().name());
        }
        String prefix = presented.substring(0, PREFIX);
        for (Entry e : now) {
            if (e.prefix().equals(prefix) && TokenHash.matches(presented, e.hash())) {
                verified.put(key, new Verified(e, Instant.now().plus(REMEMBER)));
                return Optional.of(e.name());
            }
        }
        return Optional.empty();
    }

    private static String sha256(String token) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public List<Entry> list() {
        return current();
    }

    private List<Entry> current() {
        try {
            long stamp = Files.exists(file) ? Files.getLastModifiedTime(file).toMillis() ^ Files.size(file) : 0;
            if (stamp != loadedStamp) {
                entries = read();
                loadedStamp = stamp;
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return entries;
    }

    private List<Entry> read() throws IOException {
        List<Entry> out = new ArrayList<>();
        if (!Files.exists(file)) {
            return out;
        }
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String[] f = line.split(" ");
            if (f.length == 4 && NAME.matcher(f[0]).matches() && f[1].length() == PREFIX) {
                try {
                    out.add(new Entry(f[0], f[1], f[2], Instant.parse(f[3])));
                } catch (java.time.format.DateTimeParseException ignored) {
                    // a damaged line admits nobody
                }
            }
        }
        return List.copyOf(out);
    }
}
