package dev.apiary.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code apiary images ...}: golden images and their versions, through the API. */
@Command(name = "images", mixinStandardHelpOptions = true, description = "Golden images and their versions (through the API).",
        subcommands = {ImagesCommand.Ls.class, ImagesCommand.Import.class, ImagesCommand.Seal.class,
            ImagesCommand.Use.class, UpgradeCommands.Start.class, UpgradeCommands.Ls.class})
public final class ImagesCommand extends CommandGroup {
    static void table(PrintWriter out, JsonNode image) {
        StringBuilder versions = new StringBuilder();
        for (JsonNode v : image.path("versions")) {
            versions.append(v.path("version").asText()).append(" (").append(v.path("clones").asInt())
                    .append(" clones) ");
        }
        out.printf("%-24s %10d MiB  %s%n", image.path("name").asText(), image.path("size").asLong() >> 20,
                versions.toString().trim());
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "Every image with its versions.")
    static final class Ls extends ApiCommand {
        @Override
        JsonNode call(ApiClient api) throws Exception {
            return api.get("/images").path("items");
        }

        @Override
        void table(PrintWriter out, JsonNode images) {
            out.printf("%-24s %14s  %s%n", "NAME", "SIZE", "VERSIONS");
            images.forEach(i -> ImagesCommand.table(out, i));
        }
    }

    @Command(name = "import", mixinStandardHelpOptions = true,
            description = "Import a raw image file (a path on the server) as a new image, with a progress bar.")
    static final class Import extends ApiCommand {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Parameters(index = "1", paramLabel = "FILE", description = "The raw image, as the server sees it.")
        Path file;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            ObjectNode body = ApiClient.JSON.createObjectNode().put("name", name)
                    .put("source", file.toAbsolutePath().normalize().toString());
            JsonNode job = api.post("/images", body);
            spec.commandLine().getErr().println("apiary images: importing " + name + " as job " + job.path("id").asText()
                    + " (./apiary jobs wait " + job.path("id").asText() + " to watch it from elsewhere)");
            return JobsCommand.await(api, job, spec.commandLine().getErr(), java.time.Duration.ofHours(24));
        }

        @Override
        void table(PrintWriter out, JsonNode job) {
            out.println("imported " + name);
        }
    }

    @Command(name = "seal", mixinStandardHelpOptions = true,
            description = "Seal the image as it is now as VERSION, which workers' roots can be cloned from.")
    static final class Seal extends ApiCommand {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Parameters(index = "1", paramLabel = "VERSION")
        String version;

        @Option(names = "--note", description = "Why this version (kept with it).")
        String note;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            var body = ApiClient.JSON.createObjectNode().put("version", version);
            if (note != null) {
                body.put("note", note);
            }
            return api.post("/images/" + URLEncoder.encode(name, StandardCharsets.UTF_8) + "/versions", body);
        }

        @Override
        void table(PrintWriter out, JsonNode image) {
            ImagesCommand.table(out, image);
        }
    }

    @Command(name = "use", mixinStandardHelpOptions = true,
            description = "Clone new machines' roots from IMAGE@VERSION from now on (existing workers: reimage).")
    static final class Use extends ApiCommand {
        @Parameters(paramLabel = "IMAGE@VERSION")
        String image;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            return api.put("/fleet/image", ApiClient.JSON.createObjectNode().put("image", image));
        }

        @Override
        void table(PrintWriter out, JsonNode fleet) {
            out.println("new machines boot " + fleet.path("image").asText());
        }
    }
}
