package dev.apiary.iscsi.scsi;

import java.util.List;
import java.util.Optional;

/**
 * The target port groups one logical unit is reached through, with the unit's access state in
 * each (SPC-4 §5.15): one group per gateway, each with that gateway's relative target port. What
 * REPORT TARGET PORT GROUPS reports, and what decides whether a port serves the medium.
 */
public record PortGroups(List<Group> groups) {
    /** One target port group: its id, the unit's state through it, and its one relative target port. */
    public record Group(int id, AccessState state, int relativePort) {
        public Group {
            if (id < 0 || id > 0xffff || relativePort < 1 || relativePort > 0xffff) {
                throw new IllegalArgumentException("a port group is 0..65535 and a relative port 1..65535: " + id
                        + ", " + relativePort);
            }
        }
    }

    public PortGroups {
        groups = List.copyOf(groups);
        if (groups.isEmpty() || groups.stream().map(Group::id).distinct().count() != groups.size()
                || groups.stream().map(Group::relativePort).distinct().count() != groups.size()) {
            throw new IllegalArgumentException("port groups need distinct ids and relative ports: " + groups);
        }
    }

    /** A unit served by one gateway only: its port's group, active/optimized. */
    public static PortGroups single(int id, int relativePort) {
        return new PortGroups(List.of(new Group(id, AccessState.ACTIVE_OPTIMIZED, relativePort)));
    }

    /** The group with {@code id}, if the unit is reached through it. */
    public Optional<Group> group(int id) {
        return groups.stream().filter(g -> g.id() == id).findFirst();
    }

    /** The unit's state through group {@code id}; a port the unit is not configured on is unavailable. */
    public AccessState stateOf(int id) {
        return group(id).map(Group::state).orElse(AccessState.UNAVAILABLE);
    }
}
