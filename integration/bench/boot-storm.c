/*
 * boot-storm - N concurrent libiscsi sessions replay the same boot-like read pattern.
 *
 *   boot-storm [-q DEPTH] [-s SEED] [-m MiB] [-S SPAN_MiB] [-t SECS] [-i PREFIX] [-V] URL...
 *   boot-storm -G FILE [-S SPAN_MiB]        write a golden image that -V accepts, then exit
 *     -q DEPTH   reads in flight per session [4]
 *     -s SEED    pattern seed; every session replays the same sequence [1]
 *     -m MiB     bytes read per session [100]
 *     -S MiB     the pattern stays within the first SPAN MiB of each LUN [1024]
 *     -t SECS    time bound for the whole storm, logins included [600]
 *     -i PREFIX  session N logs in as PREFIX:N with its own ISID [iqn.2026-11.dev.apiary:boot-storm]
 *     -V         verify every byte against the golden pattern: each 8-byte little-endian word
 *                w (0..511) of 4 KiB block b holds 0x4150494152590000 ^ (b << 9) ^ w
 *
 *   URL: iscsi://USER%SECRET@127.0.0.1:PORT/IQN/LUN, one session per URL, all in one poll() loop.
 *
 * The pattern models the Debian worker boot of research/boot-chain.md (1735 READ(10) for ~85 MiB,
 * i.e. ~50 KiB per read): 35% is kernel+initrd read sequentially in 128 KiB reads, the rest is
 * runs of 1-31 file reads of 4-128 KiB (mean ~35 KiB) starting at random places in the span.
 * All reads are 4 KiB aligned; READ(10) is used, READ(16) beyond LBA 2^32.
 *
 * Output: "pattern ..." line, one "session ..." line each, then
 *   sessions=N total_MiB=X wall_s=Y aggregate_MBps=Z slowest_s=W errors=E (E = failed sessions;
 *   wall = first login to last logout, slowest = the latest last-read completion)
 * Exit: 0 ok, 1 read error / verify mismatch / login failure / timeout, 2 usage.
 * Build: gcc -O2 -Wall -o boot-storm boot-storm.c -liscsi
 */
#include <endian.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#define MAGIC 0x4150494152590000ULL /* "APIARY\0\0" */
#define KiB ((uint64_t)1024)
#define MiB (1024 * KiB)

struct io { uint64_t off; uint32_t len; };
enum { CONNECTING, CAPACITY, RUNNING, LOGOUT, DONE, FAILED };
struct session {
    struct iscsi_context *ctx;
    struct iscsi_url *url;
    int n, state, inflight;
    uint32_t blocklen;
    size_t next, done;
    uint64_t t_login, t_io, bytes, errors;
};

static struct io *pat;
static size_t npat;
static int verify, qdepth = 4;
static uint64_t rng, t0, span = 1024 * MiB;

static uint64_t now_ns(void)
{
    struct timespec ts;
    return clock_gettime(CLOCK_MONOTONIC, &ts), (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t rnd(uint64_t n) /* splitmix64, uniform enough for n << 2^64 */
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (z ^ (z >> 31)) % n;
}

static void add(uint64_t off, uint32_t len) { pat[npat++] = (struct io){ off, len }; }

/* Sizes of the scattered file reads (KiB) and their weights in percent: mean 34.8 KiB. */
static const uint32_t mix_kib[] = { 4, 8, 16, 32, 64, 128 };
static const int mix_pct[] = { 30, 10, 15, 15, 20, 10 };

static void make_pattern(uint64_t total)
{
    uint64_t left = total, seq = total * 35 / 100 / (128 * KiB) * (128 * KiB), pos;
    if (seq > span / 2)
        seq = span / 2 / (128 * KiB) * (128 * KiB);
    pat = calloc(total / (4 * KiB) + 8, sizeof(*pat));
    add(0, 4 * KiB); /* MBR and partition table, then file system metadata */
    left -= 4 * KiB;
    for (int i = 0; i < 4 && left; i++, left -= 4 * KiB)
        add(rnd(span / (4 * KiB)) * 4 * KiB, 4 * KiB);
    /* kernel (8/38 of it), a small jump, then the initrd: 128 KiB sequential reads */
    pos = span - seq - 4 * KiB < span / 4 ? span - seq - 4 * KiB : span / 4;
    pos = (1 + rnd(pos / (4 * KiB) + 1)) * 4 * KiB;
    for (uint64_t k = 0; k < seq && left >= 128 * KiB; k += 128 * KiB, left -= 128 * KiB) {
        if (k == seq * 8 / 38 / (128 * KiB) * (128 * KiB))
            pos += rnd(64) * 4 * KiB;
        if (pos + 128 * KiB > span)
            pos = 4 * KiB;
        add(pos, 128 * KiB);
        pos += 128 * KiB;
    }
    while (left) { /* files: runs of 1..31 reads from random places */
        int run = 1 + (int)rnd(6) * (int)rnd(7);
        pos = rnd(span / (4 * KiB)) * 4 * KiB;
        for (; run > 0 && left; run--) {
            int r = (int)rnd(100), i = 0;
            while (r >= mix_pct[i])
                r -= mix_pct[i++];
            uint64_t len = mix_kib[i] * KiB;
            if (len > left)
                len = left;
            if (pos + len > span)
                break;
            add(pos, (uint32_t)len);
            pos += len;
            left -= len;
        }
    }
}

static uint64_t golden_word(uint64_t byte_off)
{
    return MAGIC ^ ((byte_off >> 12) << 9) ^ ((byte_off >> 3) & 511);
}

static int check(const unsigned char *d, uint64_t off, uint32_t len)
{
    for (uint32_t o = 0; o < len; o += 8) {
        uint64_t le;
        memcpy(&le, d + o, 8);
        if (le64toh(le) != golden_word(off + o))
            return -1;
    }
    return 0;
}

static void fail(struct session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (s->errors++ < 3) {
        fprintf(stderr, "boot-storm: session %d: ", s->n);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
    }
    va_end(ap);
    s->state = FAILED;
}
#define FAIL(s, what) fail(s, "%s: %s", what, iscsi_get_error((s)->ctx))

static void read_cb(struct iscsi_context *ctx, int status, void *data, void *priv);
static void free_task(struct scsi_task *t) { if (t) scsi_free_scsi_task(t); } /* older libiscsi: not NULL-safe */

static void submit(struct session *s)
{
    while (s->state == RUNNING && s->inflight < qdepth && s->next < npat) {
        struct io *io = &pat[s->next];
        uint64_t lba = io->off / s->blocklen;
        struct scsi_task *t = lba + io->len / s->blocklen <= 0xffffffffULL
            ? iscsi_read10_task(s->ctx, s->url->lun, (uint32_t)lba, io->len, s->blocklen, 0, 0, 0, 0, 0,
                                read_cb, s)
            : iscsi_read16_task(s->ctx, s->url->lun, lba, io->len, s->blocklen, 0, 0, 0, 0, 0, read_cb, s);
        if (!t)
            return FAIL(s, "cannot queue READ");
        scsi_set_task_private_ptr(t, io);
        s->next++;
        s->inflight++;
    }
}

static void logout_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
    ((struct session *)priv)->state = DONE;
}

static void read_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
    struct session *s = priv;
    struct scsi_task *t = data;
    struct io *io = t ? scsi_get_task_private_ptr(t) : NULL;

    s->inflight--;
    if (s->state != RUNNING) /* failed or cancelled: just drop it */
        return free_task(t);
    if (status != SCSI_STATUS_GOOD)
        FAIL(s, t ? scsi_sense_key_str(t->sense.key) : "READ failed");
    else if (verify && (t->datain.size != (int)io->len || check(t->datain.data, io->off, io->len)))
        fail(s, "verify mismatch in the read at byte %" PRIu64 " len %u", io->off, io->len);
    else {
        s->done++;
        s->bytes += io->len;
    }
    free_task(t);
    if (s->state == RUNNING && s->done == npat) {
        s->t_io = now_ns() - t0;
        s->state = LOGOUT;
        if (iscsi_logout_async(ctx, logout_cb, s) != 0)
            s->state = DONE;
    }
    submit(s);
}

static void capacity_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
    struct session *s = priv;
    struct scsi_task *t = data;
    struct scsi_readcapacity16 *cap;

    if (status != SCSI_STATUS_GOOD || !(cap = scsi_datain_unmarshall(t)))
        FAIL(s, "READ CAPACITY(16) failed");
    else if (cap->block_length == 0 || 4096 % cap->block_length
             || (cap->returned_lba + 1) * cap->block_length < span)
        fail(s, "LUN has %" PRIu64 " blocks of %u bytes; need at least %" PRIu64 " MiB (-S) and a"
             " block size dividing 4096", cap->returned_lba + 1, cap->block_length, span / MiB);
    else {
        s->blocklen = cap->block_length;
        s->state = RUNNING;
    }
    free_task(t);
    submit(s);
}

static void connect_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
    struct session *s = priv;

    if (s->state != CONNECTING) { /* called again when an established session drops */
        if (s->state == RUNNING || s->state == CAPACITY)
            FAIL(s, "connection lost");
        return;
    }
    if (status != SCSI_STATUS_GOOD)
        return FAIL(s, "login failed");
    s->t_login = now_ns() - t0;
    s->state = CAPACITY;
    if (!iscsi_readcapacity16_task(ctx, s->url->lun, capacity_cb, s))
        FAIL(s, "cannot queue READ CAPACITY(16)");
}

static int write_golden(const char *path)
{
    static uint64_t blk[512];
    FILE *f = fopen(path, "wb");
    for (uint64_t off = 0; f && off < span; off += sizeof(blk)) {
        for (int w = 0; w < 512; w++)
            blk[w] = htole64(golden_word(off + 8 * w));
        if (fwrite(blk, sizeof(blk), 1, f) != 1)
            break;
    }
    if (!f || ferror(f) | fclose(f))
        return perror(path), 1;
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: boot-storm [-q DEPTH] [-s SEED] [-m MiB] [-S SPAN_MiB] [-t SECS] [-i PREFIX] [-V]"
                    " iscsi://...  ...\n       boot-storm -G FILE [-S SPAN_MiB]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *prefix = "iqn.2026-11.dev.apiary:boot-storm", *golden = NULL;
    uint64_t seed = 1, mib = 100, errors = 0, slowest = 0;
    double secs = 600;
    int opt;

    while ((opt = getopt(argc, argv, "q:s:m:S:t:i:VG:")) != -1) {
        switch (opt) {
        case 'q': qdepth = atoi(optarg); break;
        case 's': seed = strtoull(optarg, NULL, 0); break;
        case 'm': mib = strtoull(optarg, NULL, 10); break;
        case 'S': span = strtoull(optarg, NULL, 10) * MiB; break;
        case 't': secs = atof(optarg); break;
        case 'i': prefix = optarg; break;
        case 'V': verify = 1; break;
        case 'G': golden = optarg; break;
        default: usage();
        }
    }
    if (span < 4 * MiB || span > (1ULL << 50))
        usage();
    if (golden)
        return optind == argc ? write_golden(golden) : (usage(), 2);
    int n = argc - optind;
    if (n < 1 || n > 1000 || qdepth < 1 || qdepth > 256 || mib < 1 || mib > 1000000 || secs <= 0)
        usage();

    rng = seed;
    make_pattern(mib * MiB);
    uint64_t hist[6] = { 0 };
    for (size_t i = 0; i < npat; i++)
        for (int k = 0; k < 6; k++)
            hist[k] += pat[i].len == mix_kib[k] * KiB;
    printf("pattern seed=%" PRIu64 " reads=%zu MiB=%" PRIu64 " span_MiB=%" PRIu64 " qd=%d verify=%d"
           " 4K=%" PRIu64 " 8K=%" PRIu64 " 16K=%" PRIu64 " 32K=%" PRIu64 " 64K=%" PRIu64 " 128K=%" PRIu64 "\n",
           seed, npat, mib, span / MiB, qdepth, verify, hist[0], hist[1], hist[2], hist[3], hist[4], hist[5]);
    fflush(stdout);

    struct session *ss = calloc(n, sizeof(*ss));
    struct pollfd *pfd = calloc(n, sizeof(*pfd));
    uint32_t isid_rnd = (uint32_t)(now_ns() ^ (uint64_t)getpid() << 8) & 0xffffff;
    t0 = now_ns();
    for (int i = 0; i < n; i++) {
        struct session *s = &ss[i];
        char iqn[512];
        snprintf(iqn, sizeof(iqn), "%s:%d", prefix, i);
        s->n = i;
        s->ctx = iscsi_create_context(iqn);
        if (!s->ctx || !(s->url = iscsi_parse_full_url(s->ctx, argv[optind + i]))) {
            fprintf(stderr, "boot-storm: session %d: bad URL %s\n", i, argv[optind + i]);
            return 2;
        }
        /* one ISID per session (random type, qualifier = index) so no login looks like a reinstatement */
        iscsi_set_isid_random(s->ctx, isid_rnd, (uint32_t)i);
        iscsi_set_header_digest(s->ctx, ISCSI_HEADER_DIGEST_NONE);
        iscsi_set_session_type(s->ctx, ISCSI_SESSION_NORMAL);
        iscsi_set_noautoreconnect(s->ctx, 1);
        iscsi_set_timeout(s->ctx, (int)secs + 1);
        if (iscsi_full_connect_async(s->ctx, s->url->portal, s->url->lun, connect_cb, s) != 0)
            FAIL(s, "cannot start login");
    }

    uint64_t deadline = t0 + (uint64_t)(secs * 1e9);
    for (;;) {
        int live = 0;
        for (int i = 0; i < n; i++) {
            pfd[i].fd = -1;
            if (ss[i].state == DONE || ss[i].state == FAILED)
                continue;
            live++;
            pfd[i].fd = iscsi_get_fd(ss[i].ctx);
            pfd[i].events = (short)iscsi_which_events(ss[i].ctx);
        }
        if (!live)
            break;
        if (now_ns() >= deadline) {
            fprintf(stderr, "boot-storm: %d sessions unfinished after %.0f s\n", live, secs);
            for (int i = 0; i < n; i++)
                if (ss[i].state != DONE && ss[i].state != FAILED)
                    ss[i].errors++, ss[i].state = FAILED;
            break;
        }
        if (poll(pfd, n, 100) < 0)
            return perror("poll"), 1;
        for (int i = 0; i < n; i++)
            if (pfd[i].fd >= 0 && iscsi_service(ss[i].ctx, pfd[i].revents) < 0 && ss[i].state != DONE) {
                if (ss[i].state == LOGOUT)
                    ss[i].state = DONE; /* target closed on logout: fine */
                else
                    FAIL(&ss[i], "connection failed");
            }
    }
    uint64_t wall = now_ns() - t0, bytes = 0;
    for (int i = 0; i < n; i++) {
        struct session *s = &ss[i];
        uint64_t t = s->t_io ? s->t_io : now_ns() - t0;
        printf("session=%d lun=%d login_s=%.3f total_s=%.3f reads=%zu/%zu MiB=%.1f errors=%" PRIu64 "\n", i,
               s->url->lun, s->t_login / 1e9, t / 1e9, s->done, npat, (double)s->bytes / MiB, s->errors);
        errors += s->errors || s->done != npat;
        if (t > slowest)
            slowest = t;
        bytes += s->bytes;
        iscsi_destroy_url(s->url);
        iscsi_destroy_context(s->ctx);
    }
    double w = wall / 1e9 > 0 ? wall / 1e9 : 1e-9;
    printf("sessions=%d total_MiB=%.1f wall_s=%.3f aggregate_MBps=%.1f slowest_s=%.3f errors=%" PRIu64 "\n",
           n, (double)bytes / MiB, w, bytes / w / 1e6, slowest / 1e9, errors);
    free(pat);
    free(ss);
    free(pfd);
    return errors ? 1 : 0;
}
