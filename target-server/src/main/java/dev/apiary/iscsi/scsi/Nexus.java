package dev.apiary.iscsi.scsi;

/**
 * An I_T nexus (SAM-5 §4.6): who sent a command through which target port. Unit attentions and
 * reservations are kept per nexus. For iSCSI the initiator port is "name,i,0xISID" and the target
 * port "name,t,0xTPGT" (RFC 7143 §4.4.1, SAM-5 Annex A).
 */
public record Nexus(
        String initiatorName, String initiatorPort, String targetName, String targetPort, int relativePort, int portGroup) {

    public static Nexus iscsi(String initiatorName, long isid, String targetName, int portGroup, int relativePort) {
        return new Nexus(initiatorName, String.format("%s,i,0x%012x", initiatorName, isid), targetName,
                String.format("%s,t,0x%04x", targetName, portGroup), relativePort, portGroup);
    }
}
