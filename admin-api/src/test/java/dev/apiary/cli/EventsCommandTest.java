package dev.apiary.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@code apiary events}: finding the newest event with a forward-only API, and reading a
 * server-sent event stream (the end-to-end runs are in the integration module's CliIT).
 */
class EventsCommandTest {
    /** What GET /events?limit=500 answers for these ids. */
    static ObjectNode firstPage(TreeSet<Long> ids) {
        ObjectNode page = ApiClient.JSON.createObjectNode();
        ArrayNode items = page.putArray("items");
        ids.stream().limit(500).forEach(id -> items.addObject().put("id", id));
        if (items.size() == 500) {
            page.put("next", Long.toString(items.get(499).path("id").asLong()));
        } else {
            page.putNull("next");
        }
        return page;
    }

    static long newest(TreeSet<Long> ids, AtomicInteger asked) throws Exception {
        return EventsCommand.newest(firstPage(ids), after -> {
            asked.incrementAndGet();
            Long next = ids.higher(after);
            return next == null ? -1 : next;
        });
    }

    @Test
    void theNewestIdIsFoundInFewRequestsWhateverTheGaps() throws Exception {
        Random random = new Random(11);
        for (int n : new int[] {0, 1, 499, 500, 501, 1000, 1306, 100_000}) {
            for (int gaps : new int[] {0, 1, 40}) {
                TreeSet<Long> ids = new TreeSet<>();
                long id = 0;
                for (int i = 0; i < n; i++) {
                    id += 1 + (gaps == 0 ? 0 : random.nextInt(gaps + 1));
                    ids.add(id);
                }
                AtomicInteger asked = new AtomicInteger();
                assertThat(newest(ids, asked)).as("%d events, gaps up to %d", n, gaps).isEqualTo(ids.isEmpty() ? 0 : ids.last());
                assertThat(asked.get()).as("probes for %d events", n).isLessThanOrEqualTo(64);
            }
        }
    }

    @Test
    void aStreamIsReadEventByEventAndRemembersWhereToResume() throws Exception {
        EventsCommand.Follow follow = new EventsCommand.Follow();
        StringWriter text = new StringWriter();
        PrintWriter out = new PrintWriter(text);
        String lost = follow.read(Stream.of(": apiary events", "",
                "id: 7", "event: enroll", "data: {\"id\":7,\"at\":\"2026-11-21T17:40:11.123456Z\",\"kind\":\"enroll\","
                        + "\"worker\":\"worker9\",\"detail\":\"enrolling 52:54:00:aa:00:09\"}", "",
                ": keep-alive", "",
                "id: 8", "event: image", "data: {\"id\":8,\"at\":\"2026-11-21T17:40:12Z\",\"kind\":\"image\",",
                "data: \"worker\":null,\"detail\":\"new roots are cloned from golden@v2\"}", "",
                "id: 9", "data: {\"id\":9, cut short"), out);
        assertThat(lost).isEqualTo("the server ended the stream");
        assertThat(follow.printed).isEqualTo(2);
        assertThat(follow.last).as("an event cut short is not counted").isEqualTo(8);
        assertThat(text.toString().lines().toList()).hasSize(2)
                .first().asString().matches("7\\s+2026-11-21T17:40:11Z\\s+enroll\\s+worker9\\s+enrolling 52:54:00:aa:00:09");
        assertThat(text.toString().lines().toList().get(1))
                .matches("8\\s+2026-11-21T17:40:12Z\\s+image\\s+-\\s+new roots are cloned from golden@v2");
    }

    @Test
    void countStopsTheReadingAndJsonPrintsOneObjectALine() throws Exception {
        EventsCommand.Follow follow = new EventsCommand.Follow();
        follow.count = 1;
        follow.json = true;
        StringWriter text = new StringWriter();
        String lost = follow.read(Stream.of("id: 3", "data: {\"id\":3,\"kind\":\"boot\"}", "", "id: 4",
                "data: {\"id\":4,\"kind\":\"boot\"}", ""), new PrintWriter(text));
        assertThat(lost).isNull();
        assertThat(follow.last).isEqualTo(3);
        assertThat(text.toString()).isEqualTo("{\"id\":3,\"kind\":\"boot\"}" + System.lineSeparator());
    }
}
