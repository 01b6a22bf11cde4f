package dev.apiary.pxe.tftp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Pure functions between TFTP packets and bytes. Decoding is strict: every string must be
 * NUL-terminated (RFC 1350 §5), the mode must be netascii or octet, requests may not exceed 512
 * bytes (RFC 2347 §2), option names are case-insensitive and a repeated option is ignored.
 * Decoding never releases or retains the input buffer; encoding returns a new buffer the caller owns.
 */
public final class TftpCodec {
    /** RFC 2347 §2: "the request packet must not exceed 512 octets". */
    public static final int MAX_REQUEST_SIZE = 512;
    /** RFC 2348: the largest block size. */
    public static final int MAX_BLOCK_SIZE = 65464;

    /** A packet that is not valid TFTP; the message says why (and goes into ERROR 4 replies). */
    public static final class MalformedPacketException extends Exception {
        public MalformedPacketException(String message) {
            super(message, null, false, false);
        }
    }

    private TftpCodec() {
    }

    /** Reads one whole datagram, from readerIndex to writerIndex; the buffer's indices are not moved. */
    public static TftpPacket decode(ByteBuf in) throws MalformedPacketException {
        int start = in.readerIndex();
        int end = in.writerIndex();
        if (end - start < 2) {
            throw new MalformedPacketException("packet shorter than an opcode");
        }
        int opcode = in.getUnsignedShort(start);
        int pos = start + 2;
        switch (opcode) {
            case TftpPacket.RRQ, TftpPacket.WRQ -> {
                if (end - start > MAX_REQUEST_SIZE) {
                    throw new MalformedPacketException("request longer than " + MAX_REQUEST_SIZE + " bytes");
                }
                Cursor c = new Cursor(in, pos, end);
                String filename = c.string("filename");
                if (filename.isEmpty()) {
                    throw new MalformedPacketException("empty filename");
                }
                String modeName = c.string("mode").toLowerCase(Locale.ROOT);
                TftpPacket.Mode mode = switch (modeName) {
                    case "netascii" -> TftpPacket.Mode.NETASCII;
                    case "octet" -> TftpPacket.Mode.OCTET;
                    default -> throw new MalformedPacketException("unsupported mode '" + modeName + "'");
                };
                Map<String, String> options = c.options();
                return opcode == TftpPacket.RRQ
                        ? new TftpPacket.ReadRequest(filename, mode, options)
                        : new TftpPacket.WriteRequest(filename, mode, options);
            }
            case TftpPacket.DATA -> {
                if (end - start < 4) {
                    throw new MalformedPacketException("DATA without a block number");
                }
                if (end - start - 4 > MAX_BLOCK_SIZE) {
                    throw new MalformedPacketException("DATA larger than " + MAX_BLOCK_SIZE + " bytes");
                }
                byte[] bytes = new byte[end - start - 4];
                in.getBytes(start + 4, bytes);
                return new TftpPacket.Data(in.getUnsignedShort(pos), bytes);
            }
            case TftpPacket.ACK -> {
                if (end - start != 4) {
                    throw new MalformedPacketException("ACK must be 4 bytes, not " + (end - start));
                }
                return new TftpPacket.Ack(in.getUnsignedShort(pos));
            }
            case TftpPacket.ERROR -> {
                if (end - start < 4) {
                    throw new MalformedPacketException("ERROR without a code");
                }
                int code = in.getUnsignedShort(pos);
                // Lenient here only: some clients omit the final NUL of the message, and an ERROR
                // ends the transfer whatever it says.
                int nul = in.indexOf(start + 4, end, (byte) 0);
                int msgEnd = nul < 0 ? end : nul;
                return new TftpPacket.Error(code, in.toString(start + 4, msgEnd - start - 4, StandardCharsets.UTF_8));
            }
            case TftpPacket.OACK -> {
                return new TftpPacket.OAck(new Cursor(in, pos, end).options());
            }
            default -> throw new MalformedPacketException("unknown opcode " + opcode);
        }
    }

    /** Encodes any packet into a new heap or direct buffer from {@code alloc}. */
    public static ByteBuf encode(ByteBufAllocator alloc, TftpPacket packet) {
        return switch (packet) {
            case TftpPacket.ReadRequest r -> request(alloc, TftpPacket.RRQ, r.filename(), r.mode(), r.options());
            case TftpPacket.WriteRequest w -> request(alloc, TftpPacket.WRQ, w.filename(), w.mode(), w.options());
            case TftpPacket.Data d -> {
                ByteBuf b = alloc.buffer(4 + d.bytes().length);
                yield b.writeShort(TftpPacket.DATA).writeShort(d.block()).writeBytes(d.bytes());
            }
            case TftpPacket.Ack a -> alloc.buffer(4).writeShort(TftpPacket.ACK).writeShort(a.block());
            case TftpPacket.Error e -> {
                ByteBuf b = alloc.buffer(5 + e.message().length() * 3);
                b.writeShort(TftpPacket.ERROR).writeShort(e.code());
                writeString(b, e.message());
                yield b;
            }
            case TftpPacket.OAck o -> {
                ByteBuf b = alloc.buffer(64);
                b.writeShort(TftpPacket.OACK);
                o.options().forEach((k, v) -> {
                    writeString(b, k);
                    writeString(b, v);
                });
                yield b;
            }
        };
    }

    /** A DATA packet with only its header written; the caller appends up to blksize bytes. */
    static ByteBuf dataHeader(ByteBufAllocator alloc, int block, int blockSize) {
        return alloc.directBuffer(4 + blockSize).writeShort(TftpPacket.DATA).writeShort(block & 0xFFFF);
    }

    private static ByteBuf request(ByteBufAllocator alloc, int opcode, String filename, TftpPacket.Mode mode,
            Map<String, String> options) {
        ByteBuf b = alloc.buffer(128);
        b.writeShort(opcode);
        writeString(b, filename);
        writeString(b, mode.name().toLowerCase(Locale.ROOT));
        options.forEach((k, v) -> {
            writeString(b, k);
            writeString(b, v);
        });
        return b;
    }

    private static void writeString(ByteBuf b, String s) {
        b.writeCharSequence(s, StandardCharsets.UTF_8);
        b.writeByte(0);
    }

    /** Walks NUL-terminated strings of a request or OACK. */
    private static final class Cursor {
        private final ByteBuf in;
        private final int end;
        private int pos;

        Cursor(ByteBuf in, int pos, int end) {
            this.in = in;
            this.pos = pos;
            this.end = end;
        }

        String string(String what) throws MalformedPacketException {
            int nul = in.indexOf(pos, end, (byte) 0);
            if (nul < 0) {
                throw new MalformedPacketException(what + " is not NUL-terminated");
            }
            String s = decodeText(in, pos, nul - pos, what);
            pos = nul + 1;
            return s;
        }

        /** RFC 2347 §2: name/value pairs, names case-insensitive; a repeated name is ignored. */
        Map<String, String> options() throws MalformedPacketException {
            Map<String, String> options = new LinkedHashMap<>();
            while (pos < end) {
                if (allZero(in, pos, end)) {
                    break; // some ROMs pad requests with NULs; padding carries no options
                }
                String name = string("option name").toLowerCase(Locale.ROOT);
                if (name.isEmpty()) {
                    throw new MalformedPacketException("empty option name");
                }
                if (pos >= end) {
                    throw new MalformedPacketException("option '" + name + "' has no value");
                }
                String value = string("value of option '" + name + "'");
                options.putIfAbsent(name, value);
            }
            return options;
        }

        private static boolean allZero(ByteBuf in, int from, int to) {
            for (int i = from; i < to; i++) {
                if (in.getByte(i) != 0) {
                    return false;
                }
            }
            return true;
        }
    }

    /** Strict UTF-8 (netascii is its 7-bit subset) without control characters. */
    private static String decodeText(ByteBuf in, int index, int length, String what) throws MalformedPacketException {
        ByteBuffer nio = in.nioBuffer(index, length);
        String s;
        try {
            s = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(nio).toString();
        } catch (CharacterCodingException e) {
            throw new MalformedPacketException(what + " is not valid text");
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < 0x20 || s.charAt(i) == 0x7f) {
                throw new MalformedPacketException(what + " contains a control character");
            }
        }
        return s;
    }
}
