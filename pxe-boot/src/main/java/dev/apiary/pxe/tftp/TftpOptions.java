package dev.apiary.pxe.tftp;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Option negotiation for a read request (RFC 2347): each known option is checked against its RFC's
 * range; accepted ones go into the OACK, others are left out as §3 allows; unknown options are
 * ignored. An empty {@link #oack()} means no OACK is sent and the transfer is plain RFC 1350.
 */
record TftpOptions(int blockSize, int timeoutSeconds, int windowSize, Map<String, String> oack) {
    static final int DEFAULT_BLOCK_SIZE = 512;

    /**
     * @param requested option names in lower case, as the codec gives them
     * @param size the file size, or -1 if unknown
     */
    static TftpOptions negotiate(Map<String, String> requested, long size, int maxBlockSize, int maxWindowSize) {
        Map<String, String> oack = new LinkedHashMap<>();
        int blockSize = DEFAULT_BLOCK_SIZE;
        int timeout = 0;
        int window = 1;
        // RFC 2348: 8..65464; the server may answer with a smaller size than asked.
        Integer blk = number(requested.get("blksize"));
        if (blk != null && blk >= 8 && blk <= TftpCodec.MAX_BLOCK_SIZE) {
            blockSize = Math.min(blk, maxBlockSize);
            oack.put("blksize", Integer.toString(blockSize));
        }
        // RFC 2349 §3: 1..255 seconds; the server must answer with the requested value or not at all.
        Integer to = number(requested.get("timeout"));
        if (to != null && to >= 1 && to <= 255) {
            timeout = to;
            oack.put("timeout", Integer.toString(to));
        }
        // RFC 2349 §4: a read request carries tsize 0 and the server answers with the size.
        Integer ts = number(requested.get("tsize"));
        if (ts != null && size >= 0) {
            oack.put("tsize", Long.toString(size));
        }
        // RFC 7440 §3: 1..65535 blocks; the server may answer with a smaller window.
        Integer ws = number(requested.get("windowsize"));
        if (ws != null && ws >= 1 && ws <= 65535) {
            window = Math.min(ws, maxWindowSize);
            oack.put("windowsize", Integer.toString(window));
        }
        return new TftpOptions(blockSize, timeout, window, java.util.Collections.unmodifiableMap(oack));
    }

    private static Integer number(String s) {
        if (s == null || s.isEmpty() || s.length() > 10) {
            return null;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return null;
            }
        }
        long v = Long.parseLong(s);
        return v > Integer.MAX_VALUE ? null : (int) v;
    }
}
