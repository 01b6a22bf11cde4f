package dev.apiary.iscsi.login;

/**
 * The outcome of operational negotiation (RFC 7143 §13) that the full feature phase runs by.
 * {@code initiatorMaxRecvDataSegmentLength} bounds each Data-In/Text PDU the target sends;
 * {@code targetMaxRecvDataSegmentLength} bounds what the initiator may send.
 */
public record SessionParams(
        boolean headerDigest,
        boolean dataDigest,
        int initiatorMaxRecvDataSegmentLength,
        int targetMaxRecvDataSegmentLength,
        int maxBurstLength,
        int firstBurstLength,
        boolean immediateData,
        boolean initialR2T,
        int maxOutstandingR2T,
        int defaultTime2Wait,
        int defaultTime2Retain) {}
