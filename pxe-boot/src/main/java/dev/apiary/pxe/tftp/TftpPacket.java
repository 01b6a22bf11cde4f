package dev.apiary.pxe.tftp;

import java.util.Map;

/**
 * The six TFTP packets: the five of RFC 1350 §5 plus the option acknowledgement of RFC 2347.
 * Values only; {@link TftpCodec} turns them into bytes and back.
 */
public sealed interface TftpPacket {
    int RRQ = 1;
    int WRQ = 2;
    int DATA = 3;
    int ACK = 4;
    int ERROR = 5;
    int OACK = 6;

    int opcode();

    /** Transfer mode (RFC 1350 §5); "mail" is obsolete and refused. */
    enum Mode {
        NETASCII, OCTET
    }

    /** RRQ (RFC 1350 §5) with RFC 2347 options; option names are lower case, first occurrence wins. */
    record ReadRequest(String filename, Mode mode, Map<String, String> options) implements TftpPacket {
        public ReadRequest {
            options = Map.copyOf(options);
        }

        @Override
        public int opcode() {
            return RRQ;
        }
    }

    /** WRQ: parsed only so that it can be refused (this server is read-only). */
    record WriteRequest(String filename, Mode mode, Map<String, String> options) implements TftpPacket {
        public WriteRequest {
            options = Map.copyOf(options);
        }

        @Override
        public int opcode() {
            return WRQ;
        }
    }

    /** DATA (RFC 1350 §5): 16-bit block number, 0..blksize bytes. The server's own DATA never goes through here. */
    record Data(int block, byte[] bytes) implements TftpPacket {
        @Override
        public int opcode() {
            return DATA;
        }
    }

    /** ACK (RFC 1350 §5); block 0 acknowledges an OACK (RFC 2347). */
    record Ack(int block) implements TftpPacket {
        @Override
        public int opcode() {
            return ACK;
        }
    }

    /** ERROR (RFC 1350 §5, codes in the appendix; code 8 from RFC 2347). */
    record Error(int code, String message) implements TftpPacket {
        public static final int NOT_DEFINED = 0;
        public static final int FILE_NOT_FOUND = 1;
        public static final int ACCESS_VIOLATION = 2;
        public static final int DISK_FULL = 3;
        public static final int ILLEGAL_OPERATION = 4;
        public static final int UNKNOWN_TID = 5;
        public static final int FILE_EXISTS = 6;
        public static final int NO_SUCH_USER = 7;
        public static final int OPTION_REFUSED = 8;

        @Override
        public int opcode() {
            return ERROR;
        }
    }

    /** OACK (RFC 2347): the options the server accepted, with the values it chose. Order is kept. */
    record OAck(Map<String, String> options) implements TftpPacket {
        @Override
        public int opcode() {
            return OACK;
        }
    }
}
