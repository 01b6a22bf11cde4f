package dev.apiary.iscsi.portal;

import dev.apiary.chap.ChapCredentials;
import dev.apiary.iscsi.scsi.LunMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * One exported target: its IQN, its logical units by LUN number, who may log in (CHAP accounts and
 * an optional initiator-name ACL) and the target's own credentials for mutual CHAP. Immutable.
 *
 * <p>Security model: a target without a CHAP account cannot be built, so no LUN is reachable
 * without CHAP; an empty {@code initiators} set admits any initiator that passes CHAP.
 */
public record TargetExport(
        String iqn,
        LunMap luns,
        List<ChapCredentials> accounts,
        Optional<ChapCredentials> mutual,
        Set<String> initiators) {

    public TargetExport {
        if (iqn == null || iqn.isBlank()) {
            throw new IllegalArgumentException("a target needs an IQN");
        }
        if (accounts.isEmpty()) {
            throw new IllegalArgumentException(iqn + ": a target needs at least one CHAP account");
        }
        accounts = List.copyOf(accounts);
        for (ChapCredentials a : accounts) {
            if (mutual.isPresent() && mutual.get().secret().equals(a.secret())) {
                // RFC 7143 §12.1.3: a secret that authenticates initiators MUST NOT authenticate the target.
                throw new IllegalArgumentException(iqn + ": the target's mutual CHAP secret must differ from "
                        + "the secret of account " + a.user());
            }
        }
        initiators = Set.copyOf(initiators);
    }

    /** Whether the initiator-name ACL lets {@code initiatorName} see and log in to this target. */
    public boolean admits(String initiatorName) {
        return initiators.isEmpty() || initiators.contains(initiatorName);
    }

    public Optional<ChapCredentials> account(String user) {
        return accounts.stream().filter(a -> a.user().equals(user)).findFirst();
    }
}
