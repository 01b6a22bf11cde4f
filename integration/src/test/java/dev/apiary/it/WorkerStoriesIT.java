package dev.apiary.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The four user stories (DESIGN.md), end to end, as a user meets them: virtual thin clients
 * (QEMU, OVMF UEFI, the firmware's own PXE client, then iPXE, -accel tcg) on a home network the
 * test builds ({@link BootNetwork}: a router namespace whose dnsmasq hands out addresses, and
 * {@code apiary serve} in proxyDHCP mode beside it) boot Debian from their own LUNs. The machines
 * are powered on by the test, or by Apiary itself: a Wake-on-LAN magic packet for a machine's MAC
 * powers it on ({@link Power}), as a real thin client would. The worker image is built with the
 * real recipe ({@link WorkerImage}); each boot prints what it found on its root and data volumes
 * and powers off after the up marker. The stories share machines and run in order.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WorkerStoriesIT {
    static final String A = "52:54:00:5a:00:01", B = "52:54:00:5a:00:02", B_NEW = "52:54:00:5a:00:03";
    static final Pattern STORY = Pattern.compile("APIARY-STORY host=(\\S+) root=(\\S+) data=(\\S+) wrote=(\\S+)");
    static final String UP = "APIARY-WORKER-UP ";
    static final ObjectMapper JSON = new ObjectMapper();

    Path dir;
    Path data;
    String token;
    BootNetwork net;
    Power power;
    Path apiaryLog;

    @BeforeAll
    void fleet() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "network namespaces and the image build need root");
        for (String f : List.of("/usr/lib/ipxe/snponly.efi", "/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/sbin/dnsmasq",
                "/usr/bin/python3", "/usr/sbin/debootstrap")) {
            assertThat(Path.of(f)).as("installed by scripts/install-test-deps.sh").exists();
        }
        dir = Files.createTempDirectory("apiary-stories");
        WorkerImage image = WorkerImage.build(dir, "v1");
        data = dir.resolve("data");
        String store = data.resolve("store").toString();
        for (String[] args : List.of(new String[] {"store", "--dir", store, "import", "golden", image.image.toString()},
                new String[] {"store", "--dir", store, "snapshot", "golden@v1"})) {
            Tools.Result r = StoreIT.apiary(args);
            assertThat(r.exit()).as(r.all()).isZero();
        }
        Files.delete(image.image); // the store has it now
        token = StoreIT.apiary("token", "create", "--data", data.toString(), "stories").out().trim();

        net = BootNetwork.create(true);
        net.start(true, dir.resolve("dnsmasq.log"), List.of("dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
                "--port=0", "--user=root", "--group=root", "--interface=r0", "--bind-interfaces",
                "--dhcp-range=10.77.0.50,10.77.0.99,255.255.255.0,1h", "--dhcp-option=option:router," + BootNetwork.ROUTER,
                "--dhcp-leasefile=" + dir.resolve("router.leases"), "--pid-file=" + dir.resolve("dnsmasq.pid"),
                "--log-dhcp", "--log-facility=-", "--enable-ra", "--dhcp-range=::,constructor:r0,ra-only"));
        net.start(false, dir.resolve("repo.log"), List.of("/usr/bin/python3", "-m", "http.server", "--bind",
                BootNetwork.APIARY, "--directory", image.repo.toString(), Integer.toString(WorkerImage.REPO_PORT)));
        power = new Power(net, dir);
        Path config = dir.resolve("apiary.yaml");
        Files.writeString(config, """
                target: {listen: "10.77.0.1:3260"}
                fleet: {enrollment: auto, image: golden@v1, data-size: 256M, wake-to: "10.77.0.255:9"}
                pxe: {dhcp: proxy, address: 10.77.0.1, interface: br0}
                api: {listen: "10.77.0.1:8443"}
                """);
        apiaryLog = dir.resolve("apiary.log");
        Process p = net.start(false, apiaryLog, Tools.apiary(List.of(), List.of("serve", "--data", data.toString(),
                "--config", config.toString())));
        Instant deadline = Instant.now().plusSeconds(60);
        while (!Files.readString(apiaryLog).contains("ready ")) {
            assertThat(p.isAlive()).as("apiary serve exited: %s", Files.readString(apiaryLog)).isTrue();
            assertThat(Instant.now()).as("apiary serve not ready in 60 s").isBefore(deadline);
            Thread.sleep(200);
        }
    }

    @AfterAll
    void down() throws Exception {
        if (power != null) {
            power.close();
        }
        if (net != null) {
            net.close();
        }
        if (data != null) { // the store holds a copy of the 1.5 GiB image; the logs stay for whoever looks
            Tools.run(Duration.ofMinutes(1), "rm", "-rf", data.toString());
        }
    }

    /** Story 1: never-seen machines power on and reach Debian on their own root, data mounted. */
    @Test
    @Order(1)
    void plugInAndBoot() throws Exception {
        Power.Vm a = power.on(A);
        awaitLog("[http] served the boot script of " + A); // so A is worker1 and B worker2
        Power.Vm b = power.on(B);
        for (Power.Vm vm : List.of(a, b)) {
            String name = vm == a ? "worker1" : "worker2";
            String serial = vm.await(UP);
            assertThat(serial).contains(UP + name + " version=v1 data=/var/lib/rancher")
                    .contains("APIARY-DATA mounted new ext4").contains("APIARY-TEST-P version=1.0");
            Matcher story = story(serial);
            assertThat(story.group(1) + " " + story.group(2) + " " + story.group(3)).isEqualTo(name + " absent absent");
            vm.awaitOff();

            JsonNode w = api("GET", "/workers/" + name, null, 200);
            assertThat(w.path("state").asText()).isEqualTo("READY");
            assertThat(w.path("mac").asText()).isEqualTo(vm.mac());
            assertThat(w.path("image").asText()).isEqualTo("golden@v1");
            assertThat(w.path("boot").path("phases").findValuesAsText("phase")).as("%s", w.path("boot"))
                    .contains("dhcp", "script", "iscsi-login", "os-login", "userspace", "data-mounted");
        }
    }

    /** Story 2: reimage through the API; the root starts over from golden, the data volume is kept. */
    @Test
    @Order(2)
    void reimageKeepsTheDataVolume() throws Exception {
        String before = story(power.last(A).serial()).group(4);
        api("POST", "/workers/worker1/reimage", "{}", 200);
        Power.Vm a = power.on(A);
        Matcher story = story(a.await(UP));
        assertThat(story.group(2)).as("root after reimage").isEqualTo("absent");
        assertThat(story.group(3)).as("data after reimage").isEqualTo(before);
        a.awaitOff();
    }

    /** Story 3: a worker dies mid-run; its identity moves to a new machine, with its data; the old one is shut out. */
    @Test
    @Order(3)
    void swapADeadWorker() throws Exception {
        Power.Vm b = power.on(B);
        String written = story(b.await("APIARY-STORY")).group(4);
        b.kill(); // the power cut: no shutdown, no unmount
        JsonNode old = api("GET", "/workers/worker2/credentials", null, 200);
        api("POST", "/workers/worker2/replace", "{\"mac\": \"" + B_NEW + "\"}", 200);

        Power.Vm c = power.on(B_NEW);
        String serial = c.await(UP);
        assertThat(serial).contains(UP + "worker2 version=v1 data=/var/lib/rancher");
        Matcher story = story(serial);
        assertThat(story.group(1)).isEqualTo("worker2");
        assertThat(story.group(3)).as("data written before the power cut").isEqualTo(written);
        c.awaitOff();

        // The old machine's credentials no longer log in to worker2's target.
        JsonNode w = api("GET", "/workers/worker2", null, 200);
        Tools.Result inq = net.run("iscsi-inq", "-i", w.path("initiatorIqn").asText(), "iscsi://"
                + old.path("chap").path("user").asText() + "%" + old.path("chap").path("secret").asText()
                + "@10.77.0.1:3260/" + w.path("targetIqn").asText() + "/0");
        assertThat(inq.exit()).as("old secret: %s", inq.all()).isNotZero();
        assertThat(w.path("mac").asText()).isEqualTo(B_NEW);
    }

    /**
     * Story 4: the golden image is upgraded in a maintenance boot of worker1 (P 1.0 -> 1.1 from
     * the local repository), sealed as v2 with its changelog, rolled out to both workers one batch
     * at a time (Apiary wakes each), and worker2, left running, rolled back to v1 by its agent.
     */
    @Test
    @Order(4)
    void upgradeRollOutAndRollBack() throws Exception {
        int a0 = power.count(A);
        JsonNode up = api("POST", "/images/golden/upgrades", "{\"worker\": \"worker1\"}", 202);
        long id = up.path("id").asLong();
        assertThat(up.path("to").asText()).isEqualTo("v2");
        Power.Vm maint = power.next(A, a0, Duration.ofMinutes(2)); // woken by Apiary
        assertThat(maint.await("APIARY-MAINTENANCE done")).contains("APIARY-MAINTENANCE upgraded " + WorkerImage.PACKAGE
                + " 1.0 -> 1.1");
        maint.awaitOff();
        JsonNode sealed = await("upgrade " + id, Duration.ofMinutes(3), () -> api("GET", "/images/golden/upgrades/" + id,
                null, 200), u -> u.path("state").asText().equals("SEALED"));
        assertThat(sealed.path("changelog").asText()).contains("upgraded " + WorkerImage.PACKAGE + " 1.0 -> 1.1");
        assertThat(api("GET", "/images/golden", null, 200).path("versions").findValuesAsText("version")).contains("v1", "v2");

        int a1 = power.count(A), c1 = power.count(B_NEW);
        power.stay(B_NEW); // worker2 stays up after the rollout: its agent must reboot it for the rollback
        Tools.Result started = cli("rollouts", "start", "golden@v2", "worker1", "worker2", "--batch-size", "1", "--json");
        assertThat(started.exit()).as(started.all()).isZero();
        long rid = JSON.readTree(started.out()).path("id").asLong();
        Power.Vm a = power.next(A, a1, Duration.ofMinutes(2));
        assertThat(a.await(UP)).contains("APIARY-TEST-P version=1.1");
        Power.Vm c = power.next(B_NEW, c1, Duration.ofMinutes(5));
        assertThat(Instant.parse(api("GET", "/rollouts/" + rid, null, 200).path("workers").get(0).path("since").asText()))
                .as("worker2's batch starts after worker1 is up").isBefore(c.started());
        String serial = c.await(UP);
        assertThat(serial).contains("APIARY-TEST-P version=1.1").contains(UP + "worker2 version=v2 data=/var/lib/rancher");
        assertThat(story(serial).group(3)).as("data kept across the rollout").isNotEqualTo("absent");
        a.awaitOff();
        JsonNode done = await("rollout " + rid, Duration.ofMinutes(3), () -> api("GET", "/rollouts/" + rid, null, 200),
                r -> r.path("state").asText().equals("DONE"));
        assertThat(done.path("workers").findValuesAsText("state")).containsExactly("UP", "UP");
        assertThat(api("GET", "/workers/worker2", null, 200).path("image").asText()).isEqualTo("golden@v2");

        // worker2 is running v2. Rolling it back reaches it through its agent's watch loop: the
        // agent asks, hears "reboot", and the machine boots v1 in the same power-on.
        int c2 = power.count(B_NEW), mark = c.serial().length();
        Tools.Result rollback = cli("rollouts", "rollback", Long.toString(rid), "worker2");
        assertThat(rollback.exit()).as(rollback.all()).isZero();
        assertThat(rollback.out()).contains("worker2", "ROLLING_BACK");
        String again = c.await(UP, mark);
        assertThat(again).contains("APIARY-REBOOT").contains("APIARY-TEST-P version=1.0").contains(UP + "worker2 version=v1 ");
        assertThat(again.indexOf("APIARY-REBOOT")).as("rebooted by its agent, then up on v1").isLessThan(again.indexOf(UP));
        assertThat(power.count(B_NEW)).as("no second power-on: the running machine rebooted itself").isEqualTo(c2);
        assertThat(c.resets()).as("one reset, its agent's").isEqualTo(1);
        await("rollback of worker2", Duration.ofMinutes(3), () -> api("GET", "/rollouts/" + rid, null, 200),
                r -> r.path("workers").get(1).path("state").asText().equals("ROLLED_BACK"));
        assertThat(api("GET", "/workers/worker2", null, 200).path("image").asText()).isEqualTo("golden@v1");
        assertThat(api("GET", "/workers/worker1", null, 200).path("image").asText()).isEqualTo("golden@v2");
        Tools.Result upgrades = cli("images", "upgrades", "golden", Long.toString(id));
        assertThat(upgrades.out()).as(upgrades.all()).contains("SEALED", "upgraded " + WorkerImage.PACKAGE + " 1.0 -> 1.1");
        c.kill();
    }

    private static Matcher story(String serial) {
        Matcher m = STORY.matcher(serial);
        assertThat(m.find()).as("no APIARY-STORY line:\n%s", serial).isTrue();
        return m;
    }

    private void awaitLog(String text) throws Exception {
        Instant deadline = Instant.now().plusSeconds(300);
        while (!Files.readString(apiaryLog).contains(text)) {
            assertThat(Instant.now()).as("no \"%s\" in the server log", text).isBefore(deadline);
            Thread.sleep(250);
        }
    }

    interface Call {
        JsonNode get() throws Exception;
    }

    private static JsonNode await(String what, Duration within, Call call, java.util.function.Predicate<JsonNode> done)
            throws Exception {
        Instant deadline = Instant.now().plus(within);
        while (true) {
            JsonNode n = call.get();
            if (done.test(n)) {
                return n;
            }
            assertThat(Instant.now()).as("%s: %s", what, n).isBefore(deadline);
            Thread.sleep(1000);
        }
    }

    /** The real CLI, run inside the boot namespace where the server listens. */
    private Tools.Result cli(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--api", "https://10.77.0.1:8443", "--data", data.toString(), "--token", token));
        return net.run(Tools.apiary(List.of(), all).toArray(String[]::new));
    }

    /** The admin API, from inside the boot namespace where the server listens. */
    private JsonNode api(String method, String path, String json, int status) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "60", "--cacert",
                data.resolve("tls/api-cert.pem").toString(), "-H", "Authorization: Bearer " + token, "-X", method,
                "-w", "\n%{http_code}"));
        if (json != null) {
            cmd.addAll(List.of("-H", "Content-Type: application/json", "--data-binary", json));
        }
        cmd.add("https://10.77.0.1:8443/api/v1" + path);
        Tools.Result r = net.run(cmd.toArray(String[]::new));
        String out = r.out();
        int nl = out.lastIndexOf('\n');
        assertThat(nl).as("%s %s: %s", method, path, r.all()).isPositive();
        assertThat(out.substring(nl + 1).trim()).as("%s %s: %s", method, path, out).isEqualTo(Integer.toString(status));
        return JSON.readTree(out.substring(0, nl));
    }
}
