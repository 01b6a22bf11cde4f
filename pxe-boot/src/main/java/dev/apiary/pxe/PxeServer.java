package dev.apiary.pxe;

import dev.apiary.pxe.dhcp.BootFiles;
import dev.apiary.pxe.dhcp.FullDhcpService;
import dev.apiary.pxe.dhcp.ProxyDhcpService;
import dev.apiary.pxe.dhcp.ReplyRoutes;
import dev.apiary.pxe.http.BootHttpService;
import dev.apiary.pxe.tftp.RootDirectory;
import dev.apiary.pxe.tftp.TftpServer;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The boot services of one boot network, started and stopped together (Pixiecore's server): DHCP
 * (proxy beside a home router, full on an isolated network, or none when the network's own DHCP
 * server already points at us), TFTP carrying the iPXE binaries, and HTTP carrying the scripts and
 * large files. What each machine boots stays one question, {@link BootDecision}.
 */
public final class PxeServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PxeServer.class);

    public enum DhcpMode { PROXY, FULL, OFF }

    /** How long after its DHCP exchange (or its last fetch) a machine may fetch its script. */
    static final Duration SCRIPT_WINDOW = Duration.ofMinutes(5);

    /**
     * @param address this host's address on the boot network: TFTP and HTTP listen on it, DHCP
     *     names it as the server (option 54, siaddr)
     * @param interfaceName the boot network's interface; required for full DHCP, which refuses to
     *     start unless the interface is up and carries {@code address}
     * @param ipxeDir where the iPXE binaries are (Debian's {@code ipxe} package: /usr/lib/ipxe); it
     *     is the TFTP root
     * @param filesDir served under {@code /files/} over HTTP (kernels, initrds)
     * @param maxTransfers concurrent TFTP transfers, and concurrent HTTP file transfers
     * @param pool the address pool, for full DHCP only (null otherwise)
     */
    public record Config(DhcpMode dhcp, Inet4Address address, String interfaceName, int httpPort, int tftpPort,
            Path ipxeDir, String uefiFile, String biosFile, Path filesDir, int maxTransfers, Pool pool) {
        public static final Path DEBIAN_IPXE = Path.of("/usr/lib/ipxe");

        public Config {
            Objects.requireNonNull(dhcp, "dhcp");
            Objects.requireNonNull(address, "address");
            if (dhcp == DhcpMode.FULL && (pool == null || interfaceName == null)) {
                throw new IllegalArgumentException("full DHCP needs an interface and an address pool");
            }
        }
    }

    /** The full DHCP server's pool and what it tells clients besides their address (RFC 2132 §3). */
    public record Pool(Inet4Address first, Inet4Address last, Inet4Address subnetMask, Inet4Address router,
            List<Inet4Address> dns, Duration leaseTime, Path leaseFile) {}

    private final Config config;
    private final BootDecision decision;
    private final Vertx vertx;
    private TftpServer tftp;
    private BootHttpService http;
    private AutoCloseable dhcp;
    private int httpPort;

    public PxeServer(Config config, BootDecision decision, Vertx vertx) {
        this.config = config;
        this.decision = decision;
        this.vertx = vertx;
    }

    /**
     * Checks the boot files, then starts HTTP, TFTP and DHCP in that order, so that a client never
     * gets a DHCP answer pointing at a service that is not up yet. On failure everything started
     * so far is stopped again.
     */
    public PxeServer start() throws Exception {
        checkBootFiles();
        try {
            // With DHCP off Apiary never sees which address a machine took, so it cannot hold its
            // scripts to that address; it says so.
            Sightings sightings = config.dhcp() == DhcpMode.OFF ? null : new Sightings(SCRIPT_WINDOW, Clock.systemUTC());
            if (sightings == null) {
                log.warn("[pxe] DHCP off: boot scripts are served to any address that asks for a MAC");
            }
            http = new BootHttpService(vertx, decision, config.filesDir(), config.maxTransfers(), sightings);
            httpPort = http.listen(config.address().getHostAddress(), config.httpPort())
                    .await(30, java.util.concurrent.TimeUnit.SECONDS);
            tftp = new TftpServer(new InetSocketAddress(config.address(), config.tftpPort()),
                    new RootDirectory(config.ipxeDir()),
                    TftpServer.Config.defaults().withMaxTransfers(config.maxTransfers())).start();
            dhcp = switch (config.dhcp()) {
                case PROXY -> new ProxyDhcpService(ProxyDhcpService.Config.standard(config.address(),
                        bootFiles()), decision, sightings).start();
                case FULL -> new FullDhcpService(fullDhcpConfig(), decision, sightings).start();
                case OFF -> null;
            };
        } catch (Exception | Error e) {
            close();
            throw e;
        }
        log.info("[pxe] DHCP {}, TFTP {} (from {}), HTTP {}", config.dhcp().name().toLowerCase(java.util.Locale.ROOT),
                tftp.localAddress(), config.ipxeDir(), httpBase());
        return this;
    }

    /** Where scripts are served, e.g. "http://10.77.0.1:8080". */
    public String httpBase() {
        return "http://" + config.address().getHostAddress() + ":" + httpPort;
    }

    private BootFiles bootFiles() {
        return new BootFiles(config.uefiFile(), config.biosFile(), httpBase());
    }

    /** DHCP datagrams received, rejected as malformed, and answered (zeros with DHCP off). */
    public long[] dhcpCounters() {
        return switch (dhcp) {
            case ProxyDhcpService p -> p.counters();
            case FullDhcpService f -> f.counters();
            case null, default -> new long[3];
        };
    }

    /** TFTP transfers running now, and requests waiting for a slot (boot-storm admission). */
    public int[] tftpTransfers() {
        return new int[] {tftp.activeTransfers(), tftp.waitingRequests()};
    }

    public InetSocketAddress tftpAddress() {
        return tftp.localAddress();
    }

    /**
     * iPXE is not ours to build: Debian ships it. Say so at start-up rather than let the first
     * client time out on a TFTP "file not found".
     */
    private void checkBootFiles() throws IOException {
        for (String name : List.of(config.uefiFile(), config.biosFile())) {
            Path p = config.ipxeDir().resolve(name);
            if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
                throw new IllegalStateException("boot file " + p + " is missing: install Debian's iPXE binaries"
                        + " (apt-get install ipxe) or point ipxe-dir at a directory holding " + name);
            }
        }
        if (!Files.isDirectory(config.filesDir())) {
            throw new IllegalStateException("files directory " + config.filesDir() + " does not exist");
        }
    }

    private FullDhcpService.Config fullDhcpConfig() {
        Pool p = config.pool();
        return new FullDhcpService.Config(dev.apiary.pxe.dhcp.DhcpMessage.ZERO, 67, config.interfaceName(),
                config.address(), p.subnetMask(), p.router(), p.dns(), p.first(), p.last(), p.leaseTime(),
                Duration.ofSeconds(60), Duration.ofMinutes(10), p.leaseFile(), bootFiles(),
                ReplyRoutes.RFC2131, Clock.systemUTC());
    }

    @Override
    public void close() {
        try {
            if (dhcp != null) {
                dhcp.close();
            }
        } catch (Exception e) {
            log.warn("[pxe] stopping DHCP: {}", e.toString());
        }
        if (tftp != null) {
            tftp.close();
        }
        if (http != null) {
            http.close().await();
        }
    }
}
