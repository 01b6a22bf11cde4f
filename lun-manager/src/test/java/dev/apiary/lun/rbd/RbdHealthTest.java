package dev.apiary.lun.rbd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.lun.StoreHealth;
import dev.apiary.lun.StoreHealth.Status;
import org.junit.jupiter.api.Test;

/** Reading {@code ceph health} and {@code ceph df} output (pacific's JSON) into a store's health; no cluster needed. */
class RbdHealthTest {
    static final String OK = "{\"status\":\"HEALTH_OK\",\"checks\":{},\"mutes\":[]}";
    static final String DF = """
            {"stats":{"total_bytes":32212254720,"total_avail_bytes":31266439168},
             "pools":[{"name":"device_health_metrics","id":1,"stats":{"stored":0,"max_avail":9876543210}},
                      {"name":"rbd","id":2,"stats":{"stored":8388608,"objects":12,"bytes_used":25165824,
                       "percent_used":0.0008,"max_avail":9876543210}}]}""";

    @Test
    void aHealthyClusterAndARoomyPoolAreOk() throws Exception {
        StoreHealth h = RbdHealth.parse("rbd/fleet", "rbd", OK, DF);
        assertThat(h).isEqualTo(new StoreHealth("rbd", "rbd/fleet", Status.OK, java.util.List.of(), 8388608,
                9876543210L));
    }

    @Test
    void theClustersChecksArePassedOnWithItsStatus() throws Exception {
        String warn = """
                {"status":"HEALTH_WARN","checks":{
                  "OSD_DOWN":{"severity":"HEALTH_WARN","summary":{"message":"1 osds down","count":1},"muted":false},
                  "PG_DEGRADED":{"severity":"HEALTH_WARN","summary":{"message":"Degraded data redundancy: 5/15 objects degraded","count":5}}}}""";
        StoreHealth h = RbdHealth.parse("rbd", "rbd", warn, DF);
        assertThat(h.status()).isEqualTo(Status.WARN);
        assertThat(h.problems()).containsExactly("OSD_DOWN: 1 osds down",
                "PG_DEGRADED: Degraded data redundancy: 5/15 objects degraded");
        String err = "{\"status\":\"HEALTH_ERR\",\"checks\":{\"POOL_FULL\":{\"summary\":{\"message\":\"1 pool(s) full\"}}}}";
        assertThat(RbdHealth.parse("rbd", "rbd", err, DF).status()).isEqualTo(Status.ERROR);
    }

    @Test
    void aNearlyFullPoolIsAWarningEvenWhenTheClusterSaysOk() throws Exception {
        String df = "{\"pools\":[{\"name\":\"rbd\",\"stats\":{\"stored\":90,\"max_avail\":10}}]}";
        StoreHealth h = RbdHealth.parse("rbd", "rbd", OK, df);
        assertThat(h.status()).isEqualTo(Status.WARN);
        assertThat(h.problems()).containsExactly("NEARFULL: 90% used");
        df = "{\"pools\":[{\"name\":\"rbd\",\"stats\":{\"stored\":99,\"max_avail\":1}}]}";
        assertThat(RbdHealth.parse("rbd", "rbd", OK, df).status()).isEqualTo(Status.ERROR);
    }

    @Test
    void aPoolTheClusterDoesNotHaveIsAnError() throws Exception {
        StoreHealth h = RbdHealth.parse("gone", "gone", OK, DF);
        assertThat(h.status()).isEqualTo(Status.ERROR);
        assertThat(h.problems()).containsExactly("POOL_MISSING: the cluster has no pool gone");
        assertThat(h.usedBytes()).isEqualTo(-1);
    }
}
