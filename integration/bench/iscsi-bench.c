/*
 * iscsi-bench - asynchronous libiscsi load generator (pure load by default).
 *
 *   iscsi-bench -m randread|randwrite|seqread|seqwrite -t SECONDS [options] URL
 *     -b BYTES   I/O size, multiple of the LUN block size; K/M suffix ok [4096]
 *     -q DEPTH   commands in flight [32]
 *     -t SECS    time bound (required)
 *     -n MAXOPS  count bound [1e12]
 *     -o         one pass: stop after LUN_SIZE/BYTES commands (sequential: whole LUN)
 *     -i IQN     initiator name [iqn.2026-11.dev.apiary:bench]
 *     -d         request HeaderDigest CRC32C (default None)
 *     -V         verify: writes store an LBA-derived pattern, reads check it
 *
 *   URL: iscsi://USER%SECRET@127.0.0.1:PORT/IQN/LUN
 *        [?target_user=U&target_password=P]   (mutual CHAP, parsed by libiscsi)
 *
 * Prints one line:
 *   mode=.. bs=.. qd=.. secs=.. ops=.. iops=.. MBps=.. lat_avg_us=.. lat_p50_us=..
 *   lat_p99_us=.. errors=..
 * Exit: 0 ok, 1 SCSI error / verify mismatch / stuck, 2 usage, 3 connect failure.
 *
 * Build: gcc -O2 -Wall -o iscsi-bench iscsi-bench.c -liscsi
 */
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#define PATTERN_MAGIC 0x4150494152590000ULL /* "APIARY\0\0" */
#define NBUCKETS (56 * 128)

struct slot {
    int busy;
    uint64_t lba;
    uint64_t start_ns;
    unsigned char *buf;
};

static struct iscsi_context *iscsi;
static int lun, is_write, is_random, verify;
static uint32_t blocklen, bs;
static uint64_t nunits, next_unit, issued, done, errors, lat_sum_us, rng;
static uint64_t hist[NBUCKETS];

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Log-linear latency histogram: exact below 256 us, then 128 buckets per power of two. */
static int lat_bucket(uint64_t us)
{
    if (us < 256)
        return (int)us;
    int k = 63 - __builtin_clzll(us) - 7;
    if (k > 54)
        return NBUCKETS - 1;
    return k * 128 + (int)(us >> k);
}

static uint64_t bucket_value(int b)
{
    if (b < 256)
        return b;
    int k = b / 128 - 1;
    return ((uint64_t)(b - k * 128) << k) + ((1ULL << k) >> 1);
}

static uint64_t percentile(double p)
{
    uint64_t want = (uint64_t)(p * done + 0.999999), seen = 0;
    for (int b = 0; b < NBUCKETS; b++) {
        seen += hist[b];
        if (seen >= want && seen > 0)
            return bucket_value(b);
    }
    return 0;
}

static uint64_t xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void fill_pattern(unsigned char *buf, uint64_t lba)
{
    for (uint32_t off = 0; off < bs; off += 8) {
        uint64_t v = PATTERN_MAGIC ^ ((lba + off / blocklen) << 16) ^ (off % blocklen);
        memcpy(buf + off, &v, 8);
    }
}

static void complete(struct iscsi_context *ctx, int status, void *command_data, void *private_data)
{
    struct scsi_task *task = command_data;
    struct slot *s = private_data;
    uint64_t us = (now_ns() - s->start_ns) / 1000;

    if (status != SCSI_STATUS_GOOD) {
        if (errors++ < 5)
            fprintf(stderr, "iscsi-bench: %s lba %" PRIu64 " failed: status 0x%x %s (%s)\n",
                    is_write ? "WRITE16" : "READ16", s->lba, status,
                    task ? scsi_sense_key_str(task->sense.key) : "", iscsi_get_error(ctx));
    } else if (verify && !is_write) {
        if (task->datain.size != (int)bs) {
            errors++;
        } else {
            fill_pattern(s->buf, s->lba);
            if (memcmp(s->buf, task->datain.data, bs) != 0 && errors++ < 5)
                fprintf(stderr, "iscsi-bench: verify mismatch at lba %" PRIu64 "\n", s->lba);
        }
    }
    if (task)
        scsi_free_scsi_task(task);
    hist[lat_bucket(us)]++;
    lat_sum_us += us;
    done++;
    s->busy = 0;
}

static int submit(struct slot *s)
{
    uint64_t unit = is_random ? xorshift() % nunits : next_unit++ % nunits;
    struct scsi_task *t;

    s->lba = unit * (bs / blocklen);
    s->start_ns = now_ns();
    s->busy = 1;
    if (is_write) {
        if (verify)
            fill_pattern(s->buf, s->lba);
        t = iscsi_write16_task(iscsi, lun, s->lba, s->buf, bs, blocklen, 0, 0, 0, 0, 0, complete, s);
    } else {
        t = iscsi_read16_task(iscsi, lun, s->lba, bs, blocklen, 0, 0, 0, 0, 0, complete, s);
    }
    if (t == NULL) {
        fprintf(stderr, "iscsi-bench: cannot queue command: %s\n", iscsi_get_error(iscsi));
        s->busy = 0;
        return -1;
    }
    issued++;
    return 0;
}

static uint64_t parse_size(const char *s)
{
    char *end;
    uint64_t v = strtoull(s, &end, 10);
    if (*end == 'k' || *end == 'K')
        v <<= 10;
    else if (*end == 'm' || *end == 'M')
        v <<= 20;
    return v;
}

static void usage(void)
{
    fprintf(stderr, "usage: iscsi-bench -m randread|randwrite|seqread|seqwrite -t SECS [-b BYTES] [-q DEPTH]\n"
                    "                   [-n MAXOPS] [-o] [-i IQN] [-d] [-V] iscsi://...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *mode = NULL, *iqn = "iqn.2026-11.dev.apiary:bench";
    double secs = 0;
    uint64_t maxops = 1000000000000ULL;
    int qd = 32, onepass = 0, digest = 0, opt;

    bs = 4096;
    while ((opt = getopt(argc, argv, "m:b:q:t:n:oi:dV")) != -1) {
        switch (opt) {
        case 'm': mode = optarg; break;
        case 'b': bs = (uint32_t)parse_size(optarg); break;
        case 'q': qd = atoi(optarg); break;
        case 't': secs = atof(optarg); break;
        case 'n': maxops = parse_size(optarg); break;
        case 'o': onepass = 1; break;
        case 'i': iqn = optarg; break;
        case 'd': digest = 1; break;
        case 'V': verify = 1; break;
        default: usage();
        }
    }
    if (!mode || optind != argc - 1 || secs <= 0 || qd < 1 || qd > 4096 || bs == 0 || maxops == 0)
        usage();
    if (!strcmp(mode, "randread")) is_random = 1;
    else if (!strcmp(mode, "randwrite")) is_random = is_write = 1;
    else if (!strcmp(mode, "seqwrite")) is_write = 1;
    else if (strcmp(mode, "seqread")) usage();

    iscsi = iscsi_create_context(iqn);
    if (!iscsi) {
        fprintf(stderr, "iscsi-bench: cannot create context\n");
        return 3;
    }
    /* Set before parsing so that a ?header_digest= URL argument still wins. */
    iscsi_set_header_digest(iscsi, digest ? ISCSI_HEADER_DIGEST_CRC32C : ISCSI_HEADER_DIGEST_NONE);
    struct iscsi_url *url = iscsi_parse_full_url(iscsi, argv[optind]);
    if (!url) {
        fprintf(stderr, "iscsi-bench: bad URL: %s\n", iscsi_get_error(iscsi));
        return 2;
    }
    /* libiscsi already applied user/target_user from the URL; be explicit anyway. */
    iscsi_set_initiator_username_pwd(iscsi, url->user, url->passwd);
    iscsi_set_target_username_pwd(iscsi, url->target_user, url->target_passwd);
    iscsi_set_session_type(iscsi, ISCSI_SESSION_NORMAL);
    lun = url->lun;
    if (iscsi_full_connect_sync(iscsi, url->portal, lun) != 0) {
        fprintf(stderr, "iscsi-bench: login to %s failed: %s\n", url->portal, iscsi_get_error(iscsi));
        return 3;
    }
    iscsi_destroy_url(url);

    struct scsi_task *rc = iscsi_readcapacity16_sync(iscsi, lun);
    struct scsi_readcapacity16 *cap;
    if (!rc || rc->status != SCSI_STATUS_GOOD || !(cap = scsi_datain_unmarshall(rc))) {
        fprintf(stderr, "iscsi-bench: READ CAPACITY(16) failed: %s\n", iscsi_get_error(iscsi));
        return 3;
    }
    blocklen = cap->block_length;
    uint64_t lun_bytes = (cap->returned_lba + 1) * blocklen;
    scsi_free_scsi_task(rc);
    if (blocklen == 0 || bs % blocklen || bs > lun_bytes) {
        fprintf(stderr, "iscsi-bench: -b %u must be a multiple of the block size %u and <= %" PRIu64 "\n",
                bs, blocklen, lun_bytes);
        return 2;
    }
    nunits = lun_bytes / bs;
    if (onepass && nunits < maxops)
        maxops = nunits;
    rng = now_ns() | 1;

    struct slot *slots = calloc(qd, sizeof(*slots));
    for (int i = 0; i < qd; i++) {
        slots[i].buf = malloc(bs);
        if (!slots[i].buf) {
            fprintf(stderr, "iscsi-bench: out of memory\n");
            return 1;
        }
        for (uint32_t j = 0; j < bs; j++) /* non-zero filler so targets cannot shortcut zeroes */
            slots[i].buf[j] = (unsigned char)(xorshift() | 1);
    }

    uint64_t t0 = now_ns(), deadline = t0 + (uint64_t)(secs * 1e9);
    uint64_t hard_deadline = deadline + 30ULL * 1000000000ULL, t_end = t0;
    int stopping = 0, stuck = 0;
    for (;;) {
        uint64_t now = now_ns();
        if (now >= deadline || errors)
            stopping = 1;
        for (int i = 0; i < qd && !stopping && issued < maxops; i++)
            if (!slots[i].busy && submit(&slots[i]) != 0)
                stopping = 1, errors++;
        if (issued == done && (stopping || issued >= maxops))
            break;
        if (now >= hard_deadline) {
            fprintf(stderr, "iscsi-bench: %" PRIu64 " commands still in flight 30 s after the deadline\n",
                    issued - done);
            stuck = 1;
            break;
        }
        struct pollfd pfd = { .fd = iscsi_get_fd(iscsi), .events = iscsi_which_events(iscsi) };
        int n = poll(&pfd, 1, 100);
        if (n < 0 || iscsi_service(iscsi, n > 0 ? pfd.revents : 0) < 0) {
            fprintf(stderr, "iscsi-bench: connection failed: %s\n", iscsi_get_error(iscsi));
            return 3;
        }
        t_end = now_ns();
    }

    double el = (t_end - t0) / 1e9;
    if (el <= 0)
        el = 1e-9;
    printf("mode=%s bs=%u qd=%d secs=%.2f ops=%" PRIu64 " iops=%.0f MBps=%.1f lat_avg_us=%.0f"
           " lat_p50_us=%" PRIu64 " lat_p99_us=%" PRIu64 " errors=%" PRIu64 "\n",
           mode, bs, qd, el, done, done / el, (double)done * bs / el / 1e6,
           done ? (double)lat_sum_us / done : 0.0, percentile(0.50), percentile(0.99), errors);
    fflush(stdout);

    if (!stuck)
        iscsi_logout_sync(iscsi);
    iscsi_destroy_context(iscsi);
    for (int i = 0; i < qd; i++)
        free(slots[i].buf);
    free(slots);
    return errors || stuck ? 1 : 0;
}
