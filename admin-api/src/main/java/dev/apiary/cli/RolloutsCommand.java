package dev.apiary.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code apiary rollouts ...}: an image version rolled out to workers in batches, and rolled back. */
@Command(name = "rollouts", mixinStandardHelpOptions = true,
        description = "Roll an image version out to workers in batches, and back (through the API).",
        subcommands = {RolloutsCommand.Start.class, RolloutsCommand.Ls.class, RolloutsCommand.Show.class,
            RolloutsCommand.Rollback.class})
public final class RolloutsCommand extends CommandGroup {
    static void table(PrintWriter out, JsonNode r) {
        out.printf("rollout %s of %s, %s at a time: %s%s%n", r.path("id").asText(), r.path("image").asText(),
                r.path("batch-size").asText(), r.path("state").asText(),
                r.hasNonNull("error") ? " (" + r.path("error").asText() + ")" : "");
        if (r.has("workers")) {
            out.printf("  %-16s %-5s %-13s %-20s %s%n", "WORKER", "BATCH", "STATE", "PREVIOUS", "SINCE");
            for (JsonNode w : r.path("workers")) {
                out.printf("  %-16s %-5s %-13s %-20s %s%n", w.path("worker").asText(), w.path("batch").asText(),
                        w.path("state").asText(), w.path("previous").asText("-"), w.path("since").asText());
            }
        }
    }

    abstract static class Base extends ApiCommand {
        @Override
        void table(PrintWriter out, JsonNode rollout) {
            RolloutsCommand.table(out, rollout);
        }
    }

    @Command(name = "start", mixinStandardHelpOptions = true, description = {
        "Roll IMAGE@VERSION out to WORKERs, --batch-size at a time: each boots it from its next boot",
        "(woken by Wake-on-LAN, or rebooted by its agent); the next batch starts when this one is up."})
    static final class Start extends Base {
        @Parameters(index = "0", paramLabel = "IMAGE@VERSION")
        String image;

        @Parameters(index = "1..*", paramLabel = "WORKER", arity = "1..*")
        List<String> workers;

        @Option(names = "--batch-size", defaultValue = "1")
        int batchSize;

        @Option(names = "--timeout", defaultValue = "30m",
                description = "How long a batch may take to come up, e.g. 30m, 2h (default: ${DEFAULT-VALUE}).")
        String timeout;

        @Option(names = "--wait", description = "Wait until the rollout is done or failed, printing each change.")
        boolean await;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            ObjectNode body = ApiClient.JSON.createObjectNode().put("image", image).put("batch-size", batchSize)
                    .put("timeout-seconds", seconds(timeout));
            ArrayNode ws = body.putArray("workers");
            workers.forEach(ws::add);
            JsonNode r = api.post("/rollouts", body);
            return await ? follow(api, r, spec.commandLine().getErr()) : r;
        }
    }

    /** Polls the rollout until it is no longer RUNNING, printing each worker's changes. */
    static JsonNode follow(ApiClient api, JsonNode r, PrintWriter err) throws Exception {
        String id = r.path("id").asText();
        Instant deadline = Instant.now().plus(Duration.ofDays(1));
        String last = "";
        while (Instant.now().isBefore(deadline)) {
            r = api.get("/rollouts/" + id);
            StringBuilder now = new StringBuilder();
            r.path("workers").forEach(w -> now.append(w.path("worker").asText()).append('=')
                    .append(w.path("state").asText()).append(' '));
            if (!now.toString().equals(last)) {
                last = now.toString();
                err.println("apiary rollouts: " + id + " " + r.path("state").asText() + ": " + last.trim());
            }
            boolean rollingBack = last.contains("=ROLLING_BACK");
            if (!r.path("state").asText().equals("RUNNING") && !rollingBack) {
                return r;
            }
            Thread.sleep(2000);
        }
        return r;
    }

    static int seconds(String s) {
        Duration d = s.matches("\\d+") ? Duration.ofSeconds(Long.parseLong(s)) : Duration.parse("PT" + s.toUpperCase());
        return (int) d.toSeconds();
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "Every rollout, newest first.")
    static final class Ls extends ApiCommand {
        @Override
        JsonNode call(ApiClient api) throws Exception {
            return api.get("/rollouts").path("items");
        }

        @Override
        void table(PrintWriter out, JsonNode rollouts) {
            rollouts.forEach(r -> RolloutsCommand.table(out, r));
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "One rollout with each worker's state.")
    static final class Show extends Base {
        @Parameters(paramLabel = "ID")
        long id;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            return api.get("/rollouts/" + id);
        }
    }

    @Command(name = "rollback", mixinStandardHelpOptions = true, description = {
        "Send WORKERs (all, and stop the rollout, when none are named) back to the version each ran",
        "before, from their next boot."})
    static final class Rollback extends Base {
        @Parameters(index = "0", paramLabel = "ID")
        long id;

        @Parameters(index = "1..*", paramLabel = "WORKER", arity = "0..*")
        List<String> workers = List.of();

        @Option(names = "--wait", description = "Wait until they are back up.")
        boolean await;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            if (!workers.isEmpty()) {
                ArrayNode ws = body.putArray("workers");
                workers.forEach(ws::add);
            }
            JsonNode r = api.post("/rollouts/" + id + "/rollback", body);
            return await ? follow(api, r, spec.commandLine().getErr()) : r;
        }
    }
}
