package dev.apiary.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code apiary images upgrade|upgrades}: golden-image upgrades in maintenance mode (DESIGN.md story 4). */
final class UpgradeCommands {
    private UpgradeCommands() {}

    static final Set<String> ENDED = Set.of("SEALED", "FAILED");

    static String path(String image) {
        return "/images/" + URLEncoder.encode(image, StandardCharsets.UTF_8) + "/upgrades";
    }

    static void table(PrintWriter out, Iterable<JsonNode> upgrades) {
        out.printf("%-5s %-16s %-8s %-8s %-16s %-9s %s%n", "ID", "IMAGE", "FROM", "TO", "WORKER", "STATE", "ERROR");
        for (JsonNode u : upgrades) {
            out.printf("%-5s %-16s %-8s %-8s %-16s %-9s %s%n", u.path("id").asText(), u.path("image").asText(),
                    u.path("from").asText(), u.path("to").asText(), u.path("worker").asText(), u.path("state").asText(),
                    u.path("error").asText(""));
        }
    }

    @Command(name = "upgrade", mixinStandardHelpOptions = true, description = {
        "Upgrade an image: WORKER boots its head in maintenance mode (apt-get full-upgrade), powers off,",
        "and the head is sealed as the next version with the package changelog."})
    static final class Start extends ApiCommand {
        @Parameters(index = "0", paramLabel = "IMAGE")
        String image;

        @Option(names = "--worker", required = true, description = "The worker that boots the maintenance image.")
        String worker;

        @Option(names = "--version", description = "The new version (default: the latest's number + 1).")
        String version;

        @Option(names = "--wait", description = "Wait until it is sealed (or failed) and print the changelog.")
        boolean await;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            ObjectNode body = ApiClient.JSON.createObjectNode().put("worker", worker);
            if (version != null) {
                body.put("version", version);
            }
            JsonNode u = api.post(path(image), body);
            if (!await) {
                return u;
            }
            String one = path(image) + "/" + u.path("id").asText();
            Instant deadline = Instant.now().plus(Duration.ofHours(2));
            String state = "";
            while (!ENDED.contains(u.path("state").asText()) && Instant.now().isBefore(deadline)) {
                if (!u.path("state").asText().equals(state)) {
                    state = u.path("state").asText();
                    spec.commandLine().getErr().println("apiary images: upgrade " + u.path("id").asText() + " " + state);
                }
                Thread.sleep(2000);
                u = api.get(one);
            }
            return api.get(one);
        }

        @Override
        void table(PrintWriter out, JsonNode u) {
            UpgradeCommands.table(out, java.util.List.of(u));
            if (u.hasNonNull("changelog")) {
                out.println(u.path("changelog").asText().stripTrailing()); // println: the writer flushes on it
            }
        }
    }

    @Command(name = "upgrades", mixinStandardHelpOptions = true,
            description = "An image's upgrades, or one upgrade with its package changelog.")
    static final class Ls extends ApiCommand {
        @Parameters(index = "0", paramLabel = "IMAGE")
        String image;

        @Parameters(index = "1", paramLabel = "ID", arity = "0..1")
        Long id;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            return id == null ? api.get(path(image)).path("items") : api.get(path(image) + "/" + id);
        }

        @Override
        void table(PrintWriter out, JsonNode result) {
            if (result.isArray()) {
                UpgradeCommands.table(out, result);
            } else {
                new Start().table(out, result);
            }
        }
    }
}
