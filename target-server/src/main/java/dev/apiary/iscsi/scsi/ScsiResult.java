package dev.apiary.iscsi.scsi;

/**
 * How a command ended. {@code transferLength} is how many bytes the command wanted to return (or
 * consume): the transport compares it with the expected transfer length for the residual
 * (RFC 7143 §11.4.5); {@code sense} is null unless the status is CHECK CONDITION.
 */
public record ScsiResult(int status, byte[] sense, int transferLength) {
    public static ScsiResult good(int transferLength) {
        return new ScsiResult(ScsiStatus.GOOD, null, transferLength);
    }

    public static ScsiResult check(byte[] sense) {
        return new ScsiResult(ScsiStatus.CHECK_CONDITION, sense, 0);
    }

    /** CHECK CONDITION for a command whose transfer length is known, so the residual can be reported. */
    public static ScsiResult check(byte[] sense, int transferLength) {
        return new ScsiResult(ScsiStatus.CHECK_CONDITION, sense, transferLength);
    }

    public static ScsiResult status(int status) {
        return new ScsiResult(status, null, 0);
    }
}
