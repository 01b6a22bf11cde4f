package dev.apiary.it;

import static dev.apiary.it.ServeIT.field;
import static dev.apiary.it.ServeIT.get;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.apiary.it.ServeIT.Server;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./apiary jobs} and {@code ./apiary events} as a user runs them, as child processes
 * against a real {@code apiary serve}: jobs listed, shown and waited for (a failed one exits 1),
 * the audit trail as a page and followed live, across a restart of the server.
 */
class CliIT {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private String[] conn;

    /** {@code apiary ARGS --api ... --data ... --token ...}, bounded by Tools' 2 minutes. */
    Tools.Result cli(String... args) {
        return StoreIT.apiary(withConnection(args).toArray(String[]::new));
    }

    List<String> withConnection(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of(conn));
        return all;
    }

    static String line(Server p, String what) throws Exception {
        String l = p.lines().poll(60, TimeUnit.SECONDS);
        assertThat(l).as("%s from %s: %s", what, p.process().info().commandLine().orElse("?"),
                Files.readString(p.log())).isNotNull();
        return l;
    }

    @Test
    void jobsAndEventsThroughTheCli() throws Exception {
        Path data = dir.resolve("data");
        ServeIT.importGolden(dir, data, new byte[4 << 20], "v1");
        byte[] next = new byte[6 << 20];
        new Random(5).nextBytes(next);
        Files.write(dir.resolve("next.raw"), next);
        Files.write(dir.resolve("empty.raw"), new byte[0]);
        Path config = dir.resolve("apiary.yaml");
        // A fixed API port, so that a follower can reconnect to the restarted server.
        int apiPort = Tools.freePort();
        Files.writeString(config, """
                target: {listen: "127.0.0.1:%d"}
                fleet: {image: golden@v1, data-size: 16M}
                pxe: {dhcp: off, address: 127.0.0.1, http-port: 0, tftp-port: 0}
                api: {listen: "127.0.0.1:%d"}
                """.formatted(Tools.freePort(), apiPort));
        String token = StoreIT.apiary("token", "create", "--data", data.toString(), "cli").out().trim();
        conn = new String[] {"--api", "https://127.0.0.1:" + apiPort, "--data", data.toString(), "--token", token};
        Server follower = null;
        try {
            try (Server s = Server.start(dir.resolve("serve1.log"), "--data", data.toString(), "--config", config.toString())) {
                String boot = field(s.awaitReady(), "boot");

                // An import is a job: the CLI says which, draws its progress, and the job is listed DONE.
                Tools.Result imp = cli("images", "import", "next", dir.resolve("next.raw").toString());
                assertThat(imp.exit()).as(imp.all()).isZero();
                assertThat(imp.err()).contains("import next 100%");
                Matcher jobId = Pattern.compile("importing next as job (\\d+)").matcher(imp.err());
                assertThat(jobId.find()).as(imp.err()).isTrue();
                String id = jobId.group(1);

                // The embedded store's health: the filesystem that holds it, as df sees it.
                Tools.Result health = cli("storage", "health");
                assertThat(health.exit()).as(health.all()).isZero();
                assertThat(health.out()).matches("(?s)file \\S+/store: (OK|WARN), \\S+ \\S+ used, \\S+ \\S+ available\n.*");

                Tools.Result ls = cli("jobs", "ls");
                assertThat(ls.exit()).as(ls.all()).isZero();
                assertThat(ls.out()).startsWith("ID").containsPattern("(?m)^ID\\s+KIND\\s+SUBJECT\\s+STATE\\s+PROGRESS\\s+STARTED$")
                        .containsPattern("(?m)^" + id + "\\s+import\\s+next\\s+DONE\\s+100%\\s+\\d{4}-\\d\\d-\\d\\dT");
                JsonNode jobs = JSON.readTree(cli("jobs", "ls", "--json").out());
                assertThat(jobs.isArray()).isTrue();
                assertThat(jobs.get(0).path("id").asText()).as("newest first").isEqualTo(id);
                assertThat(jobs.get(0).path("state").asText()).isEqualTo("DONE");

                Tools.Result show = cli("jobs", "show", id);
                assertThat(show.exit()).as(show.all()).isZero();
                assertThat(show.out()).containsPattern(id + "\\s+import\\s+next\\s+DONE")
                        .contains("progress " + String.format("%,d of %,d", next.length, next.length));
                JsonNode shown = JSON.readTree(cli("jobs", "show", id, "--json").out());
                assertThat(shown.path("total").asLong()).isEqualTo(next.length);
                assertThat(shown.path("kind").asText()).isEqualTo("import");

                Tools.Result waited = cli("jobs", "wait", id, "--timeout", "30");
                assertThat(waited.exit()).as(waited.all()).isZero();
                assertThat(waited.out()).containsPattern(id + "\\s+import\\s+next\\s+DONE");

                Tools.Result missing = cli("jobs", "show", "999999");
                assertThat(missing.exit()).isEqualTo(1);
                assertThat(missing.err()).contains("apiary jobs: no job 999999");
                Tools.Result waitMissing = cli("jobs", "wait", "999999", "--timeout", "5");
                assertThat(waitMissing.exit()).isEqualTo(1);
                assertThat(waitMissing.err()).contains("no job 999999");

                // A job that fails: the import and a later wait both exit 1 with the job's error.
                Tools.Result empty = cli("images", "import", "empty", dir.resolve("empty.raw").toString());
                assertThat(empty.exit()).as(empty.all()).isEqualTo(1);
                assertThat(empty.err()).containsPattern("apiary images: import empty \\(job \\d+\\) failed: .*is empty");
                Matcher failedId = Pattern.compile("job (\\d+)\\) failed").matcher(empty.err());
                assertThat(failedId.find()).isTrue();
                Tools.Result waitFailed = cli("jobs", "wait", failedId.group(1), "--timeout", "30");
                assertThat(waitFailed.exit()).isEqualTo(1);
                assertThat(waitFailed.err()).containsPattern("apiary jobs: import empty \\(job \\d+\\) failed: .*is empty");
                assertThat(cli("jobs", "ls").out()).containsPattern(failedId.group(1) + "\\s+import\\s+empty\\s+FAILED");

                // The audit trail: a machine boots and is enrolled.
                get(boot + "/boot/52:54:00:cc:00:01");
                Tools.Result events = cli("events", "ls");
                assertThat(events.exit()).as(events.all()).isZero();
                assertThat(events.out()).containsPattern("(?m)^ID\\s+TIME\\s+KIND\\s+WORKER\\s+DETAIL$")
                        .containsPattern("(?m)^\\d+\\s+\\S+Z\\s+enroll\\s+worker1\\s+enrolling 52:54:00:cc:00:01")
                        .containsPattern("(?m)^\\d+\\s+\\S+Z\\s+enrolled\\s+worker1\\s+root fleet.worker1.root");
                JsonNode page = JSON.readTree(cli("events", "ls", "--json").out());
                long last = page.get(page.size() - 1).path("id").asLong();
                Tools.Result two = cli("events", "ls", "--limit", "1", "--json");
                assertThat(JSON.readTree(two.out()).size()).isEqualTo(1);
                assertThat(two.err()).contains("more may follow: --after " + page.get(0).path("id").asLong());
                JsonNode after = JSON.readTree(cli("events", "ls", "--json", "--after", page.get(0).path("id").asText()).out());
                assertThat(after.size()).isEqualTo(page.size() - 1);

                // Followed live: only what happens after it started, one line per event, --count bounds it.
                try (Server f = Server.launch(dir.resolve("follow1.log"), List.of(), withConnection("events", "follow", "--count", "2"))) {
                    assertThat(line(f, "the header")).startsWith("ID");
                    get(boot + "/boot/52:54:00:cc:00:02");
                    assertThat(line(f, "an event")).containsPattern("^\\d+\\s+\\S+Z\\s+enroll\\s+worker2\\s+");
                    assertThat(line(f, "an event")).containsPattern("^\\d+\\s+\\S+Z\\s+enrolled\\s+worker2\\s+");
                    assertThat(f.process().waitFor(30, TimeUnit.SECONDS)).as("--count 2 ends it").isTrue();
                    assertThat(f.process().exitValue()).as(Files.readString(f.log())).isZero();
                }
                // From an id, as JSON lines.
                Tools.Result resumed = cli("events", "follow", "--after", Long.toString(last), "--count", "1", "--json");
                assertThat(resumed.exit()).as(resumed.all()).isZero();
                JsonNode first = JSON.readTree(resumed.out().strip());
                assertThat(first.path("id").asLong()).isGreaterThan(last);
                assertThat(first.path("kind").asText()).isEqualTo("enroll");
                assertThat(first.path("worker").asText()).isEqualTo("worker2");

                // A follower that outlives the server: it sees one event, then the server stops.
                follower = Server.launch(dir.resolve("follow2.log"), List.of(),
                        withConnection("events", "follow", "--count", "3", "--retry-delay", "1", "--retries", "60"));
                assertThat(line(follower, "the header")).startsWith("ID");
                assertThat(cli("images", "use", "golden@v1").exit()).isZero();
                assertThat(line(follower, "an event")).containsPattern("^\\d+\\s+\\S+Z\\s+image\\s+-\\s+new roots are cloned from golden@v1");
            }
            // ... and reconnects to the restarted one where it left off.
            try (Server s = Server.start(dir.resolve("serve2.log"), "--data", data.toString(), "--config", config.toString())) {
                String boot = field(s.awaitReady(), "boot");
                get(boot + "/boot/52:54:00:cc:00:03");
                assertThat(follower.process().waitFor(60, TimeUnit.SECONDS)).as("--count 3 ends it").isTrue();
                assertThat(follower.process().exitValue()).as(Files.readString(follower.log())).isZero();
                List<String> rest = new ArrayList<>();
                for (String l; (l = follower.lines().poll(5, TimeUnit.SECONDS)) != null; ) {
                    rest.add(l);
                }
                assertThat(rest).as("after the restart").hasSize(2)
                        .anyMatch(l -> l.matches("^\\d+\\s+\\S+Z\\s+enroll\\s+worker3\\s+.*"));
                assertThat(Files.readString(follower.log())).contains("reconnecting after event");
            }
        } finally {
            if (follower != null) {
                follower.close();
            }
        }
    }
}
