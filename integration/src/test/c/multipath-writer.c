/*
 * multipath-writer: one initiator with a path to each of two gateways, as dm-multipath uses them
 * (libiscsi, no kernel initiator here). The first path carries the I/O until it fails; then the
 * write that failed is sent again through the other path, like dm-multipath's failover with
 * queue_if_no_path. Only writes that ended GOOD count as acknowledged; at the end every one of
 * them is read back through the path in use.
 *
 *   multipath-writer write  INITIATOR TARGET USER PASSWORD LUN PORTAL1 PORTAL2 COUNT SECONDS
 *   multipath-writer verify INITIATOR TARGET USER PASSWORD LUN PORTAL COUNT
 *   multipath-writer poke   INITIATOR TARGET USER PASSWORD LUN PORTAL SEQ
 *
 * write: writes COUNT records (4 KiB each, record i at byte 4096*i, stamped with i) within
 *   SECONDS; prints "ACKED n" as it goes, "FAILOVER seq=i from=P to=Q why=..." at each switch,
 *   "RESUMED seq=i on=P after=S" at the first write acknowledged after a switch, and at the end "ACKED n" and "VERIFIED n" (or "MISMATCH seq=i"). Exit 0 when all verified.
 * verify: reads records 0..COUNT-1 through PORTAL; "VERIFIED n" or "MISMATCH seq=i"; exit 0 if all match.
 * poke: writes a stamp that no record has ("late" write) over record SEQ through PORTAL, once;
 *   prints "STATUS good", "STATUS check key=K asc=AAAA" or "STATUS error ...". Exit 0 either way.
 */
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RECORD 4096
#define BLOCK 512
#define TIMEOUT_S 5

static const char *initiator, *target, *user, *password;
static int lun;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static struct iscsi_context *login(const char *portal) {
    struct iscsi_context *c = iscsi_create_context(initiator);
    if (c == NULL) {
        return NULL;
    }
    iscsi_set_targetname(c, target);
    iscsi_set_session_type(c, ISCSI_SESSION_NORMAL);
    iscsi_set_header_digest(c, ISCSI_HEADER_DIGEST_NONE);
    iscsi_set_initiator_username_pwd(c, user, password);
    iscsi_set_noautoreconnect(c, 1); /* a failed path is reported, not retried forever */
    iscsi_set_timeout(c, TIMEOUT_S);
    if (iscsi_full_connect_sync(c, portal, lun) != 0) {
        fprintf(stdout, "LOGIN-FAILED portal=%s why=%s\n", portal, iscsi_get_error(c));
        fflush(stdout);
        iscsi_destroy_context(c);
        return NULL;
    }
    return c;
}

static void stamp(unsigned char *buf, long seq, const char *what) {
    memset(buf, (int) (seq & 0xff), RECORD);
    snprintf((char *) buf, 64, "apiary-multipath %s seq=%ld", what, seq);
}

/* 0: GOOD. 1: a unit attention (retry on the same path). 2: the path failed (switch). */
static int outcome(struct iscsi_context *c, struct scsi_task *t, char *why, size_t n) {
    if (t == NULL) {
        snprintf(why, n, "%s", iscsi_get_error(c));
        return 2;
    }
    int r = 0;
    if (t->status == SCSI_STATUS_GOOD) {
        r = 0;
    } else if (t->status == SCSI_STATUS_CHECK_CONDITION && t->sense.key == SCSI_SENSE_UNIT_ATTENTION) {
        snprintf(why, n, "unit-attention-%04x", t->sense.ascq);
        r = 1;
    } else if (t->status == SCSI_STATUS_CHECK_CONDITION) {
        snprintf(why, n, "check-key-%x-asc-%04x", t->sense.key, t->sense.ascq);
        r = 2;
    } else if (t->status == SCSI_STATUS_TIMEOUT) {
        snprintf(why, n, "timeout-%ds", TIMEOUT_S);
        r = 2;
    } else {
        snprintf(why, n, "status-0x%x", (unsigned) t->status);
        r = 2;
    }
    scsi_free_scsi_task(t);
    return r;
}

static int verify(struct iscsi_context *c, long count) {
    unsigned char want[RECORD];
    for (long i = 0; i < count; i++) {
        struct scsi_task *t = iscsi_read10_sync(c, lun, (uint32_t) (i * (RECORD / BLOCK)), RECORD, BLOCK, 0, 0, 0, 0, 0);
        if (t != NULL && t->status == SCSI_STATUS_CHECK_CONDITION && t->sense.key == SCSI_SENSE_UNIT_ATTENTION) {
            scsi_free_scsi_task(t);
            i--;
            continue;
        }
        stamp(want, i, "record");
        if (t == NULL || t->status != SCSI_STATUS_GOOD || t->datain.size != RECORD
                || memcmp(t->datain.data, want, RECORD) != 0) {
            printf("MISMATCH seq=%ld%s\n", i, t == NULL ? " (no answer)" : "");
            if (t != NULL) {
                scsi_free_scsi_task(t);
            }
            return 1;
        }
        scsi_free_scsi_task(t);
    }
    printf("VERIFIED %ld\n", count);
    return 0;
}

static int write_mode(const char *portals[2], long count, double seconds) {
    double start = now(), deadline = start + seconds;
    int path = 0;
    struct iscsi_context *c = login(portals[path]);
    unsigned char buf[RECORD];
    long acked = 0;
    double failed = -1; /* when the last failover began, until a write ends GOOD again */
    char why[128];
    while (acked < count && now() < deadline) {
        if (c == NULL) { /* the current path is down: the other one, then back, until the deadline */
            path = 1 - path;
            sleep(1);
            c = login(portals[path]);
            continue;
        }
        stamp(buf, acked, "record");
        struct scsi_task *t = iscsi_write10_sync(c, lun, (uint32_t) (acked * (RECORD / BLOCK)), buf, RECORD, BLOCK,
                0, 0, 0, 0, 0);
        int r = outcome(c, t, why, sizeof why);
        if (r == 0) {
            if (failed >= 0) {
                printf("RESUMED seq=%ld on=%s after=%.1f\n", acked, portals[path], now() - failed);
                failed = -1;
            }
            acked++;
            if (acked % 25 == 0) {
                printf("ACKED %ld\n", acked);
                fflush(stdout);
            }
        } else if (r == 2) {
            printf("FAILOVER seq=%ld from=%s to=%s why=%s at=%.1f\n", acked, portals[path], portals[1 - path], why,
                    now() - start);
            fflush(stdout);
            if (failed < 0) {
                failed = now();
            }
            iscsi_destroy_context(c);
            path = 1 - path;
            c = login(portals[path]);
        }
    }
    printf("ACKED %ld\n", acked);
    fflush(stdout);
    if (c == NULL) {
        c = login(portals[path]);
    }
    if (c == NULL) {
        printf("MISMATCH seq=0 (no path to read back through)\n");
        return 1;
    }
    int rc = verify(c, acked);
    iscsi_logout_sync(c);
    iscsi_destroy_context(c);
    return rc != 0 || acked < count ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc < 8) {
        fprintf(stderr, "usage: see the top of multipath-writer.c\n");
        return 2;
    }
    const char *mode = argv[1];
    initiator = argv[2];
    target = argv[3];
    user = argv[4];
    password = argv[5];
    lun = atoi(argv[6]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(mode, "write") == 0 && argc == 11) {
        const char *portals[2] = {argv[7], argv[8]};
        return write_mode(portals, atol(argv[9]), atof(argv[10]));
    }
    if (strcmp(mode, "verify") == 0 && argc == 9) {
        struct iscsi_context *c = login(argv[7]);
        if (c == NULL) {
            return 1;
        }
        int rc = verify(c, atol(argv[8]));
        iscsi_destroy_context(c);
        return rc;
    }
    if (strcmp(mode, "poke") == 0 && argc == 9) {
        struct iscsi_context *c = login(argv[7]);
        if (c == NULL) {
            printf("STATUS error login\n");
            return 0;
        }
        unsigned char buf[RECORD];
        long seq = atol(argv[8]);
        stamp(buf, seq, "late");
        for (int tries = 0; tries < 5; tries++) { /* unit attentions first (the ALUA change) */
            struct scsi_task *t = iscsi_write10_sync(c, lun, (uint32_t) (seq * (RECORD / BLOCK)), buf, RECORD, BLOCK,
                    0, 0, 0, 0, 0);
            if (t == NULL) {
                printf("STATUS error %s\n", iscsi_get_error(c));
                break;
            }
            if (t->status == SCSI_STATUS_CHECK_CONDITION && t->sense.key == SCSI_SENSE_UNIT_ATTENTION) {
                scsi_free_scsi_task(t);
                continue;
            }
            if (t->status == SCSI_STATUS_GOOD) {
                printf("STATUS good\n");
            } else {
                printf("STATUS check key=%x asc=%04x\n", t->sense.key, t->sense.ascq);
            }
            scsi_free_scsi_task(t);
            break;
        }
        iscsi_destroy_context(c);
        return 0;
    }
    fprintf(stderr, "usage: see the top of multipath-writer.c\n");
    return 2;
}
