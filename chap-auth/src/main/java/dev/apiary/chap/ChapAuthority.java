package dev.apiary.chap;

import java.util.Optional;

/**
 * What the target knows for one login: who may authenticate, and the target's own credentials for
 * mutual CHAP (RFC 7143 §12.1.3).
 *
 * <p>RFC 7143 §12.1.3 forbids configuring a secret used to authenticate initiators as a target
 * secret and vice versa; implementations should keep the two apart.
 */
public interface ChapAuthority {
    /** The secret the initiator must prove for this CHAP_N user name, or empty if the user is unknown. */
    Optional<ChapSecret> secretFor(String user);

    /**
     * The target's own credentials, used to answer an initiator's challenge (mutual CHAP), for
     * this authenticated user; empty if mutual CHAP is not configured.
     */
    Optional<ChapCredentials> mutualFor(String user);
}
