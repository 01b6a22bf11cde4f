package dev.apiary.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code apiary serve} as a user runs it: an unknown MAC asks for its boot script, the fleet
 * enrolls it (a root cloned from the golden image, a data volume with an empty ext4, its own IQN and CHAP
 * secrets), and libiscsi logs in with exactly what the script says and reads the golden image's
 * bytes. The inventory survives a restart; another initiator name is refused.
 */
class ServeIT {
    static final Pattern SANBOOT = Pattern.compile("san(?:boot|hook) iscsi:([0-9.]+)::(\\d+):0:(\\S+)");

    @TempDir
    Path dir;

    /** apiary serve as a child process; its stdout lines are queued. */
    record Server(Process process, LinkedBlockingQueue<String> lines, Path log) implements AutoCloseable {
        static Server start(Path log, String... args) throws Exception {
            return start(log, List.of(), args);
        }

        static Server start(Path log, List<String> jvmArgs, String... args) throws Exception {
            List<String> serveArgs = new ArrayList<>(List.of("serve"));
            serveArgs.addAll(List.of(args));
            return launch(log, jvmArgs, serveArgs);
        }

        /** Any apiary command the same way (e.g. one that prints as it goes): stdout queued, stderr to {@code log}. */
        static Server launch(Path log, List<String> jvmArgs, List<String> args) throws Exception {
            return launchIn(null, log, jvmArgs, args);
        }

        /** The same in network namespace {@code netns} ({@code ip netns exec} execs: the process is apiary's JVM). */
        static Server launchIn(String netns, Path log, List<String> jvmArgs, List<String> args) throws Exception {
            List<String> cmd = new ArrayList<>();
            if (netns != null) {
                cmd.addAll(List.of("ip", "netns", "exec", netns));
            }
            cmd.addAll(Tools.apiary(jvmArgs, args));
            Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
            LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
            Thread t = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String l; (l = r.readLine()) != null; ) {
                        lines.add(l);
                    }
                } catch (java.io.IOException ignored) {
                    // ended
                }
            });
            t.setDaemon(true);
            t.start();
            return new Server(p, lines, log);
        }

        String awaitReady() throws Exception {
            String l = lines.poll(60, TimeUnit.SECONDS);
            assertThat(l).as("apiary serve: %s", Files.readString(log)).isNotNull().startsWith("ready ");
            return l;
        }

        @Override
        public void close() throws Exception {
            process.destroy(); // SIGTERM, by PID
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void anUnknownMachineIsEnrolledAndItsScriptLogsIn() throws Exception {
        Path data = dir.resolve("data");
        byte[] golden = new byte[8 << 20];
        new Random(3).nextBytes(golden);
        importGolden(dir, data, golden, "v1");

        int iscsiPort = Tools.freePort();
        Path config = dir.resolve("apiary.yaml");
        Files.writeString(config, """
                target:
                  listen: 127.0.0.1:%d
                fleet:
                  enrollment: auto
                  image: golden@v1
                  data-size: 64M
                pxe:
                  dhcp: off
                  address: 127.0.0.1
                  http-port: 0
                  tftp-port: 0
                api:
                  listen: 127.0.0.1:0
                """.formatted(iscsiPort));
        String script;
        try (Server s = Server.start(dir.resolve("serve1.log"), "--data", data.toString(), "--config", config.toString())) {
            String ready = s.awaitReady();
            // The default warm-up ran before ready, over loopback, and left no store behind.
            assertThat(Files.readString(s.log())).contains("[target] warmed up: 20000 reads and writes and ");
            assertThat(data.resolve("warmup")).doesNotExist();
            String boot = field(ready, "boot");
            script = get(boot + "/boot/52:54:00:aa:00:01");
            assertThat(script).startsWith("#!ipxe").contains("set initiator-iqn iqn.2026-11.dev.apiary:worker1\n",
                    "set username worker1\n", "set reverse-username apiary\n", "set keep-san 1\n");
            assertThat(get(boot + "/boot/52:54:00:aa:00:01")).as("the same machine again").isEqualTo(script);
            assertThat(get(boot + "/boot/52-54-00-aa-00-02")).contains("iqn.2026-11.dev.apiary:worker2");

            Login l = Login.of(script);
            assertThat(l.portal()).isEqualTo("127.0.0.1:" + iscsiPort);
            assertThat(readLun(l, 0, golden.length)).as("root LUN = the golden image").isEqualTo(golden);
            Tools.Result cap = Tools.run(Duration.ofSeconds(30), "iscsi-readcapacity16", "-i", l.initiator(), l.url(1));
            assertThat(cap.out()).as(cap.all()).contains("LOGICAL BLOCK LENGTH IN BYTES:512").contains("Total size:" + (64 << 20));
            Tools.Result other = Tools.run(Duration.ofSeconds(30), "iscsi-inq", "-i",
                    "iqn.2026-11.dev.apiary:worker2", l.url(0));
            assertThat(other.exit()).as("worker2's name with worker1's target and secret").isNotZero();
            assertThat(Files.readString(s.log())).doesNotContain(l.password())
                    .contains("enrolled worker1 (52:54:00:aa:00:01) from golden@v1");

            // The admin API: HTTPS with the generated certificate, bearer tokens.
            String api = field(ready, "api") + "/api/v1";
            HttpClient https = HttpClient.newBuilder().sslContext(trusting(data.resolve("tls/api-cert.pem"))).build();
            assertThat(call(https, api + "/workers", null).statusCode()).isEqualTo(401);
            assertThat(call(https, api + "/workers", "apy_not-a-token-at-all").statusCode()).isEqualTo(403);
            Tools.Result tok = StoreIT.apiary("token", "create", "--data", data.toString(), "ci");
            assertThat(tok.exit()).as(tok.all()).isZero();
            String token = tok.out().trim();
            HttpResponse<String> list = call(https, api + "/workers?limit=1", token);
            assertThat(list.statusCode()).as(list.body()).isEqualTo(200);
            assertThat(list.body()).contains("\"name\":\"worker1\"", "\"next\":\"worker1\"")
                    .doesNotContain(l.password()).doesNotContain("secret");
            assertThat(call(https, api + "/workers?after=worker1", token).body()).contains("worker2")
                    .contains("\"next\":null");
            HttpResponse<String> bad = call(https, api + "/workers?limit=0", token);
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(bad.body()).contains("\"field\":\"limit\"");
            assertThat(call(https, api + "/workers/nobody", token).statusCode()).isEqualTo(404);
            assertThat(call(https, api + "/openapi.yaml", token).body()).startsWith("openapi: 3.");
            assertThat(call(https, api + "/nothing-here", token).statusCode()).isEqualTo(404);
            assertThat(call(https, api + "/workers/worker1/credentials", token).body()).contains(l.password());
            assertThat(call(https, api + "/events?after=-1", token).statusCode()).isEqualTo(400);
            HttpResponse<String> approve = post(https, api + "/workers/worker1/approve", token);
            assertThat(approve.statusCode()).isEqualTo(409);
            assertThat(approve.body()).contains("READY, not PENDING");
            assertThat(Files.readString(s.log())).doesNotContain(token).doesNotContain(l.password());

            // Prometheus metrics, behind the same token.
            String metricsUrl = field(ready, "api") + "/metrics";
            assertThat(call(https, metricsUrl, null).statusCode()).isEqualTo(401);
            String metrics = call(https, metricsUrl, token).body();
            assertThat(metrics).contains("apiary_workers{state=\"ready\"} 2.0", "apiary_iscsi_sessions",
                    "apiary_dhcp_datagrams_total{outcome=\"received\"} 0.0", "apiary_tftp_transfers 0.0");
            Matcher rb = Pattern.compile("apiary_lun_read_bytes_total\\{volume=\"fleet.worker1.root\"} ([0-9.E]+)")
                    .matcher(metrics);
            assertThat(rb.find()).as(metrics).isTrue();
            assertThat(Double.parseDouble(rb.group(1))).as("qemu-img read the root").isGreaterThanOrEqualTo(golden.length);

            // The audit trail, as pages and as a live server-sent event stream.
            String events = call(https, api + "/events?limit=500", token).body();
            assertThat(events).contains("\"kind\":\"enrolled\"", "\"worker\":\"worker1\"", "credentials-read")
                    .doesNotContain(l.password());
            Matcher ids = Pattern.compile("\"id\":(\\d+)").matcher(events);
            long lastId = 0;
            while (ids.find()) {
                lastId = Long.parseLong(ids.group(1));
            }
            final long resumeFrom = lastId;
            HttpResponse<java.util.stream.Stream<String>> sse = https.send(HttpRequest.newBuilder(URI.create(api + "/events"))
                    .header("Authorization", "Bearer " + token).header("Accept", "text/event-stream")
                    .header("Last-Event-ID", String.valueOf(resumeFrom)).build(), HttpResponse.BodyHandlers.ofLines());
            assertThat(sse.statusCode()).isEqualTo(200);
            assertThat(sse.headers().firstValue("Content-Type")).contains("text/event-stream");
            get(boot + "/boot/52:54:00:aa:00:03"); // a third machine enrolls while we listen
            java.util.concurrent.CompletableFuture<List<String>> seen = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                List<String> got = new ArrayList<>();
                java.util.Iterator<String> it = sse.body().iterator();
                while (it.hasNext()) {
                    String line = it.next();
                    got.add(line);
                    if (line.startsWith("data:") && line.contains("worker3") && line.contains("\"kind\":\"enrolled\"")) {
                        break;
                    }
                }
                return got;
            });
            List<String> lines = seen.get(30, TimeUnit.SECONDS);
            sse.body().close();
            assertThat(lines).as("resumed after %d", resumeFrom).anyMatch(x -> x.equals("event: enroll"))
                    .anyMatch(x -> x.equals("event: enrolled"))
                    .noneMatch(x -> x.equals("id: " + resumeFrom));

            // The CLI over the same API.
            String base = field(ready, "api");
            Tools.Result ls = StoreIT.apiary("workers", "ls", "--api", base, "--data", data.toString(), "--token", token);
            assertThat(ls.exit()).as(ls.all()).isZero();
            assertThat(ls.out()).containsPattern("worker1\\s+52:54:00:aa:00:01\\s+READY\\s+golden@v1")
                    .contains("worker2").doesNotContain(l.password());
            Tools.Result json = StoreIT.apiary("workers", "show", "worker1", "--json", "--api", base, "--data",
                    data.toString(), "--token", token);
            assertThat(json.out()).contains("\"targetIqn\" : \"" + l.target() + "\"");
            Tools.Result refused = StoreIT.apiary("workers", "approve", "worker1", "--api", base, "--data",
                    data.toString(), "--token", token);
            assertThat(refused.exit()).isEqualTo(1);
            assertThat(refused.err()).contains("apiary workers: worker1 is READY, not PENDING");
            Tools.Result noToken = StoreIT.apiary("workers", "ls", "--api", base, "--data", data.toString());
            assertThat(noToken.exit()).isEqualTo(1);
            assertThat(noToken.err()).contains("no token");
            Tools.Result wrongCert = StoreIT.apiary("workers", "ls", "--api", base, "--data", dir.resolve("elsewhere")
                    .toString(), "--token", token);
            assertThat(wrongCert.err()).contains("no certificate to trust");
        }
        // A restart: the same worker, the same secrets (sealed with the data directory's key).
        try (Server s = Server.start(dir.resolve("serve2.log"), "--data", data.toString(), "--config", config.toString())) {
            String ready = s.awaitReady();
            String boot = field(ready, "boot");
            assertThat(get(boot + "/boot/52:54:00:aa:00:01")).isEqualTo(script);
            Login l = Login.of(script);
            Tools.Result inq = Tools.run(Duration.ofSeconds(30), "iscsi-inq", "-i", l.initiator(), l.url(0));
            assertThat(inq.exit()).as(inq.all()).isZero();
        }
        assertThat(Files.readAllBytes(data.resolve("master.key"))).hasSize(32);
        assertThat(Files.getPosixFilePermissions(data.resolve("master.key")).toString()).isEqualTo("[OWNER_READ, OWNER_WRITE]");
        assertThat(Files.readString(data.resolve("inventory.mv.db"), StandardCharsets.ISO_8859_1))
                .as("secrets are sealed at rest").doesNotContain(Login.of(script).password());
    }

    /**
     * Story 3, a dead worker swapped: its identity and data move to a new MAC; the old machine's
     * live session is dropped and its credentials stop working (fencing); the new machine logs in
     * with the secrets in its own script and finds the data the old one wrote.
     */
    @Test
    void replaceMovesTheWorkerAndFencesTheOldMachine() throws Exception {
        Path data = dir.resolve("data");
        importGolden(dir, data, new byte[4 << 20], "v1");
        int iscsiPort = Tools.freePort();
        Path config = dir.resolve("apiary.yaml");
        Files.writeString(config, """
                target: {listen: "127.0.0.1:%d"}
                fleet: {image: golden@v1, data-size: 16M, wake-to: "127.0.0.1:%d"}
                pxe: {dhcp: off, address: 127.0.0.1, http-port: 0, tftp-port: 0}
                api: {listen: "127.0.0.1:0"}
                """.formatted(iscsiPort, wakePort()));
        try (Server s = Server.start(dir.resolve("serve.log"), "--data", data.toString(), "--config", config.toString())) {
            String ready = s.awaitReady();
            String boot = field(ready, "boot"), api = field(ready, "api") + "/api/v1";
            Login old = Login.of(get(boot + "/boot/52:54:00:bb:00:01"));
            Tools.Result w = Tools.run(Duration.ofSeconds(60), "qemu-io", "--image-opts", "-c", "write -P 0x5a 0 64k",
                    opts(old, 1));
            assertThat(w.exit()).as(w.all()).isZero();

            // The old machine is still up: a session that keeps reading, and reconnects if dropped.
            Path perfLog = dir.resolve("perf.log");
            Process perf = new ProcessBuilder("iscsi-perf", "-i", old.initiator(), "-t", "60", "-x", "3", old.url(0))
                    .redirectErrorStream(true).redirectOutput(perfLog.toFile()).start();
            try {
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (!Files.readString(s.log()).contains(old.initiator() + " logged in")) {
                    assertThat(System.nanoTime()).as("iscsi-perf never logged in: %s", Files.readString(perfLog))
                            .isLessThan(deadline);
                    Thread.sleep(100);
                }
                String token = StoreIT.apiary("token", "create", "--data", data.toString(), "ops").out().trim();
                HttpClient https = HttpClient.newBuilder().sslContext(trusting(data.resolve("tls/api-cert.pem"))).build();
                HttpResponse<String> r = https.send(HttpRequest.newBuilder(URI.create(api + "/workers/worker1/replace"))
                        .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"mac\": \"52:54:00:bb:00:02\"}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                assertThat(r.body()).contains("\"mac\":\"52:54:00:bb:00:02\"");
                HttpResponse<String> bad = https.send(HttpRequest.newBuilder(URI.create(api + "/workers/worker1/replace"))
                        .header("Authorization", "Bearer " + token)
                        .POST(HttpRequest.BodyPublishers.ofString("{\"mac\": \"nope\"}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(bad.statusCode()).isEqualTo(400);
                assertThat(bad.body()).contains("\"field\":\"mac\"");

                assertThat(perf.waitFor(30, TimeUnit.SECONDS)).as("the old session was dropped and could not return: %s",
                        Files.readString(perfLog)).isTrue();
                assertThat(perf.exitValue()).isNotZero();
            } finally {
                perf.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            assertThat(Files.readString(s.log())).contains("dropped 1 session(s) to " + old.target());
            Tools.Result oldLogin = Tools.run(Duration.ofSeconds(30), "iscsi-inq", "-i", old.initiator(), old.url(0));
            assertThat(oldLogin.exit()).as("the old machine's credentials").isNotZero();

            Login fresh = Login.of(get(boot + "/boot/52:54:00:bb:00:02"));
            assertThat(fresh.initiator()).isEqualTo(old.initiator());
            assertThat(fresh.target()).isEqualTo(old.target());
            assertThat(fresh.password()).isNotEqualTo(old.password());
            Tools.Result read = Tools.run(Duration.ofSeconds(60), "qemu-io", "--image-opts", "-c",
                    "read -P 0x5a 0 64k", opts(fresh, 1));
            assertThat(read.exit()).as(read.all()).isZero();
            assertThat(read.out()).as("the data the old machine wrote").doesNotContain("Pattern verification failed");
            HttpResponse<String> gone = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(boot + "/boot/52:54:00:bb:00:01")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(gone.statusCode()).as("the old MAC gets no script").isEqualTo(404);

            // Wake the new machine (to a listener on loopback standing in for the LAN's broadcast address).
            String token = StoreIT.apiary("token", "create", "--data", data.toString(), "ops2").out().trim();
            Tools.Result wake = StoreIT.apiary("workers", "wake", "worker1", "--api", field(ready, "api"), "--data",
                    data.toString(), "--token", token);
            assertThat(wake.out()).as(wake.all()).contains("sent a magic packet for 52:54:00:bb:00:02");
            java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[200], 200);
            wakeListener.receive(p);
            assertThat(p.getLength()).isEqualTo(102);
            assertThat(java.util.Arrays.copyOfRange(p.getData(), 6, 12))
                    .containsExactly(0x52, 0x54, 0x00, 0xbb, 0x00, 0x02);

            Tools.Result retire = StoreIT.apiary("workers", "retire", "worker1", "--api", field(ready, "api"), "--data",
                    data.toString(), "--token", token);
            assertThat(retire.out()).as(retire.all()).containsPattern("worker1\\s+-?\\s*RETIRED|worker1\\s+null\\s+RETIRED");
            Tools.Result afterRetire = Tools.run(Duration.ofSeconds(30), "iscsi-inq", "-i", fresh.initiator(),
                    fresh.url(0));
            assertThat(afterRetire.exit()).as("a retired worker's target is gone").isNotZero();
        } finally {
            wakeListener.close();
        }
    }

    java.net.DatagramSocket wakeListener;

    int wakePort() throws Exception {
        wakeListener = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress());
        wakeListener.setSoTimeout(10_000);
        return wakeListener.getLocalPort();
    }

    /** Story 4's first half through the CLI: import a new image, seal a version, reimage a worker onto it. */
    @Test
    void imagesAreImportedSealedAndRolledOntoAWorker() throws Exception {
        Path data = dir.resolve("data");
        importGolden(dir, data, new byte[4 << 20], "v1");
        byte[] upgraded = new byte[6 << 20];
        new Random(9).nextBytes(upgraded);
        Files.write(dir.resolve("upgraded.raw"), upgraded);
        Path config = dir.resolve("apiary.yaml");
        Files.writeString(config, """
                target: {listen: "127.0.0.1:%d"}
                fleet: {image: golden@v1, data-size: 16M}
                pxe: {dhcp: off, address: 127.0.0.1, http-port: 0, tftp-port: 0}
                api: {listen: "127.0.0.1:0"}
                """.formatted(Tools.freePort()));
        try (Server s = Server.start(dir.resolve("serve.log"), "--data", data.toString(), "--config", config.toString())) {
            String ready = s.awaitReady();
            Login before = Login.of(get(field(ready, "boot") + "/boot/52:54:00:dd:00:01"));
            String token = StoreIT.apiary("token", "create", "--data", data.toString(), "ops").out().trim();
            String[] conn = {"--api", field(ready, "api"), "--data", data.toString(), "--token", token};
            java.util.function.Function<String[], Tools.Result> cli = args -> {
                List<String> all = new ArrayList<>(List.of(args));
                all.addAll(List.of(conn));
                return StoreIT.apiary(all.toArray(String[]::new));
            };
            Tools.Result imp = cli.apply(new String[] {"images", "import", "debian13", dir.resolve("upgraded.raw").toString()});
            assertThat(imp.exit()).as(imp.all()).isZero();
            assertThat(imp.out()).contains("imported debian13");
            assertThat(imp.err()).contains("import debian13 100%");
            assertThat(cli.apply(new String[] {"images", "seal", "debian13", "v1"}).out()).contains("debian13", "v1 (0 clones)");
            Tools.Result dup = cli.apply(new String[] {"images", "seal", "debian13", "v1"});
            assertThat(dup.exit()).isEqualTo(1);
            assertThat(dup.err()).contains("apiary images: debian13@v1 exists");
            Tools.Result bad = cli.apply(new String[] {"images", "import", "x", dir.resolve("missing.raw").toString()});
            assertThat(bad.err()).contains("(source)");
            Tools.Result ls = cli.apply(new String[] {"images", "ls"});
            assertThat(ls.out()).containsPattern("golden\\s+4 MiB\\s+v1 \\(1 clones\\)")
                    .containsPattern("debian13\\s+6 MiB\\s+v1 \\(0 clones\\)").doesNotContain("fleet.");

            assertThat(cli.apply(new String[] {"workers", "reimage", "worker1", "--image", "debian13@v1"}).exit()).isZero();
            assertThat(cli.apply(new String[] {"workers", "confirm", "worker1"}).exit()).isZero();
            Login after = Login.of(get(field(ready, "boot") + "/boot/52:54:00:dd:00:01"));
            assertThat(after.password()).as("a reimage keeps the worker's identity").isEqualTo(before.password());
            assertThat(readLun(after, 0, upgraded.length)).as("the new root is the new image").isEqualTo(upgraded);
            assertThat(cli.apply(new String[] {"workers", "show", "worker1"}).out()).contains("debian13@v1");

            // Roll the version out to new machines: the next one enrolls from it.
            assertThat(cli.apply(new String[] {"images", "use", "debian13@v1"}).out())
                    .contains("new machines boot debian13@v1");
            assertThat(cli.apply(new String[] {"images", "use", "debian13@v7"}).err()).contains("(image)");
            Login next = Login.of(get(field(ready, "boot") + "/boot/52:54:00:dd:00:02"));
            assertThat(readLun(next, 0, upgraded.length)).isEqualTo(upgraded);
        }
    }

    static String opts(Login l, int lun) {
        return "driver=raw,file.driver=iscsi,file.transport=tcp,file.portal=" + l.portal() + ",file.target="
                + l.target() + ",file.lun=" + lun + ",file.user=" + l.user() + ",file.password=" + l.password()
                + ",file.initiator-name=" + l.initiator();
    }

    @Test
    void aBadConfigurationIsRefusedWithItsKey() throws Exception {
        Path config = dir.resolve("apiary.yaml");
        Files.writeString(config, "fleet:\n  enrollment: sometimes\n");
        try (Server s = Server.start(dir.resolve("bad.log"), "--data", dir.resolve("d").toString(), "--config",
                config.toString())) {
            assertThat(s.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(s.process().exitValue()).isEqualTo(2);
            assertThat(Files.readString(s.log())).contains("fleet.enrollment: expected auto, approve or off");
        }
    }

    /** What a sanboot script tells iPXE, as a libiscsi login. */
    record Login(String initiator, String user, String password, String portal, String target) {
        static Login of(String script) {
            Matcher m = SANBOOT.matcher(script);
            assertThat(m.find()).as(script).isTrue();
            return new Login(setting(script, "initiator-iqn"), setting(script, "username"), setting(script, "password"),
                    m.group(1) + ":" + m.group(2), m.group(3));
        }

        static String setting(String script, String name) {
            Matcher m = Pattern.compile("(?m)^set " + name + " (\\S+)$").matcher(script);
            assertThat(m.find()).as(name + " in " + script).isTrue();
            return m.group(1);
        }

        String url(int lun) {
            return "iscsi://" + user + "%" + password + "@" + portal + "/" + target + "/" + lun;
        }
    }

    byte[] readLun(Login l, int lun, int length) throws Exception {
        Path out = dir.resolve("lun" + lun + ".raw");
        Tools.Result r = Tools.run(Duration.ofSeconds(60), "qemu-img", "convert", "--image-opts", opts(l, lun), "-O",
                "raw", out.toString());
        assertThat(r.exit()).as(r.all()).isZero();
        return java.util.Arrays.copyOf(Files.readAllBytes(out), length);
    }

    /**
     * A golden image in {@code data}'s store before the server starts, the way a user makes the
     * first one: {@code apiary store import golden FILE} and a snapshot per version.
     */
    static void importGolden(Path dir, Path data, byte[] content, String... versions) throws Exception {
        Path raw = dir.resolve("golden.raw");
        Files.write(raw, content);
        String store = data.resolve("store").toString();
        Tools.Result imp = StoreIT.apiary("store", "--dir", store, "import", "golden", raw.toString());
        assertThat(imp.exit()).as(imp.all()).isZero();
        for (String v : versions) {
            assertThat(StoreIT.apiary("store", "--dir", store, "snapshot", "golden@" + v).exit()).isZero();
        }
    }

    /** One {@code key=value} of the ready line. */
    static String field(String ready, String key) {
        for (String kv : ready.split(" ")) {
            if (kv.startsWith(key + "=")) {
                return kv.substring(key.length() + 1);
            }
        }
        throw new AssertionError("no " + key + " in " + ready);
    }

    /** An SSL context that trusts exactly Apiary's generated certificate. */
    static javax.net.ssl.SSLContext trusting(Path certPem) throws Exception {
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        try (var in = Files.newInputStream(certPem)) {
            ks.setCertificateEntry("apiary", java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
        tmf.init(ks);
        javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    static HttpResponse<String> call(HttpClient c, String url, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return c.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> post(HttpClient c, String url, String token) throws Exception {
        return c.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static String get(String url) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(url + ": " + r.body()).isEqualTo(200);
        return r.body();
    }
}
