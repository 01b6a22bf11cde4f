package dev.apiary.iscsi.login;

import dev.apiary.chap.ChapAuthority;
import dev.apiary.chap.ChapCredentials;
import dev.apiary.chap.ChapSecret;
import dev.apiary.iscsi.portal.ExportTable;
import dev.apiary.iscsi.portal.TargetExport;
import java.util.Optional;

/**
 * Whose CHAP secrets a login may prove. A normal session proves an account of its target. A
 * discovery session may prove any account of a target that admits the initiator; SendTargets then
 * lists only the targets that account opens (docs/security.md: an initiator sees its own targets).
 */
final class LoginChapAuthority implements ChapAuthority {
    private final ExportTable exports;
    private final TargetExport target;
    private final String initiatorName;

    LoginChapAuthority(ExportTable exports, TargetExport target, String initiatorName) {
        this.exports = exports;
        this.target = target;
        this.initiatorName = initiatorName;
    }

    private Optional<TargetExport> owner(String user) {
        if (target != null) {
            return target.account(user).map(a -> target);
        }
        return exports.targets().stream()
                .filter(t -> t.admits(initiatorName) && t.account(user).isPresent())
                .findFirst();
    }

    @Override
    public Optional<ChapSecret> secretFor(String user) {
        return owner(user).flatMap(t -> t.account(user)).map(ChapCredentials::secret);
    }

    @Override
    public Optional<ChapCredentials> mutualFor(String user) {
        return owner(user).flatMap(TargetExport::mutual);
    }
}
