package dev.apiary.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.apiary.pxe.PxeServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pxe: section of the YAML file: defaults, and every bad value refused with its key named. */
class PxeSettingsTest {
    @TempDir
    Path dir;

    @org.junit.jupiter.api.BeforeEach
    void dirs() throws Exception {
        Files.createDirectories(dir.resolve("s"));
        Files.createDirectories(dir.resolve("scripts"));
    }

    PxeSettings read(String yaml) throws Exception {
        Path f = dir.resolve("apiary.yaml");
        Files.writeString(f, yaml);
        return PxeSettings.from(ConfigFile.load(f, Set.of("pxe")).section("pxe"));
    }

    @Test
    void proxyDefaults() throws Exception {
        PxeSettings s = read("pxe:\n  address: 192.168.1.10\n  scripts: scripts\n");
        PxeServer.Config c = s.server();
        assertThat(c.dhcp()).isEqualTo(PxeServer.DhcpMode.PROXY);
        assertThat(c.address().getHostAddress()).isEqualTo("192.168.1.10");
        assertThat(c.httpPort()).isEqualTo(8080);
        assertThat(c.tftpPort()).isEqualTo(69);
        assertThat(c.ipxeDir()).isEqualTo(Path.of("/usr/lib/ipxe"));
        assertThat(c.filesDir()).isEqualTo(Path.of("/usr/lib/ipxe"));
        assertThat(c.uefiFile()).isEqualTo("snponly.efi");
        assertThat(c.biosFile()).isEqualTo("undionly.kpxe");
        assertThat(c.maxTransfers()).isEqualTo(64);
        assertThat(c.pool()).isNull();
    }

    @Test
    void fullDhcp() throws Exception {
        PxeSettings s = read("""
                pxe:
                  dhcp: full
                  address: 10.77.0.1
                  interface: br0
                  pool: 10.77.0.100 - 10.77.0.199
                  netmask: 255.255.255.0
                  router: 10.77.0.254
                  dns: [10.77.0.254, 10.77.0.253]
                  lease-time: 12h
                  lease-file: /var/lib/apiary/leases
                  uefi-boot-file: ipxe.efi
                  scripts: scripts
                  files: boot-files
                  http-port: 80
                  max-transfers: 100
                """);
        PxeServer.Pool p = s.server().pool();
        assertThat(p.first().getHostAddress()).isEqualTo("10.77.0.100");
        assertThat(p.last().getHostAddress()).isEqualTo("10.77.0.199");
        assertThat(p.router().getHostAddress()).isEqualTo("10.77.0.254");
        assertThat(p.dns()).hasSize(2);
        assertThat(p.leaseTime()).isEqualTo(Duration.ofHours(12));
        assertThat(p.leaseFile()).isEqualTo(Path.of("/var/lib/apiary/leases"));
        assertThat(s.server().uefiFile()).isEqualTo("ipxe.efi");
        assertThat(s.server().filesDir()).isEqualTo(dir.resolve("boot-files"));
        assertThat(s.server().httpPort()).isEqualTo(80);
        assertThat(s.server().maxTransfers()).isEqualTo(100);
    }

    @Test
    void badValuesNameTheirKey() {
        String base = "pxe:\n  address: 10.77.0.1\n  scripts: s\n";
        String full = base + "  dhcp: full\n  interface: br0\n";
        String[][] cases = {
            {base + "  adress: 1.2.3.4\n", "unknown setting pxe.adress"},
            {"pxe:\n  scripts: s\n", "pxe.address is required"},
            {"pxe:\n  address: 10.77.0.1\n", "pxe.machines or pxe.scripts is required"},
            {"pxe:\n  address: 10.77.0.1\n  scripts: nowhere\n", "pxe.scripts: " + dir.resolve("nowhere") + " is not a directory"},
            {"pxe:\n  address: apiary.local\n  scripts: s\n", "pxe.address: expected an IPv4 address"},
            {"pxe:\n  address: 10.77.0.300\n  scripts: s\n", "pxe.address: expected an IPv4 address"},
            {base + "  dhcp: maybe\n", "pxe.dhcp: expected proxy, full or off"},
            {base + "  http-port: 70000\n", "pxe.http-port: expected a whole number from 0 to 65535"},
            {base + "  http-port: eighty\n", "pxe.http-port: expected a whole number from 0 to 65535"},
            {base + "  max-transfers: 0\n", "pxe.max-transfers: expected a whole number from 1"},
            {base + "  uefi-boot-file: ../../etc/shadow\n", "pxe.uefi-boot-file: expected a file name"},
            {base + "  pool: 10.77.0.100-10.77.0.199\n", "pxe.pool applies only with dhcp: full"},
            {base + "  dhcp: full\n  pool: 10.77.0.100-10.77.0.199\n", "pxe.interface is required with dhcp: full"},
            {full, "pxe.pool is required"},
            {full + "  pool: 10.77.0.100\n", "pxe.pool: expected FIRST-LAST"},
            {full + "  pool: 10.78.0.100-10.78.0.199\n", "is not inside 10.77.0.1's subnet"},
            {full + "  pool: 10.77.0.199-10.77.0.100\n", "the first address comes after the last"},
            {full + "  pool: 10.77.0.1-10.77.0.50\n", "holds Apiary's own address 10.77.0.1"},
            {full + "  pool: 10.77.0.100-10.77.0.199\n  netmask: 255.0.255.0\n", "pxe.netmask: not a netmask"},
            {full + "  pool: 10.77.0.100-10.77.0.199\n  lease-time: forever\n", "pxe.lease-time: expected a duration"},
            {full + "  pool: 10.77.0.100-10.77.0.199\n  dns: [1]\n", "pxe.dns: expected an IPv4 address"},
            {"pxe: [1, 2]\n", "pxe: expected a mapping"},
            {"pxe:\n  address: [10.77.0.1]\n  scripts: s\n", "pxe.address: expected a string"},
            {"target:\n  x: 1\n", "unknown setting target"},
            {"- just\n- a list\n", "expected a mapping of sections"},
            {"pxe: {address: 10.77.0.1\n", "not valid YAML"},
        };
        for (String[] c : cases) {
            assertThatThrownBy(() -> read(c[0])).as(c[0]).isInstanceOf(ConfigFile.ConfigException.class)
                    .hasMessageContaining(c[1]);
        }
    }

    @Test
    void anEmptyFileLacksOnlyTheRequiredKeys() {
        assertThatThrownBy(() -> read("")).hasMessageContaining("pxe.address is required");
        assertThatThrownBy(() -> read("pxe:\n  address: 10.77.0.1\n  dhcp: off\n  scripts: s\n  tftp-port: 6.9\n"))
                .hasMessageContaining("pxe.tftp-port: expected a whole number from 0 to 65535");
    }
}
