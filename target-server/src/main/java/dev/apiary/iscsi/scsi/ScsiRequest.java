package dev.apiary.iscsi.scsi;

import java.nio.ByteBuffer;

/**
 * One command as the transport delivers it. {@code dataOut} holds the data the initiator sent
 * (limit = bytes received) or is null; {@code dataIn} is where the command writes what it returns,
 * sized by the initiator's expected transfer length, or null when the initiator expects nothing.
 */
public record ScsiRequest(Nexus nexus, long lun, byte[] cdb, ByteBuffer dataOut, ByteBuffer dataIn) {}
