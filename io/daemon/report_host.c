/* report_host.c: report.day and report.events in the daemon (see report_host.h). The events of a
 * day are found by their local day (the `at` of each event), so a journal that still holds
 * yesterday (Redis was away at midnight) or a stream that holds every day both give exactly the
 * day asked for. */
#include "report_host.h"

#include "daemon.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/report.h"
#include "core/codec/codec.h"
#include "core/log.h"
#include "io/base/clock.h"

/* report.events pages stay well under the 64 KiB a client may be limited to (hallctl is). */
#define REPORT_PAGE_BYTES (40 * 1024)
#define REPORT_PAGE_MAX 1000
#define REPORT_RETRY_MS 300

typedef struct { uint64_t seq; uint8_t *data; size_t len; } raw_ev;
typedef struct { raw_ev *v; size_t n, cap; int32_t day; } raw_list;

/* The journal is read again only when it has grown and at most once a second: dashboards ask
 * for today's report often, and each read is a pass over the whole day on the loop. */
#define REPORT_JOURNAL_REREAD_MS 1000

/* The last earlier day read from Redis, or the one being read; and the last read of the
 * journal. One hall per daemon: static. */
static struct {
    int loading;
    int ready;
    int failed;
    raw_list evs;
    raw_list today;          /* the journal's events of today.day */
    size_t today_bytes;      /* the journal's size when it was read */
    int64_t today_read_ms;   /* monotonic */
} rh;

static void list_clear(raw_list *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->v[i].data);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* Keeps the event if its local day is the list's day. */
static void list_take(void *arg, uint64_t seq, const uint8_t *data, size_t len)
{
    raw_list *l = arg;
    hv *ev = NULL;
    int64_t at;
    int32_t day;
    int minute;
    if (codec_decode(data, len, &ev) != CODEC_OK || hv_get_int(ev, "at", &at) < 0) {
        hv_free(ev);
        return;
    }
    hv_free(ev);
    hk_clock_local(at, &day, &minute);
    if (day != l->day) return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        raw_ev *v = realloc(l->v, cap * sizeof *v);
        if (!v) { log_err("report: out of memory reading day %d", l->day); return; }
        l->v = v;
        l->cap = cap;
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) return;
    memcpy(copy, data, len);
    l->v[l->n++] = (raw_ev){seq, copy, len};
}

static void on_redis_read(void *arg, int status, uint64_t last_seq)
{
    (void)arg;
    (void)last_seq;
    rh.loading = 0;
    if (status < 0) {
        rh.failed = 1;
        list_clear(&rh.evs);
        log_warn("report: reading day %d from Redis failed", rh.evs.day);
        return;
    }
    rh.ready = 1;
    log_info("report: day %d read from Redis: %zu events", rh.evs.day, rh.evs.n);
}

/* ---- replies ------------------------------------------------------------------------------- */

static bool day_valid(int64_t d)
{
    int y = (int)(d / 10000), m = (int)(d / 100 % 100), dd = (int)(d % 100);
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return y >= 2000 && y <= 9999 && m >= 1 && m <= 12 && dd >= 1 && dd <= mdays[m - 1];
}

/* The day's events in seq order, from the journal or from the Redis cache. Returns the list, or
 * NULL with out->reply set (loading, or an error). */
static const raw_list *day_events(journal *events, store *st, int32_t journal_day, int32_t day,
                                  const char **source, const hv *req, hk_out *out)
{
    if (day >= journal_day && events) {
        size_t bytes = journal_bytes(events);
        bool fresh = rh.today.day == day && rh.today_read_ms &&
                     (bytes == rh.today_bytes || hk_clock_mono_ms() - rh.today_read_ms < REPORT_JOURNAL_REREAD_MS);
        if (!fresh) {
            list_clear(&rh.today);
            rh.today.day = day;
            int rc = journal_each(events, list_take, &rh.today);
            if (rc < 0) {
                rh.today_read_ms = 0;
                hall_reply_err(out, req, HK_ERR_UNAVAILABLE, "cannot read the local events journal: %s", strerror(-rc));
                return NULL;
            }
            rh.today_bytes = bytes;
            rh.today_read_ms = hk_clock_mono_ms();
        }
        *source = "journal";
        return &rh.today;
    }
    if (rh.ready && rh.evs.day == day) {
        *source = "redis";
        return &rh.evs;
    }
    if (rh.loading && rh.evs.day != day) {
        hall_reply_err(out, req, HK_ERR_UNAVAILABLE, "day %d is being read from Redis: ask for day %d again in a moment",
                  rh.evs.day, day);
        return NULL;
    }
    if (!rh.loading) {
        if (!store_is_up(st)) {
            hall_reply_err(out, req, HK_ERR_UNAVAILABLE,
                      "Redis is unreachable: only the days the local journal holds (from %d) can be reported now",
                      journal_day);
            return NULL;
        }
        list_clear(&rh.evs);
        rh.evs.day = day;
        rh.ready = rh.failed = 0;
        int rc = store_read_all(st, list_take, on_redis_read, &rh.evs);   /* past days lie before the checkpoint */
        if (rc < 0) {
            hall_reply_err(out, req, HK_ERR_UNAVAILABLE, "cannot read day %d from Redis now (%s): try again",
                      day, rc == -EBUSY ? "the stream is being read" : strerror(-rc));
            return NULL;
        }
        rh.loading = 1;
        log_info("report: reading day %d from Redis", day);
    }
    hv *r = hall_reply_ok(out, req);
    hv_set(r, "day", hv_int(day));
    hv_set(r, "loading", hv_bool(true));
    hv_set(r, "retry_ms", hv_int(REPORT_RETRY_MS));
    return NULL;
}

static report *build(const hk_config *cfg, int32_t day, const raw_list *l)
{
    report *r = report_new(day, hk_clock_local);
    if (!r) return NULL;
    report_set_hall(r, cfg->hall_id, cfg->hall_name);
    for (size_t i = 0; i < cfg->ncategories; i++) report_name_category(r, cfg->categories[i].id, cfg->categories[i].name);
    for (size_t i = 0; i < cfg->nwindows; i++) report_name_window(r, cfg->windows[i].id, cfg->windows[i].name);
    for (size_t i = 0; i < l->n; i++) {
        hv *ev = NULL;
        if (codec_decode(l->v[i].data, l->v[i].len, &ev) == CODEC_OK) report_add(r, ev);
        hv_free(ev);
    }
    return r;
}

static void cmd_day(const hk_config *cfg, const raw_list *l, const char *source, int32_t day,
                    const hv *req, hk_out *out)
{
    const char *format = hv_get_str(req, "format");
    if (!format) format = "tree";
    report *r = build(cfg, day, l);
    if (!r) { hall_reply_err(out, req, HK_ERR_UNAVAILABLE, "out of memory"); return; }
    hv *reply = hall_reply_ok(out, req);
    hv_set(reply, "day", hv_int(day));
    hv_set(reply, "source", hv_str(source));
    hv_set(reply, "events", hv_int((int64_t)l->n));
    size_t len = 0;
    if (!strcmp(format, "csv")) {
        char *s = report_csv(r, &len);
        hv_set(reply, "csv", hv_strn(s, len));
        free(s);
    } else if (!strcmp(format, "html")) {
        char *s = report_html(r, &len);
        hv_set(reply, "html", hv_strn(s, len));
        free(s);
    } else {
        hv_set(reply, "report", report_tree(r));
    }
    report_free(r);
}

static void cmd_events(const raw_list *l, const char *source, int32_t day, const hv *req, hk_out *out)
{
    int64_t after = 0, limit = REPORT_PAGE_MAX;
    if (hv_has(req, "after") && (hv_get_int(req, "after", &after) < 0 || after < 0)) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "after must be a seq (a whole number >= 0)");
        return;
    }
    if (hv_has(req, "limit") && (hv_get_int(req, "limit", &limit) < 0 || limit < 1 || limit > REPORT_PAGE_MAX)) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "limit must be 1 .. %d", REPORT_PAGE_MAX);
        return;
    }
    hv *arr = hv_arr();
    size_t bytes = 0, i = 0;
    int64_t n = 0, next = after;
    for (; i < l->n && l->v[i].seq <= (uint64_t)after; i++) {}
    for (; i < l->n && n < limit && (n == 0 || bytes + l->v[i].len <= REPORT_PAGE_BYTES); i++) {
        hv *ev = NULL;
        if (codec_decode(l->v[i].data, l->v[i].len, &ev) != CODEC_OK) continue;
        hv_push(arr, ev);
        bytes += l->v[i].len;
        next = (int64_t)l->v[i].seq;
        n++;
    }
    hv *reply = hall_reply_ok(out, req);
    hv_set(reply, "day", hv_int(day));
    hv_set(reply, "source", hv_str(source));
    hv_set(reply, "events", arr);
    hv_set(reply, "next", hv_int(next));
    hv_set(reply, "more", hv_bool(i < l->n));
}

/* report.day and report.events: the same day and source checks, then the report or a page. */
static void report_run(daemon_t *d, bool events_page, const hv *req, hk_time now, hk_out *out)
{
    int32_t today = now.day, journal_day = d->journal_day;
    int64_t day = today;
    if (hv_has(req, "day") && (hv_get_int(req, "day", &day) < 0 || !day_valid(day))) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "day must be a date written YYYYMMDD, e.g. 20241105");
        return;
    }
    if (day > today) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "day %lld is in the future (today is %d)", (long long)day, today);
        return;
    }
    const char *format = hv_get_str(req, "format");
    if (!events_page && hv_has(req, "format") &&
        (!format || (strcmp(format, "tree") && strcmp(format, "csv") && strcmp(format, "html")))) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "format must be \"tree\", \"csv\" or \"html\"");
        return;
    }
    if (!journal_day) journal_day = today;
    const char *source = NULL;
    const raw_list *l = day_events(d->events, d->st, journal_day, (int32_t)day, &source, req, out);
    if (l && events_page) cmd_events(l, source, (int32_t)day, req, out);
    else if (l) cmd_day(&d->cfg, l, source, (int32_t)day, req, out);
}

void report_host_day(void *arg, const hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    (void)s;
    report_run(arg, false, req, now, out);
}

void report_host_events(void *arg, const hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    (void)s;
    report_run(arg, true, req, now, out);
}
