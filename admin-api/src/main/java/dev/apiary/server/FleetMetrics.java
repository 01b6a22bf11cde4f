package dev.apiary.server;

import dev.apiary.fleet.BootTimeline;
import dev.apiary.fleet.FleetService;
import dev.apiary.fleet.Worker;
import dev.apiary.gateway.ExportPublisher;
import dev.apiary.iscsi.portal.TargetServer;
import dev.apiary.lun.CountingVolume;
import dev.apiary.pxe.PxeServer;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What {@code /metrics} shows (Prometheus text format, Micrometer): workers by state, live iSCSI
 * sessions, operations and bytes per exported volume, DHCP and TFTP counters, and boot durations
 * (from a boot's start to each phase it reaches, as a histogram). Gauges read the services when
 * scraped; per-volume counters follow the export table.
 */
public final class FleetMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final FleetService fleet;
    private final ExportPublisher exports;
    private final Map<String, List<Meter>> perVolume = new HashMap<>();
    private volatile Map<Worker.State, Long> byState = Map.of();
    private static final java.time.Duration[] BOOT_BUCKETS = java.util.stream.IntStream.of(1, 2, 5, 10, 20, 30, 60, 120, 300)
            .mapToObj(java.time.Duration::ofSeconds).toArray(java.time.Duration[]::new);

    public FleetMetrics(FleetService fleet, TargetServer target, ExportPublisher exports, Optional<PxeServer> pxe) {
        this.fleet = fleet;
        this.exports = exports;
        for (Worker.State s : Worker.State.values()) {
            Gauge.builder("apiary_workers", this, m -> m.byState.getOrDefault(s, 0L))
                    .description("Workers in the inventory by state").tag("state", s.name().toLowerCase(java.util.Locale.ROOT))
                    .register(registry);
        }
        Map<BootTimeline.Phase, Timer> phases = new java.util.EnumMap<>(BootTimeline.Phase.class);
        for (BootTimeline.Phase p : BootTimeline.Phase.values()) {
            phases.put(p, Timer.builder("apiary_boot_phase")
                    .description("Time from a boot's start (its DHCP offer, or its script) to each phase it reaches")
                    .tag("phase", p.label()).serviceLevelObjectives(BOOT_BUCKETS).register(registry));
        }
        fleet.boots().onPhase((p, d) -> phases.get(p).record(d));
        Gauge.builder("apiary_iscsi_sessions", target, t -> t.sessions().all().size())
                .description("Live iSCSI sessions").register(registry);
        pxe.ifPresent(p -> {
            String[] names = {"received", "malformed", "answered"};
            for (int i = 0; i < names.length; i++) {
                int k = i;
                FunctionCounter.builder("apiary_dhcp_datagrams", p, s -> s.dhcpCounters()[k])
                        .description("DHCP datagrams by outcome").tag("outcome", names[i]).register(registry);
            }
            Gauge.builder("apiary_tftp_transfers", p, s -> s.tftpTransfers()[0])
                    .description("TFTP transfers running").register(registry);
            Gauge.builder("apiary_tftp_waiting", p, s -> s.tftpTransfers()[1])
                    .description("TFTP requests waiting for a transfer slot").register(registry);
        });
    }

    /** The Prometheus text for one scrape. Runs off the event loop: it reads the inventory. */
    public synchronized String scrape() {
        byState = fleet.countByState();
        Map<String, CountingVolume> volumes = exports.volumes();
        for (String gone : new ArrayList<>(perVolume.keySet())) {
            if (!volumes.containsKey(gone)) {
                perVolume.remove(gone).forEach(registry::remove);
            }
        }
        volumes.forEach((name, v) -> perVolume.computeIfAbsent(name, n -> List.of(
                counter("apiary_lun_reads", "Read operations per exported volume", n, v, CountingVolume::reads),
                counter("apiary_lun_read_bytes", "Bytes read per exported volume", n, v, CountingVolume::readBytes),
                counter("apiary_lun_writes", "Write operations per exported volume", n, v, CountingVolume::writes),
                counter("apiary_lun_written_bytes", "Bytes written per exported volume", n, v,
                        CountingVolume::writtenBytes))));
        return registry.scrape();
    }

    private Meter counter(String name, String help, String volume, CountingVolume v,
            java.util.function.ToDoubleFunction<CountingVolume> f) {
        return FunctionCounter.builder(name, v, f).description(help).tag("volume", volume).register(registry);
    }
}
