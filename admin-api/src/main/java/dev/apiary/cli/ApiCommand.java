package dev.apiary.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What every command that talks to the API shares: the connection ({@link ApiClient}), {@code --json}
 * or a table, and error reporting ({@code apiary GROUP: message}, exit 1). A subcommand fetches or
 * changes something in {@link #call(ApiClient)} and says how it looks as a table.
 */
abstract class ApiCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Mixin
    ApiClient api;

    @Option(names = "--json", description = "Print the API's JSON instead of a table.")
    boolean json;

    /** Does the work; the answer is printed as JSON or {@link #table}, or null when it printed as it went. */
    abstract JsonNode call(ApiClient api) throws Exception;

    /** How {@code result} looks without {@code --json}. */
    abstract void table(PrintWriter out, JsonNode result);

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try {
            JsonNode r = call(api);
            if (r == null) {
                return 0;
            } else if (json) {
                out.println(ApiClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(r));
            } else {
                table(out, r);
            }
            return 0;
        } catch (ApiClient.Failure e) {
            return fail(e.getMessage());
        } catch (Exception e) {
            return fail(e.toString());
        }
    }

    /** Reports a failure the way every API command does, and gives the exit status (1). */
    int fail(String message) {
        spec.commandLine().getErr().println("apiary " + spec.parent().name() + ": " + message);
        return 1;
    }

    /** A page's cursor for the next page, or null on the last page (a string or a number, as the route has it). */
    static String next(JsonNode page) {
        JsonNode n = page.path("next");
        return n.isTextual() || n.isNumber() ? n.asText() : null;
    }

    /** Items of a paged list, and the cursor to go on with when a limit cut it short (else null). */
    record Listed(com.fasterxml.jackson.databind.node.ArrayNode items, String more) {}

    /**
     * Up to {@code limit} items of a paged list ({@code path} with {@code ?limit=}), following each
     * page's {@code next} as {@code cursor} (after or before, as the route pages), from {@code start}.
     */
    static Listed pages(ApiClient api, String path, String cursor, String start, long limit) throws Exception {
        var all = ApiClient.JSON.createArrayNode();
        String at = start;
        while (all.size() < limit) {
            JsonNode page = api.get(path + "?limit=" + Math.min(500, limit - all.size())
                    + (at == null ? "" : "&" + cursor + "=" + java.net.URLEncoder.encode(at, java.nio.charset.StandardCharsets.UTF_8)));
            page.path("items").forEach(all::add);
            at = next(page);
            if (at == null || page.path("items").isEmpty()) {
                return new Listed(all, null);
            }
        }
        return new Listed(all, at);
    }

    /** A timestamp from the API for a table: to the second, or "-" when there is none. */
    static String time(JsonNode at) {
        if (!at.isTextual() || at.asText().isEmpty()) {
            return "-";
        }
        try {
            return Instant.parse(at.asText()).truncatedTo(ChronoUnit.SECONDS).toString();
        } catch (DateTimeParseException e) {
            return at.asText();
        }
    }
}
