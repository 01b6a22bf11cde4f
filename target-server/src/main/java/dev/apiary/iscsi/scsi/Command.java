package dev.apiary.iscsi.scsi;

import java.io.IOException;

/**
 * A command after parsing: which handler runs it and, when {@code ranged}, the block range it
 * touches (LBA as an unsigned 64-bit value). Built only by {@link CommandParser}, which checks the range once.
 */
record Command(ScsiRequest request, ScsiOpcode op, long lba, long blocks, boolean ranged, Handler handler) {

    /** One command family's implementation of one opcode. */
    @FunctionalInterface
    interface Handler {
        ScsiResult run(Command c) throws SenseException, IOException;
    }

    byte[] cdb() {
        return request.cdb();
    }

    Nexus nexus() {
        return request.nexus();
    }
}
