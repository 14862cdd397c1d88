/* restore.c: how the day comes back at start (docs/redis.md "Starting without Redis"). The local
 * events journal holds the hall from its first event or from its latest day.checkpoint on: the
 * local copy. When Redis is up within RESTORE_LOCAL_AFTER_MS and its stream agrees with the local
 * copy, the hall is restored from Redis and the journal adds what Redis lacks; otherwise the hall
 * starts from the local copy, its appends held, and once Redis answers the two are compared: the
 * events Redis lacks are sent in order, or, for a foreign history, nothing is merged and a fault
 * says why. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/base/clock.h"
#include "core/codec/codec.h"
#include "core/log.h"
#include "daemon.h"

/* Redis not up by then: start from the local copy (ready within a second, issue 13). The
 * embedded redis-server gets longer to start (an AOF to load), but one that exits before the
 * link is up (a damaged append-only file) sends the hall to its local copy at once. */
#define RESTORE_LOCAL_AFTER_MS 400
#define RESTORE_LOCAL_EMBEDDED_MS 800

/* A day.checkpoint names where its series starts (its parts come right before it): the local
 * journal is compacted to there once Redis has everything before it. */
void restore_note_event(daemon_t *d, uint64_t seq, const hv *ev)
{
    const char *name = hv_get_str(ev, "ev");
    int64_t parts = 0;
    if (!name || strcmp(name, "day.checkpoint")) return;
    hv_get_int(ev, "parts", &parts);
    if (parts >= 0 && (uint64_t)parts < seq) d->cp_seq = seq - (uint64_t)parts;
}

/* One event of the day, from Redis or the local copy, into the hall. */
static void restore_one(daemon_t *d, uint64_t seq, const uint8_t *data, size_t len, hv **evp)
{
    hv *ev = NULL;
    const char *name = NULL;
    if (codec_decode(data, len, &ev) < 0 || hall_replay(d->hall, ev) < 0) {
        name = ev ? hv_get_str(ev, "ev") : NULL;
        if (name && !strncmp(name, "day.checkpoint", 14)) {
            /* the rest of the stream builds on it: a hall half restored must not start */
            log_err("restore: the checkpoint at seq %llu is malformed: not starting from a partial hall "
                    "(docs/redis.md)", (unsigned long long)seq);
            d->exit_code = 1;
            d->stopping = 1;
            uv_stop(&d->loop);
        } else {
            log_warn("restore: event seq %llu skipped (it does not fit this configuration)",
                     (unsigned long long)seq);
        }
        d->skipped++;
    } else {
        d->replayed++;
        name = hv_get_str(ev, "ev");
        /* a checkpoint holds every emergency change before it, as an emergency.changed does */
        if (name && (!strcmp(name, "emergency.changed") || !strcmp(name, "day.checkpoint"))) d->em_seq = seq;
        restore_note_event(d, seq, ev);
    }
    if (evp) *evp = ev;
    else hv_free(ev);
}

static void on_event_restored(void *arg, uint64_t seq, const uint8_t *data, size_t len)
{
    restore_one(arg, seq, data, len, NULL);
}

/* After the restore: events of the local journal that Redis does not have (acknowledged while
 * Redis was away, or lost by it: an emptied Redis has none) go back to Redis and into the hall,
 * in order. */
static void replay_journal_event(void *arg, uint64_t seq, const uint8_t *data, size_t len)
{
    daemon_t *d = arg;
    hv *ev = NULL;
    if (!d->journal_day) {
        int64_t at = 0;
        if (codec_decode(data, len, &ev) == 0 && hv_get_int(ev, "at", &at) == 0) d->journal_day = hk_clock_at(at).day;
        hv_free(ev);
        ev = NULL;
    }
    if (seq <= d->restored_seq) return;
    if (codec_decode(data, len, &ev) == 0) {
        int64_t at = 0;
        hv_get_int(ev, "at", &at);
        const char *name = hv_get_str(ev, "ev");
        if (hall_replay(d->hall, ev) == 0) {
            store_append(d->st, seq, name ? name : "?", at, data, len, NULL, NULL);
            d->journal_replayed++;
            if (name && !strcmp(name, "emergency.changed")) d->em_seq = seq;
            restore_note_event(d, seq, ev);
        }
    }
    hv_free(ev);
}

/* The day is in the hall (up to last_seq): the journal's surplus, the newest emergency state,
 * the outputs, then clients. */
static void on_restored(void *arg, int status, uint64_t last_seq)
{
    daemon_t *d = arg;
    if (d->stopping) return;
    if (status < 0) {
        fprintf(stderr, "hallkeeper: cannot restore the hall from Redis\n");
        d->exit_code = 1;
        uv_stop(&d->loop);
        return;
    }
    hall_set_seq(d->hall, last_seq);
    d->restored_seq = last_seq;
    journal_each(d->events, replay_journal_event, d);
    if (d->journal_replayed)
        log_warn("journal: %zu acknowledged events that Redis did not have were restored from the local "
                 "journal and sent to Redis again", d->journal_replayed);
    if (!d->journal_day) d->journal_day = hk_clock_now().day;
    daemon_speakers_open(d);
    if (d->journal_ev && d->journal_seq > d->em_seq) {
        /* Redis does not have the newest emergency state: the local journal wins, and Redis
         * gets the event back */
        log_warn("emergency: the local journal (seq %llu) is newer than Redis (seq %llu): re-applied",
                 (unsigned long long)d->journal_seq, (unsigned long long)d->em_seq);
        hall_replay(d->hall, d->journal_ev);
        if (d->journal_seq > last_seq) {
            uint8_t *buf;
            size_t len;
            int64_t at = 0;
            hv_get_int(d->journal_ev, "at", &at);
            if (codec_encode(d->journal_ev, 0, &buf, &len) == 0) {
                store_append(d->st, d->journal_seq, "emergency.changed", at, buf, len, NULL, NULL);
                free(buf);
            }
        }
    }
    lines_start(d->lines);   /* a restored emergency is re-applied before any client is accepted */
    daemon_start_serving(d);
}

/* ---- the local copy ------------------------------------------------------------------------ */

static void scan_local(void *arg, uint64_t seq, const uint8_t *data, size_t len)
{
    daemon_t *d = arg;
    if (!d->local.n++) {
        /* whole only from the hall's first event or from the start of a checkpoint series */
        hv *ev = NULL;
        int64_t part = 0, parts = -1;
        if (seq == 1) {
            d->local.whole = 1;
        } else if (codec_decode(data, len, &ev) == 0 && hv_get_str(ev, "ev")) {
            const char *name = hv_get_str(ev, "ev");
            hv_get_int(ev, "part", &part);
            hv_get_int(ev, "parts", &parts);
            d->local.whole = (!strcmp(name, "day.checkpoint.part") && part == 1) ||
                             (!strcmp(name, "day.checkpoint") && parts == 0);
        }
        hv_free(ev);
        d->local.first = seq;
    }
    d->local.last = seq;
}

static void start_local_each(void *arg, uint64_t seq, const uint8_t *data, size_t len)
{
    daemon_t *d = arg;
    hv *ev = NULL;
    restore_one(d, seq, data, len, &ev);
    int64_t at = 0;
    const char *name = ev ? hv_get_str(ev, "ev") : NULL;
    if (ev) hv_get_int(ev, "at", &at);
    /* queued in order before any new event; store_release drops what Redis turns out to have */
    store_append(d->st, seq, name ? name : "?", at, data, len, NULL, NULL);
    hv_free(ev);
}

static void start_local(daemon_t *d)
{
    d->restore_started = 1;
    d->from_local = 1;
    store_hold(d->st);
    journal_each(d->events, start_local_each, d);
    if (d->stopping) return;
    log_warn("redis: %s at start: the hall starts from its local copy (%zu events, seq %llu..%llu)%s",
             d->conflict[0] ? "another history" : "not reachable", d->local.n, (unsigned long long)d->local.first,
             (unsigned long long)d->local.last, d->conflict[0] ? "" : "; Redis gets what it lacks once it is back");
    if (!d->conflict[0] && !d->redis_down_since) d->redis_down_since = (uint64_t)hk_clock_now().ms;
    on_restored(d, 0, d->local.last);
    daemon_check_redis_fault(d);   /* graded from the first second */
}

static void on_local_timer(uv_timer_t *t)
{
    daemon_t *d = t->data;
    if (!d->restore_started && !d->stopping) start_local(d);
}

static void on_child_exit(void *arg)
{
    daemon_t *d = arg;
    if (!d->restore_started && !d->stopping && d->local.n && d->local.whole) {
        uv_timer_stop(&d->local_timer);
        start_local(d);
    }
}

/* ---- comparing with Redis ------------------------------------------------------------------ */

typedef struct {
    uint64_t seq;
    const uint8_t *data;
    size_t len;
    int found, same;
} find_ctx;

static void find_record(void *arg, uint64_t seq, const uint8_t *data, size_t len)
{
    find_ctx *f = arg;
    if (seq != f->seq || f->found) return;
    f->found = 1;
    f->same = len == f->len && (!len || !memcmp(data, f->data, len));
}

/* 0 if Redis's stream (last entry seq, data) continues the local copy or lags it; -1 with the
 * reason in why for a history the local copy does not contain. */
static int compare_history(daemon_t *d, int status, uint64_t seq, const uint8_t *data, size_t len,
                           char *why, size_t whylen)
{
    if (!d->local.n) return 0;   /* nothing local: Redis is the day */
    if (status == -EPROTO) {
        snprintf(why, whylen, "its stream holds entries this hall never writes (IDs not 0-SEQ)");
        return -1;
    }
    if (seq > d->local.last) {
        snprintf(why, whylen, "Redis holds seq %llu, beyond the local copy's %llu: another controller wrote hall %s",
                 (unsigned long long)seq, (unsigned long long)d->local.last, d->cfg.hall_id);
        return -1;
    }
    if (seq == 0 || seq < d->local.first) return 0;   /* Redis lags (emptied, or behind our checkpoint) */
    find_ctx f = {seq, data, len, 0, 0};
    journal_each(d->events, find_record, &f);
    if (f.found && !f.same) {
        snprintf(why, whylen, "Redis's event seq %llu differs from the local copy's: another controller wrote hall %s",
                 (unsigned long long)seq, d->cfg.hall_id);
        return -1;
    }
    return 0;
}

static void on_top(void *arg, int status, uint64_t seq, const uint8_t *data, size_t len)
{
    daemon_t *d = arg;
    d->top_inflight = 0;
    if (status == -EIO || d->stopping) return;   /* the link broke: asked again when it is up */
    char why[256];
    int agree = compare_history(d, status, seq, data, len, why, sizeof why) == 0;
    if (!agree) {
        log_err("redis: not merging the local copy (seq %llu..%llu) into Redis: %s. The hall goes on from "
                "its local copy and writes nothing to Redis; to keep Redis's history instead, stop the daemon "
                "and move %s/events.journal away (docs/redis.md)",
                (unsigned long long)d->local.first, (unsigned long long)d->local.last, why, d->data_dir);
        snprintf(d->conflict, sizeof d->conflict, "not merged into Redis: %s", why);
        d->conflict_since = (uint64_t)hk_clock_now().ms;
        store_hold(d->st);
    }
    if (!d->restore_started) {
        uv_timer_stop(&d->local_timer);
        if (!agree && !d->local.whole) {
            log_err("restore: the local journal does not hold a whole day to start from: not starting");
            d->exit_code = 1;
            uv_stop(&d->loop);
        } else if (!agree) {
            start_local(d);
        } else {
            d->restore_started = 1;
            store_restore(d->st, on_event_restored, on_restored, d);
        }
        return;
    }
    if (!agree) {
        daemon_check_redis_fault(d);
        return;
    }
    d->reconciled = 1;
    store_release(d->st, seq);
    log_notice("redis: its stream ends at seq %llu; the local copy goes on to %llu: %zu events sent in order",
               (unsigned long long)seq, (unsigned long long)hall_seq(d->hall), store_pending(d->st));
}

void restore_on_link(daemon_t *d, int up)
{
    if (!up || d->top_inflight || d->conflict[0]) return;
    if (d->restore_started && (!d->from_local || d->reconciled)) return;
    if (store_top(d->st, on_top, d) == 0) d->top_inflight = 1;
}

void restore_begin(daemon_t *d)
{
    journal_each(d->events, scan_local, d);
    uv_timer_init(&d->loop, &d->local_timer);
    d->local_timer.data = d;
    if (d->local.n && d->local.whole) {
        uv_timer_start(&d->local_timer, on_local_timer, d->rc ? RESTORE_LOCAL_EMBEDDED_MS : RESTORE_LOCAL_AFTER_MS, 0);
        if (d->rc) redis_child_set_exit_cb(d->rc, on_child_exit, d);
    } else if (d->local.n) {
        log_warn("journal: %s/events.journal starts at seq %llu, not at a checkpoint: the hall waits for Redis "
                 "to restore the day", d->data_dir, (unsigned long long)d->local.first);
    }
    store_start(d->st);
}
