package dev.apiary.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code apiary volumes ...}: the store's volumes as the server sees them, and flatten, through the API. */
@Command(name = "volumes", mixinStandardHelpOptions = true,
        description = "Volumes in the server's store: images and workers' roots and data (through the API).",
        subcommands = {VolumesCommand.Ls.class, VolumesCommand.Show.class, VolumesCommand.Flatten.class})
public final class VolumesCommand extends CommandGroup {
    private static final String ROW = "%-32s %9s %9s %-24s %s%n";

    static String path(String name) {
        return "/volumes/" + URLEncoder.encode(name, StandardCharsets.UTF_8);
    }

    static void table(PrintWriter out, Iterable<JsonNode> volumes) {
        out.printf(ROW, "NAME", "SIZE", "ALLOCATED", "PARENT", "WORKER");
        for (JsonNode v : volumes) {
            JsonNode w = v.path("worker");
            out.printf(ROW, v.path("name").asText(), StoreCommand.human(v.path("size").asLong()),
                    StoreCommand.human(v.path("allocated").asLong()), v.path("parent").asText("-"),
                    w.isObject() ? w.path("name").asText() + " " + w.path("role").asText() : "-");
        }
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "Every volume (all pages).")
    static final class Ls extends ApiCommand {
        @Override
        JsonNode call(ApiClient api) throws Exception {
            return pages(api, "/volumes", "after", null, Long.MAX_VALUE).items();
        }

        @Override
        void table(PrintWriter out, JsonNode result) {
            VolumesCommand.table(out, result);
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "One volume with its snapshots and their clones.")
    static final class Show extends ApiCommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            return api.get(path(name));
        }

        @Override
        void table(PrintWriter out, JsonNode v) {
            VolumesCommand.table(out, java.util.List.of(v));
            for (JsonNode s : v.path("snapshots")) {
                StringBuilder clones = new StringBuilder();
                s.path("clones").forEach(c -> clones.append(' ').append(c.asText()));
                out.printf("@%-31s clones:%s%n", s.path("name").asText(), clones.length() == 0 ? " -" : clones);
            }
        }
    }

    @Command(name = "flatten", mixinStandardHelpOptions = true,
            description = "Copy what a clone reads from its parent and cut the link (rbd flatten), as a job; waits for it.")
    static final class Flatten extends ApiCommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--no-wait", description = "Start the job and print it; do not wait.")
        boolean noWait;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            JsonNode job = api.post(path(name) + "/flatten", null);
            if (noWait) {
                return job;
            }
            spec.commandLine().getErr().println("flatten " + name + ": job " + job.path("id").asText());
            JobsCommand.await(api, job, spec.commandLine().getErr(), null);
            return api.get(path(name));
        }

        @Override
        void table(PrintWriter out, JsonNode result) {
            if (noWait) {
                JobsCommand.header(out);
                JobsCommand.row(out, result);
            } else {
                out.println("flattened " + result.path("name").asText() + "; it has no parent now");
            }
        }
    }
}
