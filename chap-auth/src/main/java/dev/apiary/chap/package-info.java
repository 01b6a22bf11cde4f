/**
 * The target side of iSCSI CHAP authentication.
 *
 * <p>iSCSI reuses PPP's Challenge-Handshake Authentication Protocol (RFC 1994) inside the login
 * phase's text keys (RFC 7143 §12.1.3): the initiator offers algorithms with {@code CHAP_A}, the
 * target answers with one algorithm, an identifier {@code CHAP_I} and a challenge {@code CHAP_C},
 * and the initiator proves its secret with {@code CHAP_N}/{@code CHAP_R}, optionally challenging
 * the target back (mutual CHAP). RFC 7143 names MD5 (5); the SHA-1 (6), SHA-256 (7) and SHA3-256
 * (8) codes are IANA "PPP Authentication Algorithms" registrations that Linux LIO and open-iscsi
 * use for iSCSI.
 *
 * <p>Nothing in this package logs, and no {@code toString()} reveals a secret: CHAP secrets are
 * long-lived passwords, and a captured challenge/response pair allows an offline dictionary attack
 * on them. {@link dev.apiary.chap.TargetChap} drives one exchange; {@link
 * dev.apiary.chap.ChapAuthority} is what the rest of Apiary implements to say who may log in.
 */
package dev.apiary.chap;
