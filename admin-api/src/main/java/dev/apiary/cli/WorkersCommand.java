package dev.apiary.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code apiary workers ...}: the fleet through the API, as tables or {@code --json}. */
@Command(name = "workers", mixinStandardHelpOptions = true, description = "List and operate on workers (through the API).",
        subcommands = {WorkersCommand.Ls.class, WorkersCommand.Show.class, WorkersCommand.Approve.class,
            WorkersCommand.Replace.class, WorkersCommand.Reimage.class, WorkersCommand.Confirm.class,
            WorkersCommand.Rollback.class, WorkersCommand.Retire.class, WorkersCommand.Wake.class,
            WorkersCommand.Credentials.class, WorkersCommand.Boots.class, WorkersCommand.Assign.class,
            WorkerSnapshotsCommand.class})
public final class WorkersCommand extends CommandGroup {

    /** A workers subcommand: by default its answer is one worker, shown as a row of the table. */
    abstract static class Base extends ApiCommand {
        @Override
        void table(PrintWriter out, JsonNode worker) {
            WorkersCommand.table(out, java.util.List.of(worker));
        }
    }

    static void table(PrintWriter out, Iterable<JsonNode> workers) {
        out.printf("%-16s %-17s %-9s %-20s %s%n", "NAME", "MAC", "STATE", "IMAGE", "LAST SEEN");
        for (JsonNode w : workers) {
            out.printf("%-16s %-17s %-9s %-20s %s%n", w.path("name").asText(), w.path("mac").asText("-"),
                    w.path("state").asText(), w.path("image").asText("-"), w.path("lastSeen").asText("-"));
        }
    }

    static String path(String name) {
        return "/workers/" + URLEncoder.encode(name, StandardCharsets.UTF_8);
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "Every worker (all pages).")
    static final class Ls extends Base {
        @Override
        JsonNode call(ApiClient api) throws Exception {
            return pages(api, "/workers", "after", null, Long.MAX_VALUE).items();
        }

        @Override
        void table(PrintWriter out, JsonNode result) {
            WorkersCommand.table(out, result);
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "One worker with its LUNs.")
    static final class Show extends Base {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            return api.get(path(name));
        }

        @Override
        void table(PrintWriter out, JsonNode w) {
            super.table(out, w);
            out.println();
            out.printf("initiator %s%ntarget    %s%n", w.path("initiatorIqn").asText(), w.path("targetIqn").asText());
            for (JsonNode l : w.path("luns")) {
                out.printf("LUN %-3s %-8s %s%n", l.path("lun").asText(), l.path("role").asText(), l.path("volume").asText());
            }
            if (w.path("boot").isObject()) {
                boot(out, w.path("boot"));
            }
        }
    }

    /** "boot 3  2026-11-21T10:00:00Z  dhcp 0.0s  script 2.1s  iscsi-login 5.3s ...". */
    static void boot(PrintWriter out, JsonNode b) {
        StringBuilder phases = new StringBuilder();
        b.path("phases").forEach(p -> phases.append(String.format("  %s %.1fs", p.path("phase").asText(),
                p.path("seconds").asDouble())));
        out.printf("boot %-3s %s%s%n", b.path("boot").asText(), ApiCommand.time(b.path("started")), phases);
    }

    @Command(name = "boots", mixinStandardHelpOptions = true, description = "A worker's last boots and their phases.")
    static final class Boots extends ApiCommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            return api.get(path(name) + "/boots").path("items");
        }

        @Override
        void table(PrintWriter out, JsonNode boots) {
            boots.forEach(b -> boot(out, b));
        }
    }

    @Command(name = "approve", mixinStandardHelpOptions = true, description = "Approve a pending worker.")
    static final class Approve extends Base {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            return api.post(path(name) + "/approve", null);
        }
    }

    @Command(name = "replace", mixinStandardHelpOptions = true,
            description = "Move a (dead) worker to a new machine; the old one is fenced.")
    static final class Replace extends Base {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Parameters(index = "1", paramLabel = "NEW-MAC")
        String mac;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            ObjectNode body = ApiClient.JSON.createObjectNode().put("mac", mac);
            return api.post(path(name) + "/replace", body);
        }
    }

    @Command(name = "reimage", mixinStandardHelpOptions = true,
            description = "A new root from an image; the data LUN stays; the old root is kept until confirm.")
    static final class Reimage extends Base {
        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--image", paramLabel = "VOLUME@SNAPSHOT", description = "Default: the fleet's image.")
        String image;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            if (image != null) {
                body.put("image", image);
            }
            return api.post(path(name) + "/reimage", body);
        }
    }

    @Command(name = "assign", mixinStandardHelpOptions = true,
            description = "Boot IMAGE@VERSION from the worker's next boot on; its running system is left alone.")
    static final class Assign extends Base {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Parameters(index = "1", paramLabel = "IMAGE@VERSION")
        String image;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            return api.post(path(name) + "/assign", ApiClient.JSON.createObjectNode().put("image", image));
        }
    }

    @Command(name = "confirm", mixinStandardHelpOptions = true, description = "Keep a reimage; delete the old root.")
    static final class Confirm extends Base {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            return api.post(path(name) + "/reimage/confirm", null);
        }
    }

    @Command(name = "rollback", mixinStandardHelpOptions = true, description = "Undo a reimage: back to the old root.")
    static final class Rollback extends Base {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            return api.post(path(name) + "/reimage/rollback", null);
        }
    }

    @Command(name = "retire", mixinStandardHelpOptions = true,
            description = "Take a worker out of the fleet; its volumes are kept.")
    static final class Retire extends Base {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            return api.post(path(name) + "/retire", null);
        }
    }

    @Command(name = "wake", mixinStandardHelpOptions = true, description = "Send Wake-on-LAN to a worker.")
    static final class Wake extends Base {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            return api.post(path(name) + "/wake", null);
        }

        @Override
        void table(PrintWriter out, JsonNode r) {
            out.println("sent a magic packet for " + r.path("sent").asText() + " to " + r.path("to").asText());
        }
    }

    @Command(name = "credentials", mixinStandardHelpOptions = true,
            description = "Show a worker's CHAP secrets (audited).")
    static final class Credentials extends Base {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            return api.get(path(name) + "/credentials");
        }

        @Override
        void table(PrintWriter out, JsonNode c) {
            out.printf("initiator %s%ntarget    %s%nchap      %s %s%nmutual    %s %s%n",
                    c.path("initiatorIqn").asText(), c.path("targetIqn").asText(),
                    c.path("chap").path("user").asText(), c.path("chap").path("secret").asText(),
                    c.path("mutual").path("user").asText(), c.path("mutual").path("secret").asText());
        }
    }
}
