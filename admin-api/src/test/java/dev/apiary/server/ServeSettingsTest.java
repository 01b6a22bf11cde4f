package dev.apiary.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.apiary.fleet.FleetPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** apiary serve's configuration: defaults with no file, and bad values named by key. */
class ServeSettingsTest {
    @TempDir
    Path dir;

    ServeSettings read(String yaml) throws Exception {
        Path f = dir.resolve("apiary.yaml");
        Files.writeString(f, yaml);
        return ServeSettings.from(ConfigFile.load(f, ServeSettings.SECTIONS));
    }

    @Test
    void noFileMeansSafeDefaults() {
        ServeSettings s = ServeSettings.from(ConfigFile.empty());
        assertThat(s.listen().toString()).isEqualTo("/127.0.0.1:3260");
        assertThat(s.portals()).singleElement().satisfies(p -> {
            assertThat(p.host()).isEqualTo("127.0.0.1");
            assertThat(p.port()).isEqualTo(3260);
        });
        assertThat(s.pxe()).as("no network boot without a pxe: section").isEmpty();
        assertThat(s.fleet().enrollment()).isEqualTo(FleetPolicy.Enrollment.AUTO);
        assertThat(s.fleet().image()).isNull();
        assertThat(s.fleet().dataSize()).isEqualTo(8L << 30);
        assertThat(s.api().toString()).isEqualTo("/127.0.0.1:8443");
        assertThat(s.gateway().join()).as("the API node, its own only gateway").isEmpty();
        assertThat(s.gateway().name()).matches("[a-z0-9][a-z0-9.-]*");
    }

    @Test
    void aGatewayNodeJoinsAnApiNodeOverTheSharedPool() throws Exception {
        ServeSettings s = read("""
                target: {listen: "10.0.0.2:3260"}
                store: {type: rbd, pool: fleet}
                gateway: {name: gw2, join: "https://10.0.0.1:8443", token: gw.token, cacert: api-cert.pem}
                """);
        assertThat(s.gateway().name()).isEqualTo("gw2");
        assertThat(s.gateway().join()).hasValueSatisfying(j -> {
            assertThat(j.api().toString()).isEqualTo("https://10.0.0.1:8443");
            assertThat(j.token()).isAbsolute().hasFileName("gw.token");
        });
    }

    @Test
    void portalsDefaultToTheBootNetworkAddress() throws Exception {
        ServeSettings s = read("""
                target: {listen: "0.0.0.0:3260"}
                pxe: {dhcp: off, address: 10.77.0.1}
                fleet: {enrollment: approve, image: golden@v2, data-size: 20G, name-pattern: "w-%d"}
                """);
        assertThat(s.portals()).singleElement().satisfies(p -> assertThat(p.host()).isEqualTo("10.77.0.1"));
        assertThat(s.fleet().enrollment()).isEqualTo(FleetPolicy.Enrollment.APPROVE);
        assertThat(s.fleet().dataSize()).isEqualTo(20L << 30);
        assertThat(read("fleet: {enrollment: off}\n").fleet().enrollment()).isEqualTo(FleetPolicy.Enrollment.OFF);
        assertThat(read("target: {portals: [\"10.0.0.1:3260\", \"10.0.0.2:3261\"]}\n").portals()).hasSize(2);
    }

    @Test
    void badValuesNameTheirKey() {
        String[][] cases = {
            {"fleet: {enrollment: sometimes}\n", "fleet.enrollment: expected auto, approve or off"},
            {"fleet: {image: golden}\n", "fleet.image: expected VOLUME@SNAPSHOT"},
            {"fleet: {iqn-prefix: iqn.bad}\n", "fleet.iqn-prefix: expected iqn.YYYY-MM"},
            {"fleet: {name-pattern: worker}\n", "fleet.name-pattern"},
            {"fleet: {name-pattern: \"a%d%d\"}\n", "fleet.name-pattern"},
            {"fleet: {data-size: lots}\n", "fleet.data-size"},
            {"fleet: {colour: blue}\n", "unknown setting fleet.colour"},
            {"target: {listen: 3260}\n", "target.listen: expected IPV4:PORT"},
            {"target: {listen: \"0.0.0.0:3260\"}\n", "target.portals is required"},
            {"target: {portals: [\"h:0\"]}\n", "target.portals: expected IPV4:PORT"},
            {"api: {listen: \"localhost:8443\"}\n", "api.listen: expected an IPv4 address"},
            {"pxe: {dhcp: off, address: 10.0.0.1, scripts: s}\n", "pxe.scripts is for apiary pxe serve"},
            {"nope: {}\n", "unknown setting nope"},
            {"store: {type: nfs}\n", "store.type: expected file or rbd"},
            {"store: {pool: rbd}\n", "store.pool is for type: rbd"},
            {"store: {type: file, conf: /etc/ceph/ceph.conf}\n", "store.conf is for type: rbd"},
            {"store: {type: rbd, timeout: forever}\n", "store.timeout"},
            {"store: {type: rbd, timeout: 0s}\n", "store.type: rbd: "},
            {"store: {type: rbd, size: 3}\n", "unknown setting store.size"},
            {"store: {type: rbd, pool: \"\"}\n", "store.type: rbd: "},
            {"gateway: {name: GW_1}\n", "gateway.name: expected"},
            {"gateway: {down-after: 1s}\n", "gateway.down-after: at least 2s"},
            {"gateway: {token: /x}\n", "gateway.token is for a gateway that joins"},
            {"gateway: {join: \"http://10.0.0.1:8443\"}\n", "gateway.join: expected https://"},
            {"gateway: {join: \"https://10.0.0.1:8443\", cacert: /x}\n", "gateway.token is required"},
            {"gateway: {join: \"https://10.0.0.1:8443\", token: /t, cacert: /c}\n", "gateway.join needs store: {type: rbd}"},
            {"gateway: {join: \"https://10.0.0.1:8443\", token: /t, cacert: /c}\nstore: {type: rbd}\npxe: {dhcp: proxy}\n",
                    "pxe: is for the API node"},
        };
        for (String[] c : cases) {
            assertThatThrownBy(() -> read(c[0])).as(c[0]).isInstanceOf(ConfigFile.ConfigException.class)
                    .hasMessageContaining(c[1]);
        }
    }
}
