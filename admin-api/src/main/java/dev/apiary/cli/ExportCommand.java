package dev.apiary.cli;

import dev.apiary.chap.ChapCredentials;
import dev.apiary.chap.ChapSecret;
import dev.apiary.iscsi.portal.ExportTable;
import dev.apiary.iscsi.portal.TargetExport;
import dev.apiary.iscsi.portal.TargetServer;
import dev.apiary.iscsi.scsi.LogicalUnit;
import dev.apiary.iscsi.scsi.LunIdentity;
import dev.apiary.iscsi.scsi.LunMap;
import dev.apiary.lun.Volume;
import dev.apiary.lun.VolumeStore;
import dev.apiary.lun.rbd.RbdConfig;
import dev.apiary.lun.rbd.RbdStore;
import dev.apiary.lun.file.FileStore;
import dev.apiary.lun.file.FileVolume;
import dev.apiary.server.Sizes;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code apiary export}: serve disk image files, store volumes or Ceph RBD images as the LUNs of
 * one iSCSI target, without the fleet, the way {@code tgtadm} or {@code targetcli} would. CHAP is
 * always on (docs/security.md).
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Serve disk image files as LUNs 0, 1, ... of one CHAP-protected iSCSI target.")
public final class ExportCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--portal", paramLabel = "HOST:PORT", description = "Address to listen on (default ${DEFAULT-VALUE}).",
            defaultValue = "127.0.0.1:3260")
    String portal;

    @Option(names = "--iqn", paramLabel = "IQN", description = "Target name (default ${DEFAULT-VALUE}).",
            defaultValue = "iqn.2026-11.dev.apiary:export")
    String iqn;

    @Option(names = "--size", paramLabel = "SIZE", description = "Create missing FILEs sparse at this size (e.g. 8G).")
    String size;

    @Option(names = "--chap", paramLabel = "USER:SECRET",
            description = "The initiator's CHAP account (secret 12+ bytes). Without it one is generated and printed.")
    String chap;

    @Option(names = "--mutual", paramLabel = "USER:SECRET", description = "The target's credentials for mutual CHAP.")
    String mutual;

    @Option(names = "--initiator", paramLabel = "IQN", description = "Admit only these initiator names (repeatable).")
    List<String> initiators = new ArrayList<>();

    @Option(names = "--block-size", paramLabel = "BYTES", description = "Logical block size: 512 or 4096 (default ${DEFAULT-VALUE}).",
            defaultValue = "512")
    int blockSize;

    @Option(names = "--store", paramLabel = "DIR", description = "Store directory for vol:NAME arguments.")
    Path storeDir;

    @Option(names = "--ceph-conf", paramLabel = "FILE", description = "ceph.conf for rbd:POOL/IMAGE arguments "
            + "(default ${DEFAULT-VALUE}).", defaultValue = "/etc/ceph/ceph.conf")
    Path cephConf;

    @Option(names = "--ceph-keyring", paramLabel = "FILE",
            description = "Keyring of --ceph-id (default: /etc/ceph/ceph.client.ID.keyring).")
    Path cephKeyring;

    @Option(names = "--ceph-id", paramLabel = "NAME", description = "Ceph user without 'client.' (default ${DEFAULT-VALUE}).",
            defaultValue = "admin")
    String cephId;

    @Parameters(paramLabel = "FILE", arity = "1..*", description = "Disk image files, vol:NAME for a volume of --store, "
            + "or rbd:POOL/IMAGE (rbd:POOL/NAMESPACE/IMAGE) for a Ceph RBD image; the first is LUN 0.")
    List<String> files;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        InetSocketAddress address;
        ChapCredentials account;
        Optional<ChapCredentials> target;
        long createSize;
        try {
            address = parsePortal(portal);
            account = chap != null ? credentials("--chap", chap)
                    : new ChapCredentials("apiary", ChapSecret.generate(new SecureRandom()));
            target = mutual == null ? Optional.empty() : Optional.of(credentials("--mutual", mutual));
            createSize = size == null ? 0 : Sizes.parse(size);
        } catch (IllegalArgumentException e) {
            err.println("apiary export: " + e.getMessage());
            return 2;
        }
        List<Volume> volumes = new ArrayList<>();
        SortedMap<Integer, LogicalUnit> units = new TreeMap<>();
        FileStore store = null;
        Map<String, RbdStore> pools = new LinkedHashMap<>();
        List<VolumeStore> stores = new ArrayList<>();
        try {
            for (String f : files) {
                Volume v;
                String serial;
                if (f.startsWith("vol:")) {
                    if (storeDir == null) {
                        throw new IllegalArgumentException(f + " needs --store DIR");
                    }
                    if (store == null) {
                        store = FileStore.open(storeDir);
                        stores.add(store);
                    }
                    v = store.open(f.substring(4));
                    serial = serialOf(storeDir.toAbsolutePath() + "#" + f.substring(4));
                } else if (f.startsWith("rbd:")) {
                    // rbd:POOL/IMAGE or rbd:POOL/NAMESPACE/IMAGE, as tgt's --backing-store and rbd(8) name images
                    String[] spec = f.substring(4).split("/", -1);
                    if (spec.length < 2 || spec.length > 3 || java.util.Arrays.stream(spec).anyMatch(String::isEmpty)) {
                        throw new IllegalArgumentException(f + ": expected rbd:POOL/IMAGE or rbd:POOL/NAMESPACE/IMAGE");
                    }
                    String pool = spec[0], ns = spec.length == 3 ? spec[1] : "";
                    RbdStore rbd = pools.get(pool + "/" + ns);
                    if (rbd == null) {
                        Path keyring = cephKeyring != null ? cephKeyring
                                : Path.of("/etc/ceph/ceph.client." + cephId + ".keyring");
                        rbd = RbdStore.open(new RbdConfig(cephConf, cephId, keyring, pool, ns,
                                RbdConfig.DEFAULT_OP_TIMEOUT));
                        pools.put(pool + "/" + ns, rbd);
                        stores.add(rbd);
                    }
                    v = rbd.open(spec[spec.length - 1]);
                    serial = serialOf("rbd:" + f.substring(4));
                } else {
                    v = FileVolume.openOrCreate(Path.of(f), createSize);
                    serial = serialOf(Path.of(f).toAbsolutePath().normalize().toString());
                }
                volumes.add(v);
                units.put(units.size(), new LogicalUnit(v, LunIdentity.fromSerial(serial), blockSize));
            }
        } catch (IOException | IllegalArgumentException e) {
            err.println("apiary export: " + e.getMessage());
            closeAll(volumes);
            closeStores(stores);
            return 2;
        }
        List<VolumeStore> openStores = stores;
        TargetExport export;
        try {
            export = new TargetExport(iqn, new LunMap(units), List.of(account), target, Set.copyOf(initiators));
        } catch (IllegalArgumentException e) {
            err.println("apiary export: " + e.getMessage());
            closeAll(volumes);
            closeStores(openStores);
            return 2;
        }
        TargetServer server = new TargetServer(pools.isEmpty() ? TargetServer.Options.defaults()
                : TargetServer.Options.forNetworkVolumes());
        server.publish(new ExportTable(List.of(export)));
        InetSocketAddress bound;
        try {
            bound = server.listen(address, 1, 1);
        } catch (IOException e) {
            err.println("apiary export: " + e.getMessage());
            server.close();
            closeAll(volumes);
            closeStores(openStores);
            return 2;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            closeAll(volumes);
            closeStores(openStores);
            stopped.countDown();
        }, "apiary-export-stop"));
        if (chap == null) {
            // Shown once to the user who started the export, never logged.
            out.println("chap " + account.user() + " " + account.secret().reveal()
                    + " (generated; pass --chap USER:SECRET to choose)");
        }
        String host = bound.getAddress().getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        for (int lun = 0; lun < files.size(); lun++) {
            out.println("ready iscsi://" + host + ":" + bound.getPort() + "/" + iqn + "/" + lun);
        }
        out.flush();
        stopped.await();
        return 0;
    }

    private static void closeAll(List<Volume> volumes) {
        for (Volume v : volumes) {
            try {
                v.close();
            } catch (IOException e) {
                System.err.println("apiary export: flushing " + v.name() + " failed: " + e.getMessage());
            }
        }
    }

    private static void closeStores(List<VolumeStore> stores) {
        for (VolumeStore store : stores) {
            try {
                store.close();
            } catch (IOException e) {
                System.err.println("apiary export: closing a store failed: " + e.getMessage());
            }
        }
    }

    static InetSocketAddress parsePortal(String text) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new IllegalArgumentException("--portal wants HOST:PORT, got '" + text + "'");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--portal port is not a number: '" + text + "'");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("--portal port out of range: " + port);
        }
        return new InetSocketAddress(host, port);
    }

    private static ChapCredentials credentials(String option, String text) {
        int colon = text.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException(option + " wants USER:SECRET");
        }
        try {
            return new ChapCredentials(text.substring(0, colon), ChapSecret.of(text.substring(colon + 1)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + ": " + e.getMessage());
        }
    }

    /** A stable unit serial per file or store volume: the same image keeps its WWID across restarts. */
    private static String serialOf(String identity) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(identity.getBytes(StandardCharsets.UTF_8));
            return "ap" + HexFormat.of().formatHex(h, 0, 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
