/* hall_checkpoint.c: the daily checkpoint (checkpoint.h, docs/streams.md). Writing: the modules'
 * checkpoints form one state tree; when it would not fit one frame (hall.v1 and the stored-event
 * decoder take at most 64 KiB), the items of its long lists go first into day.checkpoint.part
 * events and day.checkpoint carries the rest. Reading: parts wait in h->checkpoint_parts until
 * their day.checkpoint, which rebuilds the state on a fresh hall and swaps it in only once every
 * module has accepted its part, so a malformed checkpoint changes nothing. */
#include "checkpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

/* What one checkpoint event may take, counted as an upper bound of its msgpack size (below the
 * 64 KiB frame limit of core/codec/codec.h, with room for the envelope). */
#define CP_EVENT_BUDGET (48 * 1024)

/* ---- reading helpers (checkpoint.h) ------------------------------------------------------- */

int cp_int(const hv *m, const char *key, int64_t *out) { return hv_get_int(m, key, out); }
int cp_bool(const hv *m, const char *key, bool *out) { return hv_get_bool(m, key, out); }
const char *cp_str(const hv *m, const char *key) { return hv_get_str(m, key); }

const hv *cp_arr(const hv *m, const char *key)
{
    const hv *v = hv_get(m, key);
    return v && v->t == HV_ARR ? v : NULL;
}

const hv *cp_map(const hv *m, const char *key)
{
    const hv *v = hv_get(m, key);
    return v && v->t == HV_MAP ? v : NULL;
}

/* ---- the state ------------------------------------------------------------------------------ */

hv *hall_checkpoint_state(const hk_hall *h)
{
    hv *st = hv_map();
    hv_set(st, "hall", hall_core_checkpoint(h));
    hv_set(st, "queue", queue_checkpoint(&h->q));
    hv_set(st, "posts", posts_checkpoint(h));
    hv_set(st, "appointments", appt_checkpoint(h));
    hv_set(st, "cases", cases_checkpoint(h));
    hv_set(st, "ratings", ratings_checkpoint(h));
    hv_set(st, "emergency", hall_emergency_checkpoint(h));
    return st;
}

/* The modules in dependency order: the queue first (windows name its tickets, posts and
 * appointments resolve categories through it). */
static int restore_modules(hk_hall *f, const hv *st)
{
    const hv *q = cp_map(st, "queue"), *core = cp_map(st, "hall"), *posts = cp_map(st, "posts");
    const hv *appts = cp_map(st, "appointments"), *cases = cp_map(st, "cases");
    const hv *ratings = cp_map(st, "ratings"), *em = cp_map(st, "emergency");
    if (!q || !core || !posts || !appts || !cases || !ratings || !em) return -1;
    int *remap = NULL;
    size_t nremap = 0;
    int rc = queue_restore(&f->q, q, &remap, &nremap);
    if (rc == 0) rc = hall_core_restore(f, core, remap, nremap);
    free(remap);
    if (rc == 0) rc = posts_restore(f, posts);
    if (rc == 0) rc = appt_restore(f, appts);
    if (rc == 0) rc = cases_restore(f, cases);
    if (rc == 0) rc = ratings_restore(f, ratings);
    if (rc == 0) rc = hall_emergency_restore(f, em);
    return rc;
}

#define SWAP(a, b) do { __typeof__(a) tmp_ = (a); (a) = (b); (b) = tmp_; } while (0)

int hall_checkpoint_restore_state(hk_hall *h, const hv *st)
{
    if (!st || st->t != HV_MAP) return -1;
    hk_hall *f = hall_new(h->cfg);
    if (!f) hk_alloc_fail(sizeof *f);
    if (restore_modules(f, st) < 0) {
        hall_free(f);
        return -1;
    }
    /* the durable parts change hands; what is not durable (seq, the token and ticket verifiers,
     * the emergency machine's input levels) stays with h */
    SWAP(h->q, f->q);
    SWAP(h->wins, f->wins);
    SWAP(h->posts, f->posts);
    SWAP(h->appts, f->appts);
    SWAP(h->cases, f->cases);
    SWAP(h->ratings, f->ratings);
    memcpy(h->recent, f->recent, sizeof h->recent);
    h->nrecent = f->nrecent;
    memcpy(h->faults, f->faults, sizeof h->faults);
    h->nfaults = f->nfaults;
    h->open_day = f->open_day;
    hall_free(f);
    /* accepted by a fresh machine above: cannot fail here */
    return hall_emergency_restore(h, cp_map(st, "emergency"));
}

/* ---- writing ---------------------------------------------------------------------------------- */

/* An upper bound of v's msgpack size. */
static size_t hv_bound(const hv *v)
{
    size_t n = 5;
    switch (v->t) {
    case HV_NIL: case HV_BOOL: return 1;
    case HV_INT: case HV_FLOAT: return 9;
    case HV_STR: return 5 + v->u.s.n;
    case HV_ARR:
        for (size_t i = 0; i < v->u.a.n; i++) n += hv_bound(v->u.a.v[i]);
        return n;
    case HV_MAP:
        for (size_t i = 0; i < v->u.m.n; i++) n += 5 + strlen(v->u.m.v[i].key) + hv_bound(v->u.m.v[i].val);
        return n;
    }
    return n;
}

/* Like hall_emit, without applying: the live hall already is the state it describes. */
static void emit_unapplied(hk_hall *h, hk_out *out, hv *ev, int64_t at)
{
    hv_set(ev, "seq", hv_int((int64_t)++h->seq));
    hv_set(ev, "at", hv_int(at));
    if (out->nevents == out->cap) {
        out->cap = out->cap ? out->cap * 2 : 4;
        out->events = hk_realloc(out->events, out->cap * sizeof *out->events);
    }
    out->events[out->nevents++] = ev;
}

static void emit_part(hk_hall *h, hk_out *out, hv *items, int part, int64_t at)
{
    hv *ev = hall_event(HK_CHECKPOINT_PART_EV);
    hv_set(ev, "part", hv_int(part));
    hv_set(ev, "items", items);
    emit_unapplied(h, out, ev, at);
}

void hall_checkpoint_emit(hk_hall *h, hk_out *out, hk_time now)
{
    hv *st = hall_checkpoint_state(h);
    int parts = 0;
    if (hv_bound(st) > CP_EVENT_BUDGET) {
        /* every list item of every module moves to the parts, in order, as many per part as fit */
        hv *items = NULL;
        size_t used = 0;
        for (size_t i = 0; i < st->u.m.n; i++) {
            const char *mod = st->u.m.v[i].key;
            hv *mv = st->u.m.v[i].val;
            for (size_t k = 0; mv->t == HV_MAP && k < mv->u.m.n; k++) {
                hv *list = mv->u.m.v[k].val;
                const char *key = mv->u.m.v[k].key;
                if (list->t != HV_ARR) continue;
                for (size_t e = 0; e < list->u.a.n; e++) {
                    hv *item = list->u.a.v[e];
                    size_t sz = hv_bound(item) + 2 * 40;   /* and the module and list keys */
                    if (items && used + sz > CP_EVENT_BUDGET) {
                        emit_part(h, out, items, ++parts, now.ms);
                        items = NULL;
                    }
                    if (!items) { items = hv_map(); used = 64; }
                    hv *mm = hv_get(items, mod);
                    if (!mm) { mm = hv_map(); hv_set(items, mod, mm); }
                    hv *dst = hv_get(mm, key);
                    if (!dst) { dst = hv_arr(); hv_set(mm, key, dst); }
                    hv_push(dst, item);
                    used += sz;
                }
                list->u.a.n = 0;   /* the items now belong to the parts */
            }
        }
        if (items) emit_part(h, out, items, ++parts, now.ms);
    }
    hv *ev = hall_event(HK_CHECKPOINT_EV);
    hv_set(ev, "day", hv_int(h->open_day));
    hv_set(ev, "parts", hv_int(parts));
    hv_set(ev, "state", st);
    emit_unapplied(h, out, ev, now.ms);
}

/* ---- applying --------------------------------------------------------------------------------- */

static void drop_parts(hk_hall *h)
{
    hv_free(h->checkpoint_parts);
    h->checkpoint_parts = NULL;
}

/* A part waits for its day.checkpoint. Part 1 starts a new series, so the parts of a checkpoint
 * whose day.checkpoint never made it (a crash in between) are dropped at the next one. */
static int apply_part(hk_hall *h, const hv *ev)
{
    int64_t part = 0, seq = 0;
    const hv *items = cp_map(ev, "items");
    if (cp_int(ev, "part", &part) < 0 || part < 1 || cp_int(ev, "seq", &seq) < 0 || !items) return -1;
    if (part == 1) {
        drop_parts(h);
        h->checkpoint_parts = hv_arr();
    }
    if (!h->checkpoint_parts) return -1;   /* a series that did not start here */
    hv *p = hv_map();
    hv_set(p, "part", hv_int(part));
    hv_set(p, "seq", hv_int(seq));
    hv_set(p, "items", hv_dup(items));
    hv_push(h->checkpoint_parts, p);
    return 0;
}

/* Appends each part's items to the lists of the state they were taken from. */
static int merge_parts(hv *st, const hv *parts, int64_t n, int64_t seq)
{
    if (!parts || parts->t != HV_ARR || (int64_t)parts->u.a.n < n) return -1;
    size_t first = parts->u.a.n - (size_t)n;
    for (int64_t k = 0; k < n; k++) {
        const hv *p = parts->u.a.v[first + (size_t)k];
        int64_t part = 0, pseq = 0;
        cp_int(p, "part", &part);
        cp_int(p, "seq", &pseq);
        /* the parts come right before their day.checkpoint, numbered from 1 */
        if (part != k + 1 || pseq != seq - n + k) return -1;
        const hv *items = cp_map(p, "items");
        for (size_t i = 0; i < items->u.m.n; i++) {
            hv *mod = hv_get(st, items->u.m.v[i].key);
            const hv *lists = items->u.m.v[i].val;
            if (!mod || mod->t != HV_MAP || lists->t != HV_MAP) return -1;
            for (size_t j = 0; j < lists->u.m.n; j++) {
                hv *dst = hv_get(mod, lists->u.m.v[j].key);
                const hv *src = lists->u.m.v[j].val;
                if (!dst || dst->t != HV_ARR || src->t != HV_ARR) return -1;
                for (size_t e = 0; e < src->u.a.n; e++) hv_push(dst, hv_dup(src->u.a.v[e]));
            }
        }
    }
    return 0;
}

int hall_checkpoint_apply(hk_hall *h, const hv *ev, const char *name)
{
    if (!strcmp(name, HK_CHECKPOINT_PART_EV)) return apply_part(h, ev);
    if (strcmp(name, HK_CHECKPOINT_EV) != 0) return 0;   /* a later kind of checkpoint event */
    int64_t parts = 0, seq = 0;
    const hv *st = cp_map(ev, "state");
    if (cp_int(ev, "parts", &parts) < 0 || parts < 0 || cp_int(ev, "seq", &seq) < 0 || !st) {
        drop_parts(h);
        return -1;
    }
    int rc;
    if (parts == 0) {
        rc = hall_checkpoint_restore_state(h, st);
    } else {
        hv *full = hv_dup(st);
        rc = merge_parts(full, h->checkpoint_parts, parts, seq);
        if (rc == 0) rc = hall_checkpoint_restore_state(h, full);
        hv_free(full);
    }
    drop_parts(h);
    return rc;
}
