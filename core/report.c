/* report.c: the daily report (see report.h). One pass over the day's events: a small table of
 * tickets follows each visitor from issue to call, start, finish and rating, so waits and
 * service times come from the events' own timestamps; every figure is counted for the hall,
 * the ticket's category, the window and the staff member who sat at that window then. */
#include "report.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "strmap.h"
#include "days.h"

/* ---- small containers ------------------------------------------------------------------- */

typedef struct { int64_t *v; size_t n, cap; } i64vec;

static void vec_push(i64vec *a, int64_t x)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
        a->v = hk_realloc(a->v, a->cap * sizeof *a->v);
    }
    a->v[a->n++] = x;
}

typedef struct {
    int64_t issued, served, noshow, transferred;
    i64vec waits, service;              /* ms */
    int64_t ratings[5];
    int64_t cases_opened, cases_on_time, cases_late, cases_overdue;
    int64_t followups_opened, followups_closed;
} rstats;

/* One row of a dimension: a category, a window or a staff member. */
typedef struct {
    char *id, *name;
    int num;                 /* windows: the window number */
    char staff_now[32];      /* windows: who sits there (window.changed) */
    int64_t checked_in_at;   /* staff: first staff.checked_in of the day, 0 = none */
    int64_t checkins;
    rstats s;
} rdim;

typedef struct { rdim *v; size_t n, cap; } rdims;

/* What a case or follow-up was opened with: later events of it may name less. */
typedef struct {
    char cat[16];
    char staff[32];
    int window;
    bool overdue;
} rattr;

typedef struct {
    char cat[16];
    int64_t issued_at;       /* 0: issued on a day the report did not see */
    bool called;             /* the first call (the wait) is counted */
    int window;
    char staff[32];          /* at the window when it was called */
    char finished_by[32];
    int finished_window;
    int64_t called_at, started_at;
} rticket;

struct report {
    int32_t day;
    report_local_fn local;
    char *hall_id, *hall_name;
    rstats hall;
    rdims cats, wins, staff;
    int64_t hourly[24];
    int64_t alerts;
    int64_t events;          /* events that counted for the day */
    int64_t first_at, last_at;
    strmap codes;            /* ticket code -> index in tickets */
    rticket *tickets;
    size_t ntickets, captickets;
    strmap items;            /* "case:ID" / "followup:ID" -> index in attrs */
    rattr *attrs;
    size_t nattrs, capattrs;
};

static void utc_local(int64_t ms, int32_t *day, int *minute)
{
    int64_t secs = ms / 1000;
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) { rem += 86400; days--; }
    *day = hk_day_of(days);
    *minute = (int)(rem / 60);
}

report *report_new(int32_t day, report_local_fn local)
{
    report *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->day = day;
    r->local = local ? local : utc_local;
    strmap_init(&r->codes);
    strmap_init(&r->items);
    return r;
}

static void stats_free(rstats *s)
{
    free(s->waits.v);
    free(s->service.v);
}

static void dims_free(rdims *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].id);
        free(d->v[i].name);
        stats_free(&d->v[i].s);
    }
    free(d->v);
}

void report_free(report *r)
{
    if (!r) return;
    stats_free(&r->hall);
    dims_free(&r->cats);
    dims_free(&r->wins);
    dims_free(&r->staff);
    free(r->hall_id);
    free(r->hall_name);
    free(r->tickets);
    strmap_free(&r->codes);
    strmap_free(&r->items);
    free(r->attrs);
    free(r);
}

static rdim *dim_get(rdims *d, const char *id)
{
    if (!id || !*id) return NULL;
    for (size_t i = 0; i < d->n; i++)
        if (!strcmp(d->v[i].id, id)) return &d->v[i];
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8;
        d->v = hk_realloc(d->v, d->cap * sizeof *d->v);
    }
    rdim *x = &d->v[d->n++];
    memset(x, 0, sizeof *x);
    x->id = hk_strdup(id);
    return x;
}

static rdim *win_get(report *r, int64_t id)
{
    if (id <= 0 || id > 1000000) return NULL;
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", (long long)id);
    rdim *w = dim_get(&r->wins, buf);
    w->num = (int)id;
    return w;
}

static void dim_name(rdim *x, const char *name)
{
    if (!x || !name || !*name) return;
    free(x->name);
    x->name = hk_strdup(name);
}

void report_set_hall(report *r, const char *id, const char *name)
{
    free(r->hall_id);
    free(r->hall_name);
    r->hall_id = id ? hk_strdup(id) : NULL;
    r->hall_name = name ? hk_strdup(name) : NULL;
}

void report_name_category(report *r, const char *id, const char *name) { dim_name(dim_get(&r->cats, id), name); }
void report_name_window(report *r, int id, const char *name) { dim_name(win_get(r, id), name); }
void report_name_staff(report *r, const char *id, const char *name) { dim_name(dim_get(&r->staff, id), name); }

/* ---- folding events ------------------------------------------------------------------------ */

static rticket *ticket_find(report *r, const char *code)
{
    int i;
    if (!code || strmap_get(&r->codes, code, &i) < 0) return NULL;
    return &r->tickets[i];
}

static rticket *ticket_new(report *r, const char *code)
{
    if (!code || !*code) return NULL;
    rticket *t = ticket_find(r, code);
    if (!t) {
        if (r->ntickets == r->captickets) {
            r->captickets = r->captickets ? r->captickets * 2 : 64;
            r->tickets = hk_realloc(r->tickets, r->captickets * sizeof *r->tickets);
        }
        strmap_put(&r->codes, code, (int)r->ntickets);
        t = &r->tickets[r->ntickets++];
    }
    memset(t, 0, sizeof *t);
    return t;
}

/* The rows an event counts in: the hall, its category, its window, its staff member. */
typedef struct { rstats *s[4]; } targets;

static targets targets_of(report *r, const char *cat, rdim *win, const char *staff)
{
    targets t = {{&r->hall, NULL, NULL, NULL}};
    rdim *c = dim_get(&r->cats, cat), *st = dim_get(&r->staff, staff);
    t.s[1] = c ? &c->s : NULL;
    t.s[2] = win ? &win->s : NULL;
    t.s[3] = st ? &st->s : NULL;
    return t;
}

static int64_t get_int(const hv *m, const char *key, int64_t dflt)
{
    int64_t v;
    return hv_get_int(m, key, &v) == 0 ? v : dflt;
}

/* New events (cases, follow-ups, alerts, staff) may carry their fields at the top or inside a
 * map named after their kind ({case: {...}}): both are read. */
static const hv *field(const hv *ev, const char *kind, const char *key)
{
    const hv *v = hv_get(ev, key);
    if (v) return v;
    const hv *in = hv_get(ev, kind);
    return in && in->t == HV_MAP ? hv_get(in, key) : NULL;
}

static const char *field_str(const hv *ev, const char *kind, const char *key, char *buf, size_t len)
{
    const hv *v = field(ev, kind, key);
    if (!v) return NULL;
    if (v->t == HV_STR) return v->u.s.p;
    if (v->t == HV_INT) { snprintf(buf, len, "%lld", (long long)v->u.i); return buf; }
    return NULL;
}

static int64_t field_int(const hv *ev, const char *kind, const char *key, int64_t dflt)
{
    const hv *v = field(ev, kind, key);
    return v && v->t == HV_INT ? v->u.i : dflt;
}

static int field_bool(const hv *ev, const char *kind, const char *key)
{
    const hv *v = field(ev, kind, key);
    return v && v->t == HV_BOOL ? (int)v->u.b : -1;
}

static rdim *staff_of_window(report *r, rdim *w)
{
    return w && w->staff_now[0] ? dim_get(&r->staff, w->staff_now) : NULL;
}

/* The id of a case or follow-up: {id}, {case_id}, or the kind's own key holding a number
 * ({case: 12}). */
static const char *item_id(const hv *ev, const char *kind, char *buf, size_t len)
{
    const char *id = field_str(ev, kind, "id", buf, len);
    if (!id) id = field_str(ev, kind, "case_id", buf, len);
    const hv *v = hv_get(ev, kind);
    if (!id && v && v->t == HV_INT) { snprintf(buf, len, "%lld", (long long)v->u.i); id = buf; }
    if (!id && v && v->t == HV_STR) id = v->u.s.p;
    return id;
}

static rattr *item_attr(report *r, const char *kind, const char *id, bool create)
{
    char key[64];
    int i;
    if (!id) return NULL;
    snprintf(key, sizeof key, "%s:%s", kind, id);
    if (strmap_get(&r->items, key, &i) == 0) return &r->attrs[i];
    if (!create) return NULL;
    if (r->nattrs == r->capattrs) {
        r->capattrs = r->capattrs ? r->capattrs * 2 : 32;
        r->attrs = hk_realloc(r->attrs, r->capattrs * sizeof *r->attrs);
    }
    strmap_put(&r->items, key, (int)r->nattrs);
    rattr *a = &r->attrs[r->nattrs++];
    memset(a, 0, sizeof *a);
    return a;
}

/* Cases (四件管理) and follow-ups of bad ratings: counted for the category, window and staff
 * member they were opened with (later events of the same one may name less). */
static void count_item_event(report *r, const hv *ev, const char *kind, const char *name, int64_t at, bool today)
{
    char ib[32], b1[32], b2[32], b3[32];
    const char *id = item_id(ev, kind, ib, sizeof ib);
    bool opened = !strcmp(name + strlen(kind) + 1, "opened");
    rattr *a = item_attr(r, kind, id, opened);
    const char *cat = field_str(ev, kind, "category", b1, sizeof b1);
    const char *staff = field_str(ev, kind, "staff", b2, sizeof b2);
    const char *wid = field_str(ev, kind, "window", b3, sizeof b3);
    int64_t win = wid ? strtoll(wid, NULL, 10) : 0;
    rdim *w = win_get(r, win ? win : a ? a->window : 0);
    if (!cat && a && a->cat[0]) cat = a->cat;
    if (!staff && a && a->staff[0]) staff = a->staff;
    if (!staff && w && w->staff_now[0]) staff = w->staff_now;
    if (opened && a) {
        snprintf(a->cat, sizeof a->cat, "%s", cat ? cat : "");
        snprintf(a->staff, sizeof a->staff, "%s", staff ? staff : "");
        a->window = w ? w->num : 0;
    }
    int late = -1;
    if (!strcmp(name, "case.overdue") && a) a->overdue = true;
    if (!strcmp(name, "case.closed")) {
        /* on time: the event says so, or it closed by its deadline, or it never went overdue */
        int on_time = field_bool(ev, kind, "on_time");
        late = on_time >= 0 ? !on_time : field_bool(ev, kind, "overdue");
        if (late < 0) late = field_bool(ev, kind, "late");
        int64_t due = field_int(ev, kind, "deadline", field_int(ev, kind, "due_at", 0));
        if (late < 0 && due > 0) late = at > due;
        if (late < 0) late = a && a->overdue;
    }
    if (!today) return;
    targets tg = targets_of(r, cat, w, staff);
    for (int k = 0; k < 4; k++) {
        rstats *s = tg.s[k];
        if (!s) continue;
        if (!strcmp(name, "case.opened")) s->cases_opened++;
        else if (!strcmp(name, "case.overdue")) s->cases_overdue++;
        else if (!strcmp(name, "case.closed") && late) s->cases_late++;
        else if (!strcmp(name, "case.closed")) s->cases_on_time++;
        else if (!strcmp(name, "followup.opened")) s->followups_opened++;
        else if (!strcmp(name, "followup.closed")) s->followups_closed++;
    }
}

static void on_window_changed(report *r, const hv *ev)
{
    const hv *wv = hv_get(ev, "window");
    int64_t id = get_int(wv, "id", 0);
    rdim *w = win_get(r, id);
    if (!w) return;
    dim_name(w, hv_get_str(wv, "name"));
    const char *staff = hv_get_str(wv, "staff");
    const char *status = hv_get_str(wv, "status");
    if (status && !strcmp(status, "closed")) staff = NULL;
    snprintf(w->staff_now, sizeof w->staff_now, "%s", staff ? staff : "");
    if (staff && *staff) {
        rdim *st = dim_get(&r->staff, staff);
        if (!st->name) dim_name(st, hv_get_str(wv, "staff_name"));
    }
}

int report_add(report *r, const hv *ev)
{
    const char *name = hv_get_str(ev, "ev");
    int64_t at;
    if (!name || hv_get_int(ev, "at", &at) < 0) return 0;
    int32_t day;
    int minute;
    r->local(at, &day, &minute);
    if (day > r->day) return 0;
    bool today = day == r->day;
    const char *code = hv_get_str(ev, "code");
    const char *cat = hv_get_str(ev, "category");
    int64_t wid = get_int(ev, "window", 0);
    rdim *w = wid ? win_get(r, wid) : NULL;
    rticket *t = ticket_find(r, code);
    bool known = true;

    if (!strcmp(name, "ticket.issued")) {
        if (!cat || !(t = ticket_new(r, code))) return 0;
        snprintf(t->cat, sizeof t->cat, "%s", cat);
        t->issued_at = get_int(ev, "issued_at", at);
        if (today) {
            targets tg = targets_of(r, cat, NULL, NULL);
            tg.s[0]->issued++;
            if (tg.s[1]) tg.s[1]->issued++;
            if (minute >= 0 && minute < 1440) r->hourly[minute / 60]++;
        }
    } else if (!strcmp(name, "ticket.called")) {
        bool recall = false;
        hv_get_bool(ev, "recall", &recall);
        if (!w) return 0;
        dim_name(w, hv_get_str(ev, "window_name"));
        if (recall) return 0;
        if (!t && !(t = ticket_new(r, code))) return 0;
        if (cat) snprintf(t->cat, sizeof t->cat, "%s", cat);
        t->window = w->num;
        snprintf(t->staff, sizeof t->staff, "%s", w->staff_now);
        t->called_at = at;
        t->started_at = 0;
        if (!t->called) {
            t->called = true;
            if (today && t->issued_at && at >= t->issued_at) {
                targets tg = targets_of(r, t->cat, w, t->staff);
                for (int k = 0; k < 4; k++)
                    if (tg.s[k]) vec_push(&tg.s[k]->waits, at - t->issued_at);
            }
        }
    } else if (!strcmp(name, "ticket.started")) {
        if (!t) return 0;
        t->started_at = at;
    } else if (!strcmp(name, "ticket.finished") || !strcmp(name, "ticket.noshow")) {
        bool fin = name[7] == 'f';
        rdim *st = staff_of_window(r, w);
        const char *staff = st ? st->id : t ? t->staff : NULL;
        if (t) {
            snprintf(t->finished_by, sizeof t->finished_by, "%s", staff ? staff : "");
            t->finished_window = w ? w->num : t->window;
        }
        if (today) {
            targets tg = targets_of(r, cat ? cat : t ? t->cat : NULL, w, staff);
            int64_t from = t ? (t->started_at ? t->started_at : t->called_at) : 0;
            for (int k = 0; k < 4; k++) {
                if (!tg.s[k]) continue;
                if (!fin) { tg.s[k]->noshow++; continue; }
                tg.s[k]->served++;
                if (from && at >= from) vec_push(&tg.s[k]->service, at - from);
            }
        }
    } else if (!strcmp(name, "ticket.transferred")) {
        rdim *from = win_get(r, get_int(ev, "from_window", 0));
        if (today) {
            rdim *st = staff_of_window(r, from);
            targets tg = targets_of(r, t ? t->cat : NULL, from, st ? st->id : NULL);
            for (int k = 0; k < 4; k++)
                if (tg.s[k]) tg.s[k]->transferred++;
        }
        if (t) {
            if (cat) snprintf(t->cat, sizeof t->cat, "%s", cat);
            t->called_at = t->started_at = 0;
        }
    } else if (!strcmp(name, "ticket.rated")) {
        int64_t score = get_int(ev, "score", 0);
        if (score < 1 || score > 5) return 0;
        if (!w && t) w = win_get(r, t->finished_window ? t->finished_window : t->window);
        const char *staff = t && t->finished_by[0] ? t->finished_by : t && t->staff[0] ? t->staff : NULL;
        if (today) {
            targets tg = targets_of(r, cat ? cat : t ? t->cat : NULL, w, staff);
            for (int k = 0; k < 4; k++)
                if (tg.s[k]) tg.s[k]->ratings[score - 1]++;
        }
    } else if (!strcmp(name, "window.changed")) {
        on_window_changed(r, ev);
    } else if (!strcmp(name, "case.opened") || !strcmp(name, "case.closed") || !strcmp(name, "case.overdue")) {
        count_item_event(r, ev, "case", name, at, today);
    } else if (!strcmp(name, "followup.opened") || !strcmp(name, "followup.closed")) {
        count_item_event(r, ev, "followup", name, at, today);
    } else if (!strcmp(name, "alert.raised")) {
        if (today) r->alerts++;
    } else if (!strcmp(name, "staff.checked_in")) {
        char sb[32];
        const char *sid = field_str(ev, "staff", "staff", sb, sizeof sb);
        if (!sid) sid = field_str(ev, "staff", "id", sb, sizeof sb);
        rdim *st = dim_get(&r->staff, sid);
        if (!st || !today) return 0;
        if (!st->name) dim_name(st, hv_get_str(ev, "staff_name") ? hv_get_str(ev, "staff_name") : hv_get_str(ev, "name"));
        if (!st->checked_in_at || at < st->checked_in_at) st->checked_in_at = at;
        st->checkins++;
    } else {
        known = false;
    }
    if (!known || !today) return 0;
    r->events++;
    if (!r->first_at || at < r->first_at) r->first_at = at;
    if (at > r->last_at) r->last_at = at;
    return 1;
}

/* ---- figures ---------------------------------------------------------------------------------- */

int64_t report_percentile(const int64_t *sorted, size_t n, int p)
{
    if (!n) return 0;
    if (p < 0) p = 0;
    if (p > 100) p = 100;
    size_t rank = ((size_t)p * n + 99) / 100;   /* ceil(p/100 * n) */
    if (rank < 1) rank = 1;
    return sorted[rank - 1];
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

typedef struct {
    size_t n;
    int64_t avg, p50, p95, max;   /* seconds, rounded */
} timing;

static int64_t ms_to_s(int64_t ms) { return (ms + 500) / 1000; }

static timing timing_of(const i64vec *v)
{
    timing t = {0};
    t.n = v->n;
    if (!v->n) return t;
    int64_t *s = hk_realloc(NULL, v->n * sizeof *s);
    memcpy(s, v->v, v->n * sizeof *s);
    qsort(s, v->n, sizeof *s, cmp_i64);
    int64_t sum = 0;
    for (size_t i = 0; i < v->n; i++) sum += s[i];
    t.avg = ms_to_s(sum / (int64_t)v->n);
    t.p50 = ms_to_s(report_percentile(s, v->n, 50));
    t.p95 = ms_to_s(report_percentile(s, v->n, 95));
    t.max = ms_to_s(s[v->n - 1]);
    free(s);
    return t;
}

static int64_t rated(const rstats *s)
{
    return s->ratings[0] + s->ratings[1] + s->ratings[2] + s->ratings[3] + s->ratings[4];
}

/* Share of ratings 3..5 (满意 includes 基本满意, as GB/T 39734 counts it); < 0 when none. */
static double satisfaction(const rstats *s)
{
    int64_t n = rated(s);
    return n ? (double)(s->ratings[2] + s->ratings[3] + s->ratings[4]) / (double)n : -1.0;
}

static hv *timing_tree(const i64vec *v, bool full)
{
    timing t = timing_of(v);
    hv *m = hv_map();
    hv_set(m, "count", hv_int((int64_t)t.n));
    hv_set(m, "avg_s", t.n ? hv_int(t.avg) : hv_nil());
    if (full) hv_set(m, "p50_s", t.n ? hv_int(t.p50) : hv_nil());
    hv_set(m, "p95_s", t.n ? hv_int(t.p95) : hv_nil());
    if (full) hv_set(m, "max_s", t.n ? hv_int(t.max) : hv_nil());
    return m;
}

static hv *stats_tree(hv *m, const rstats *s)
{
    hv_set(m, "issued", hv_int(s->issued));
    hv_set(m, "served", hv_int(s->served));
    hv_set(m, "noshow", hv_int(s->noshow));
    hv_set(m, "transferred", hv_int(s->transferred));
    hv_set(m, "wait", timing_tree(&s->waits, true));
    hv_set(m, "service", timing_tree(&s->service, false));
    hv *rt = hv_map();
    hv *lv = hv_arr();
    for (int i = 0; i < 5; i++) hv_push(lv, hv_int(s->ratings[i]));
    hv_set(rt, "levels", lv);
    hv_set(rt, "count", hv_int(rated(s)));
    double sat = satisfaction(s);
    hv_set(rt, "satisfaction", sat >= 0 ? hv_float(sat) : hv_nil());
    hv_set(rt, "meets_target", sat >= 0 ? hv_bool(sat >= REPORT_SATISFACTION_TARGET) : hv_nil());
    hv_set(m, "ratings", rt);
    hv *cs = hv_map();
    hv_set(cs, "opened", hv_int(s->cases_opened));
    hv_set(cs, "closed_on_time", hv_int(s->cases_on_time));
    hv_set(cs, "closed_late", hv_int(s->cases_late));
    hv_set(cs, "overdue", hv_int(s->cases_overdue));
    hv_set(m, "cases", cs);
    hv *fu = hv_map();
    hv_set(fu, "opened", hv_int(s->followups_opened));
    hv_set(fu, "closed", hv_int(s->followups_closed));
    hv_set(m, "followups", fu);
    return m;
}

/* Rows in output order: categories as named (config order) then as met; windows by number;
 * staff by id. Rows with nothing in them (a category nobody used) are kept: a quiet category is
 * a figure too. */
static int cmp_win(const void *a, const void *b)
{
    const rdim *x = *(rdim *const *)a, *y = *(rdim *const *)b;
    return (x->num > y->num) - (x->num < y->num);
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp((*(rdim *const *)a)->id, (*(rdim *const *)b)->id);
}

static rdim **dims_sorted(const rdims *d, int (*cmp)(const void *, const void *))
{
    rdim **v = hk_realloc(NULL, (d->n ? d->n : 1) * sizeof *v);
    for (size_t i = 0; i < d->n; i++) v[i] = &d->v[i];
    if (cmp) qsort(v, d->n, sizeof *v, cmp);
    return v;
}

static void day_text(int32_t day, char *buf, size_t len)
{
    snprintf(buf, len, "%04d-%02d-%02d", day / 10000, day / 100 % 100, day % 100);
}

hv *report_tree(const report *r)
{
    hv *m = hv_map();
    char d[16];
    day_text(r->day, d, sizeof d);
    hv_set(m, "day", hv_int(r->day));
    hv_set(m, "date", hv_str(d));
    hv *hall = hv_map();
    hv_set(hall, "id", hv_str(r->hall_id));
    hv_set(hall, "name", hv_str(r->hall_name));
    hv_set(m, "hall", hall);
    hv_set(m, "events", hv_int(r->events));
    hv_set(m, "first_at", r->first_at ? hv_int(r->first_at) : hv_nil());
    hv_set(m, "last_at", r->last_at ? hv_int(r->last_at) : hv_nil());
    hv_set(m, "satisfaction_target", hv_float(REPORT_SATISFACTION_TARGET));
    hv *tot = stats_tree(hv_map(), &r->hall);
    hv_set(tot, "alerts_raised", hv_int(r->alerts));
    hv_set(m, "totals", tot);
    static const char *const names[] = {"categories", "windows", "staff"};
    const rdims *dims[] = {&r->cats, &r->wins, &r->staff};
    int (*cmps[])(const void *, const void *) = {NULL, cmp_win, cmp_id};
    for (int k = 0; k < 3; k++) {
        rdim **v = dims_sorted(dims[k], cmps[k]);
        hv *a = hv_arr();
        for (size_t i = 0; i < dims[k]->n; i++) {
            hv *row = hv_map();
            hv_set(row, "id", k == 1 ? hv_int(v[i]->num) : hv_str(v[i]->id));
            hv_set(row, "name", hv_str(v[i]->name));
            if (k == 2) {
                hv_set(row, "checked_in_at", v[i]->checked_in_at ? hv_int(v[i]->checked_in_at) : hv_nil());
                hv_set(row, "checkins", hv_int(v[i]->checkins));
            }
            hv_push(a, stats_tree(row, &v[i]->s));
        }
        free(v);
        hv_set(m, names[k], a);
    }
    hv *hr = hv_arr();
    for (int i = 0; i < 24; i++) hv_push(hr, hv_int(r->hourly[i]));
    hv_set(m, "hourly_arrivals", hr);
    return m;
}

/* ---- text builder -------------------------------------------------------------------------- */

typedef struct { char *p; size_t n, cap; } sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        while (b->n + n + 1 > b->cap) b->cap = b->cap ? b->cap * 2 : 4096;
        b->p = hk_realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void sb_puts(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) { sb_add(b, tmp, (size_t)n); return; }
    char *big = hk_realloc(NULL, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb_add(b, big, (size_t)n);
    free(big);
}

static char *sb_done(sbuf *b, size_t *len)
{
    if (!b->p) sb_add(b, "", 0);
    if (len) *len = b->n;
    return b->p;
}

/* ---- CSV ------------------------------------------------------------------------------------- */

/* A text cell: quoted when it must be; a leading = + - @ is defused with a ' so a spreadsheet
 * does not run a name as a formula. */
static void csv_text(sbuf *b, const char *s)
{
    if (!s) s = "";
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote) sb_puts(b, "\"");
    if (strchr("=+-@", s[0]) && s[0]) sb_puts(b, "'");
    for (const char *p = s; *p; p++) {
        if (*p == '"') sb_puts(b, "\"\"");
        else sb_add(b, p, 1);
    }
    if (quote) sb_puts(b, "\"");
}

static const char csv_header[] =
    "day,section,id,name,issued,served,noshow,transferred,"
    "waits,wait_avg_s,wait_p50_s,wait_p95_s,wait_max_s,services,service_avg_s,service_p95_s,"
    "rated,rating_1,rating_2,rating_3,rating_4,rating_5,satisfaction_pct,"
    "cases_opened,cases_closed_on_time,cases_closed_late,cases_overdue,"
    "followups_opened,followups_closed,alerts_raised,checked_in_at\r\n";

static void csv_opt(sbuf *b, bool have, int64_t v)
{
    if (have) sb_printf(b, ",%lld", (long long)v);
    else sb_puts(b, ",");
}

static void csv_row(sbuf *b, const report *r, const char *section, const char *id, const char *name,
                    const rstats *s, int64_t alerts, int64_t checked_in_at)
{
    sb_printf(b, "%d,%s,", r->day, section);
    csv_text(b, id);
    sb_puts(b, ",");
    csv_text(b, name);
    sb_printf(b, ",%lld,%lld,%lld,%lld", (long long)s->issued, (long long)s->served, (long long)s->noshow,
              (long long)s->transferred);
    timing w = timing_of(&s->waits), v = timing_of(&s->service);
    sb_printf(b, ",%zu", w.n);
    csv_opt(b, w.n, w.avg);
    csv_opt(b, w.n, w.p50);
    csv_opt(b, w.n, w.p95);
    csv_opt(b, w.n, w.max);
    sb_printf(b, ",%zu", v.n);
    csv_opt(b, v.n, v.avg);
    csv_opt(b, v.n, v.p95);
    sb_printf(b, ",%lld", (long long)rated(s));
    for (int i = 0; i < 5; i++) sb_printf(b, ",%lld", (long long)s->ratings[i]);
    double sat = satisfaction(s);
    if (sat >= 0) sb_printf(b, ",%.1f", sat * 100.0);
    else sb_puts(b, ",");
    sb_printf(b, ",%lld,%lld,%lld,%lld,%lld,%lld", (long long)s->cases_opened, (long long)s->cases_on_time,
              (long long)s->cases_late, (long long)s->cases_overdue, (long long)s->followups_opened,
              (long long)s->followups_closed);
    csv_opt(b, alerts >= 0, alerts);
    csv_opt(b, checked_in_at > 0, checked_in_at);
    sb_puts(b, "\r\n");
}

char *report_csv(const report *r, size_t *len)
{
    sbuf b = {0};
    sb_puts(&b, "\xEF\xBB\xBF");   /* so spreadsheet programs read the Chinese names as UTF-8 */
    sb_puts(&b, csv_header);
    csv_row(&b, r, "hall", r->hall_id, r->hall_name, &r->hall, r->alerts, 0);
    rdim **v = dims_sorted(&r->cats, NULL);
    for (size_t i = 0; i < r->cats.n; i++) csv_row(&b, r, "category", v[i]->id, v[i]->name, &v[i]->s, -1, 0);
    free(v);
    v = dims_sorted(&r->wins, cmp_win);
    for (size_t i = 0; i < r->wins.n; i++) csv_row(&b, r, "window", v[i]->id, v[i]->name, &v[i]->s, -1, 0);
    free(v);
    v = dims_sorted(&r->staff, cmp_id);
    for (size_t i = 0; i < r->staff.n; i++)
        csv_row(&b, r, "staff", v[i]->id, v[i]->name, &v[i]->s, -1, v[i]->checked_in_at);
    free(v);
    for (int h = 0; h < 24; h++) {
        rstats s = {0};
        s.issued = r->hourly[h];
        char id[8], name[16];
        snprintf(id, sizeof id, "%02d", h);
        snprintf(name, sizeof name, "%02d:00-%02d:00", h, h + 1);
        csv_row(&b, r, "hour", id, name, &s, -1, 0);
    }
    return sb_done(&b, len);
}

/* ---- HTML ------------------------------------------------------------------------------------ */

static void html_text(sbuf *b, const char *s)
{
    for (const char *p = s ? s : ""; *p; p++) {
        switch (*p) {
        case '&': sb_puts(b, "&amp;"); break;
        case '<': sb_puts(b, "&lt;"); break;
        case '>': sb_puts(b, "&gt;"); break;
        case '"': sb_puts(b, "&quot;"); break;
        case '\'': sb_puts(b, "&#39;"); break;
        default: sb_add(b, p, 1);
        }
    }
}

static void html_dur(sbuf *b, bool have, int64_t s)
{
    if (!have) { sb_puts(b, "<td class=n>–</td>"); return; }
    sb_printf(b, "<td class=n>%lld:%02lld</td>", (long long)(s / 60), (long long)(s % 60));
}

static const char html_head_row[] =
    "<tr><th>编号<br><small>ID</small></th><th>名称<br><small>Name</small></th>"
    "<th>取号<br><small>Issued</small></th><th>办结<br><small>Served</small></th>"
    "<th>过号<br><small>No-show</small></th><th>转办<br><small>Transferred</small></th>"
    "<th>平均等候<br><small>Wait avg</small></th><th>等候中位<br><small>p50</small></th>"
    "<th>等候P95<br><small>p95</small></th><th>最长等候<br><small>max</small></th>"
    "<th>平均办理<br><small>Service avg</small></th><th>办理P95<br><small>p95</small></th>"
    "<th>评价数<br><small>Rated</small></th><th>非常不满意…非常满意<br><small>1 2 3 4 5</small></th>"
    "<th>满意率<br><small>Satisfaction</small></th><th>办件 受理/按时/超期<br><small>Cases</small></th>"
    "<th>回访 开/结<br><small>Follow-ups</small></th></tr>\n";

static void html_row(sbuf *b, const char *id, const char *name, const rstats *s)
{
    timing w = timing_of(&s->waits), v = timing_of(&s->service);
    sb_puts(b, "<tr><td>");
    html_text(b, id);
    sb_puts(b, "</td><td>");
    html_text(b, name);
    sb_printf(b, "</td><td class=n>%lld</td><td class=n>%lld</td><td class=n>%lld</td><td class=n>%lld</td>",
              (long long)s->issued, (long long)s->served, (long long)s->noshow, (long long)s->transferred);
    html_dur(b, w.n, w.avg);
    html_dur(b, w.n, w.p50);
    html_dur(b, w.n, w.p95);
    html_dur(b, w.n, w.max);
    html_dur(b, v.n, v.avg);
    html_dur(b, v.n, v.p95);
    sb_printf(b, "<td class=n>%lld</td><td class=n>%lld %lld %lld %lld %lld</td>", (long long)rated(s),
              (long long)s->ratings[0], (long long)s->ratings[1], (long long)s->ratings[2],
              (long long)s->ratings[3], (long long)s->ratings[4]);
    double sat = satisfaction(s);
    if (sat < 0) sb_puts(b, "<td class=n>–</td>");
    else sb_printf(b, "<td class=\"n%s\">%.1f%%</td>", sat < REPORT_SATISFACTION_TARGET ? " below" : "", sat * 100.0);
    sb_printf(b, "<td class=n>%lld / %lld / %lld</td><td class=n>%lld / %lld</td></tr>\n",
              (long long)s->cases_opened, (long long)s->cases_on_time,
              (long long)(s->cases_late + s->cases_overdue), (long long)s->followups_opened,
              (long long)s->followups_closed);
}

static void html_table(sbuf *b, const char *title, rdim **v, size_t n)
{
    sb_printf(b, "<h2>%s</h2>\n", title);
    if (!n) { sb_puts(b, "<p class=empty>无数据 No data</p>\n"); return; }
    sb_puts(b, "<table>\n");
    sb_puts(b, html_head_row);
    for (size_t i = 0; i < n; i++) html_row(b, v[i]->id, v[i]->name, &v[i]->s);
    sb_puts(b, "</table>\n");
}

static const char html_style[] =
    "<style>\n"
    "body{font-family:\"Noto Sans CJK SC\",\"Microsoft YaHei\",sans-serif;margin:24px;color:#111}\n"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:22px 0 6px;border-bottom:2px solid #234}\n"
    ".meta{color:#555;font-size:13px}\n"
    ".cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}\n"
    ".card{border:1px solid #ccd;border-radius:6px;padding:8px 12px;min-width:110px}\n"
    ".card b{display:block;font-size:22px}.card span{font-size:12px;color:#555}\n"
    "table{border-collapse:collapse;width:100%;font-size:12px}\n"
    "th,td{border:1px solid #bbc;padding:3px 5px;text-align:left;vertical-align:top}\n"
    "th{background:#eef1f6;font-weight:600}th small{font-weight:400;color:#556}\n"
    "td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    ".below{color:#b00;font-weight:700}.ok{color:#070;font-weight:700}\n"
    ".bar{background:#4a78b5;height:10px;display:inline-block}\n"
    ".empty{color:#777}.notes{font-size:11px;color:#555;margin-top:18px}\n"
    "@page{size:A4 landscape;margin:10mm}\n"
    "@media print{body{margin:0}h2{break-after:avoid}tr{break-inside:avoid}}\n"
    "</style>\n";

char *report_html(const report *r, size_t *len)
{
    sbuf b = {0};
    char d[16];
    day_text(r->day, d, sizeof d);
    sb_puts(&b, "<!doctype html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
    html_text(&b, r->hall_name ? r->hall_name : r->hall_id);
    sb_printf(&b, " 日报 %s</title>\n", d);
    sb_puts(&b, html_style);
    sb_puts(&b, "</head>\n<body>\n<h1>");
    html_text(&b, r->hall_name ? r->hall_name : r->hall_id);
    sb_printf(&b, " · 服务日报 <small>Daily report</small> %s</h1>\n<p class=meta>大厅编号 Hall ", d);
    html_text(&b, r->hall_id);
    sb_printf(&b, " · 统计事件 %lld events</p>\n", (long long)r->events);

    const rstats *s = &r->hall;
    timing w = timing_of(&s->waits), v = timing_of(&s->service);
    double sat = satisfaction(s);
    sb_puts(&b, "<div class=cards>\n");
    sb_printf(&b, "<div class=card><b>%lld</b><span>取号 Issued</span></div>\n", (long long)s->issued);
    sb_printf(&b, "<div class=card><b>%lld</b><span>办结 Served</span></div>\n", (long long)s->served);
    sb_printf(&b, "<div class=card><b>%lld</b><span>过号 No-shows</span></div>\n", (long long)s->noshow);
    sb_printf(&b, "<div class=card><b>%lld:%02lld</b><span>平均等候 Avg wait (m:s)</span></div>\n",
              (long long)(w.avg / 60), (long long)(w.avg % 60));
    sb_printf(&b, "<div class=card><b>%lld:%02lld</b><span>等候P95 Wait p95</span></div>\n",
              (long long)(w.p95 / 60), (long long)(w.p95 % 60));
    sb_printf(&b, "<div class=card><b>%lld:%02lld</b><span>平均办理 Avg service</span></div>\n",
              (long long)(v.avg / 60), (long long)(v.avg % 60));
    if (sat >= 0)
        sb_printf(&b, "<div class=card><b class=%s>%.1f%%</b><span>满意率 Satisfaction (目标 target %.0f%%)</span></div>\n",
                  sat < REPORT_SATISFACTION_TARGET ? "below" : "ok", sat * 100.0, REPORT_SATISFACTION_TARGET * 100.0);
    else
        sb_puts(&b, "<div class=card><b>–</b><span>满意率 Satisfaction (无评价 no ratings)</span></div>\n");
    sb_printf(&b, "<div class=card><b>%lld</b><span>告警 Alerts raised</span></div>\n", (long long)r->alerts);
    sb_puts(&b, "</div>\n");

    sb_puts(&b, "<h2>全厅 Hall totals</h2>\n<table>\n");
    sb_puts(&b, html_head_row);
    html_row(&b, r->hall_id, r->hall_name, s);
    sb_puts(&b, "</table>\n");
    rdim **x = dims_sorted(&r->cats, NULL);
    html_table(&b, "按业务类别 By category", x, r->cats.n);
    free(x);
    x = dims_sorted(&r->wins, cmp_win);
    html_table(&b, "按窗口 By window", x, r->wins.n);
    free(x);
    x = dims_sorted(&r->staff, cmp_id);
    html_table(&b, "按工作人员 By staff", x, r->staff.n);
    free(x);

    sb_puts(&b, "<h2>每小时取号 Hourly arrivals</h2>\n<table>\n<tr><th>时段 Hour</th><th>取号 Issued</th><th></th></tr>\n");
    int64_t peak = 1;
    for (int h = 0; h < 24; h++) if (r->hourly[h] > peak) peak = r->hourly[h];
    for (int h = 0; h < 24; h++) {
        if (!r->hourly[h]) continue;
        sb_printf(&b, "<tr><td>%02d:00–%02d:00</td><td class=n>%lld</td><td><span class=bar style=\"width:%lldpx\"></span></td></tr>\n",
                  h, h + 1, (long long)r->hourly[h], (long long)(r->hourly[h] * 300 / peak));
    }
    sb_puts(&b, "</table>\n");
    sb_puts(&b, "<p class=notes>等候时间：取号至首次呼叫；办理时间：开始办理（未点开始则为呼叫）至办结；"
                "满意率：评价 3–5 级（基本满意及以上）所占比例，目标 95%（DB43/T 2422.6）；P95 为最近秩百分位；"
                "时间格式 分:秒。<br>Wait: issue to first call. Service: start (or call) to finish. "
                "Satisfaction: share of ratings 3–5, target 95 %. Percentiles by nearest rank. Times in m:s.</p>\n");
    sb_puts(&b, "</body>\n</html>\n");
    return sb_done(&b, len);
}
