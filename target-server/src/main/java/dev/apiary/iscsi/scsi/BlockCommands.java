package dev.apiary.iscsi.scsi;

import static dev.apiary.iscsi.scsi.Cdb.u16;
import static dev.apiary.iscsi.scsi.Cdb.u32;
import static dev.apiary.iscsi.scsi.Cdb.u64;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The SBC-3 commands that move or check blocks: READ, WRITE, VERIFY, WRITE AND VERIFY, ORWRITE,
 * COMPARE AND WRITE, PRE-FETCH, SYNCHRONIZE CACHE, WRITE SAME, UNMAP, GET LBA STATUS and READ
 * CAPACITY. Ranges arrive already checked by {@link CommandParser}; this class turns them into
 * volume verbs.
 */
final class BlockCommands {
    /** Block Limits VPD (SBC-3 §6.5.3) values; {@link InquiryPages} reports the same constants. */
    static final int MAX_COMPARE_AND_WRITE_BLOCKS = 255;
    static final long MAX_UNMAP_LBA_COUNT = 1L << 20;
    static final int MAX_UNMAP_DESCRIPTORS = 256;
    static final long MAX_WRITE_SAME_BLOCKS = 1L << 22;
    private static final int FILL_CHUNK = 1 << 20;

    private final LogicalUnit lu;

    BlockCommands(LogicalUnit lu) {
        this.lu = lu;
    }

    private long offset(Command c) {
        return c.lba() * lu.blockSize;
    }

    private long bytes(Command c) {
        return c.blocks() * lu.blockSize;
    }

    /** Answered when the volume has filled the Data-In buffer: no thread waits for the I/O. */
    CompletionStage<ScsiResult> read(Command c) throws SenseException {
        if (Cdb.protect(c.cdb()) != 0 && c.op() != ScsiOpcode.READ_6) {
            throw new SenseException(SenseReason.INVALID_FIELD_IN_CDB); // SBC-3 §5.8: no protection information
        }
        long bytes = bytes(c);
        ScsiResult good = ScsiResult.good((int) bytes);
        ByteBuffer in = c.request().dataIn();
        if (in == null || bytes == 0) {
            return CompletableFuture.completedFuture(good);
        }
        int n = (int) Math.min(bytes, in.remaining());
        return lu.volume.readAsync(offset(c), in.slice(in.position(), n)).thenApply(v -> {
            in.position(in.position() + n);
            return good;
        });
    }

    /** The data a write carries; an initiator that sends less than the CDB asks for gets an error. */
    private ByteBuffer dataOut(Command c, long bytes) throws SenseException {
        ByteBuffer out = c.request().dataOut();
        int have = out == null ? 0 : out.remaining();
        if (have < bytes) {
            throw new SenseException(SenseReason.INVALID_FIELD_IN_CDB);
        }
        return out.slice(out.position(), (int) bytes);
    }

    private boolean fua(Command c) {
        // SBC-3 §5.38: with the write cache off (WCE = 0) every write is a FUA write.
        return c.op() != ScsiOpcode.WRITE_6 && Cdb.fua(c.cdb()) || !lu.modePages.writeCacheEnabled();
    }

    private void checkWritable(Command c) throws SenseException {
        if (lu.volume.readOnly()) {
            throw new SenseException(SenseReason.WRITE_PROTECTED);
        }
        if (Cdb.protect(c.cdb()) != 0 && c.op() != ScsiOpcode.WRITE_6) {
            throw new SenseException(SenseReason.INVALID_FIELD_IN_CDB);
        }
    }

    /**
     * RFC 7143 §11.4.5.2: when the expected transfer length and the CDB disagree, only the blocks
     * both cover are written and the transport reports the residual. Part of a block cannot be
     * written, so a transfer that ends inside a block is refused (SAM-5 INVALID FIELD IN COMMAND IU).
     */
    CompletionStage<ScsiResult> write(Command c) throws SenseException {
        checkWritable(c);
        long bytes = bytes(c);
        ByteBuffer out = c.request().dataOut();
        long have = Math.min(bytes, out == null ? 0 : out.remaining());
        if (have % lu.blockSize != 0) {
            throw SenseException.withTransferLength(SenseReason.INVALID_FIELD_IN_COMMAND_IU, (int) bytes);
        }
        ScsiResult good = ScsiResult.good((int) bytes);
        if (have == 0) {
            return CompletableFuture.completedFuture(good);
        }
        // Shared until the volume completes the write (a StampedLock: it may end on another thread).
        long shared = lu.atomicity.readLock();
        try {
            return lu.volume.writeAsync(offset(c), out.slice(out.position(), (int) have), fua(c))
                    .whenComplete((v, e) -> lu.atomicity.unlockRead(shared))
                    .thenApply(v -> good);
        } catch (RuntimeException e) {
            lu.atomicity.unlockRead(shared);
            throw e;
        }
    }

    /** SBC-3 §5.40: a write followed by a verify of the medium, which a write that returned has passed. */
    CompletionStage<ScsiResult> writeAndVerify(Command c) throws SenseException {
        return write(c);
    }

    /** SBC-3 §5.33: BYTCHK 0 checks the medium only; 1 compares the data sent; 3 compares one block to each. */
    ScsiResult verify(Command c) throws SenseException, IOException {
        if (Cdb.protect(c.cdb()) != 0) {
            throw new SenseException(SenseReason.INVALID_FIELD_IN_CDB);
        }
        int bytchk = Cdb.bytchk(c.cdb());
        if (bytchk == 0 || c.blocks() == 0) {
            return ScsiResult.good(0);
        }
        if (bytchk == 2) {
            throw new SenseException(SenseReason.INVALID_FIELD_IN_CDB);
        }
        long bytes = bytes(c);
        ByteBuffer expected = dataOut(c, bytchk == 1 ? bytes : lu.blockSize);
        ByteBuffer actual = ByteBuffer.allocate((int) bytes);
        lu.volume.read(offset(c), actual);
        actual.flip();
        for (int i = 0; i < bytes; i++) {
            int e = expected.get(bytchk == 1 ? i : i % lu.blockSize);
            if (actual.get(i) != e) {
                throw new SenseException(SenseReason.MISCOMPARE_DURING_VERIFY, i);
            }
        }
        return ScsiResult.good((int) (bytchk == 1 ? bytes : lu.blockSize));
    }

    /** SBC-3 §5.10: the new data is OR-ed into the blocks, atomically. */
    ScsiResult orWrite(Command c) throws SenseException, IOException {
        checkWritable(c);
        long bytes = bytes(c);
        if (bytes == 0) {
            return ScsiResult.good(0);
        }
        ByteBuffer data = dataOut(c, bytes);
        long exclusive = lu.atomicity.writeLock();
        try {
            ByteBuffer merged = ByteBuffer.allocate((int) bytes);
            lu.volume.read(offset(c), merged);
            for (int i = 0; i < bytes; i++) {
                merged.put(i, (byte) (merged.get(i) | data.get(i)));
            }
            merged.clear();
            lu.volume.write(offset(c), merged, fua(c));
        } finally {
            lu.atomicity.unlockWrite(exclusive);
        }
        return ScsiResult.good((int) bytes);
    }

    /**
     * SBC-3 §5.3: compare the first half of the data with the medium and, only if equal, write the
     * second half, with no other write in between. A miscompare reports the offset of the first
     * differing byte in the INFORMATION field.
     */
    ScsiResult compareAndWrite(Command c) throws SenseException, IOException {
        checkWritable(c);
        if (c.blocks() > MAX_COMPARE_AND_WRITE_BLOCKS) {
            throw new SenseException(SenseReason.INVALID_FIELD_IN_CDB);
        }
        long bytes = bytes(c);
        ByteBuffer out = c.request().dataOut();
        if ((out == null ? 0 : out.remaining()) != 2 * bytes) {
            // SBC-3 §5.3: the data-out buffer is exactly the compare half plus the write half.
            throw new SenseException(SenseReason.INVALID_FIELD_IN_CDB);
        }
        if (bytes == 0) {
            return ScsiResult.good(0);
        }
        ByteBuffer data = dataOut(c, 2 * bytes);
        long exclusive = lu.atomicity.writeLock();
        try {
            ByteBuffer current = ByteBuffer.allocate((int) bytes);
            lu.volume.read(offset(c), current);
            for (int i = 0; i < bytes; i++) {
                if (current.get(i) != data.get(i)) {
                    throw new SenseException(SenseReason.MISCOMPARE_DURING_VERIFY, i);
                }
            }
            lu.volume.write(offset(c), data.slice((int) bytes, (int) bytes), fua(c));
        } finally {
            lu.atomicity.unlockWrite(exclusive);
        }
        return ScsiResult.good((int) (2 * bytes));
    }

    /** SBC-3 §5.14: nothing to load ahead for a volume with no cache of its own; the range was checked. */
    ScsiResult prefetch(Command c) {
        return ScsiResult.good(0);
    }

    ScsiResult synchronizeCache(Command c) throws IOException {
        lu.volume.flush();
        return ScsiResult.good(0);
    }

    /** SBC-3 §5.41/§5.42: one block of data (or zeros with NDOB) repeated over the range, or an unmap. */
    ScsiResult writeSame(Command c) throws SenseException, IOException {
        checkWritable(c);
        byte[] cdb = c.cdb();
        boolean anchor = (cdb[1] & 0x10) != 0;
        boolean unmap = (cdb[1] & 0x08) != 0;
        boolean ndob = c.op() == ScsiOpcode.WRITE_SAME_16 && (cdb[1] & 0x01) != 0;
        boolean lbdataPbdata = (cdb[1] & 0x06) != 0;
        if (anchor || lbdataPbdata || c.blocks() == 0 || c.blocks() > MAX_WRITE_SAME_BLOCKS) {
            // ANC_SUP = 0, LBDATA/PBDATA are obsolete, and WSNZ = 1 makes a zero count invalid.
            throw new SenseException(SenseReason.INVALID_FIELD_IN_CDB);
        }
        byte[] block = new byte[lu.blockSize];
        if (!ndob) {
            ByteBuffer out = c.request().dataOut();
            if (out == null || out.remaining() != lu.blockSize) {
                // SBC-3 §5.41: the data-out buffer is exactly one logical block.
                throw new SenseException(SenseReason.INVALID_FIELD_IN_CDB);
            }
            out.duplicate().get(block);
        }
        boolean zeros = isZero(block);
        if (unmap && zeros) {
            lu.volume.unmap(offset(c), bytes(c));
            return ScsiResult.good(ndob ? 0 : lu.blockSize);
        }
        int perChunk = Math.max(1, FILL_CHUNK / lu.blockSize);
        ByteBuffer fill = ByteBuffer.allocate(perChunk * lu.blockSize);
        for (int i = 0; i < perChunk; i++) {
            fill.put(block);
        }
        long shared = lu.atomicity.readLock();
        try {
            long pos = offset(c);
            long end = pos + bytes(c);
            while (pos < end) {
                int n = (int) Math.min(fill.capacity(), end - pos);
                lu.volume.write(pos, fill.clear().limit(n), fua(c));
                pos += n;
            }
        } finally {
            lu.atomicity.unlockRead(shared);
        }
        return ScsiResult.good(ndob ? 0 : lu.blockSize);
    }

    private static boolean isZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    /** SBC-3 §5.27: a parameter list of block descriptors (LBA, count), each range deallocated. */
    ScsiResult unmap(Command c) throws SenseException, IOException {
        checkWritable(c);
        byte[] cdb = c.cdb();
        if ((cdb[1] & 0x01) != 0) {
            throw new SenseException(SenseReason.INVALID_FIELD_IN_CDB); // ANCHOR without ANC_SUP
        }
        int listLength = u16(cdb, 7);
        if (listLength == 0) {
            return ScsiResult.good(0); // §5.27: not an error; nothing to do
        }
        if (listLength < 8) {
            throw new SenseException(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
        }
        byte[] p = DataIn.parameters(c.request(), listLength);
        int descriptorBytes = Math.min(u16(p, 2), listLength - 8) & ~15;
        if (descriptorBytes / 16 > MAX_UNMAP_DESCRIPTORS) {
            throw new SenseException(SenseReason.INVALID_FIELD_IN_PARAMETER_LIST);
        }
        long capacity = lu.blocks();
        for (int at = 8; at < 8 + descriptorBytes; at += 16) {
            long lba = u64(p, at);
            long count = u32(p, at + 8);
            if (Long.compareUnsigned(lba, capacity) > 0 || count > capacity - lba) {
                throw new SenseException(SenseReason.LBA_OUT_OF_RANGE);
            }
            if (count > MAX_UNMAP_LBA_COUNT) {
                throw new SenseException(SenseReason.INVALID_FIELD_IN_PARAMETER_LIST);
            }
        }
        for (int at = 8; at < 8 + descriptorBytes; at += 16) {
            long count = u32(p, at + 8);
            if (count > 0) {
                lu.volume.unmap(u64(p, at) * lu.blockSize, count * lu.blockSize);
            }
        }
        return ScsiResult.good(listLength);
    }

    /** SBC-3 §5.15: one descriptor from the starting LBA to the end, mapped or deallocated. */
    ScsiResult getLbaStatus(Command c) throws SenseException, IOException {
        long capacity = lu.blocks();
        if (Long.compareUnsigned(c.lba(), capacity) >= 0) {
            throw new SenseException(SenseReason.LBA_OUT_OF_RANGE);
        }
        long count = Math.min(capacity - c.lba(), 0xffffffffL);
        boolean deallocated = lu.volume.isDeallocated(c.lba() * lu.blockSize, count * lu.blockSize);
        byte[] d = new byte[24];
        Cdb.put32(d, 0, 20);
        Cdb.put64(d, 8, c.lba());
        Cdb.put32(d, 16, count);
        d[20] = (byte) (deallocated ? 1 : 0);
        return DataIn.put(c.request(), d, u32(c.cdb(), 10));
    }

    /** SBC-3 §5.16: the last LBA (saturated at 0xffffffff) and the block length. */
    ScsiResult readCapacity10(Command c) throws SenseException {
        byte[] cdb = c.cdb();
        if ((cdb[8] & 0x01) == 0 && u32(cdb, 2) != 0) {
            throw new SenseException(SenseReason.INVALID_FIELD_IN_CDB); // LBA set without PMI
        }
        byte[] d = new byte[8];
        Cdb.put32(d, 0, Math.min(lu.blocks() - 1, 0xffffffffL));
        Cdb.put32(d, 4, lu.blockSize);
        return DataIn.put(c.request(), d, 8);
    }

    /** SBC-3 §5.17: capacity, block length and thin provisioning (LBPME, LBPRZ). */
    ScsiResult readCapacity16(Command c) {
        byte[] d = new byte[32];
        Cdb.put64(d, 0, lu.blocks() - 1);
        Cdb.put32(d, 8, lu.blockSize);
        d[13] = 0; // LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT: volumes have no larger physical block
        d[14] = (byte) 0xc0; // LBPME: UNMAP and WRITE SAME unmap work; LBPRZ: unmapped blocks read zeros
        return DataIn.put(c.request(), d, u32(c.cdb(), 10));
    }
}
