package dev.apiary.lun.rbd;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.StringArray;
import com.sun.jna.ptr.ByteByReference;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import dev.apiary.lun.StoreException;
import dev.apiary.lun.StoreException.Reason;
import dev.apiary.lun.VolumeTimeoutException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** One librados session and an I/O context on the store's pool (and namespace). */
final class Rados implements AutoCloseable {
    final RbdConfig config;
    private final Pointer cluster;
    private final Pointer io;
    private final long instanceId;
    private volatile boolean closed;

    private Rados(RbdConfig config, Pointer cluster, Pointer io) {
        this.config = config;
        this.cluster = cluster;
        this.io = io;
        this.instanceId = LibRados.rados_get_instance_id(cluster);
    }

    /** The I/O context; after close an exception, never a freed pointer for librbd to crash on. */
    Pointer io() throws IOException {
        if (closed) {
            throw new IOException("the connection to the Ceph cluster (" + config.conf() + ") is closed");
        }
        return io;
    }

    private Pointer cluster() throws IOException {
        io();
        return cluster;
    }

    static Rados connect(RbdConfig c) throws IOException {
        PointerByReference ref = new PointerByReference();
        RbdErrors.check(LibRados.rados_create2(ref, "ceph", "client." + c.clientId(), 0), "rados_create client." + c.clientId());
        Pointer cluster = ref.getValue();
        try {
            // Only the conf file and what is set here: CEPH_ARGS and the environment are not read.
            RbdErrors.check(LibRados.rados_conf_read_file(cluster, c.conf().toString()), "reading " + c.conf());
            String secs = Long.toString(c.opTimeout().toSeconds());
            set(cluster, "keyring", c.keyring().toString());
            set(cluster, "rados_osd_op_timeout", secs);
            set(cluster, "rados_mon_op_timeout", secs);
            set(cluster, "client_mount_timeout", secs);
            // No librbd writeback cache: a write is on the OSDs (every replica) when it is
            // acknowledged, so a gateway that dies or is fenced loses nothing it acknowledged, and
            // a fenced gateway's next write fails instead of landing in a cache.
            set(cluster, "rbd_cache", "false");
            int rc = LibRados.rados_connect(cluster);
            if (rc < 0) {
                String what = "connecting to the Ceph cluster of " + c.conf() + " as client." + c.clientId();
                if (-rc == RbdErrors.ETIMEDOUT) {
                    throw new VolumeTimeoutException(what + ": no answer from the monitors within "
                            + c.opTimeout().toSeconds() + " s");
                }
                throw RbdErrors.error(rc, what);
            }
            PointerByReference ioRef = new PointerByReference();
            int r = LibRados.rados_ioctx_create(cluster, c.pool(), ioRef);
            if (r == -RbdErrors.ENOENT) {
                throw new StoreException(Reason.NOT_FOUND, "pool " + c.pool() + " does not exist");
            }
            RbdErrors.check(r, "opening pool " + c.pool());
            Pointer io = ioRef.getValue();
            try {
                if (!c.namespace().isEmpty()) {
                    ensureNamespace(io, c);
                    LibRados.rados_ioctx_set_namespace(io, c.namespace());
                }
            } catch (IOException | RuntimeException e) {
                LibRados.rados_ioctx_destroy(io);
                throw e;
            }
            return new Rados(c, cluster, io);
        } catch (IOException | RuntimeException e) {
            LibRados.rados_shutdown(cluster);
            throw e;
        }
    }

    private static void set(Pointer cluster, String option, String value) throws IOException {
        RbdErrors.check(LibRados.rados_conf_set(cluster, option, value), "setting " + option);
    }

    private static void ensureNamespace(Pointer io, RbdConfig c) throws IOException {
        ByteByReference exists = new ByteByReference();
        RbdErrors.check(LibRbd.rbd_namespace_exists(io, c.namespace(), exists), "namespace " + c.spec(""));
        if (exists.getValue() == 0) {
            int rc = LibRbd.rbd_namespace_create(io, c.namespace());
            if (rc < 0 && -rc != RbdErrors.EEXIST) { // another client may have made it meanwhile
                throw RbdErrors.error(rc, "creating namespace " + c.pool() + "/" + c.namespace());
            }
        }
    }

    /** Removes an empty namespace of the pool (not the one this session uses, which must be the default). */
    void removeNamespace(String namespace) throws IOException {
        RbdErrors.check(LibRbd.rbd_namespace_remove(io(), namespace), "removing namespace " + config.pool() + "/" + namespace);
    }

    /** This session's address as the OSDs see it, e.g. "127.0.0.1:0/3012345678": what a blocklist entry names. */
    String address() throws IOException {
        PointerByReference out = new PointerByReference();
        RbdErrors.check(LibRados.rados_getaddrs(cluster(), out), "rados_getaddrs");
        Pointer p = out.getValue();
        try {
            return p.getString(0);
        } finally {
            Native.free(Pointer.nativeValue(p)); // strdup'ed by librados
        }
    }

    /** The session's global id: lock owners and watchers appear as client.ID. */
    long instanceId() {
        return instanceId;
    }

    /** Waits until this session has the cluster's newest OSD map (flags such as pause included). */
    void waitForLatestOsdMap() throws IOException {
        RbdErrors.check(LibRados.rados_wait_for_latest_osdmap(cluster()), "waiting for the latest OSD map");
    }

    void blocklist(String address, int expireSeconds) throws IOException {
        RbdErrors.check(LibRados.rados_blocklist_add(cluster(), address, expireSeconds), "blocklisting " + address);
    }

    /** A monitor command given as JSON, e.g. {"prefix": "osd pause"}; returns its output. For tests and tools. */
    String monCommand(String json) throws IOException {
        PointerByReference outbuf = new PointerByReference();
        PointerByReference outs = new PointerByReference();
        LongByReference outbufLen = new LongByReference();
        LongByReference outsLen = new LongByReference();
        int rc = LibRados.rados_mon_command(cluster(), new StringArray(new String[] {json}), 1, null, 0, outbuf,
                outbufLen, outs, outsLen);
        String out = take(outbuf.getValue(), outbufLen.getValue());
        String status = take(outs.getValue(), outsLen.getValue());
        if (rc < 0) {
            throw RbdErrors.error(rc, "mon command " + json + (status.isEmpty() ? "" : ": " + status));
        }
        return out.isEmpty() ? status : out;
    }

    private static String take(Pointer p, long len) {
        if (p == null) {
            return "";
        }
        String s = new String(p.getByteArray(0, (int) len), StandardCharsets.UTF_8);
        LibRados.rados_buffer_free(p);
        return s;
    }

    /** Idempotent: librados crashes on a second shutdown of the same handle. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            LibRados.rados_ioctx_destroy(io);
            LibRados.rados_shutdown(cluster);
        }
    }
}
