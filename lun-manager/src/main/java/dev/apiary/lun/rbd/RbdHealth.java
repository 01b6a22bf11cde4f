package dev.apiary.lun.rbd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.apiary.lun.StoreHealth;
import dev.apiary.lun.StoreHealth.Status;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A pool's health from two monitor commands: {@code ceph health} (the cluster's status and its
 * checks: OSDs down, PGs degraded, a pool full, ...) and {@code ceph df} (the pool's stored bytes
 * and what can still be written to it, after replication). The worse of the cluster's status and
 * the pool's fullness is the store's.
 */
final class RbdHealth {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String HEALTH = "{\"prefix\": \"health\", \"format\": \"json\"}";
    static final String DF = "{\"prefix\": \"df\", \"format\": \"json\"}";

    private RbdHealth() {}

    /** From the two commands' JSON output; a pool {@code df} does not list is an ERROR. */
    static StoreHealth parse(String where, String pool, String healthJson, String dfJson) throws IOException {
        JsonNode health = JSON.readTree(healthJson);
        Status status = switch (health.path("status").asText()) {
            case "HEALTH_OK" -> Status.OK;
            case "HEALTH_WARN" -> Status.WARN;
            default -> Status.ERROR;
        };
        List<String> problems = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = health.path("checks").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> check = it.next();
            problems.add(check.getKey() + ": " + check.getValue().path("summary").path("message").asText());
        }
        for (JsonNode p : JSON.readTree(dfJson).path("pools")) {
            if (p.path("name").asText().equals(pool)) {
                JsonNode stats = p.path("stats");
                StoreHealth space = StoreHealth.ofSpace("rbd", where, stats.path("stored").asLong(),
                        stats.path("max_avail").asLong());
                problems.addAll(space.problems());
                Status worst = space.status().compareTo(status) > 0 ? space.status() : status;
                return new StoreHealth("rbd", where, worst, problems, space.usedBytes(), space.availableBytes());
            }
        }
        problems.add("POOL_MISSING: the cluster has no pool " + pool);
        return new StoreHealth("rbd", where, Status.ERROR, problems, -1, -1);
    }
}
