/* cases.c: 四件管理 and 电子监察 (docs/cases.md): cases with a time limit, their warnings,
 * overdue flags and closing, the staff/admin lists and statistics and the public, codes-only
 * progress board (Ankang (八)1 事项办理情况实时滚动公示). Changes only through case.* events. */
#include "cases.h"
#include "text.h"
#include "checkpoint.h"
#include "retention.h"
#include "days.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#define CASE_LIST_MAX 10          /* partners, missing materials */
#define CASES_LIST_LIMIT RETENTION_PAGE_MAX   /* rows per cases.list page (retention.h) */
#define CASES_BOARD_LIMIT 200

typedef struct {
    int id;
    char code[16];
    char kind[16];               /* 承诺件 联办件 上报件 */
    char matter[40];             /* matter id, "" = none */
    char matter_name[128];       /* as it was when opened: a later config may drop the matter */
    char category[8];
    int32_t day;                 /* local day it was opened */
    int64_t opened_at, warn_at, deadline, legal_deadline;   /* legal 0 = not known */
    int window, lead_window;
    char staff[32];
    char sent_to[CASE_NAME_MAX + 4];
    hv *partners;                /* array of strings, or NULL */
    bool warned, overdue, closed, on_time;
    int64_t closed_at;
    int32_t closed_day;
    char result[CASE_RESULT_MAX + 4];
    char closed_by[32];
} hk_case;

struct hk_cases {
    hk_case *v;
    size_t n, cap;
    int next_id;
    int64_t next_due;            /* earliest warn_at/deadline of an open case still to report */
    int32_t kept_from;           /* closed cases of days before this were released; 0 = none ever */
};

static const char *const case_kinds[] = {"承诺件", "联办件", "上报件"};

hk_cases *cases_new(void)
{
    hk_cases *c = hk_calloc(1, sizeof *c);
    c->next_id = 1;
    c->next_due = INT64_MAX;
    return c;
}

void cases_free(hk_cases *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) hv_free(c->v[i].partners);
    free(c->v);
    free(c);
}

/* ---- time limits ------------------------------------------------------------------------- */

/* When the hall closes on a weekday (minutes of the day), or -1 if it does not open then. */
static int close_min_of(const hk_config *cfg, int wday)
{
    if (!cfg->hours_set) return 24 * 60;
    int best = -1;
    for (size_t i = 0; i < cfg->nhours; i++) {
        const hk_hours_cfg *hr = &cfg->hours[i];
        if (!(hr->days & (1 << wday))) continue;
        for (int s = 0; s < hr->nspans; s++)
            if (hr->spans[s].close_min > best) best = hr->spans[s].close_min;
    }
    return best;
}

int64_t cases_deadline(const hk_config *cfg, hk_time opened, int days)
{
    int64_t today = hk_day_number(opened.day);
    int64_t sec = ((opened.ms % 60000) + 60000) % 60000;
    int64_t offset = today * 86400000LL + (int64_t)opened.min * 60000 + sec - opened.ms;   /* local - UTC */
    int64_t d = today;
    /* a hall open on at least one weekday finds `days` of them within days * 7 calendar days */
    for (int left = days, guard = 0; left > 0 && guard < 7 * 366 + 7; guard++) {
        d++;
        if (close_min_of(cfg, hk_day_wday(d)) >= 0) left--;
    }
    int close = close_min_of(cfg, hk_day_wday(d));
    if (close < 0) close = 24 * 60;
    return d * 86400000LL + (int64_t)close * 60000 - offset;
}

/* ---- finishing a ticket -------------------------------------------------------------------- */

/* A 承诺件 is a promise of a time limit: always a case (the matter's limit, or the hall's default).
 * 联办件 and 上报件 are supervised once the matter is named: its limit is the one that counts. */
bool cases_outcome_opens(const char *outcome, const hv *req)
{
    if (!outcome) return false;
    if (!strcmp(outcome, "承诺件")) return true;
    return (!strcmp(outcome, "联办件") || !strcmp(outcome, "上报件")) && hv_get_str(req, "matter");
}

int cases_next_id(const hk_hall *h) { return h->cases->next_id; }

static const hk_matter_cfg *matter_cfg(const hk_config *cfg, const char *id)
{
    for (size_t i = 0; id && i < cfg->nmatters; i++)
        if (!strcmp(cfg->matters[i].id, id)) return &cfg->matters[i];
    return NULL;
}

static int check_list(const hv *v, const char *what, char *why, size_t len)
{
    if (!v || v->t != HV_ARR || v->u.a.n == 0 || v->u.a.n > CASE_LIST_MAX) {
        snprintf(why, len, "%s must be a list of 1 to %d names", what, CASE_LIST_MAX);
        return -1;
    }
    for (size_t i = 0; i < v->u.a.n; i++) {
        char item[48];
        snprintf(item, sizeof item, "every entry of %s", what);
        if (text_check(v->u.a.v[i], CASE_NAME_MAX, false, item, why, len) < 0) return -1;
    }
    return 0;
}

/* Each optional argument belongs to one outcome; given with another it is a mistake to report. */
static bool only_for(const hv *req, const char *key, const char *outcome, const char *owner, char *why, size_t len)
{
    if (!hv_has(req, key) || !strcmp(outcome, owner)) return true;
    snprintf(why, len, "%s applies to outcome %s only, not %s", key, owner, outcome);
    return false;
}

int cases_check_finish(hk_hall *h, const char *outcome, const hv *req, char *why, size_t len)
{
    if (!only_for(req, "lead_window", outcome, "联办件", why, len) ||
        !only_for(req, "partners", outcome, "联办件", why, len) ||
        !only_for(req, "sent_to", outcome, "上报件", why, len) ||
        !only_for(req, "missing", outcome, "补正", why, len))
        return HK_ERR_BAD_REQUEST;
    if (hv_has(req, "matter")) {
        const char *id = hv_get_str(req, "matter");
        if (!id) { snprintf(why, len, "matter must be a string (a matter id)"); return HK_ERR_BAD_REQUEST; }
        if (!matter_cfg(h->cfg, id)) {
            snprintf(why, len, h->cfg->nmatters ? "no matter '%.40s'" : "no matter '%.40s' (the hall lists no matters)", id);
            return HK_ERR_NOT_FOUND;
        }
    }
    if (hv_has(req, "lead_window")) {
        int64_t lw;
        if (hv_get_int(req, "lead_window", &lw) < 0) { snprintf(why, len, "lead_window must be a window number"); return HK_ERR_BAD_REQUEST; }
        if (lw < 1 || lw > 1000000 || !hall_window(h, lw)) { snprintf(why, len, "no window %lld", (long long)lw); return HK_ERR_NOT_FOUND; }
    }
    if (hv_has(req, "partners") && check_list(hv_get(req, "partners"), "partners", why, len) < 0) return HK_ERR_BAD_REQUEST;
    if (hv_has(req, "missing") && check_list(hv_get(req, "missing"), "missing", why, len) < 0) return HK_ERR_BAD_REQUEST;
    if (hv_has(req, "sent_to") && text_check(hv_get(req, "sent_to"), CASE_NAME_MAX, false, "sent_to", why, len) < 0)
        return HK_ERR_BAD_REQUEST;
    return HK_OK;
}

void cases_open(hk_hall *h, hk_out *out, hk_time now, const hk_ticket *t, const hk_win *w, const char *outcome,
                const hv *req)
{
    const hk_matter_cfg *m = matter_cfg(h->cfg, hv_get_str(req, "matter"));
    int days = m ? m->promised_days : (h->cfg->default_case_days > 0 ? h->cfg->default_case_days : HK_DEFAULT_CASE_DAYS);
    double frac = h->cfg->warn_fraction > 0 && h->cfg->warn_fraction < 1 ? h->cfg->warn_fraction : HK_DEFAULT_WARN_FRACTION;
    int64_t deadline = cases_deadline(h->cfg, now, days);
    int64_t warn_at = now.ms + (int64_t)((double)(deadline - now.ms) * frac);
    hv *ev = hall_event("case.opened");
    hv_set(ev, "case", hv_int(h->cases->next_id));
    hv_set(ev, "code", hv_str(t->code));
    hv_set(ev, "kind", hv_str(outcome));
    hv_set(ev, "matter", m ? hv_str(m->id) : hv_nil());
    hv_set(ev, "matter_name", m ? hv_str(m->name) : hv_nil());
    hv_set(ev, "category", hv_str(h->cfg->categories[t->cat].id));
    hv_set(ev, "limit_days", hv_int(days));
    hv_set(ev, "deadline", hv_int(deadline));
    hv_set(ev, "warn_at", hv_int(warn_at));
    hv_set(ev, "legal_deadline", m && m->legal_days ? hv_int(cases_deadline(h->cfg, now, m->legal_days)) : hv_nil());
    hv_set(ev, "window", hv_int(w->cfg->id));
    hv_set(ev, "staff", w->staff[0] ? hv_str(w->staff) : hv_nil());
    hv_set(ev, "day", hv_int(now.day));
    if (!strcmp(outcome, "联办件")) {
        int64_t lw = w->cfg->id;
        hv_get_int(req, "lead_window", &lw);
        hv_set(ev, "lead_window", hv_int(lw));
        const hv *p = hv_get(req, "partners");
        hv_set(ev, "partners", p ? hv_dup(p) : hv_arr());
    }
    if (!strcmp(outcome, "上报件")) {
        const char *to = hv_get_str(req, "sent_to");
        hv_set(ev, "sent_to", to ? hv_str(to) : hv_nil());
    }
    hall_emit(h, out, ev, now.ms);
}

/* ---- events ---------------------------------------------------------------------------------- */

static hk_case *case_find(const hk_cases *c, int64_t id)
{
    for (size_t i = c->n; i-- > 0;)
        if (c->v[i].id == id) return &c->v[i];
    return NULL;
}

static void copy_str(char *dst, size_t size, const char *src) { snprintf(dst, size, "%s", src ? src : ""); }

/* The earliest moment the tick has something to report, so most ticks look at nothing. */
static void recompute_due(hk_cases *c)
{
    c->next_due = INT64_MAX;
    for (size_t i = 0; i < c->n; i++) {
        const hk_case *k = &c->v[i];
        if (k->closed || k->overdue) continue;
        int64_t due = k->warned ? k->deadline + 1 : k->warn_at;
        if (due < c->next_due) c->next_due = due;
    }
}

static int apply_opened(hk_cases *c, const hv *ev, int64_t at)
{
    int64_t id = 0, window = 0, lead = 0, day = 0, deadline = 0, warn_at = 0, legal = 0;
    const char *code = hv_get_str(ev, "code"), *kind = hv_get_str(ev, "kind");
    if (hv_get_int(ev, "case", &id) < 0 || id < 1 || !code || !kind || hv_get_int(ev, "deadline", &deadline) < 0 ||
        case_find(c, id))
        return -1;
    hv_get_int(ev, "warn_at", &warn_at);
    hv_get_int(ev, "legal_deadline", &legal);
    hv_get_int(ev, "window", &window);
    hv_get_int(ev, "lead_window", &lead);
    hv_get_int(ev, "day", &day);
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->v = hk_realloc(c->v, c->cap * sizeof *c->v);
    }
    hk_case *k = &c->v[c->n++];
    memset(k, 0, sizeof *k);
    k->id = (int)id;
    copy_str(k->code, sizeof k->code, code);
    copy_str(k->kind, sizeof k->kind, kind);
    copy_str(k->matter, sizeof k->matter, hv_get_str(ev, "matter"));
    copy_str(k->matter_name, sizeof k->matter_name, hv_get_str(ev, "matter_name"));
    copy_str(k->category, sizeof k->category, hv_get_str(ev, "category"));
    copy_str(k->staff, sizeof k->staff, hv_get_str(ev, "staff"));
    copy_str(k->sent_to, sizeof k->sent_to, hv_get_str(ev, "sent_to"));
    const hv *p = hv_get(ev, "partners");
    k->partners = p && p->t == HV_ARR ? hv_dup(p) : NULL;
    k->day = (int32_t)day;
    k->opened_at = at;
    k->deadline = deadline;
    k->warn_at = warn_at ? warn_at : deadline;
    k->legal_deadline = legal;
    k->window = (int)window;
    k->lead_window = (int)lead;
    if (id >= c->next_id) c->next_id = (int)id + 1;
    recompute_due(c);
    return 0;
}

int cases_apply(hk_hall *h, const hv *ev, const char *name)
{
    hk_cases *c = h->cases;
    int64_t at = 0, id = 0;
    hv_get_int(ev, "at", &at);
    if (!strcmp(name, "case.opened")) return apply_opened(c, ev, at);
    hk_case *k = hv_get_int(ev, "case", &id) == 0 ? case_find(c, id) : NULL;
    if (!k) return -1;
    if (!strcmp(name, "case.warning")) {
        k->warned = true;
    } else if (!strcmp(name, "case.overdue")) {
        k->warned = k->overdue = true;
    } else if (!strcmp(name, "case.closed")) {
        int64_t day = 0;
        bool on_time = false;
        hv_get_int(ev, "day", &day);
        hv_get_bool(ev, "on_time", &on_time);
        k->closed = true;
        k->on_time = on_time;
        k->closed_at = at;
        k->closed_day = (int32_t)day;
        copy_str(k->result, sizeof k->result, hv_get_str(ev, "result"));
        copy_str(k->closed_by, sizeof k->closed_by, hv_get_str(ev, "by"));
    } else {
        return 0;   /* a later kind of case event: nothing to change here */
    }
    recompute_due(c);
    return 0;
}

static hv *case_event(const char *name, const hk_case *k)
{
    hv *ev = hall_event(name);
    hv_set(ev, "case", hv_int(k->id));
    hv_set(ev, "code", hv_str(k->code));
    hv_set(ev, "kind", hv_str(k->kind));
    hv_set(ev, "matter", k->matter[0] ? hv_str(k->matter) : hv_nil());
    hv_set(ev, "deadline", hv_int(k->deadline));
    hv_set(ev, "window", hv_int(k->window));
    hv_set(ev, "staff", k->staff[0] ? hv_str(k->staff) : hv_nil());
    return ev;
}

void cases_tick(hk_hall *h, hk_time now, hk_out *out)
{
    hk_cases *c = h->cases;
    if (now.ms < c->next_due) return;
    /* by id, so a replayed day reports in the same order; emitting applies and recomputes */
    for (size_t i = 0; i < c->n; i++) {
        hk_case *k = &c->v[i];
        if (k->closed || k->overdue) continue;
        if (now.ms > k->deadline) {
            hv *ev = case_event("case.overdue", k);
            hv_set(ev, "late_ms", hv_int(now.ms - k->deadline));
            hall_emit(h, out, ev, now.ms);
        } else if (!k->warned && now.ms >= k->warn_at) {
            hv *ev = case_event("case.warning", k);
            hv_set(ev, "left_ms", hv_int(k->deadline - now.ms));
            hall_emit(h, out, ev, now.ms);
        }
    }
}

/* ---- retention (retention.h) ------------------------------------------------------------------ */

/* Releases the cases closed before `day`; open ones stay however old. Order is kept, so the lists
 * and the checkpoint come out the same live and at replay. */
void cases_forget_before(hk_hall *h, int32_t day)
{
    hk_cases *c = h->cases;
    size_t kept = 0;
    for (size_t i = 0; i < c->n; i++) {
        hk_case *k = &c->v[i];
        if (k->closed && k->closed_day < day) {
            hv_free(k->partners);
            continue;
        }
        if (kept != i) c->v[kept] = *k;
        kept++;
    }
    /* kept_from moves only when something went: it says what was released, not what could have been */
    if (kept != c->n && day > c->kept_from) c->kept_from = day;
    c->n = kept;
    recompute_due(c);
}

int32_t cases_kept_from(const hk_hall *h) { return h->cases->kept_from; }

/* What a cases reply covers: every open case, and the closed ones from kept_from on (older ones
 * are in the day archives, docs/reports.md). */
static void set_coverage(hv *r, const hk_cases *c)
{
    hv_set(r, "kept_from", c->kept_from ? hv_int(c->kept_from) : hv_nil());
    if (c->kept_from)
        hv_set(r, "note", hv_str("cases closed before kept_from were released from memory (retention.days); "
                                 "their days are in the daily report archives (hallctl archive)"));
}

/* ---- views ---------------------------------------------------------------------------------- */

static const char *case_status(const hk_case *k)
{
    if (k->closed) return "closed";
    if (k->overdue) return "overdue";
    if (k->warned) return "warning";
    return "open";
}

static int status_rank(const hk_case *k)
{
    return k->closed ? 3 : k->overdue ? 0 : k->warned ? 1 : 2;
}

static const char *matter_name(const hk_hall *h, const hk_case *k)
{
    const hk_matter_cfg *m = matter_cfg(h->cfg, k->matter[0] ? k->matter : NULL);
    return m ? m->name : k->matter_name[0] ? k->matter_name : NULL;
}

static hv *case_view(const hk_hall *h, const hk_case *k)
{
    hv *m = hv_map();
    hv_set(m, "case", hv_int(k->id));
    hv_set(m, "code", hv_str(k->code));
    hv_set(m, "kind", hv_str(k->kind));
    hv_set(m, "status", hv_str(case_status(k)));
    hv_set(m, "matter", k->matter[0] ? hv_str(k->matter) : hv_nil());
    const char *mn = matter_name(h, k);
    hv_set(m, "matter_name", mn ? hv_str(mn) : hv_nil());
    hv_set(m, "category", hv_str(k->category));
    hv_set(m, "day", hv_int(k->day));
    hv_set(m, "opened_at", hv_int(k->opened_at));
    hv_set(m, "warn_at", hv_int(k->warn_at));
    hv_set(m, "deadline", hv_int(k->deadline));
    hv_set(m, "legal_deadline", k->legal_deadline ? hv_int(k->legal_deadline) : hv_nil());
    hv_set(m, "window", hv_int(k->window));
    hv_set(m, "staff", k->staff[0] ? hv_str(k->staff) : hv_nil());
    const hk_staff_cfg *st = k->staff[0] ? hk_config_staff(h->cfg, k->staff) : NULL;
    hv_set(m, "staff_name", st && st->name ? hv_str(st->name) : hv_nil());
    if (k->lead_window) hv_set(m, "lead_window", hv_int(k->lead_window));
    if (k->partners) hv_set(m, "partners", hv_dup(k->partners));
    if (k->sent_to[0]) hv_set(m, "sent_to", hv_str(k->sent_to));
    if (k->closed) {
        hv_set(m, "closed_at", hv_int(k->closed_at));
        hv_set(m, "on_time", hv_bool(k->on_time));
        hv_set(m, "result", hv_str(k->result));
        hv_set(m, "closed_by", hv_str(k->closed_by));
    }
    return m;
}

/* Overdue first, then at risk, then open by deadline; closed ones last, the latest first. */
static int case_cmp(const void *a, const void *b)
{
    const hk_case *x = *(const hk_case *const *)a, *y = *(const hk_case *const *)b;
    int rx = status_rank(x), ry = status_rank(y);
    if (rx != ry) return rx < ry ? -1 : 1;
    if (rx == 3) {
        if (x->closed_at != y->closed_at) return x->closed_at > y->closed_at ? -1 : 1;
    } else if (x->deadline != y->deadline) {
        return x->deadline < y->deadline ? -1 : 1;
    }
    return x->id < y->id ? -1 : (x->id > y->id);
}

static const hk_case **sorted_cases(const hk_cases *c)
{
    const hk_case **v = hk_malloc((c->n ? c->n : 1) * sizeof *v);
    for (size_t i = 0; i < c->n; i++) v[i] = &c->v[i];
    qsort(v, c->n, sizeof *v, case_cmp);
    return v;
}

hv *cases_summary(const hk_hall *h)
{
    int open = 0, warning = 0, overdue = 0;
    for (size_t i = 0; i < h->cases->n; i++) {
        const hk_case *k = &h->cases->v[i];
        if (k->closed) continue;
        open++;
        if (k->overdue) overdue++;
        else if (k->warned) warning++;
    }
    hv *m = hv_map();
    hv_set(m, "open", hv_int(open));
    hv_set(m, "warning", hv_int(warning));
    hv_set(m, "overdue", hv_int(overdue));
    return m;
}

/* ---- commands ------------------------------------------------------------------------------- */

void hall_cmd_matters_list(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    (void)s;
    (void)now;
    hv *list = hv_arr();
    for (size_t i = 0; i < h->cfg->nmatters; i++) {
        const hk_matter_cfg *m = &h->cfg->matters[i];
        hv *v = hv_map();
        hv_set(v, "id", hv_str(m->id));
        hv_set(v, "name", hv_str(m->name));
        hv_set(v, "category", hv_str(m->category));
        hv_set(v, "promised_days", hv_int(m->promised_days));
        hv_set(v, "legal_days", m->legal_days ? hv_int(m->legal_days) : hv_nil());
        hv_push(list, v);
    }
    hv *r = hall_reply_ok(out, req);
    hv_set(r, "matters", list);
    hv_set(r, "default_days", hv_int(h->cfg->default_case_days > 0 ? h->cfg->default_case_days : HK_DEFAULT_CASE_DAYS));
}

void hall_cmd_case_close(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    int64_t id;
    char why[160];
    if (hv_get_int(req, "case", &id) < 0) { hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "case (a case number) is required"); return; }
    if (text_check(hv_get(req, "result"), CASE_RESULT_MAX, false, "result", why, sizeof why) < 0) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "%s (what was decided, e.g. 准予许可)", why);
        return;
    }
    hk_case *k = case_find(h->cases, id);
    if (!k) { hall_reply_err(out, req, HK_ERR_NOT_FOUND, "no case %lld", (long long)id); return; }
    if (k->closed) { hall_reply_err(out, req, HK_ERR_CONFLICT, "case %d is already closed", k->id); return; }
    hv *ev = case_event("case.closed", k);
    hv_set(ev, "on_time", hv_bool(now.ms <= k->deadline));
    hv_set(ev, "result", hv_str(hv_get_str(req, "result")));
    hv_set(ev, "by", hv_str(s->role == HK_ROLE_STAFF ? s->staff : hk_role_name(s->role)));
    hv_set(ev, "day", hv_int(now.day));
    hall_emit(h, out, ev, now.ms);
    hv_set(hall_reply_ok(out, req), "case", case_view(h, k));
}

void hall_cmd_cases_list(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    static const char *const statuses[] = {"active", "open", "warning", "overdue", "closed", "all"};
    const char *status = hv_get_str(req, "status");
    int64_t limit = 200;
    (void)s;
    (void)now;
    if (hv_has(req, "status")) {
        bool known = false;
        for (size_t i = 0; status && i < sizeof statuses / sizeof *statuses; i++) known |= !strcmp(status, statuses[i]);
        if (!known) {
            hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "status must be one of active (default), open, warning, overdue, closed, all");
            return;
        }
    } else {
        status = "active";
    }
    if (hv_has(req, "limit") && (hv_get_int(req, "limit", &limit) < 0 || limit < 1 || limit > CASES_LIST_LIMIT)) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "limit must be a number from 1 to %d", CASES_LIST_LIMIT);
        return;
    }
    int64_t after = 0;
    const hv *av = hv_get(req, "after");
    if (av && av->t != HV_NIL && (hv_get_int(req, "after", &after) < 0 || after < 1)) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "after must be the case number of the last row of the previous page (its `next`)");
        return;
    }
    if (after && !case_find(h->cases, after)) {
        hall_reply_err(out, req, HK_ERR_NOT_FOUND, "case %lld is no longer held (released at the day rollover); list again without after",
                       (long long)after);
        return;
    }
    /* the page goes on after the cursor's place in the order as it is now; it ends at `limit` rows
     * or when the reply nears the frame limit, and `next` is the cursor of the page after it */
    const hk_case **v = sorted_cases(h->cases);
    retention_page pg;
    retention_page_init(&pg, limit);
    int64_t count = 0;
    bool started = after == 0;
    for (size_t i = 0; i < h->cases->n; i++) {
        const hk_case *k = v[i];
        const char *st = case_status(k);
        bool want = !strcmp(status, "all") || (!strcmp(status, "active") && !k->closed) || !strcmp(status, st);
        if (!started) {
            started = k->id == after;
            if (want) count++;
            continue;
        }
        if (!want) continue;
        count++;
        if (!pg.full) retention_page_add(&pg, case_view(h, k), k->id);
    }
    free(v);
    hv *r = hall_reply_ok(out, req);
    hv_set(r, "status", hv_str(status));
    hv_set(r, "count", hv_int(count));
    hv_set(r, "cases", pg.list);
    hv_set(r, "next", pg.full ? hv_int(pg.next) : hv_nil());
    set_coverage(r, h->cases);
}

typedef struct { int64_t total, open, warning, overdue, closed, on_time, late; } case_counts;

static void count_case(case_counts *n, const hk_case *k)
{
    n->total++;
    if (k->closed) {
        n->closed++;
        if (k->on_time) n->on_time++; else n->late++;
    } else {
        n->open++;
        if (k->overdue) n->overdue++;
        else if (k->warned) n->warning++;
    }
}

/* On time over everything already decided: closed cases plus open ones past their deadline
 * (they can no longer be on time). nil while nothing is decided. */
static hv *counts_view(const case_counts *n)
{
    hv *m = hv_map();
    hv_set(m, "total", hv_int(n->total));
    hv_set(m, "open", hv_int(n->open));
    hv_set(m, "warning", hv_int(n->warning));
    hv_set(m, "overdue", hv_int(n->overdue));
    hv_set(m, "closed", hv_int(n->closed));
    hv_set(m, "on_time", hv_int(n->on_time));
    hv_set(m, "late", hv_int(n->late));
    int64_t decided = n->closed + n->overdue;
    hv_set(m, "on_time_rate", decided ? hv_float((double)n->on_time / (double)decided) : hv_nil());
    hv_set(m, "target", hv_float(1.0));
    hv_set(m, "meets_target", hv_bool(n->on_time == decided));
    return m;
}

void hall_cmd_cases_stats(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    (void)s;
    (void)now;
    case_counts all = {0}, kinds[3] = {{0}};
    for (size_t i = 0; i < h->cases->n; i++) {
        const hk_case *k = &h->cases->v[i];
        count_case(&all, k);
        for (size_t j = 0; j < 3; j++)
            if (!strcmp(k->kind, case_kinds[j])) count_case(&kinds[j], k);
    }
    hv *by = hv_map();
    for (size_t j = 0; j < 3; j++) hv_set(by, case_kinds[j], counts_view(&kinds[j]));
    hv *st = counts_view(&all);
    hv_set(st, "by_kind", by);
    set_coverage(st, h->cases);
    hv_set(hall_reply_ok(out, req), "stats", st);
}

/* The public board: codes, matter names, status and deadlines only; no names, staff or windows.
 * Active cases, then those closed today. */
void hall_cmd_cases_board(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    (void)s;
    const hk_case **v = sorted_cases(h->cases);
    hv *list = hv_arr();
    size_t n = 0;
    for (size_t i = 0; i < h->cases->n && n < CASES_BOARD_LIMIT; i++) {
        const hk_case *k = v[i];
        if (k->closed && k->closed_day != now.day) continue;
        hv *m = hv_map();
        hv_set(m, "code", hv_str(k->code));
        hv_set(m, "kind", hv_str(k->kind));
        const char *mn = matter_name(h, k);
        hv_set(m, "matter", mn ? hv_str(mn) : hv_nil());
        hv_set(m, "status", hv_str(case_status(k)));
        hv_set(m, "deadline", hv_int(k->deadline));
        hv_set(m, "day", hv_int(k->day));
        hv_push(list, m);
        n++;
    }
    free(v);
    hv *r = hall_reply_ok(out, req);
    hv_set(r, "cases", list);
    hv_set(r, "now", hv_int(now.ms));
}

/* ---- checkpoint (core/checkpoint.h) ------------------------------------------------------------ */

static const char *const case_str_keys[] = {"code", "kind", "matter", "matter_name", "category", "staff",
                                            "sent_to", "result", "closed_by"};
static const char *const case_int_keys[] = {"id", "day", "opened_at", "warn_at", "deadline", "legal_deadline",
                                            "window", "lead_window", "closed_at", "closed_day"};
static const char *const case_bool_keys[] = {"warned", "overdue", "closed", "on_time"};

hv *cases_checkpoint(const hk_hall *h)
{
    const hk_cases *c = h->cases;
    hv *m = hv_map();
    hv_set(m, "next_id", hv_int(c->next_id));
    hv_set(m, "kept_from", hv_int(c->kept_from));
    hv *list = hv_arr();
    for (size_t i = 0; i < c->n; i++) {
        const hk_case *k = &c->v[i];
        const char *strs[] = {k->code, k->kind, k->matter, k->matter_name, k->category, k->staff, k->sent_to,
                              k->result, k->closed_by};
        int64_t ints[] = {k->id, k->day, k->opened_at, k->warn_at, k->deadline, k->legal_deadline, k->window,
                          k->lead_window, k->closed_at, k->closed_day};
        bool bools[] = {k->warned, k->overdue, k->closed, k->on_time};
        hv *x = hv_map();
        for (size_t j = 0; j < sizeof ints / sizeof *ints; j++) hv_set(x, case_int_keys[j], hv_int(ints[j]));
        for (size_t j = 0; j < sizeof strs / sizeof *strs; j++) hv_set(x, case_str_keys[j], hv_str(strs[j]));
        for (size_t j = 0; j < sizeof bools / sizeof *bools; j++) hv_set(x, case_bool_keys[j], hv_bool(bools[j]));
        hv_set(x, "partners", k->partners ? hv_dup(k->partners) : hv_nil());
        hv_push(list, x);
    }
    hv_set(m, "list", list);
    return m;
}

int cases_restore(hk_hall *h, const hv *m)
{
    hk_cases *c = h->cases;
    int64_t next_id;
    const hv *list = cp_arr(m, "list");
    if (cp_int(m, "next_id", &next_id) < 0 || next_id < 1 || next_id > INT32_MAX || !list) return -1;
    c->next_id = (int)next_id;
    int64_t kept_from = 0;   /* absent in checkpoints written before retention */
    if (hv_has(m, "kept_from") && (cp_int(m, "kept_from", &kept_from) < 0 || kept_from < 0 || kept_from > 99991231))
        return -1;
    c->kept_from = (int32_t)kept_from;
    for (size_t i = 0; i < list->u.a.n; i++) {
        const hv *x = list->u.a.v[i];
        const char *s[9];
        int64_t v[10];
        bool b[4];
        for (size_t j = 0; j < 9; j++)
            if (!(s[j] = cp_str(x, case_str_keys[j]))) return -1;
        for (size_t j = 0; j < 10; j++)
            if (cp_int(x, case_int_keys[j], &v[j]) < 0) return -1;
        for (size_t j = 0; j < 4; j++)
            if (cp_bool(x, case_bool_keys[j], &b[j]) < 0) return -1;
        const hv *partners = hv_get(x, "partners");
        if (!partners || (partners->t != HV_NIL && partners->t != HV_ARR) || v[0] < 1 || v[0] > INT32_MAX ||
            case_find(c, v[0]))
            return -1;
        if (c->n == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 16;
            c->v = hk_realloc(c->v, c->cap * sizeof *c->v);
        }
        hk_case *k = &c->v[c->n++];
        memset(k, 0, sizeof *k);
        copy_str(k->code, sizeof k->code, s[0]);
        copy_str(k->kind, sizeof k->kind, s[1]);
        copy_str(k->matter, sizeof k->matter, s[2]);
        copy_str(k->matter_name, sizeof k->matter_name, s[3]);
        copy_str(k->category, sizeof k->category, s[4]);
        copy_str(k->staff, sizeof k->staff, s[5]);
        copy_str(k->sent_to, sizeof k->sent_to, s[6]);
        copy_str(k->result, sizeof k->result, s[7]);
        copy_str(k->closed_by, sizeof k->closed_by, s[8]);
        k->id = (int)v[0];
        k->day = (int32_t)v[1];
        k->opened_at = v[2];
        k->warn_at = v[3];
        k->deadline = v[4];
        k->legal_deadline = v[5];
        k->window = (int)v[6];
        k->lead_window = (int)v[7];
        k->closed_at = v[8];
        k->closed_day = (int32_t)v[9];
        k->warned = b[0];
        k->overdue = b[1];
        k->closed = b[2];
        k->on_time = b[3];
        k->partners = partners->t == HV_ARR ? hv_dup(partners) : NULL;
    }
    recompute_due(c);
    return 0;
}
