/* incidents.c: see incidents.h. The log is derived from events that are
 * themselves kept in the hall's event stream (hall:{ID}:events), so every record names the seq
 * of the event it comes from. */
#include "incidents.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"

/* An incident the log knows to be open, with what it has already recorded of its steps. */
typedef struct {
    char playbook[64];
    bool drill;
    int64_t started_at;
    size_t nsteps;
    uint8_t *done, *acked;
} inc_open;

struct hk_incidents {
    incident_log *log;
    inc_open *open;      /* in the order of the last emergency object: primary first */
    size_t nopen, cap;
};

/* ---- the open incidents ---------------------------------------------------------------------- */

static int inc_find(const hk_incidents *in, const char *pb)
{
    for (size_t i = 0; pb && i < in->nopen; i++)
        if (strcmp(in->open[i].playbook, pb) == 0) return (int)i;
    return -1;
}

static inc_open *inc_add(hk_incidents *in, const char *pb, bool drill, int64_t started_at)
{
    if (in->nopen == in->cap) {
        in->cap = in->cap ? in->cap * 2 : 8;
        inc_open *n = hk_realloc(in->open, in->cap * sizeof *n);
        in->open = n;
    }
    inc_open *o = &in->open[in->nopen++];
    memset(o, 0, sizeof *o);
    snprintf(o->playbook, sizeof o->playbook, "%s", pb);
    o->drill = drill;
    o->started_at = started_at;
    return o;
}

static void inc_reset_steps(inc_open *o)
{
    if (o->nsteps) {
        memset(o->done, 0, o->nsteps);
        memset(o->acked, 0, o->nsteps);
    }
}

static void inc_remove(hk_incidents *in, size_t i)
{
    free(in->open[i].done);
    free(in->open[i].acked);
    memmove(&in->open[i], &in->open[i + 1], (in->nopen - i - 1) * sizeof *in->open);
    in->nopen--;
}

static void inc_mark(inc_open *o, int64_t step, bool acked)
{
    if (step < 0 || step > 1000) return;
    size_t k = (size_t)step;
    if (k >= o->nsteps) {
        size_t n = k + 1;
        uint8_t *d = hk_realloc(o->done, n), *a = hk_realloc(o->acked, n);
        memset(d + o->nsteps, 0, n - o->nsteps);
        memset(a + o->nsteps, 0, n - o->nsteps);
        o->done = d;
        o->acked = a;
        o->nsteps = n;
    }
    o->done[k] = 1;
    if (acked) o->acked[k] = 1;
}

static bool inc_is(const inc_open *o, size_t k, bool acked)
{
    return k < o->nsteps && (acked ? o->acked[k] : o->done[k]);
}

/* ---- writing records --------------------------------------------------------------------------- */

static void rec(hk_incidents *in, int64_t at, const char *kind, const inc_open *o, const char *who, hv *detail)
{
    int64_t n = incident_log_append(in->log, at, kind, o ? o->playbook : NULL, o ? o->drill : false, who, detail);
    if (n < 0) log_err("incident log: record %s of %s lost", kind, o ? o->playbook : "-");
    else log_notice("incident log %lld: %s %s%s by %s", (long long)n, kind, o ? o->playbook : "-",
                    o && o->drill ? " (drill 演练)" : "", who && *who ? who : "-");
}

static hv *detail_new(int64_t seq)
{
    hv *d = hv_map();
    if (seq > 0) hv_set(d, "seq", hv_int(seq));
    return d;
}

static void copy_key(hv *to, const hv *from, const char *key)
{
    const hv *v = hv_get(from, key);
    if (v) hv_set(to, key, hv_dup(v));
}

/* ev: the emergency.changed of an emergency.clear (cleared_by, reason), else NULL. */
static void on_cleared(hk_incidents *in, const hv *ev, int64_t at, int64_t seq, const inc_open *o)
{
    const char *who = ev ? hv_get_str(ev, "cleared_by") : NULL;
    hv *d = detail_new(seq);
    if (who) copy_key(d, ev, "reason");
    else hv_set(d, "note", hv_str("ended without an emergency.clear seen by the log"));
    if (o->started_at) {
        hv_set(d, "started_at", hv_int(o->started_at));
        hv_set(d, "duration_ms", hv_int(at - o->started_at));
    }
    rec(in, at, "cleared", o, who ? who : "", d);
}

static void on_started(hk_incidents *in, const char *kind, const hv *inc, int64_t at, int64_t seq, const inc_open *o)
{
    hv *d = detail_new(seq);
    copy_key(d, inc, "name");
    copy_key(d, inc, "severity");
    copy_key(d, inc, "silent");
    copy_key(d, inc, "started_at");
    rec(in, at, kind, o, hv_get_str(inc, "triggered_by"), d);
}

static void on_steps(hk_incidents *in, const hv *inc, int64_t at, int64_t seq, inc_open *o)
{
    const hv *steps = hv_get(inc, "steps");
    for (size_t k = 0; steps && steps->t == HV_ARR && k < steps->u.a.n; k++) {
        const hv *s = steps->u.a.v[k];
        int64_t done_at = 0, ack_at = 0;
        bool acked = hv_get_int(s, "ack_at", &ack_at) == 0 && ack_at > 0;
        bool done = hv_get_int(s, "done_at", &done_at) == 0 && done_at > 0;
        if (acked ? inc_is(o, k, true) : (!done || inc_is(o, k, false))) continue;
        hv *d = detail_new(seq);
        hv_set(d, "step", hv_int((int64_t)k));
        for (size_t i = 0; s->t == HV_MAP && i < s->u.m.n; i++) {
            const char *key = s->u.m.v[i].key;
            if (!strcmp(key, "done_at") || !strcmp(key, "ack_at") || !strcmp(key, "ack_by")) continue;
            hv_set(d, key, hv_dup(s->u.m.v[i].val));
        }
        hv_set(d, "done_at", hv_int(acked ? ack_at : done_at));
        if (o->started_at) hv_set(d, "after_ms", hv_int((acked ? ack_at : done_at) - o->started_at));
        inc_mark(o, (int64_t)k, acked);
        if (acked) rec(in, at, "checklist_ack", o, hv_get_str(s, "ack_by"), d);
        else rec(in, at, "step_done", o, "hallkeeper", d);
    }
}

/* One emergency object against the incidents seen before it. */
static void on_emergency(hk_incidents *in, const hv *ev)
{
    int64_t at = 0, seq = 0;
    hv_get_int(ev, "at", &at);
    hv_get_int(ev, "seq", &seq);
    const hv *list = hv_get(ev, "incidents");
    size_t nlist = list && list->t == HV_ARR ? list->u.a.n : 0;

    for (size_t i = in->nopen; i-- > 0;) {   /* gone: cleared */
        bool still = false;
        for (size_t k = 0; k < nlist && !still; k++) {
            const char *pb = hv_get_str(list->u.a.v[k], "playbook");
            still = pb && strcmp(pb, in->open[i].playbook) == 0;
        }
        if (still) continue;
        on_cleared(in, ev, at, seq, &in->open[i]);
        inc_remove(in, i);
    }

    for (size_t k = 0; k < nlist; k++) {
        const hv *inc = list->u.a.v[k];
        const char *pb = hv_get_str(inc, "playbook");
        if (!pb) continue;
        bool drill = false;
        int64_t started = 0;
        hv_get_bool(inc, "drill", &drill);
        hv_get_int(inc, "started_at", &started);
        int i = inc_find(in, pb);
        if (i >= 0 && started && in->open[i].started_at && started != in->open[i].started_at &&
            !(in->open[i].drill && !drill)) {
            /* the same playbook started anew without the log seeing it end */
            on_cleared(in, NULL, at, seq, &in->open[i]);
            inc_remove(in, (size_t)i);
            i = -1;
        }
        inc_open *o;
        if (i < 0) {
            o = inc_add(in, pb, drill, started);
            on_started(in, drill ? "drill_started" : "triggered", inc, at, seq, o);
        } else {
            o = &in->open[i];
            if (o->drill && !drill) {   /* the real thing during a drill: it restarts as real */
                o->drill = false;
                o->started_at = started;
                inc_reset_steps(o);
                on_started(in, "drill_became_real", inc, at, seq, o);
            }
        }
        on_steps(in, inc, at, seq, o);
        /* keep the open list in the object's order (rank), so [0] is the primary incident */
        int now = inc_find(in, pb);
        if (now >= 0 && (size_t)now != k && k < in->nopen) {
            inc_open tmp = in->open[k];
            in->open[k] = in->open[now];
            in->open[now] = tmp;
        }
    }
}

static void on_input(hk_incidents *in, const hv *ev)
{
    if (!in->nopen) return;
    int64_t at = 0, seq = 0, value = -1;
    hv_get_int(ev, "at", &at);
    hv_get_int(ev, "seq", &seq);
    hv_get_int(ev, "value", &value);
    const char *line = hv_get_str(ev, "line");
    const inc_open *primary = &in->open[0];
    hv *active = hv_arr();
    for (size_t i = 0; i < in->nopen; i++) {
        hv_push(active, hv_str(in->open[i].playbook));
        if (primary->drill && !in->open[i].drill) primary = &in->open[i];
    }
    hv *d = detail_new(seq);
    hv_set(d, "line", hv_str(line ? line : "?"));
    hv_set(d, "value", hv_int(value));
    hv_set(d, "active", active);
    char who[96];
    snprintf(who, sizeof who, "gpio:%s", line ? line : "?");
    rec(in, at, "input_changed", primary, who, d);
}

void incidents_observe(hk_incidents *in, const hk_out *out)
{
    for (size_t i = 0; in && out && i < out->nevents; i++) {
        const hv *ev = out->events[i];
        const char *name = hv_get_str(ev, "ev");
        if (!name) continue;
        if (!strcmp(name, "emergency.changed")) {
            on_emergency(in, ev);
        } else if (!strcmp(name, "gpio.changed")) {
            const char *dir = hv_get_str(ev, "dir");
            if (dir && !strcmp(dir, "in")) on_input(in, ev);
        }
    }
}

/* ---- opening: which incidents does the log say are open? ------------------------------------- */

static void rebuild_one(hk_incidents *in, const hv *r)
{
    const char *kind = hv_get_str(r, "kind"), *pb = hv_get_str(r, "playbook");
    if (!kind || !pb) return;
    const hv *d = hv_get(r, "detail");
    bool drill = false;
    int64_t started = 0, step = -1;
    hv_get_bool(r, "drill", &drill);
    hv_get_int(d, "started_at", &started);
    hv_get_int(d, "step", &step);
    int i = inc_find(in, pb);
    if (!strcmp(kind, "triggered") || !strcmp(kind, "drill_started") || !strcmp(kind, "drill_became_real")) {
        inc_open *o = i >= 0 ? &in->open[i] : inc_add(in, pb, drill, started);
        o->drill = drill;
        o->started_at = started;
        inc_reset_steps(o);
    } else if (i >= 0 && !strcmp(kind, "step_done")) {
        inc_mark(&in->open[i], step, false);
    } else if (i >= 0 && !strcmp(kind, "checklist_ack")) {
        inc_mark(&in->open[i], step, true);
    } else if (i >= 0 && !strcmp(kind, "cleared")) {
        inc_remove(in, (size_t)i);
    }
}

hk_incidents *incidents_open(uv_loop_t *loop, const char *data_dir, char *err, size_t errlen)
{
    hk_incidents *in = calloc(1, sizeof *in);
    if (!in) { snprintf(err, errlen, "out of memory"); return NULL; }
    if (!(in->log = incident_log_open(loop, data_dir, err, errlen))) { free(in); return NULL; }
    for (size_t i = 0; i < incident_log_count(in->log); i++) {
        hv *r = incident_log_record(in->log, i);
        if (r) rebuild_one(in, r);
        hv_free(r);
    }
    if (in->nopen) log_notice("incident log: %zu incident(s) open since before this start", in->nopen);
    return in;
}

incident_log *incidents_log(hk_incidents *in) { return in->log; }

void incidents_close(hk_incidents *in)
{
    if (!in) return;
    while (in->nopen) inc_remove(in, in->nopen - 1);
    free(in->open);
    incident_log_close(in->log);
    free(in);
}

/* ---- incidents.list ---------------------------------------------------------------------------- */

void incidents_cmd_list(void *arg, const hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    hk_incidents *in = arg;
    (void)s;
    (void)now;
    int64_t since = 0, limit = INCIDENTS_LIST_DEFAULT;
    if ((hv_has(req, "since_n") && (hv_get_int(req, "since_n", &since) < 0 || since < 0)) ||
        (hv_has(req, "limit") && (hv_get_int(req, "limit", &limit) < 0 || limit < 1))) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST,
                       "incidents.list takes since_n (a record number, >= 0) and limit (>= 1)");
        return;
    }
    if (limit > INCIDENTS_LIST_MAX) limit = INCIDENTS_LIST_MAX;
    size_t count = incident_log_count(in->log), i = (size_t)since < count ? (size_t)since : count, bytes = 0;
    hv *records = hv_arr();
    /* by position: in an intact log, line i holds record i + 1 */
    for (size_t taken = 0; i < count && taken < (size_t)limit; i++, taken++) {
        size_t len;
        const char *line = incident_log_line(in->log, i, &len);
        if (taken && bytes + len > INCIDENTS_LIST_BYTES) break;
        bytes += len;
        hv *r = incident_log_record(in->log, i);
        if (!r || r->t != HV_MAP) {   /* not a record: shown as it is, and it fails any check */
            hv_free(r);
            r = hv_set(hv_map(), "raw", hv_strn(line, len));
        }
        hv_push(records, r);
    }
    uint64_t bad_n;
    const char *why;
    bool ok = incident_log_verified(in->log, &bad_n, &why);
    hv *r = hall_reply_ok(out, req);
    hv_set(r, "records", records);
    hv_set(r, "verified", hv_bool(ok));
    if (!ok) {
        hv_set(r, "bad_n", hv_int((int64_t)bad_n));
        hv_set(r, "problem", hv_str(why));
    }
    hv_set(r, "head_hash", hv_str(incident_log_head_hash(in->log)));
    hv_set(r, "head_n", hv_int((int64_t)incident_log_next_n(in->log) - 1));
    hv_set(r, "count", hv_int((int64_t)count));
    hv_set(r, "more", hv_bool(i < count));
}
