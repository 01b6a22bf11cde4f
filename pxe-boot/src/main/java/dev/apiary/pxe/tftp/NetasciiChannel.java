package dev.apiary.pxe.tftp;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * Netascii encoding of a byte stream (RFC 1350 §5, RFC 764): LF becomes CR LF and a bare CR
 * becomes CR NUL. The encoded length is not known in advance, so tsize is not offered for it.
 */
final class NetasciiChannel implements ReadableByteChannel {
    private final ReadableByteChannel in;
    private final ByteBuffer raw = ByteBuffer.allocate(8192).flip();
    private int pending = -1; // second byte of an expansion that did not fit

    NetasciiChannel(ReadableByteChannel in) {
        this.in = in;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        int start = dst.position();
        if (pending >= 0 && dst.hasRemaining()) {
            dst.put((byte) pending);
            pending = -1;
        }
        while (dst.hasRemaining()) {
            if (!raw.hasRemaining()) {
                raw.clear();
                int n = in.read(raw);
                raw.flip();
                if (n <= 0) {
                    int written = dst.position() - start;
                    return written == 0 && n < 0 ? -1 : written;
                }
            }
            byte b = raw.get();
            if (b == '\n' || b == '\r') {
                dst.put(b == '\n' ? (byte) '\r' : b);
                int second = b == '\n' ? '\n' : 0;
                if (dst.hasRemaining()) {
                    dst.put((byte) second);
                } else {
                    pending = second;
                }
            } else {
                dst.put(b);
            }
        }
        return dst.position() - start;
    }

    @Override
    public boolean isOpen() {
        return in.isOpen();
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
