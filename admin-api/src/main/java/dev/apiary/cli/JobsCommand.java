package dev.apiary.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code apiary jobs ...}: long operations (import, flatten) and their progress, through the API. */
@Command(name = "jobs", mixinStandardHelpOptions = true, description = "Long operations and their progress (through the API).",
        subcommands = {JobsCommand.Ls.class, JobsCommand.Show.class, JobsCommand.Wait.class})
public final class JobsCommand extends CommandGroup {
    private static final String ROW = "%-6s %-10s %-24s %-8s %-8s %s%n";
    private static final Duration POLL = Duration.ofMillis(500);
    /** How long a wait rides out an unreachable server (a restart) before it gives up. */
    private static final Duration UNREACHABLE = Duration.ofSeconds(30);

    static void header(PrintWriter out) {
        out.printf(ROW, "ID", "KIND", "SUBJECT", "STATE", "PROGRESS", "STARTED");
    }

    static void row(PrintWriter out, JsonNode job) {
        long total = job.path("total").asLong();
        String progress = total > 0 ? job.path("done").asLong() * 100 / total + "%" : "-";
        out.printf(ROW, job.path("id").asText(), job.path("kind").asText(), job.path("subject").asText("-"),
                job.path("state").asText(), progress, ApiCommand.time(job.path("started")));
    }

    /** "import debian13 (job 7)": what a job is, for progress and messages. */
    static String label(JsonNode job) {
        return job.path("kind").asText("job") + " " + job.path("subject").asText() + " (job " + job.path("id").asText() + ")";
    }

    /**
     * Polls a job until it ends, drawing its progress on {@code progress}: the finished job when it
     * is DONE, a failure with the job's error when it FAILED or when it is still running after
     * {@code timeout} (null: no bound). A server that cannot be reached for a while (a restart) is
     * waited out; a job that a restart cut short is then FAILED, and said so.
     */
    static JsonNode await(ApiClient api, JsonNode job, PrintWriter progress, Duration timeout) throws Exception {
        long id = job.path("id").asLong();
        ProgressBar bar = null; // drawn once the job is seen unfinished: one that had ended already shows none
        long start = System.nanoTime();
        Long unreachableSince = null;
        while (true) {
            String state = job.path("state").asText();
            if (bar == null && !state.equals("DONE") && !state.equals("FAILED")) {
                bar = new ProgressBar(progress, job.path("kind").asText("job") + " " + job.path("subject").asText());
            }
            if (bar != null && job.path("total").asLong() > 0) {
                bar.update(job.path("done").asLong(), job.path("total").asLong());
            }
            if (state.equals("DONE")) {
                if (bar != null) {
                    bar.done();
                }
                return job;
            }
            if (state.equals("FAILED")) {
                throw new ApiClient.Failure(0, label(job) + " failed: " + job.path("error").asText("no reason given"));
            }
            if (timeout != null && System.nanoTime() - start > timeout.toNanos()) {
                throw new ApiClient.Failure(0, label(job) + " is still " + state + " after " + timeout.toSeconds() + " s");
            }
            Thread.sleep(POLL.toMillis());
            try {
                job = api.get("/jobs/" + id);
                unreachableSince = null;
            } catch (ApiClient.Failure e) {
                if (e.status != 0) {
                    throw e;
                }
                if (unreachableSince == null) {
                    unreachableSince = System.nanoTime();
                } else if (System.nanoTime() - unreachableSince > UNREACHABLE.toNanos()) {
                    throw e;
                }
            }
        }
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "Jobs, newest first.")
    static final class Ls extends ApiCommand {
        @Option(names = "--limit", paramLabel = "N", defaultValue = "100",
                description = "At most N jobs (default ${DEFAULT-VALUE}).")
        int limit;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            if (limit < 1) {
                throw new ApiClient.Failure(0, "--limit must be 1 or more");
            }
            return pages(api, "/jobs", "before", null, limit).items();
        }

        @Override
        void table(PrintWriter out, JsonNode jobs) {
            header(out);
            jobs.forEach(j -> row(out, j));
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "One job: its progress, end and error.")
    static final class Show extends ApiCommand {
        @Parameters(paramLabel = "ID")
        long id;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            return api.get("/jobs/" + id);
        }

        @Override
        void table(PrintWriter out, JsonNode job) {
            details(out, job);
        }
    }

    /** A job's row, then what the row has no room for. */
    static void details(PrintWriter out, JsonNode job) {
        header(out);
        row(out, job);
        if (job.path("total").asLong() > 0) {
            out.printf("progress %,d of %,d%n", job.path("done").asLong(), job.path("total").asLong());
        }
        if (job.path("finished").isTextual()) {
            out.println("finished " + ApiCommand.time(job.path("finished")));
        }
        if (job.path("error").isTextual()) {
            out.println("error    " + job.path("error").asText());
        }
        JsonNode result = job.path("result");
        if (!result.isMissingNode() && !result.isNull()) {
            out.println("result   " + (result.isValueNode() ? result.asText() : result.toString()));
        }
    }

    @Command(name = "wait", mixinStandardHelpOptions = true,
            description = "Wait for a job with a progress bar; exit 0 when it is DONE, 1 when it FAILED.")
    static final class Wait extends ApiCommand {
        @Parameters(paramLabel = "ID")
        long id;

        @Option(names = "--timeout", paramLabel = "SECONDS",
                description = "Give up (exit 1) when the job is still running after this long (default: no bound).")
        Long timeout;

        @Override
        JsonNode call(ApiClient api) throws Exception {
            if (timeout != null && timeout < 0) {
                throw new ApiClient.Failure(0, "--timeout must be 0 or more seconds");
            }
            return await(api, api.get("/jobs/" + id), spec.commandLine().getErr(),
                    timeout == null ? null : Duration.ofSeconds(timeout));
        }

        @Override
        void table(PrintWriter out, JsonNode job) {
            details(out, job);
        }
    }
}
