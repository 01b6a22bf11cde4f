package dev.apiary.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code apiary workers snapshots ...}: snapshots of a worker's root and data volumes, through the API. */
@Command(name = "snapshots", mixinStandardHelpOptions = true,
        description = "Snapshot a worker's volumes, list, delete, or roll back to one (through the API).",
        subcommands = {WorkerSnapshotsCommand.Ls.class, WorkerSnapshotsCommand.Create.class,
            WorkerSnapshotsCommand.Rollback.class, WorkerSnapshotsCommand.Rm.class})
public final class WorkerSnapshotsCommand extends CommandGroup {

    static String path(String worker, String snapshot) {
        return WorkersCommand.path(worker) + "/snapshots"
                + (snapshot == null ? "" : "/" + URLEncoder.encode(snapshot, StandardCharsets.UTF_8));
    }

    static void table(PrintWriter out, Iterable<JsonNode> snapshots) {
        out.printf("%-24s %s%n", "SNAPSHOT", "VOLUMES");
        for (JsonNode s : snapshots) {
            StringBuilder v = new StringBuilder();
            s.path("volumes").forEach(p -> v.append(p.path("role").asText()).append('=')
                    .append(p.path("volume").asText()).append(' '));
            out.printf("%-24s %s%n", s.path("name").asText(), v.toString().trim());
        }
    }

    /** {@code --volumes root,data}: which of the worker's volumes; all when not given. */
    static ObjectNode volumes(ObjectNode body, List<String> volumes) {
        if (volumes != null) {
            var a = body.putArray("volumes");
            volumes.forEach(a::add);
        }
        return body;
    }

    abstract static class One extends ApiCommand {
        @Override
        void table(PrintWriter out, JsonNode snapshot) {
            WorkerSnapshotsCommand.table(out, List.of(snapshot));
        }
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "The worker's snapshots.")
    static final class Ls extends ApiCommand {
        @Parameters(paramLabel = "WORKER")
        String worker;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            return api.get(path(worker, null)).path("items");
        }

        @Override
        void table(PrintWriter out, JsonNode result) {
            WorkerSnapshotsCommand.table(out, result);
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Snapshot the worker's volumes as they are now; it keeps running.")
    static final class Create extends One {
        @Parameters(index = "0", paramLabel = "WORKER")
        String worker;

        @Parameters(index = "1", paramLabel = "SNAPSHOT")
        String snapshot;

        @Option(names = "--volumes", split = ",", paramLabel = "root,data", description = "Which volumes (default both).")
        List<String> volumes;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            return api.post(path(worker, null), volumes(ApiClient.JSON.createObjectNode().put("name", snapshot), volumes));
        }
    }

    @Command(name = "rollback", mixinStandardHelpOptions = true,
            description = "Return the worker's volumes to a snapshot; its sessions are dropped, so power it off first.")
    static final class Rollback extends WorkersCommand.Base {
        @Parameters(index = "0", paramLabel = "WORKER")
        String worker;

        @Parameters(index = "1", paramLabel = "SNAPSHOT")
        String snapshot;

        @Option(names = "--volumes", split = ",", paramLabel = "root,data",
                description = "Which volumes (default every one the snapshot covers).")
        List<String> volumes;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            return api.post(path(worker, snapshot) + "/rollback", volumes(ApiClient.JSON.createObjectNode(), volumes));
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true, description = "Delete a snapshot of the worker's volumes.")
    static final class Rm extends One {
        @Parameters(index = "0", paramLabel = "WORKER")
        String worker;

        @Parameters(index = "1", paramLabel = "SNAPSHOT")
        String snapshot;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            return api.delete(path(worker, snapshot));
        }
    }
}
