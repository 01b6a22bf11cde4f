package dev.apiary.iscsi.scsi;

/**
 * A command ends in CHECK CONDITION for {@code reason}. {@code information} fills the sense
 * INFORMATION field when set (e.g. the offset of a miscompare, SBC-3 §5.2); {@code transferLength}
 * is the command's transfer length when it is known, so the transport can still report the
 * residual (RFC 7143 §11.4.5).
 */
public final class SenseException extends Exception {
    private static final long serialVersionUID = 1L;

    public final SenseReason reason;
    public final boolean hasInformation;
    public final long information;
    public final int transferLength;
    /** The CDB byte at fault (SPC-4 §4.5.2.4.2 field pointer), or -1 when not given. */
    public final int cdbField;

    private SenseException(SenseReason reason, boolean hasInformation, long information, int transferLength, int cdbField) {
        super(reason.name(), null, false, false);
        this.reason = reason;
        this.hasInformation = hasInformation;
        this.information = information;
        this.transferLength = transferLength;
        this.cdbField = cdbField;
    }

    public SenseException(SenseReason reason) {
        this(reason, false, 0, 0, -1);
    }

    public SenseException(SenseReason reason, long information) {
        this(reason, true, information, 0, -1);
    }

    static SenseException withTransferLength(SenseReason reason, int transferLength) {
        return new SenseException(reason, false, 0, transferLength, -1);
    }

    /** INVALID FIELD IN CDB pointing at CDB byte {@code index}, so the initiator knows which field. */
    static SenseException invalidCdbField(int index) {
        return new SenseException(SenseReason.INVALID_FIELD_IN_CDB, false, 0, 0, index);
    }
}
