package dev.apiary.iscsi.portal;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The immutable snapshot of everything a portal exports. The control plane builds a new table and
 * swaps it in atomically (DESIGN.md, data path); the data path only ever reads a snapshot.
 */
public final class ExportTable {
    /** A portal where the same targets are exported too (another gateway): HOST:PORT and its portal group tag. */
    public record Portal(String address, int group) {}

    private final Map<String, TargetExport> byIqn;
    private final List<TargetExport> order;
    private final List<Portal> portals;

    public ExportTable(Collection<TargetExport> targets) {
        this(targets, List.of());
    }

    /**
     * {@code portals}: every gateway's portal, this one's included; SendTargets names them all, so
     * a multipath initiator discovers a path through each (RFC 7143 §13.3, Appendix C).
     */
    public ExportTable(Collection<TargetExport> targets, List<Portal> portals) {
        this.portals = List.copyOf(portals);
        Map<String, TargetExport> m = new LinkedHashMap<>();
        for (TargetExport t : targets) {
            if (m.put(t.iqn(), t) != null) {
                throw new IllegalArgumentException("target " + t.iqn() + " is exported twice");
            }
        }
        this.byIqn = Map.copyOf(m);
        this.order = List.copyOf(m.values());
    }

    public Optional<TargetExport> target(String iqn) {
        return Optional.ofNullable(byIqn.get(iqn));
    }

    public List<TargetExport> targets() {
        return order;
    }

    public List<Portal> portals() {
        return portals;
    }
}
