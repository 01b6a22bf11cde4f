package dev.apiary.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code apiary events ...}: the audit trail, as pages or followed live, through the API. */
@Command(name = "events", mixinStandardHelpOptions = true, description = "The audit trail (through the API).",
        subcommands = {EventsCommand.Ls.class, EventsCommand.Follow.class})
public final class EventsCommand extends CommandGroup {
    private static final String ROW = "%-7s %-20s %-18s %-12s %s%n";
    /** The API's bound on a page of {@code /events}. */
    private static final int MAX_PAGE = 500;

    static void header(PrintWriter out) {
        out.printf(ROW, "ID", "TIME", "KIND", "WORKER", "DETAIL");
    }

    static void row(PrintWriter out, JsonNode e) {
        out.printf(ROW, e.path("id").asText(), ApiCommand.time(e.path("at")), e.path("kind").asText(),
                e.path("worker").isTextual() ? e.path("worker").asText() : "-", e.path("detail").asText(""));
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "Events after an id, oldest first.")
    static final class Ls extends ApiCommand {
        @Option(names = "--after", paramLabel = "ID", defaultValue = "0",
                description = "Only events after this id (default ${DEFAULT-VALUE}: from the first).")
        long after;

        @Option(names = "--limit", paramLabel = "N", defaultValue = "100",
                description = "At most N events (default ${DEFAULT-VALUE}).")
        int limit;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            if (limit < 1) {
                throw new ApiClient.Failure(0, "--limit must be 1 or more");
            }
            Listed l = pages(api, "/events", "after", Long.toString(after), limit);
            if (l.more() != null) { // a full page may be the last one; say how to go on either way
                spec.commandLine().getErr().println("apiary events: more may follow: --after " + l.more());
            }
            return l.items();
        }

        @Override
        void table(PrintWriter out, JsonNode events) {
            header(out);
            events.forEach(e -> row(out, e));
        }
    }

    /** Asks for the id of the first event after {@code after}: -1 when there is none. */
    @FunctionalInterface
    interface FirstAfter {
        long id(long after) throws Exception;
    }

    /** The newest event's id through the API (0 when there is none). */
    static long newest(ApiClient api) throws Exception {
        return newest(api.get("/events?limit=" + MAX_PAGE), after -> {
            JsonNode items = api.get("/events?after=" + after + "&limit=1").path("items");
            return items.isEmpty() ? -1 : items.get(0).path("id").asLong();
        });
    }

    /**
     * The newest event's id, from the first page of events and a way to ask for the first event
     * after an id. The API pages forward only, so a long trail is not read through: the first page
     * answers a short one; beyond it the id is found by doubling and then halving a step, a few
     * dozen small requests even for millions of events (ids may have gaps).
     */
    static long newest(JsonNode firstPage, FirstAfter firstAfter) throws Exception {
        JsonNode items = firstPage.path("items");
        long last = items.isEmpty() ? 0 : items.get(items.size() - 1).path("id").asLong();
        if (ApiCommand.next(firstPage) == null) {
            return last;
        }
        // Invariant: an event follows lo; none follows hi. The newest id is the smallest such hi.
        long lo = last - 1;
        long hi;
        for (long step = MAX_PAGE; ; step *= 2) {
            long r = firstAfter.id(lo + step);
            if (r < 0) {
                hi = lo + step;
                break;
            }
            lo = r - 1;
        }
        while (hi - lo > 1) {
            long mid = lo + (hi - lo) / 2;
            long r = firstAfter.id(mid);
            if (r < 0) {
                hi = mid;
            } else {
                lo = r - 1;
            }
        }
        return hi;
    }

    @Command(name = "follow", mixinStandardHelpOptions = true,
            description = "Print events as they happen (the server-sent event stream) until Ctrl-C or --count.")
    static final class Follow extends ApiCommand {
        /** The server sends a comment after 15 quiet seconds; this much silence means a dead connection. */
        private static final Duration IDLE = Duration.ofSeconds(45);

        @Option(names = "--after", paramLabel = "ID",
                description = "Start after this event id (default: only events from now on).")
        Long after;

        @Option(names = "--count", paramLabel = "N", defaultValue = "0",
                description = "Stop after N events (default: until interrupted).")
        int count;

        @Option(names = "--retries", paramLabel = "N", defaultValue = "10",
                description = "Reconnect at most N times in a row when the stream drops (default ${DEFAULT-VALUE}).")
        int retries;

        @Option(names = "--retry-delay", paramLabel = "SECONDS", defaultValue = "2",
                description = "Wait between reconnections (default ${DEFAULT-VALUE}).")
        int retryDelay;

        /** The id of the last event printed: where a reconnection resumes. */
        long last;
        int printed;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            if (count < 0 || retries < 0 || retryDelay < 0) {
                throw new ApiClient.Failure(0, "--count, --retries and --retry-delay must be 0 or more");
            }
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            last = after != null ? after : newest(api);
            if (!json) {
                header(out); // also says "listening" to whoever waits for this command to start
            }
            out.flush();
            boolean connectedOnce = false;
            for (int failures = 0; ; ) {
                long since = System.nanoTime();
                int before = printed;
                String lost;
                try (Stream<String> lines = api.lines("/events", Map.of("Accept", "text/event-stream",
                        "Last-Event-ID", Long.toString(last)), Duration.ofSeconds(30))) {
                    connectedOnce = true;
                    lost = read(lines, out);
                    if (lost == null) {
                        return null; // --count reached
                    }
                } catch (ApiClient.Failure e) {
                    if (!connectedOnce || e.status / 100 == 4) {
                        throw e; // a wrong address, certificate or token: retrying will not help
                    }
                    lost = e.getMessage();
                }
                // A connection that delivered events or lasted a while was good: count afresh.
                if (printed > before || System.nanoTime() - since > IDLE.toNanos()) {
                    failures = 0;
                }
                if (++failures > retries) {
                    throw new ApiClient.Failure(0, "lost the event stream (" + lost + ") and " + retries
                            + " reconnections failed; resume with --after " + last);
                }
                err.println("apiary events: " + lost + "; reconnecting after event " + last + " in " + retryDelay
                        + " s (" + failures + " of " + retries + ")");
                err.flush();
                Thread.sleep(TimeUnit.SECONDS.toMillis(retryDelay));
            }
        }

        /**
         * Reads one connection's events (WHATWG HTML §9.2: {@code id:}, {@code event:},
         * {@code data:} lines, a blank line ends an event, {@code :} a comment) and prints each.
         * Null when {@code --count} events were printed, otherwise why the connection was lost.
         */
        String read(Stream<String> lines, PrintWriter out) throws InterruptedException {
            // A reader thread, so that a connection gone silent (no keep-alive either) is noticed.
            BlockingQueue<Optional<String>> queue = new LinkedBlockingQueue<>();
            Thread reader = new Thread(() -> {
                try {
                    lines.forEach(l -> queue.add(Optional.of(l)));
                } catch (RuntimeException e) {
                    // the connection broke or was closed: the end, below
                } finally {
                    queue.add(Optional.empty());
                }
            }, "apiary-events");
            reader.setDaemon(true);
            reader.start();
            String id = null;
            StringBuilder data = null;
            while (true) {
                Optional<String> next = queue.poll(IDLE.toSeconds(), TimeUnit.SECONDS);
                if (next == null) {
                    return "nothing from the server in " + IDLE.toSeconds() + " s";
                }
                if (next.isEmpty()) {
                    return "the server ended the stream";
                }
                String line = next.get();
                if (line.isEmpty()) {
                    if (data != null) {
                        print(out, data.toString());
                        if (id != null) {
                            try {
                                last = Long.parseLong(id.trim());
                            } catch (NumberFormatException e) {
                                // not one of ours; keep the last id we understood
                            }
                        }
                        printed++;
                        if (count > 0 && printed >= count) {
                            return null;
                        }
                    }
                    data = null;
                    continue;
                }
                if (line.startsWith(":")) {
                    continue;
                }
                int colon = line.indexOf(':');
                String field = colon < 0 ? line : line.substring(0, colon);
                String value = colon < 0 ? "" : line.substring(colon + 1);
                value = value.startsWith(" ") ? value.substring(1) : value;
                switch (field) {
                    case "id" -> id = value;
                    case "data" -> data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
                    default -> { } // event: the kind is in the data too; retry: we keep our own delay
                }
            }
        }

        private void print(PrintWriter out, String data) {
            JsonNode e;
            try {
                e = ApiClient.JSON.readTree(data);
            } catch (IOException x) {
                out.println(data);
                out.flush();
                return;
            }
            if (json) {
                out.println(e.toString()); // one event a line (JSON Lines)
            } else {
                table(out, e);
            }
            out.flush();
        }

        /** One event as a row under the header printed at the start. */
        @Override
        void table(PrintWriter out, JsonNode event) {
            row(out, event);
        }
    }
}
