/* city.c: see city.h and docs/streams.md. Synchronous hiredis is right here: this
 * is a command-line consumer, not the hall's loop. Each hall's stream is read through a consumer
 * group (XREADGROUP), so a restarted consumer resumes where it left off: what it acknowledged
 * (XACK) is never reported again, and what it had read but not acknowledged is read again. The
 * current picture (waiting, ratings, emergency) is first rebuilt from the stream's history up to
 * the group's position, without reporting it as updates. */
#include "city.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "core/utf8.h"
#include "core/val.h"
#include "core/codec/codec.h"
#include "io/store/redis_url.h"
#include "json.h"

#define CITY_GROUP_DEFAULT "city"
#define CITY_CONSUMER_DEFAULT "hallctl"
#define CITY_BATCH 200
#define CITY_BLOCK_MS 2000
#define CITY_PRIME_PAGE 500
#define CITY_PRIME_MAX 200000       /* entries read back at most per hall to rebuild the picture */

enum { CITY_OK = 0, CITY_ERR = 1, CITY_USAGE = 2, CITY_CONN = 3 };

typedef struct {
    const char *id;
    char key[64];
    uint64_t applied;           /* highest seq folded into the picture */
    hv *queues;                 /* the last queue.changed's queues, or NULL */
    int64_t rated, score_sum;   /* ticket.rated since the last day.closed */
    bool em_active, em_drill;
    char em_playbook[64], em_name[128];
} city_hall;

typedef struct {
    redis_url url;
    const char *group, *consumer;
    bool json;
    long count, reported;
    int timeout_ms;
    city_hall *halls;
    int nhalls;
    redisContext *c;
} city;

/* ---- small helpers -------------------------------------------------------------------------- */

static bool city_valid_hall(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 32) return false;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static redisReply *city_cmd(city *c, int argc, const char **argv)
{
    return redisCommandArgv(c->c, argc, argv, NULL);
}

/* NULL reply: the connection is gone (c->c->errstr says why). */
static redisReply *city_cmdf(city *c, const char *fmt, const char *a, const char *b, const char *d)
{
    return redisCommand(c->c, fmt, a, b, d);
}

static int city_connect(city *c)
{
    struct timeval tv = { c->timeout_ms / 1000, (c->timeout_ms % 1000) * 1000 };
    c->c = c->url.path ? redisConnectUnixWithTimeout(c->url.path, tv) : redisConnectWithTimeout(c->url.host, c->url.port, tv);
    if (!c->c || c->c->err) {
        fprintf(stderr, "hallctl city: cannot connect to Redis: %s\n", c->c ? c->c->errstr : "out of memory");
        if (c->c) redisFree(c->c);
        c->c = NULL;
        return CITY_CONN;
    }
    /* a reply may take the whole BLOCK time: allow for it on top of the time-out */
    struct timeval rtv = { (c->timeout_ms + CITY_BLOCK_MS) / 1000, ((c->timeout_ms + CITY_BLOCK_MS) % 1000) * 1000 };
    redisSetTimeout(c->c, rtv);
    redisReply *r = NULL;
    if (c->url.password) {
        r = c->url.user ? redisCommand(c->c, "AUTH %s %s", c->url.user, c->url.password) : redisCommand(c->c, "AUTH %s", c->url.password);
        if (!r || r->type == REDIS_REPLY_ERROR) goto refused;
        freeReplyObject(r);
    }
    r = redisCommand(c->c, "SELECT %d", c->url.db);
    if (!r || r->type == REDIS_REPLY_ERROR) goto refused;
    freeReplyObject(r);
    return CITY_OK;
refused:
    fprintf(stderr, "hallctl city: Redis refused the connection: %s\n",
            r ? r->str : c->c->errstr);
    if (r) freeReplyObject(r);
    redisFree(c->c);
    c->c = NULL;
    return CITY_CONN;
}

/* ---- the picture of a hall ----------------------------------------------------------------- */

static void city_hall_waiting(const city_hall *h, int64_t *waiting, int64_t *est)
{
    *waiting = 0;
    *est = 0;
    if (!h->queues || h->queues->t != HV_MAP) return;
    for (size_t i = 0; i < h->queues->u.m.n; i++) {
        const hv *q = h->queues->u.m.v[i].val;
        int64_t w = 0, e = 0;
        hv_get_int(q, "waiting", &w);
        hv_get_int(q, "est_wait_s", &e);
        *waiting += w;
        if (w > 0 && e > *est) *est = e;
    }
}

/* Folds one event into the picture. Returns true when what the city sees changed. */
static bool city_apply(city_hall *h, const char *ev, const hv *data)
{
    if (!strcmp(ev, "queue.changed")) {
        const hv *q = hv_get(data, "queues");
        if (!q) return false;
        hv_free(h->queues);
        h->queues = hv_dup(q);
        return true;
    }
    if (!strcmp(ev, "ticket.rated")) {
        int64_t score = 0;
        if (hv_get_int(data, "score", &score) != 0) return false;
        h->rated++;
        h->score_sum += score;
        return true;
    }
    if (!strcmp(ev, "day.closed")) {   /* ratings are per day */
        h->rated = 0;
        h->score_sum = 0;
        return true;
    }
    if (!strcmp(ev, "emergency.changed")) {
        bool active = false, drill = false;
        hv_get_bool(data, "active", &active);
        hv_get_bool(data, "drill", &drill);
        const char *pb = hv_get_str(data, "playbook"), *name = hv_get_str(data, "name");
        h->em_active = active;
        h->em_drill = active && drill;
        snprintf(h->em_playbook, sizeof h->em_playbook, "%s", active && pb ? pb : "");
        snprintf(h->em_name, sizeof h->em_name, "%s", active && name ? name : "");
        return true;
    }
    return false;
}

static void city_print_json(const city *c, const city_hall *h, const char *ev, uint64_t seq, int64_t at)
{
    int64_t waiting, est;
    city_hall_waiting(h, &waiting, &est);
    printf("{\"hall\":");
    hv_json_str(stdout, h->id, strlen(h->id));
    if (ev) {
        printf(",\"ev\":");
        hv_json_str(stdout, ev, strlen(ev));
        printf(",\"seq\":%" PRIu64 ",\"at\":%" PRId64, seq, at);
    } else {
        printf(",\"snapshot\":true,\"seq\":%" PRIu64, h->applied);
    }
    printf(",\"waiting\":%" PRId64 ",\"est_wait_s\":%" PRId64 ",\"queues\":{", waiting, est);
    for (size_t i = 0; h->queues && h->queues->t == HV_MAP && i < h->queues->u.m.n; i++) {
        const hv *q = h->queues->u.m.v[i].val;
        int64_t w = 0, e = 0;
        hv_get_int(q, "waiting", &w);
        hv_get_int(q, "est_wait_s", &e);
        if (i) putchar(',');
        hv_json_str(stdout, h->queues->u.m.v[i].key, strlen(h->queues->u.m.v[i].key));
        printf(":{\"waiting\":%" PRId64 ",\"est_wait_s\":%" PRId64 "}", w, e);
    }
    printf("},\"rated\":%" PRId64 ",\"avg_score\":", h->rated);
    if (h->rated) printf("%.2f", (double)h->score_sum / (double)h->rated);
    else printf("null");
    printf(",\"emergency\":{\"active\":%s", h->em_active ? "true" : "false");
    if (h->em_active) {
        printf(",\"playbook\":");
        hv_json_str(stdout, h->em_playbook, strlen(h->em_playbook));
        printf(",\"name\":");
        hv_json_str(stdout, h->em_name, strlen(h->em_name));
        printf(",\"drill\":%s", h->em_drill ? "true" : "false");
    }
    printf("}}\n");
    (void)c;
}

static void city_print_table(const city *c, const city_hall *why, const char *ev, uint64_t seq)
{
    char ts[16];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%H:%M:%S", &tm);
    if (why) printf("%s  %s: %s (seq %" PRIu64 ")\n", ts, why->id, ev, seq);
    else printf("%s  following %d hall%s\n", ts, c->nhalls, c->nhalls == 1 ? "" : "s");
    printf("%-20s %8s %9s %6s %5s  %s\n", "HALL", "WAITING", "EST WAIT", "RATED", "AVG", "EMERGENCY");
    for (int i = 0; i < c->nhalls; i++) {
        const city_hall *h = &c->halls[i];
        int64_t waiting, est;
        city_hall_waiting(h, &waiting, &est);
        char avg[24], estw[32];
        if (h->rated) snprintf(avg, sizeof avg, "%.1f", (double)h->score_sum / (double)h->rated);
        else snprintf(avg, sizeof avg, "-");
        snprintf(estw, sizeof estw, "%" PRId64 " min", (est + 59) / 60);
        printf("%-20s %8" PRId64 " %9s %6" PRId64 " %5s  ", h->id, waiting, estw, h->rated, avg);
        if (h->em_active)
            printf("%s%s%s%s\n", h->em_drill ? "DRILL " : "", h->em_playbook, h->em_name[0] ? " " : "", h->em_name);
        else
            printf("-\n");
    }
    putchar('\n');
}

/* ---- reading the streams --------------------------------------------------------------------- */

typedef struct {
    uint64_t seq;
    int64_t at;
    const char *ev;
    const char *data;
    size_t len;
} city_entry;

/* One stream entry [ID, [field, value, ...]] of a reply. */
static int city_entry_of(const redisReply *e, city_entry *out)
{
    memset(out, 0, sizeof *out);
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING) return -1;
    const redisReply *f = e->element[1];
    if (f->type != REDIS_REPLY_ARRAY) return -1;     /* nil: the entry was trimmed meanwhile */
    for (size_t k = 0; k + 1 < f->elements; k += 2) {
        const redisReply *key = f->element[k], *val = f->element[k + 1];
        if (key->type != REDIS_REPLY_STRING || val->type != REDIS_REPLY_STRING) continue;
        if (!strcmp(key->str, "ev")) out->ev = val->str;
        else if (!strcmp(key->str, "seq")) out->seq = strtoull(val->str, NULL, 10);
        else if (!strcmp(key->str, "at")) out->at = strtoll(val->str, NULL, 10);
        else if (!strcmp(key->str, "data")) { out->data = val->str; out->len = val->len; }
    }
    return out->ev && out->seq ? 0 : -1;
}

/* Rebuilds the picture from the history up to the group's position, newest first: the last
 * queue.changed and emergency.changed, and the ratings since the last day.closed. */
static int city_prime(city *c, city_hall *h, const char *upto)
{
    char start[48];
    snprintf(start, sizeof start, "%s", upto);
    bool have_queue = false, have_em = false, day_done = false;
    uint64_t seen = 0;
    long scanned = 0;
    while (scanned < CITY_PRIME_MAX && !(have_queue && have_em && day_done)) {
        char count[16];
        snprintf(count, sizeof count, "%d", CITY_PRIME_PAGE);
        const char *argv[] = { "XREVRANGE", h->key, start, "-", "COUNT", count };
        redisReply *r = city_cmd(c, 6, argv);
        if (!r) return -EIO;
        if (r->type != REDIS_REPLY_ARRAY) {
            fprintf(stderr, "hallctl city: XREVRANGE %s: %s\n", h->key, r->type == REDIS_REPLY_ERROR ? r->str : "?");
            freeReplyObject(r);
            return -EPROTO;
        }
        for (size_t i = 0; i < r->elements; i++) {
            city_entry e;
            if (city_entry_of(r->element[i], &e) != 0) continue;
            if (!seen) seen = e.seq;
            bool q = !strcmp(e.ev, "queue.changed"), em = !strcmp(e.ev, "emergency.changed");
            bool rate = !strcmp(e.ev, "ticket.rated"), day = !strcmp(e.ev, "day.closed");
            if ((q && !have_queue) || (em && !have_em) || (rate && !day_done)) {
                hv *data = NULL;
                if (codec_decode(e.data, e.len, &data) == 0) {
                    city_apply(h, e.ev, data);
                    if (q) have_queue = true;
                    if (em) have_em = true;
                }
                hv_free(data);
            }
            if (day) day_done = true;
        }
        size_t n = r->elements;
        if (n > 0) {
            const redisReply *last = r->element[n - 1];
            snprintf(start, sizeof start, "(%s", last->element[0]->str);
        }
        freeReplyObject(r);
        scanned += (long)n;
        if (n < CITY_PRIME_PAGE) break;
    }
    h->applied = seen;
    return 0;
}

/* Creates the group at the stream's end (a new consumer reports what happens from now on; the
 * picture so far comes from city_prime), then primes from the group's position. */
static int city_setup_hall(city *c, city_hall *h)
{
    redisReply *r = city_cmdf(c, "XGROUP CREATE %s %s $ MKSTREAM", h->key, c->group, NULL);
    if (!r) return -EIO;
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) != 0) {
        fprintf(stderr, "hallctl city: XGROUP CREATE %s: %s\n", h->key, r->str);
        freeReplyObject(r);
        return -EPROTO;
    }
    freeReplyObject(r);
    r = city_cmdf(c, "XINFO GROUPS %s", h->key, NULL, NULL);
    if (!r) return -EIO;
    char upto[48] = "+";
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        const redisReply *g = r->element[i];
        bool ours = false;
        const char *ldi = NULL;
        for (size_t k = 0; g->type == REDIS_REPLY_ARRAY && k + 1 < g->elements; k += 2) {
            const redisReply *key = g->element[k], *val = g->element[k + 1];
            if (key->type != REDIS_REPLY_STRING && key->type != REDIS_REPLY_STATUS) continue;
            if (!strcmp(key->str, "name") && val->type == REDIS_REPLY_STRING) ours = !strcmp(val->str, c->group);
            else if (!strcmp(key->str, "last-delivered-id") && val->type == REDIS_REPLY_STRING) ldi = val->str;
        }
        if (ours && ldi) snprintf(upto, sizeof upto, "%s", ldi);
    }
    freeReplyObject(r);
    hv_free(h->queues);
    h->queues = NULL;
    h->rated = h->score_sum = 0;
    h->em_active = h->em_drill = false;
    h->em_playbook[0] = h->em_name[0] = 0;
    return strcmp(upto, "0-0") == 0 ? 0 : city_prime(c, h, upto);
}

static city_hall *city_hall_of(city *c, const char *key)
{
    for (int i = 0; i < c->nhalls; i++)
        if (!strcmp(c->halls[i].key, key)) return &c->halls[i];
    return NULL;
}

/* Handles one XREADGROUP reply: fold, report, then XACK (a crash before the XACK means the entry
 * is read and reported again; after it, never). Returns the number of entries, or -errno. */
static int city_handle(city *c, redisReply *r)
{
    if (r->type == REDIS_REPLY_NIL) return 0;       /* BLOCK ran out */
    if (r->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "hallctl city: XREADGROUP: %s\n", r->str);
        return -EPROTO;
    }
    if (r->type != REDIS_REPLY_ARRAY) return -EPROTO;
    int total = 0;
    for (size_t s = 0; s < r->elements; s++) {
        const redisReply *st = r->element[s];
        if (st->type != REDIS_REPLY_ARRAY || st->elements != 2 || st->element[0]->type != REDIS_REPLY_STRING) continue;
        city_hall *h = city_hall_of(c, st->element[0]->str);
        const redisReply *entries = st->element[1];
        if (!h || entries->type != REDIS_REPLY_ARRAY) continue;
        for (size_t i = 0; i < entries->elements; i++) {
            const redisReply *raw = entries->element[i];
            city_entry e;
            if (city_entry_of(raw, &e) == 0) {
                bool changed;
                if (e.seq > h->applied) {
                    hv *data = NULL;
                    changed = codec_decode(e.data, e.len, &data) == 0 && city_apply(h, e.ev, data);
                    hv_free(data);
                    h->applied = e.seq;
                } else {
                    /* read before but not acknowledged: already in the picture, reported again */
                    changed = !strcmp(e.ev, "queue.changed") || !strcmp(e.ev, "ticket.rated") ||
                              !strcmp(e.ev, "day.closed") || !strcmp(e.ev, "emergency.changed");
                }
                if (changed && (c->count == 0 || c->reported < c->count)) {
                    if (c->json) city_print_json(c, h, e.ev, e.seq, e.at);
                    else city_print_table(c, h, e.ev, e.seq);
                    fflush(stdout);
                    c->reported++;
                }
            }
            if (raw->type == REDIS_REPLY_ARRAY && raw->elements >= 1 && raw->element[0]->type == REDIS_REPLY_STRING) {
                redisReply *a = city_cmdf(c, "XACK %s %s %s", h->key, c->group, raw->element[0]->str);
                if (!a) return -EIO;
                freeReplyObject(a);
            }
            total++;
            if (c->count && c->reported >= c->count) return total;
        }
    }
    return total;
}

/* XREADGROUP over every hall; id "0" re-reads this consumer's unacknowledged entries, ">" new ones. */
static redisReply *city_read(city *c, const char *id, bool block)
{
    int argc = 0;
    const char **argv = calloc((size_t)(10 + 2 * c->nhalls), sizeof *argv);
    if (!argv) return NULL;
    char count[16], blockms[16];
    snprintf(count, sizeof count, "%d", CITY_BATCH);
    snprintf(blockms, sizeof blockms, "%d", CITY_BLOCK_MS);
    argv[argc++] = "XREADGROUP";
    argv[argc++] = "GROUP";
    argv[argc++] = c->group;
    argv[argc++] = c->consumer;
    argv[argc++] = "COUNT";
    argv[argc++] = count;
    if (block) {
        argv[argc++] = "BLOCK";
        argv[argc++] = blockms;
    }
    argv[argc++] = "STREAMS";
    for (int i = 0; i < c->nhalls; i++) argv[argc++] = c->halls[i].key;
    for (int i = 0; i < c->nhalls; i++) argv[argc++] = id;
    redisReply *r = city_cmd(c, argc, argv);
    free(argv);
    return r;
}

/* One connected session: set up, catch up on unacknowledged entries, then follow. Returns
 * CITY_OK when --count is reached, -EIO when the connection broke, or an exit status. */
static int city_session(city *c, bool first)
{
    for (int i = 0; i < c->nhalls; i++) {
        int rc = city_setup_hall(c, &c->halls[i]);
        if (rc == -EIO) return -EIO;
        if (rc < 0) return CITY_ERR;
    }
    if (first) {
        if (c->json)
            for (int i = 0; i < c->nhalls; i++) city_print_json(c, &c->halls[i], NULL, 0, 0);
        else
            city_print_table(c, NULL, NULL, 0);
        fflush(stdout);
    }
    for (;;) {      /* this consumer's entries read but not acknowledged before */
        redisReply *r = city_read(c, "0", false);
        if (!r) return -EIO;
        int n = city_handle(c, r);
        freeReplyObject(r);
        if (n < 0) return n == -EIO ? -EIO : CITY_ERR;
        if (c->count && c->reported >= c->count) return CITY_OK;
        if (n == 0) break;
    }
    for (;;) {
        redisReply *r = city_read(c, ">", true);
        if (!r) return -EIO;
        int n = city_handle(c, r);
        freeReplyObject(r);
        if (n < 0) return n == -EIO ? -EIO : CITY_ERR;
        if (c->count && c->reported >= c->count) return CITY_OK;
    }
}

int ctl_city_main(const char *url, char *const *halls, int nhalls, bool json, long count, int timeout_ms)
{
    city c = { .json = json, .count = count, .timeout_ms = timeout_ms > 0 ? timeout_ms : 5000 };
    int rc = CITY_USAGE;
    c.group = getenv("HALL_CITY_GROUP") && *getenv("HALL_CITY_GROUP") ? getenv("HALL_CITY_GROUP") : CITY_GROUP_DEFAULT;
    c.consumer = getenv("HALL_CITY_CONSUMER") && *getenv("HALL_CITY_CONSUMER") ? getenv("HALL_CITY_CONSUMER")
                                                                                 : CITY_CONSUMER_DEFAULT;
    char why[256];
    if (!url || redis_url_parse(&c.url, url, why, sizeof why) != 0) {
        fprintf(stderr, "hallctl city: the Redis URL must be redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or "
                        "unix:///path/to/socket, got \"%s\"\n", url ? url : "");
        goto out;
    }
    if (nhalls < 1) {
        fprintf(stderr, "hallctl city: name at least one hall id (hall.id of its configuration)\n");
        goto out;
    }
    c.halls = calloc((size_t)nhalls, sizeof *c.halls);
    if (!c.halls) { rc = CITY_ERR; goto out; }
    for (int i = 0; i < nhalls; i++) {
        if (!city_valid_hall(halls[i])) {
            fprintf(stderr, "hallctl city: \"%s\" is not a hall id (1 to 32 of A-Z a-z 0-9 _ -)\n", halls[i]);
            goto out;
        }
        for (int k = 0; k < i; k++)
            if (!strcmp(halls[k], halls[i])) {
                fprintf(stderr, "hallctl city: hall \"%s\" is named twice\n", halls[i]);
                goto out;
            }
        c.halls[i].id = halls[i];
        snprintf(c.halls[i].key, sizeof c.halls[i].key, "hall:{%s}:events", halls[i]);
    }
    c.nhalls = nhalls;
    if ((rc = city_connect(&c)) != CITY_OK) goto out;
    bool first = true;
    for (;;) {
        rc = city_session(&c, first);
        first = false;
        if (rc != -EIO) break;
        /* Redis went away (restart, failover): the group keeps our place; come back to it */
        fprintf(stderr, "hallctl city: lost the connection to Redis (%s); reconnecting\n",
                c.c && c.c->errstr[0] ? c.c->errstr : "closed");
        redisFree(c.c);
        c.c = NULL;
        do {
            sleep(1);
        } while (city_connect(&c) != CITY_OK);
    }
out:
    if (c.c) redisFree(c.c);
    for (int i = 0; c.halls && i < c.nhalls; i++) hv_free(c.halls[i].queues);
    free(c.halls);
    redis_url_free(&c.url);
    return rc;
}
