package dev.apiary.iscsi.scsi;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A command after parsing: which handler runs it and, when {@code ranged}, the block range it
 * touches (LBA as an unsigned 64-bit value). Built only by {@link CommandParser}, which checks the range once.
 */
record Command(ScsiRequest request, ScsiOpcode op, long lba, long blocks, boolean ranged, Handler handler) {

    /**
     * One command family's implementation of one opcode. READ and WRITE finish when their volume
     * I/O completes (a network volume answers from its own completion, so no thread waits with
     * each I/O); every other command has its result when it returns ({@link Now}).
     */
    @FunctionalInterface
    interface Handler {
        CompletionStage<ScsiResult> run(Command c) throws SenseException, IOException;
    }

    /** A handler whose result is ready when it returns. */
    @FunctionalInterface
    interface Now {
        ScsiResult run(Command c) throws SenseException, IOException;
    }

    static Handler now(Now h) {
        return c -> CompletableFuture.completedFuture(h.run(c));
    }

    byte[] cdb() {
        return request.cdb();
    }

    Nexus nexus() {
        return request.nexus();
    }
}
