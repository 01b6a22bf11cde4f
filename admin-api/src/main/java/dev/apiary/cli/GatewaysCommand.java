package dev.apiary.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code apiary gateways ...}: the nodes exporting the fleet's LUNs, and which LUNs each owns, through the API. */
@Command(name = "gateways", mixinStandardHelpOptions = true,
        description = "The gateways exporting the fleet's LUNs (through the API).",
        subcommands = {GatewaysCommand.List.class, GatewaysCommand.Remove.class})
public final class GatewaysCommand extends CommandGroup {
    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Each gateway: up or down, its portal and port group, and the volumes it owns "
                    + "(active/optimized there).")
    static final class List extends ApiCommand {
        @Override
        JsonNode call(ApiClient api) throws Exception {
            return api.get("/gateways");
        }

        @Override
        void table(PrintWriter out, JsonNode page) {
            out.printf("%-20s %-5s %-21s %5s  %s%n", "NAME", "STATE", "PORTAL", "GROUP", "OWNS");
            for (JsonNode g : page.path("items")) {
                java.util.List<String> owns = new java.util.ArrayList<>();
                g.path("owns").forEach(v -> owns.add(v.asText()));
                out.printf("%-20s %-5s %-21s %5d  %s%n", g.path("name").asText(), g.path("state").asText(),
                        g.path("portal").asText(), g.path("group").asInt(),
                        owns.isEmpty() ? "-" : owns.size() + ": " + String.join(" ", owns));
            }
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Forget a gateway taken out of service; the LUNs it owned move to the others.")
    static final class Remove extends ApiCommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            return api.delete("/gateways/" + java.net.URLEncoder.encode(name, java.nio.charset.StandardCharsets.UTF_8));
        }

        @Override
        void table(PrintWriter out, JsonNode r) {
            out.println("removed " + r.path("removed").asText());
        }
    }
}
