package dev.apiary.cli;

import dev.apiary.server.ApiaryServer;
import dev.apiary.server.ConfigFile;
import dev.apiary.server.GatewayServer;
import dev.apiary.server.ServeSettings;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code apiary serve}: the whole of Apiary in one process. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run Apiary: the iSCSI target, the fleet and (with a pxe: section) network boot.")
public final class ServeCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--data", paramLabel = "DIR", defaultValue = "apiary-data",
            description = "Data directory: inventory, volume store, keys (default ${DEFAULT-VALUE}).")
    Path data;

    @Option(names = "--config", paramLabel = "FILE", description = "YAML configuration (sections target, fleet, pxe, api, store, gateway).")
    Path config;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ServeSettings settings;
        try {
            ConfigFile file = config == null ? ConfigFile.empty() : ConfigFile.load(config, ServeSettings.SECTIONS);
            settings = ServeSettings.from(file);
        } catch (ConfigFile.ConfigException | java.io.IOException e) {
            err.println("apiary serve: " + e.getMessage());
            return 2;
        }
        if (settings.gateway().join().isPresent()) {
            return gateway(settings, out, err);
        }
        ApiaryServer server = new ApiaryServer(data, settings);
        try {
            server.start();
        } catch (Exception e) {
            return failed(err, e);
        }
        CountDownLatch stopped = stopOnShutdown(server::close);
        String api = "https://" + server.apiAddress().getAddress().getHostAddress() + ":" + server.apiAddress().getPort();
        out.println("ready iscsi=" + server.targetAddress().getAddress().getHostAddress() + ":"
                + server.targetAddress().getPort() + " boot=" + server.bootHttp().orElse("off") + " api=" + api);
        // First start, no setup: say where the API is, how to trust it and how to get in.
        err.println("apiary: admin API at " + api + "/api/v1 (certificate SHA-256 "
                + server.certificate().sha256Fingerprint() + ")");
        err.println("apiary: get a token with: ./apiary token create --data " + data + " admin");
        out.flush();
        stopped.await();
        return 0;
    }

    /** A gateway node: the iSCSI target only, serving the fleet of the API node it joined. */
    private int gateway(ServeSettings settings, PrintWriter out, PrintWriter err) throws InterruptedException {
        GatewayServer server = new GatewayServer(data, settings);
        try {
            server.start();
        } catch (Exception e) {
            return failed(err, e);
        }
        CountDownLatch stopped = stopOnShutdown(server::close);
        out.println("ready iscsi=" + server.targetAddress().getAddress().getHostAddress() + ":"
                + server.targetAddress().getPort() + " gateway=" + settings.gateway().name() + " api="
                + settings.gateway().join().get().api());
        out.flush();
        stopped.await();
        return 0;
    }

    private static int failed(PrintWriter err, Exception e) {
        err.println("apiary serve: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
        return 2;
    }

    /** Stops the server at SIGTERM or Ctrl-C; the latch opens once it has stopped. */
    private static CountDownLatch stopOnShutdown(Runnable close) {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            close.run();
            stopped.countDown();
        }, "apiary-serve-stop"));
        return stopped;
    }
}
