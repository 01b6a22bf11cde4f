package dev.apiary.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import picocli.CommandLine.Command;

/** {@code apiary storage ...}: the volume store behind the fleet, through the API. */
@Command(name = "storage", mixinStandardHelpOptions = true, description = "The volume store (through the API).",
        subcommands = {StorageCommand.Health.class})
public final class StorageCommand extends CommandGroup {
    @Command(name = "health", mixinStandardHelpOptions = true,
            description = "The store's status (OK, WARN, ERROR), what is wrong, and its space: ceph health and df for "
                    + "an RBD pool, df for the file store. Exit 0 unless the API cannot be asked.")
    static final class Health extends ApiCommand {
        @Override
        JsonNode call(ApiClient api) throws Exception {
            return api.get("/storage");
        }

        @Override
        void table(PrintWriter out, JsonNode h) {
            out.printf("%s %s: %s", h.path("type").asText(), h.path("where").asText(), h.path("status").asText());
            if (h.path("usedBytes").isNumber()) {
                out.printf(", %s used, %s available", StoreCommand.human(h.path("usedBytes").asLong()),
                        StoreCommand.human(h.path("availableBytes").asLong()));
            }
            out.println();
            h.path("problems").forEach(p -> out.println("  " + p.asText()));
        }
    }
}
