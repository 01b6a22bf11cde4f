package dev.apiary.server;

import dev.apiary.api.tls.PinnedTrust;
import dev.apiary.chap.MasterKey;
import dev.apiary.chap.SecretBox;
import dev.apiary.gateway.ExportConfig;
import dev.apiary.gateway.ExportPublisher;
import dev.apiary.gateway.GatewayAgent;
import dev.apiary.iscsi.portal.TargetServer;
import dev.apiary.lun.VolumeStore;
import dev.apiary.pxe.ipxe.SanbootTarget;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code apiary serve} on a gateway node ({@code gateway.join}): the iSCSI target alone, exporting
 * the fleet of the API node it joined from the shared pool, in the port group the API node gave
 * it. The configuration comes from the API node ({@link GatewayAgent}), or from the copy kept in
 * the data directory when the API node does not answer.
 */
public final class GatewayServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GatewayServer.class);

    private final Path dataDir;
    private final ServeSettings settings;
    private final Started started = new Started();
    private InetSocketAddress targetAddress;

    public GatewayServer(Path dataDir, ServeSettings settings) {
        this.dataDir = dataDir.toAbsolutePath().normalize();
        this.settings = settings;
    }

    public GatewayServer start() throws Exception {
        GatewaySettings.Join join = settings.gateway().join().orElseThrow();
        String name = settings.gateway().name();
        try {
            Files.createDirectories(dataDir);
            if (Files.getFileAttributeView(dataDir, PosixFileAttributeView.class) != null) {
                Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwx------"));
            }
            SecretBox box = new SecretBox(MasterKey.loadOrCreate(dataDir.resolve("master.key")));
            String token = token(join.token());
            VolumeStore store = settings.store().open(dataDir);
            started.add(store);
            TargetServer target = new TargetServer(TargetServer.Options.forNetworkVolumes());
            started.add(target);
            TargetWarmup.run(target, dataDir.resolve("warmup"), settings.warmup());
            SanbootTarget.Portal p = settings.portals().get(0);
            GatewayAgent agent = new GatewayAgent(name, join.api(), token, PinnedTrust.of(join.cacert()),
                    p.host() + ":" + p.port(), ApiaryServer.clientAddress(store), box,
                    dataDir.resolve("gateway-config.sealed"));
            ExportConfig first = agent.first();
            int group = first.gateway(name).map(ExportConfig.Gateway::group).orElseThrow(() -> new IOException(
                    "the API node's configuration does not list this gateway (" + name + ")"));
            ExportPublisher exports = new ExportPublisher(target, store, name, targets -> {
                throw new IllegalStateException("a gateway node serves the API node's configuration");
            });
            started.add(exports::close);
            started.add(agent); // stopped before the exports it ticks
            exports.apply(first, false);
            targetAddress = target.listen(settings.listen(), group, group);
            agent.start(exports);
        } catch (Exception | Error e) {
            close();
            throw e;
        }
        log.info("[apiary] gateway {} of {}: volumes in {}, iSCSI target on {}", name, join.api(),
                settings.store().describe(dataDir), targetAddress);
        return this;
    }

    /** The token file's first line; the file must not be readable by others (it grants the API). */
    private static String token(Path file) throws IOException {
        if (!Files.isReadable(file)) {
            throw new IOException("cannot read the API token file " + file);
        }
        if (Files.getFileAttributeView(file, PosixFileAttributeView.class) != null) {
            var perms = Files.getPosixFilePermissions(file);
            if (perms.stream().anyMatch(x -> x.name().startsWith("GROUP_") || x.name().startsWith("OTHERS_"))) {
                throw new IOException("the API token file " + file + " is open to others ("
                        + PosixFilePermissions.toString(perms) + "): chmod 600 it");
            }
        }
        String t = Files.readAllLines(file).stream().map(String::trim).filter(l -> !l.isEmpty()).findFirst()
                .orElseThrow(() -> new IOException("the API token file " + file + " is empty"));
        return t;
    }

    public InetSocketAddress targetAddress() {
        return targetAddress;
    }

    @Override
    public void close() {
        started.close();
    }
}
