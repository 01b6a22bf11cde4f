package dev.apiary.it;

import static dev.apiary.it.ServeIT.field;
import static dev.apiary.it.ServeIT.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.apiary.it.ServeIT.Login;
import dev.apiary.it.ServeIT.Server;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two gateways in two network namespaces export one worker's LUNs from the Ceph pool; an
 * initiator in a third (libiscsi, multipath-writer.c) has a path to each, as dm-multipath would.
 * The owner of the data LUN freezes (SIGSTOP) under write load: the initiator carries on through
 * the other gateway, which takes the LUN over and fences the frozen one in Ceph; every
 * acknowledged write reads back, and a late write through the frozen gateway, woken, is refused.
 *
 * <p>The namespaces hang off the bridge run-tests' Ceph phase puts the cluster's address on
 * (APIARY_CEPH_BRIDGE), so gateways in them reach Ceph; runs only in that phase.
 */
class RbdGatewaysIT {
    static final String GW1 = "10.79.250.11", GW2 = "10.79.250.12", INITIATOR = "10.79.250.20";
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final Ceph ceph = Ceph.fromEnv();
    private final String bridge = System.getenv("APIARY_CEPH_BRIDGE");
    private final long pid = ProcessHandle.current().pid();
    private final String ns = "gateways-it-" + pid;
    private final List<String> netns = new ArrayList<>();
    private final List<String> veths = new ArrayList<>();
    private final List<Server> servers = new ArrayList<>();

    @BeforeEach
    void network() {
        assumeTrue(ceph != null && bridge != null, "no Ceph cluster on a bridge (CEPH_CONF, APIARY_CEPH_BRIDGE)");
        assertThat(ceph.rbd("namespace", "create", "rbd/" + ns).exit()).isZero();
        int i = 0;
        for (String address : List.of(GW1, GW2, INITIATOR)) {
            String n = "apx-gw" + (++i) + "-" + pid;
            ip("netns", "add", n);
            netns.add(n);
            ip("-n", n, "link", "set", "lo", "up");
            String host = "apxg" + i + "-" + (pid % 100000);
            ip("link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", n);
            veths.add(host);
            ip("link", "set", host, "master", bridge, "up");
            ip("-n", n, "addr", "add", address + "/24", "dev", "eth0");
            ip("-n", n, "link", "set", "eth0", "up");
        }
    }

    @AfterEach
    void cleanUp(org.junit.jupiter.api.TestInfo test) throws Exception {
        for (Process p : vms) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        for (String t : taps) {
            Tools.run(Duration.ofSeconds(30), "ip", "link", "del", t);
        }
        // The gateways' logs outlive the temporary directory, for whoever looks at a failure.
        Path keep = Path.of("target", "rbd-gateways-it", test.getTestMethod().map(m -> m.getName()).orElse("test"));
        Files.createDirectories(keep);
        try (var logs = Files.newDirectoryStream(dir, "*.{log,yaml}")) {
            for (Path log : logs) {
                Files.copy(log, keep.resolve(log.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        for (Server s : servers) {
            s.process().toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
            Tools.run(Duration.ofSeconds(10), "kill", "-CONT", Long.toString(s.process().pid()));
            s.close();
        }
        // Each veth by name: a namespace outlives its deletion while a socket in it still holds
        // unsent data (a gateway's connection to a VM that was cut), and so would its veth.
        for (String v : veths) {
            Tools.run(Duration.ofSeconds(30), "ip", "link", "del", v);
        }
        for (String n : netns) {
            Tools.run(Duration.ofSeconds(30), "ip", "netns", "del", n);
        }
        if (ceph == null || bridge == null) {
            return;
        }
        ceph.dropNamespace(ns);
    }

    /**
     * The fleet on two gateways: gw1 the API node, gw2 joined to it; two workers, each with its two
     * LUNs on one gateway (fewest first): worker1's on gw1, worker2's on gw2.
     */
    record Fleet(Server gw1, Server gw2, String[] api, Login worker1, Login worker2, String root1, String data2,
            String gw1Client, String gw2Client) {}

    private Fleet fleet() throws Exception {
        String spec = "rbd/" + ns + "/golden";
        Path raw = dir.resolve("golden.raw");
        byte[] golden = new byte[8 << 20];
        new Random(7).nextBytes(golden);
        Files.write(raw, golden);
        assertThat(ceph.rbd("import", "--no-progress", raw.toString(), spec).exit()).isZero();
        assertThat(ceph.rbd("snap", "create", spec + "@v1").exit()).isZero();
        assertThat(ceph.rbd("snap", "protect", spec + "@v1").exit()).isZero();
        // The API node, gateway gw1, and gateway gw2 joined to it.
        Gateways gws = startGateways("""
                fleet: {enrollment: auto, image: golden@v1, data-size: 32M}
                pxe: {dhcp: off, address: %s, http-port: 8080, tftp-port: 0}
                """.formatted(GW1));
        Server gw1 = gws.gw1(), gw2 = gws.gw2();
        String ready1 = gws.ready1();
        String[] api = gws.api();

        // Two machines enroll: each worker's LUNs on one gateway, the one with fewest: worker1 on gw1,
        // worker2 on gw2; each boot script names its owner's portal first, then the other's.
        String script1 = get(field(ready1, "boot") + "/boot/52:54:00:cc:00:07");
        Login l1 = Login.of(script1);
        awaitGateways(api, x -> x.get(0).path("owns").size() == 2);
        String script2 = get(field(ready1, "boot") + "/boot/52:54:00:cc:00:08");
        Login l2 = Login.of(script2);
        List<JsonNode> g = awaitGateways(api, x -> x.stream().allMatch(y -> y.path("owns").size() == 2));
        assertThat(g).extracting(x -> x.path("name").asText()).containsExactly("gw1", "gw2");
        assertThat(g.get(0).path("owns").toString()).contains("worker1.root", "worker1.data");
        assertThat(g.get(1).path("owns").toString()).contains("worker2.root", "worker2.data");
        assertThat(l1.portal()).isEqualTo(GW1 + ":3260");
        assertThat(l2.portal()).isEqualTo(GW2 + ":3260");
        assertThat(script2).contains("iscsi:" + GW2 + "::3260:0:", "iscsi:" + GW1 + "::3260:0:");
        assertThat(script2.indexOf("iscsi:" + GW2)).isLessThan(script2.indexOf("iscsi:" + GW1));
        String root1 = "fleet.worker1.root", data2 = "fleet.worker2.data";
        awaitLog(dir.resolve("gw1.log"), "gw1 owns rbd:rbd/" + ns + "/" + root1 + " now");
        awaitLog(dir.resolve("gw2.log"), "gw2 owns rbd:rbd/" + ns + "/" + data2 + " now");
        return new Fleet(gw1, gw2, api, l1, l2, root1, data2, g.get(0).path("clientAddress").asText(),
                g.get(1).path("clientAddress").asText());
    }

    /** The two gateways up: gw1 the API node (with {@code fleetAndPxe}), gw2 joined to it, both seen up. */
    record Gateways(Server gw1, Server gw2, String ready1, String[] api) {}

    private Gateways startGateways(String fleetAndPxe) throws Exception {
        String store = "store: {type: rbd, conf: \"%s\", keyring: \"%s\", pool: rbd, namespace: \"%s\", timeout: 20s}"
                .formatted(ceph.conf(), ceph.keyring(), ns);
        Path data1 = dir.resolve("gw1");
        Files.writeString(dir.resolve("gw1.yaml"), """
                target: {listen: "%s:3260", warmup: 0}
                api: {listen: "%s:8443"}
                gateway: {name: gw1}
                %s
                """.formatted(GW1, GW1, store) + fleetAndPxe);
        Server gw1 = start(0, "gw1", data1, dir.resolve("gw1.yaml"));
        String ready1 = gw1.awaitReady();
        String token = StoreIT.apiary("token", "create", "--data", data1.toString(), "gateways-it").out().trim();
        String[] api = {"--api", field(ready1, "api"), "--data", data1.toString(), "--token", token};
        writeToken(token);
        Files.writeString(dir.resolve("gw2.yaml"), """
                target: {listen: "%s:3260", warmup: 0}
                gateway: {name: gw2, join: "%s", token: gw2.token, cacert: "%s"}
                %s
                """.formatted(GW2, field(ready1, "api"), data1.resolve("tls/api-cert.pem"), store));
        Server gw2 = startGw2();
        awaitGateways(api, g -> g.size() == 2 && g.stream().allMatch(x -> x.path("state").asText().equals("up")));
        return new Gateways(gw1, gw2, ready1, api);
    }

    private void writeToken(String token) throws Exception {
        Path f = dir.resolve("gw2.token");
        Files.writeString(f, token + "\n");
        Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    }

    private Server startGw2() throws Exception {
        Server gw2 = start(1, "gw2", dir.resolve("gw2-data"), dir.resolve("gw2.yaml"));
        assertThat(gw2.awaitReady()).contains("gateway=gw2");
        return gw2;
    }

    /**
     * Writes 600 records through {@code first} (then {@code second} when it fails) to LUN {@code lun};
     * after 100 are acknowledged, {@code freeze} stops (SIGSTOP: no FIN, no RST, as a hung node).
     */
    private String writeThrough(Login login, int lun, String first, String second, Server freeze) throws Exception {
        Process w = new ProcessBuilder(List.of("ip", "netns", "exec", netns.get(2), writer.toString(), "write",
                login.initiator(), login.target(), login.user(), login.password(), Integer.toString(lun),
                first + ":3260", second + ":3260", "600", "120")).redirectErrorStream(true).start();
        List<String> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(w.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                out.add(line);
                if (line.equals("ACKED 100")) {
                    signal("STOP", freeze);
                }
            }
        }
        assertThat(w.waitFor(150, TimeUnit.SECONDS)).isTrue();
        String report = String.join("\n", out);
        out.stream().filter(x -> x.startsWith("FAILOVER") || x.startsWith("RESUMED"))
                .forEach(x -> System.out.println("multipath-writer: " + x)); // the figures, for docs/gateways.md
        assertThat(w.exitValue()).as(report).isZero();
        assertThat(report).containsPattern("FAILOVER seq=10[0-9] from=" + first + ":3260 to=" + second + ":3260 why=timeout")
                .containsPattern("RESUMED seq=10[0-9] on=" + second + ":3260").contains("ACKED 600").contains("VERIFIED 600");
        return report;
    }

    /** A write through {@code via} after it was fenced: refused by Ceph, so it lands nowhere. */
    private void lateWriteIsRefused(Login login, int lun, String via, String survivor) {
        Tools.Result poke = writer(login, "poke", lun, via, "42");
        assertThat(poke.out()).as(poke.all()).contains("STATUS ").doesNotContain("STATUS good");
        Tools.Result verify = writer(login, "verify", lun, survivor, "600");
        assertThat(verify.out()).as(verify.all()).contains("VERIFIED 600");
    }

    private Tools.Result writer(Login login, String mode, int lun, String portal, String arg) {
        return Tools.run(Duration.ofSeconds(60), "ip", "netns", "exec", netns.get(2), writer.toString(), mode,
                login.initiator(), login.target(), login.user(), login.password(), Integer.toString(lun),
                portal + ":3260", arg);
    }

    private String blocklist() {
        return Tools.run(Duration.ofMinutes(1), "ceph", "-c", ceph.conf(), "-k", ceph.keyring(), "osd", "blocklist",
                "ls").all();
    }

    private Path writer;
    private Fleet fleet;

    @Test
    void whenAGatewayHangsTheApiNodeMovesItsLunsAndTheInitiatorCarriesOnThroughTheOther() throws Exception {
        writer = compileWriter();
        fleet = fleet();
        writeThrough(fleet.worker2(), 1, GW2, GW1, fleet.gw2());

        // gw1 took worker2's data LUN (the API node saw gw2 fall silent, or gw1 met the initiator's
        // write first: whichever came first) and fenced gw2's Ceph client; the API shows gw2 down.
        assertThat(Files.readString(dir.resolve("gw1.log"))).contains("gw1 owns rbd:rbd/" + ns + "/" + fleet.data2()
                + " now");
        assertThat(blocklist()).contains(fleet.gw2Client());
        awaitGateways(fleet.api(), g -> g.get(1).path("state").asText().equals("down")
                && g.get(0).path("owns").size() == 4);

        // gw2 wakes up: a late write through it is refused (Ceph fenced its client).
        signal("CONT", fleet.gw2());
        lateWriteIsRefused(fleet.worker2(), 1, GW2, GW1);
        assertThat(Files.readString(dir.resolve("gw2.log"))).contains("blocklisted");

        // The gateways as the CLI shows them: every LUN on gw1.
        Tools.Result table = StoreIT.apiary(cat(new String[] {"gateways", "list"}, fleet.api()));
        assertThat(table.out()).containsPattern("(?m)^gw1\\s+up\\s+" + GW1 + ":3260\\s+1\\s+4: ")
                .containsPattern("(?m)^gw2\\s+\\S+\\s+" + GW2 + ":3260\\s+2\\s+-$");
    }

    @Test
    void whenTheApiNodeHangsTheOtherGatewayTakesItsLunsOverOnTheInitiatorsWriteAndServesWhatItKnew()
            throws Exception {
        writer = compileWriter();
        fleet = fleet();
        writeThrough(fleet.worker1(), 0, GW1, GW2, fleet.gw1());

        // No API node to ask: gw2 kept serving its last configuration and claimed worker1's root LUN
        // itself when the initiator's write came through it, fencing gw1's Ceph client.
        String log2 = Files.readString(dir.resolve("gw2.log"));
        assertThat(log2).contains("does not answer").contains("gw2 took rbd:rbd/" + ns + "/" + fleet.root1() + " over");
        assertThat(blocklist()).contains(fleet.gw1Client());

        // gw2 restarted while the API node is still away: it serves the configuration it kept.
        fleet.gw2().close();
        servers.remove(fleet.gw2());
        Server again = startGw2();
        assertThat(Files.readString(dir.resolve("gw2.log"))).contains("serving the configuration kept in");
        Tools.Result verify = writer(fleet.worker1(), "verify", 0, GW2, "600");
        assertThat(verify.out()).as(verify.all()).contains("VERIFIED 600");

        // The API node wakes up: a late write through it is refused. Then it finds its Ceph client
        // fenced, reconnects with a new one and serves again: both gateways up, the root LUN its
        // own again (gw2's claim went with its restart), every record there through either path.
        signal("CONT", fleet.gw1());
        lateWriteIsRefused(fleet.worker1(), 0, GW1, GW2);
        awaitLog(dir.resolve("gw1.log"), "gw1 serves again as Ceph client");
        List<JsonNode> g = awaitGateways(fleet.api(), x -> x.stream().allMatch(y -> y.path("state").asText().equals("up"))
                && x.get(0).path("owns").toString().contains(fleet.root1()));
        assertThat(g.get(0).path("clientAddress").asText()).isNotEqualTo(fleet.gw1Client());
        assertThat(writer(fleet.worker1(), "verify", 0, GW1, "600").out()).contains("VERIFIED 600");
        assertThat(writer(fleet.worker1(), "verify", 0, GW2, "600").out()).contains("VERIFIED 600");
        assertThat(again.process().isAlive()).isTrue();
    }

    /**
     * A worker powered on while one of the two gateways is dead: its LUNs go to the live one, and
     * its boot script names both portals, the live one first. iPXE opens the LUN through the live
     * one and writes an iBFT target for each; the initramfs logs in through both, gives up on the
     * dead one within its bound, and the worker boots Debian from RBD on a one-path multipath
     * map, its data LUN formatted and mounted. Then the worker boots again and the dead gateway
     * returns after iPXE wrote the iBFT, before the initramfs logs in: two paths to each LUN, one
     * device each, the data found again. It stays up writing to
     * its data LUN, and the owner of its LUNs is killed: the writes go on through the other.
     */
    @Test
    void aWorkerBootsThroughTheMultipathScriptWhileOneGatewayIsDeadThenThroughBothAndOutlivesItsOwner() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "the image build and the VM's tap need root");
        WorkerImage image = WorkerImage.build(dir, "v1");
        String spec = "rbd/" + ns + "/golden";
        assertThat(ceph.rbd("import", "--no-progress", image.image.toString(), spec).exit()).isZero();
        Files.delete(image.image);
        assertThat(ceph.rbd("snap", "create", spec + "@v1").exit()).isZero();
        assertThat(ceph.rbd("snap", "protect", spec + "@v1").exit()).isZero();
        // The OSDs' block files are on disk: write the imported image's half gigabyte (three
        // times) back now, not while the gateways run, where the writeback stalled the monitor's
        // own syncs for a minute, past the store's op timeout.
        assertThat(Tools.run(Duration.ofMinutes(5), "sync").exit()).isZero();
        Gateways gws = startGateways("""
                fleet: {enrollment: auto, image: golden@v1, data-size: 256M}
                pxe: {dhcp: full, address: %s, interface: eth0, pool: 10.79.250.100-10.79.250.149, lease-file: leases}
                """.formatted(GW1));
        Server gw2 = gws.gw2();
        String[] api = gws.api();

        // gw2 dies (kill -9) and the API node notices.
        signal("KILL", gw2);
        awaitGateways(api, g -> g.get(1).path("state").asText().equals("down"));

        // A machine that was never seen powers on, on the gateways' network.
        String tap = "apxvm" + (pid % 100000);
        ip("tuntap", "add", "dev", tap, "mode", "tap");
        taps.add(tap);
        ip("link", "set", tap, "master", bridge, "up");
        String mac = "52:54:00:cc:00:09";
        Files.copy(Path.of("/usr/share/OVMF/OVMF_VARS_4M.fd"), dir.resolve("vars.fd"));
        Power.Vm vm = powerOn(tap, mac, "1", false);
        String console = vm.await("APIARY-WORKER-UP worker1");
        System.out.println("worker1 up " + Duration.between(vm.started(), Instant.now()).toSeconds()
                + " s after power-on, from RBD through gw1 with gw2 dead\n" + apiaryLines(console));
        // Described by the image's own lines, which a CI excerpt of a failure then shows first.
        assertThat(console).as("the worker's APIARY lines:%n%s", apiaryLines(console))
                .contains("APIARY-ISCSI 2 portals, 1 logged in: " + GW1 + ":3260 ok, " + GW2 + ":3260 ")
                .containsPattern("APIARY-MULTIPATH root=\\S+\\(1/1 paths running\\) data=\\S+\\(1/1 paths running\\)")
                .contains("APIARY-WORKER-UP worker1 version=v1 data=/var/lib/rancher")
                .contains("APIARY-DATA mounted new ext4 /dev/dm-");
        vm.awaitOff();

        // Its LUNs are on the live gateway; the dead one owns nothing. (The APIARY-ISCSI line is
        // the iBFT's targets in order, as iPXE wrote them from the script's URIs: gw1, then gw2.)
        List<JsonNode> g = awaitGateways(api, x -> x.get(0).path("owns").size() == 2);
        assertThat(g.get(1).path("owns")).isEmpty();
        assertThat(Files.readString(dir.resolve("gw1.log"))).contains("worker1");
        // The initramfs took the secrets from the iBFT and printed none of them; once booted, the
        // iBFT's secrets are root's alone.
        Tools.Result cred = StoreIT.apiary(cat(new String[] {"workers", "credentials", "worker1", "--json"}, api));
        JsonNode c = JSON.readTree(cred.out());
        List<String> secrets = List.of(c.path("chap").path("secret").asText(), c.path("mutual").path("secret").asText());
        assertThat(secrets).allSatisfy(x -> assertThat(x).hasSizeGreaterThan(11));
        assertThat(console).doesNotContain(secrets.get(0)).doesNotContain(secrets.get(1))
                .contains("APIARY-IBFT-SECRETS mode=400");

        // The worker boots again, gw2 still dead when iPXE opens both paths, so the iBFT's target
        // for gw2 holds no CHAP secrets (iPXE writes a path's secrets only once its login got as far
        // as the target's AuthMethod=CHAP). gw2 returns while the machine is held at the kernel's
        // first line: the initramfs logs in through both gateways with the secrets of the other
        // target, and the worker stays up writing a synced record a second to its data LUN.
        vm = powerOn(tap, mac, "2", true);
        vm.await("Linux version");
        qmp("2", "stop");
        Server gw2again = startGw2();
        awaitGateways(api, x -> x.stream().allMatch(y -> y.path("state").asText().equals("up")));
        qmp("2", "cont");
        console = vm.await("APIARY-WRITE 3");
        System.out.println("worker1 writing " + Duration.between(vm.started(), Instant.now()).toSeconds()
                + " s after power-on, through both gateways\n" + apiaryLines(console));
        assertThat(console).as("the worker's APIARY lines:%n%s", apiaryLines(console))
                .contains("APIARY-ISCSI 2 portals, 2 logged in: " + GW1 + ":3260 ok, " + GW2 + ":3260 ok")
                .containsPattern("APIARY-MULTIPATH root=\\S+\\(2/2 paths running\\) data=\\S+\\(2/2 paths running\\)")
                .contains("APIARY-DATA mounted existing ext4 /dev/dm-");

        // The owner of its LUNs dies (kill -9): dm-multipath fails its paths, the writes go on
        // through the other gateway, which takes the LUNs over. The owner is whichever holds
        // them now: as the worker came up through both, they may have moved once (docs/gateways.md).
        int owner = stableOwner(api);
        Server dead = owner == 0 ? gws.gw1() : gw2again;
        String survivor = owner == 0 ? "gw2" : "gw1";
        Path survivorLog = dir.resolve(survivor + ".log");
        int logBefore = Files.readString(survivorLog).length();
        int before = lastWrite(vm.serial());
        Instant cut = Instant.now();
        signal("KILL", dead);
        awaitWrite(vm, before + 1);
        Duration gap = Duration.between(cut, Instant.now());
        awaitWrite(vm, before + 10);
        String after = vm.serial();
        System.out.println("worker1's writes went on " + gap.toMillis() + " ms after gw" + (owner + 1)
                + ", the owner of its LUNs, was killed, through " + survivor + "\n"
                + after.lines().filter(l -> l.contains("multipath") || l.contains("connection")).limit(20)
                        .collect(java.util.stream.Collectors.joining("\n")));
        // dm-multipath failed the dead gateway's paths, the writes did not wait out open-iscsi's
        // 120 s replacement timeout, and the survivor took the LUNs over after the kill.
        assertThat(after).contains("Failing path").doesNotContain(secrets.get(0)).doesNotContain(secrets.get(1));
        assertThat(gap).isLessThan(Duration.ofSeconds(60));
        assertThat(Files.readString(survivorLog).substring(logBefore))
                .containsPattern(survivor + " (took|owns) rbd:rbd/" + ns + "/fleet.worker1.data");
        vm.kill();
    }

    /**
     * The index of the gateway that owns worker1's two LUNs, once the same one has owned both for
     * three seconds (a minute at most).
     */
    private int stableOwner(String[] api) throws Exception {
        Instant deadline = Instant.now().plusSeconds(60);
        int owner = -1;
        Instant since = Instant.now();
        while (true) {
            List<JsonNode> g = awaitGateways(api, x -> x.stream().anyMatch(y -> y.path("owns").size() == 2));
            int now = g.get(0).path("owns").size() == 2 ? 0 : 1;
            if (now != owner) {
                owner = now;
                since = Instant.now();
            } else if (Duration.between(since, Instant.now()).toSeconds() >= 3) {
                return owner;
            }
            assertThat(Instant.now()).as("worker1's LUNs never settled on one gateway").isBefore(deadline);
            Thread.sleep(500);
        }
    }

    /** Waits (3 minutes at most) for the worker's record {@code n}. */
    private static void awaitWrite(Power.Vm vm, int n) throws Exception {
        Instant deadline = Instant.now().plusSeconds(180);
        while (lastWrite(vm.serial()) < n) {
            assertThat(Instant.now()).as("record %d never written:\n%s", n, vm.serial()).isBefore(deadline);
            assertThat(vm.process().isAlive()).as("powered off before record %d:\n%s", n, vm.serial()).isTrue();
            Thread.sleep(250);
        }
    }

    /** The last {@code APIARY-WRITE n} on a console, 0 for none. */
    private static int lastWrite(String console) {
        int n = 0;
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("APIARY-WRITE (\\d+)").matcher(console);
        while (m.find()) {
            n = Integer.parseInt(m.group(1));
        }
        return n;
    }

    /** The image's own lines of a serial console (APIARY-ISCSI, APIARY-MULTIPATH, APIARY-DATA, ...). */
    private static String apiaryLines(String console) {
        return console.lines().filter(l -> l.startsWith("APIARY-")).collect(java.util.stream.Collectors.joining("\n"));
    }

    /**
     * An OVMF VM on {@code tap} that network-boots (the NIC's own ROM removed, as on a Wyse 3040);
     * with {@code writer} its image stays up writing to its data LUN (WorkerImage).
     */
    private Power.Vm powerOn(String tap, String mac, String run, boolean writer) throws Exception {
        Path serial = dir.resolve("serial" + run + ".log"), log = dir.resolve("qemu" + run + ".log");
        Process qemu = new ProcessBuilder("qemu-system-x86_64", "-accel", "tcg", "-cpu", "qemu64", "-smp", "1", "-m",
                "1024", "-machine", "q35", "-nodefaults", "-display", "none", "-serial", "file:" + serial, "-no-reboot",
                "-drive", "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
                "-drive", "if=pflash,format=raw,file=" + dir.resolve("vars.fd"),
                "-netdev", "tap,id=n0,ifname=" + tap + ",script=no,downscript=no",
                "-device", "virtio-net-pci,netdev=n0,mac=" + mac + ",romfile=,bootindex=1",
                "-fw_cfg", "name=opt/apiary/" + (writer ? "writer" : "none") + ",string=1",
                "-qmp", "unix:" + dir.resolve("qmp" + run + ".sock") + ",server=on,wait=off")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        vms.add(qemu);
        return new Power.Vm(mac, serial, log, Instant.now(), qemu);
    }

    /** Runs one QMP command ({@code stop}, {@code cont}) on the machine of power-on {@code run}. */
    private void qmp(String run, String command) throws Exception {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("qmp" + run + ".sock")))) {
            BufferedReader in = new BufferedReader(new InputStreamReader(
                    Channels.newInputStream(ch), StandardCharsets.UTF_8));
            OutputStream out = Channels.newOutputStream(ch);
            in.readLine(); // the greeting
            for (String c : List.of("qmp_capabilities", command)) {
                out.write(("{\"execute\": \"" + c + "\"}\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
                String reply; // events ({"timestamp": ..., "event": "STOP"}) may come first
                do {
                    reply = in.readLine();
                } while (reply != null && reply.contains("\"event\""));
                assertThat(reply).as("QMP %s", c).startsWith("{\"return\"");
            }
        }
    }

    private final List<String> taps = new ArrayList<>();
    private final List<Process> vms = new ArrayList<>();

    private Server start(int i, String name, Path data, Path config) throws Exception {
        Server s = Server.launchIn(netns.get(i), dir.resolve(name + ".log"), List.of(),
                List.of("serve", "--data", data.toString(), "--config", config.toString()));
        servers.add(s);
        return s;
    }

    private List<JsonNode> awaitGateways(String[] api, java.util.function.Predicate<List<JsonNode>> until)
            throws Exception {
        Instant deadline = Instant.now().plusSeconds(60);
        String last = "";
        while (Instant.now().isBefore(deadline)) {
            Tools.Result r = StoreIT.apiary(cat(new String[] {"gateways", "list", "--json"}, api));
            last = r.all();
            if (r.exit() == 0) {
                List<JsonNode> g = new ArrayList<>();
                JSON.readTree(r.out()).path("items").forEach(g::add);
                if (until.test(g)) {
                    return g;
                }
            }
            Thread.sleep(500);
        }
        throw new AssertionError("gateways never as expected: " + last);
    }

    private static void awaitLog(Path log, String text) throws Exception {
        Instant deadline = Instant.now().plusSeconds(60);
        while (!Files.readString(log).contains(text)) {
            assertThat(Instant.now()).as("%s never said \"%s\"", log, text).isBefore(deadline);
            Thread.sleep(200);
        }
    }

    private static void signal(String sig, Server s) {
        Tools.Result r = Tools.run(Duration.ofSeconds(10), "kill", "-" + sig, Long.toString(s.process().pid()));
        assertThat(r.exit()).as(r.all()).isZero();
    }

    private Path compileWriter() {
        Path bin = dir.resolve("multipath-writer");
        Tools.Result cc = Tools.run(Duration.ofMinutes(2), "gcc", "-O2", "-Wall", "-o", bin.toString(),
                Path.of("src/test/c/multipath-writer.c").toAbsolutePath().toString(), "-liscsi");
        assertThat(cc.exit()).as(cc.all()).isZero();
        return bin;
    }

    private static void ip(String... args) {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        Tools.Result r = Tools.run(Duration.ofSeconds(30), cmd);
        assertThat(r.exit()).as(String.join(" ", cmd) + ": " + r.all()).isZero();
    }

    private static String[] cat(String[] a, String[] b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
