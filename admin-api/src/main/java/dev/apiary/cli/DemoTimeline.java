package dev.apiary.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The demo's machine as the API shows it while it boots: the worker it enrolled as, and the phases
 * of its boot timeline ({@code GET /api/v1/workers/<name>/boots}), each reported once, timed from
 * the machine's power-on by the server's own timestamps (so a late poll does not make a phase late).
 */
final class DemoTimeline {
    /** Something the API showed, at {@code seconds} since power-on. */
    record Event(double seconds, String text) {}

    /** What each phase of docs/control-plane.md's boot timeline means, for someone seeing it the first time. */
    private static final Map<String, String> MEANS = Map.of(
            "dhcp", "Apiary answered its DHCP",
            "script", "Apiary served its boot script",
            "iscsi-login", "iPXE logged in to its target",
            "os-login", "Linux logged in to its target: a second session",
            "userspace", "its agent reported: userspace",
            "data-mounted", "its agent reported: data LUN mounted",
            "maintenance-done", "its agent reported: maintenance done");

    private final ApiClient api;
    private final String mac;
    private final Instant poweredOn;
    private final Set<String> shown = new HashSet<>();
    private String worker;
    private long lastPoll;

    DemoTimeline(ApiClient api, String mac, Instant poweredOn) {
        this.api = api;
        this.mac = mac;
        this.poweredOn = poweredOn;
    }

    /** What is new since the last poll; asks the API at most once a second unless {@code now}. */
    List<Event> poll(boolean now) {
        List<Event> events = new ArrayList<>();
        if (!now && System.nanoTime() - lastPoll < 1_000_000_000L) {
            return events;
        }
        lastPoll = System.nanoTime();
        try {
            if (worker == null) {
                for (JsonNode w : ApiCommand.pages(api, "/workers", "after", null, 1000).items()) {
                    if (mac.equalsIgnoreCase(w.path("mac").asText())) {
                        worker = w.path("name").asText();
                        events.add(new Event(since(w.path("createdAt")), "enrolled " + mac + " as " + worker
                                + ": root cloned from " + w.path("image").asText() + ", an empty ext4 data volume,"
                                + " its own IQN and CHAP secrets, an export only it may log in to"));
                    }
                }
            }
            if (worker != null) {
                JsonNode boot = lastBoot();
                for (JsonNode p : boot.path("phases")) {
                    if (shown.add(p.path("phase").asText())) {
                        String phase = p.path("phase").asText();
                        String means = MEANS.containsKey(phase) ? " (" + MEANS.get(phase) + ")" : "";
                        events.add(new Event(since(p.path("at")), worker + " boot " + boot.path("boot").asText()
                                + ": " + phase + means));
                    }
                }
            }
        } catch (Exception e) {
            // a busy server answers late: the next poll asks again, and the summary says what is missing
        }
        return events;
    }

    /** The worker's name, once it enrolled. */
    Optional<String> worker() {
        return Optional.ofNullable(worker);
    }

    /** The worker's newest boot as the API shows it ({@code boot}, {@code started}, {@code phases}). */
    JsonNode lastBoot() throws Exception {
        return api.get(WorkersCommand.path(worker) + "/boots").path("items").path(0);
    }

    /** When the newest boot reached {@code phase}, in seconds since power-on. */
    Optional<Double> reached(JsonNode boot, String phase) {
        for (JsonNode p : boot.path("phases")) {
            if (p.path("phase").asText().equals(phase)) {
                return Optional.of(since(p.path("at")));
            }
        }
        return Optional.empty();
    }

    private double since(JsonNode at) {
        return Duration.between(poweredOn, Instant.parse(at.asText())).toMillis() / 1000.0;
    }
}
