package dev.apiary.pxe.tftp;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.AccessDeniedException;
import java.util.Optional;

/**
 * Decides what a read request gets (Pixiecore's tftp.Handler): the pxe layer may serve files from
 * a directory ({@link RootDirectory}), from memory, or per client. Called on a Netty event loop, so
 * it must be quick.
 */
@FunctionalInterface
public interface FileSource {
    /**
     * @return the content to send, or empty for "file not found" (ERROR 1)
     * @throws AccessDeniedException for a path the client may not read (ERROR 2)
     * @throws IOException anything else (ERROR 0)
     */
    Optional<Source> open(String path, InetSocketAddress client) throws IOException;

    /**
     * Content to send. {@code size} is its length in bytes, or -1 when unknown (then a tsize option
     * is not acknowledged). The transfer reads the channel sequentially and closes it when done.
     */
    record Source(long size, ReadableByteChannel channel) implements Closeable {
        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
