/* posts.c: AB posts, staff check-in, the hall's work alerts and the business day (posts.h).
 * Check-ins and alerts are events, so a restarted hall knows who is on duty and which alerts
 * stand. The rules run in hall_tick; how long a window has been paused or empty is watched
 * there too (those moments are not events of their own), so after a restart those two timers
 * start again from the restart: an alert may come later, never falsely. */
#include "posts.h"
#include "checkpoint.h"
#include "days.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

enum { POST_A = 0, POST_B = 1 };

typedef struct {
    char staff[32];          /* checked in here, "" = no one */
    int64_t since;           /* check-in time */
    bool late;
    int32_t day;             /* business day of the check-in */
    int64_t out_at;          /* last check-out from this post, 0 = none */
    int32_t out_day;
} post_state;

typedef struct {
    post_state post[2];
    /* watched in posts_tick, not durable (see the file comment) */
    int seen_status;         /* -1 = not yet seen */
    bool seen_empty;
    int64_t paused_since, empty_since;
} win_posts;

typedef struct {
    int64_t id;
    char kind[24];
    int window;              /* 0 = none */
    int cat;                 /* category index, -1 = none */
    char staff[32];          /* the staff member it is about, "" = none */
    char notify[32];         /* the staff member asked to act (the B post), "" = managers */
    int suggest;             /* a closed window to open (load), 0 = none */
    char msg[256];
    int64_t at;
    bool acked;              /* acknowledged: hidden, and not raised again until its cause ends */
    bool seen;               /* posts_tick: a rule still speaks for it */
} alert;

struct hk_posts {
    win_posts *wins;
    alert *alerts;
    size_t nalerts, cap;
    int64_t last_id;
};

#define LOAD_CLEAR_PCT 80    /* a load alert clears below 80 % of its threshold: no flapping */

/* ---- small helpers ---------------------------------------------------------------------- */

static const hk_window_posts_cfg *win_posts_cfg(const hk_hall *h, size_t i)
{
    const hk_window_posts_cfg *p = h->cfg->work.posts ? &h->cfg->work.posts[i] : NULL;
    return p && (p->a || p->b) ? p : NULL;
}

static const char *post_staff_id(const hk_window_posts_cfg *pc, int post)
{
    return pc ? (post == POST_A ? pc->a : pc->b) : NULL;
}

static const char *staff_name(const hk_hall *h, const char *id)
{
    const hk_staff_cfg *st = id && *id ? hk_config_staff(h->cfg, id) : NULL;
    return st && st->name ? st->name : (id ? id : "");
}

static size_t win_index(const hk_hall *h, int id)
{
    for (size_t i = 0; i < h->nwins; i++)
        if (h->wins[i].cfg->id == id) return i;
    return (size_t)-1;
}

/* Where a staff member is checked in: window index and post, or -1. */
static long checked_in_at(const hk_hall *h, const char *staff, int *post)
{
    for (size_t i = 0; staff && *staff && i < h->nwins; i++)
        for (int p = 0; p < 2; p++)
            if (!strcmp(h->posts->wins[i].post[p].staff, staff)) {
                if (post) *post = p;
                return (long)i;
            }
    return -1;
}

static bool window_manned(const hk_hall *h, size_t i)
{
    return h->posts->wins[i].post[POST_A].staff[0] || h->posts->wins[i].post[POST_B].staff[0];
}

/* ---- days and opening hours -------------------------------------------------------------- */

int32_t posts_business_day(const hk_config *cfg, hk_time now)
{
    int r = cfg->work.rollover_min;
    if (r <= 0) return now.day;
    if (r < 12 * 60) return now.min >= r ? now.day : hk_day_add(now.day, -1);
    return now.min >= r ? hk_day_add(now.day, 1) : now.day;
}

/* The opening span `now` is in, or the next one today: open/close minutes, false if none.
 * A span opening at 00:00 is no opening staff could be early for (a hall open round the clock):
 * `real_open` says whether it is one. */
static bool today_span(const hk_hall *h, hk_time now, int *open, int *close, bool *real_open)
{
    bool found = false;
    for (size_t i = 0; h->cfg->hours_set && i < h->cfg->nhours; i++) {
        const hk_hours_cfg *hr = &h->cfg->hours[i];
        if (!(hr->days & (1 << now.wday))) continue;
        for (int s = 0; s < hr->nspans; s++) {
            int o = hr->spans[s].open_min, c = hr->spans[s].close_min;
            if (now.min >= c) continue;
            if (!found || o < *open) { *open = o; *close = c; found = true; }
        }
    }
    if (found) *real_open = *open > 0;
    return found;
}

/* ms of minute `min` of today, from now (local minutes and epoch minutes share boundaries) */
static int64_t ms_of_min(hk_time now, int min)
{
    return now.ms - now.ms % 60000 - (int64_t)(now.min - min) * 60000;
}

/* Is a check-in at `now` late: after the opening of the span it is for, minus checkin_before_min */
static bool checkin_late(const hk_hall *h, hk_time now)
{
    int open = 0, close = 0;
    bool real = false;
    if (!today_span(h, now, &open, &close, &real) || !real) return false;
    return now.min > open - h->cfg->work.checkin_before_min;
}

/* ---- life cycle and events --------------------------------------------------------------- */

hk_posts *posts_new(const hk_hall *h)
{
    hk_posts *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->wins = calloc(h->nwins ? h->nwins : 1, sizeof *p->wins);
    if (!p->wins) { free(p); return NULL; }
    for (size_t i = 0; i < h->nwins; i++) p->wins[i].seen_status = -1;
    return p;
}

void posts_free(hk_posts *p)
{
    if (!p) return;
    free(p->wins);
    free(p->alerts);
    free(p);
}

static int post_parse(const char *s) { return !s ? -1 : !strcmp(s, "a") ? POST_A : !strcmp(s, "b") ? POST_B : -1; }

static int apply_checked_in(hk_hall *h, const hv *ev, int64_t at)
{
    int64_t wid = 0, day = 0;
    bool late = false;
    const char *staff = hv_get_str(ev, "staff");
    int post = post_parse(hv_get_str(ev, "post"));
    hv_get_int(ev, "window", &wid);
    hv_get_int(ev, "day", &day);
    hv_get_bool(ev, "late", &late);
    size_t i = win_index(h, (int)wid);
    if (!staff || post < 0 || i == (size_t)-1) return -1;
    post_state *ps = &h->posts->wins[i].post[post];
    snprintf(ps->staff, sizeof ps->staff, "%s", staff);
    ps->since = at;
    ps->late = late;
    ps->day = (int32_t)day;
    return 0;
}

static int apply_checked_out(hk_hall *h, const hv *ev, int64_t at)
{
    int64_t wid = 0, day = 0;
    int post = post_parse(hv_get_str(ev, "post"));
    hv_get_int(ev, "window", &wid);
    hv_get_int(ev, "day", &day);
    size_t i = win_index(h, (int)wid);
    if (post < 0 || i == (size_t)-1) return -1;
    post_state *ps = &h->posts->wins[i].post[post];
    ps->staff[0] = 0;
    ps->late = false;
    ps->out_at = at;
    ps->out_day = (int32_t)day;
    return 0;
}

static alert *alert_find(const hk_hall *h, const char *kind, int window, int cat, const char *staff);

static alert *alert_by_id(const hk_hall *h, int64_t id)
{
    for (size_t i = 0; i < h->posts->nalerts; i++)
        if (h->posts->alerts[i].id == id) return &h->posts->alerts[i];
    return NULL;
}

static void alert_remove(hk_posts *p, alert *a)
{
    size_t i = (size_t)(a - p->alerts);
    memmove(a, a + 1, (p->nalerts - i - 1) * sizeof *a);
    p->nalerts--;
}

/* Appends an alert (an alert.raised applied, or one a checkpoint holds); NULL strings are "". */
static alert *alert_add(hk_hall *h, int64_t id, const char *kind, int64_t wid, const char *category,
                        const char *staff, const char *notify, const char *msg, int64_t suggest, int64_t at)
{
    hk_posts *p = h->posts;
    if (p->nalerts == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->alerts = hk_realloc(p->alerts, p->cap * sizeof *p->alerts);
    }
    alert *a = &p->alerts[p->nalerts++];
    memset(a, 0, sizeof *a);
    a->id = id;
    snprintf(a->kind, sizeof a->kind, "%s", kind);
    a->window = (int)wid;
    a->cat = queue_cat_index(&h->q, category);
    snprintf(a->staff, sizeof a->staff, "%s", staff ? staff : "");
    snprintf(a->notify, sizeof a->notify, "%s", notify ? notify : "");
    snprintf(a->msg, sizeof a->msg, "%s", msg ? msg : "");
    a->suggest = (int)suggest;
    a->at = at;
    return a;
}

static int apply_alert_raised(hk_hall *h, const hv *ev, int64_t at)
{
    hk_posts *p = h->posts;
    int64_t id = 0, wid = 0, sug = 0;
    const char *kind = hv_get_str(ev, "kind");
    if (hv_get_int(ev, "id", &id) < 0 || !kind) return -1;
    hv_get_int(ev, "window", &wid);
    hv_get_int(ev, "suggest_window", &sug);
    /* live, the tick forgets an acknowledged alert once its cause ends, without an event; at
     * replay it is still here when its cause comes back: the new alert replaces it, or the old
     * one would stand for the rule and the new one be cleared as an orphan */
    alert *old = alert_find(h, kind, (int)wid, queue_cat_index(&h->q, hv_get_str(ev, "category")),
                            hv_get_str(ev, "staff"));
    if (old && old->acked) alert_remove(p, old);
    alert *a = alert_add(h, id, kind, wid, hv_get_str(ev, "category"), hv_get_str(ev, "staff"),
                         hv_get_str(ev, "notify"), hv_get_str(ev, "msg"), sug, at);
    a->seen = true;          /* raised by this tick's rules (or replayed: the next tick judges it) */
    if (id > p->last_id) p->last_id = id;
    return 0;
}

static int apply_alert_cleared(hk_hall *h, const hv *ev)
{
    int64_t id = 0;
    if (hv_get_int(ev, "id", &id) < 0) return -1;
    alert *a = alert_by_id(h, id);
    if (!a) return 0;   /* already gone: nothing to do */
    const char *reason = hv_get_str(ev, "reason");
    if (reason && !strcmp(reason, "ack")) a->acked = true;
    else alert_remove(h->posts, a);
    return 0;
}

int posts_apply(hk_hall *h, const hv *ev)
{
    const char *name = hv_get_str(ev, "ev");
    int64_t at = 0;
    hv_get_int(ev, "at", &at);
    if (!name) return -1;
    if (!strcmp(name, "staff.checked_in")) return apply_checked_in(h, ev, at);
    if (!strcmp(name, "staff.checked_out")) return apply_checked_out(h, ev, at);
    if (!strcmp(name, "alert.raised")) return apply_alert_raised(h, ev, at);
    if (!strcmp(name, "alert.cleared")) return apply_alert_cleared(h, ev);
    return 0;
}

/* ---- views ------------------------------------------------------------------------------ */

static hv *alert_view(const hk_hall *h, const alert *a)
{
    hv *m = hv_map();
    hv_set(m, "id", hv_int(a->id));
    hv_set(m, "kind", hv_str(a->kind));
    hv_set(m, "window", a->window ? hv_int(a->window) : hv_nil());
    hv_set(m, "category", a->cat >= 0 ? hv_str(h->cfg->categories[a->cat].id) : hv_nil());
    hv_set(m, "staff", a->staff[0] ? hv_str(a->staff) : hv_nil());
    hv_set(m, "notify", a->notify[0] ? hv_str(a->notify) : hv_nil());
    hv_set(m, "msg", hv_str(a->msg));
    hv_set(m, "suggest_window", a->suggest ? hv_int(a->suggest) : hv_nil());
    hv_set(m, "at", hv_int(a->at));
    return m;
}

hv *posts_view_alerts(const hk_hall *h)
{
    hv *arr = hv_arr();
    for (size_t i = 0; i < h->posts->nalerts; i++)
        if (!h->posts->alerts[i].acked) hv_push(arr, alert_view(h, &h->posts->alerts[i]));
    return arr;
}

/* One post on the duty board: who holds it and whether they are here. Names, titles and photos
 * of staff on duty are public on such boards (DB43/T 2422.1 §5.5.5). */
static hv *post_view(const hk_hall *h, const char *id, const post_state *ps)
{
    if (!id) return hv_nil();
    const hk_staff_cfg *st = hk_config_staff(h->cfg, id);
    hv *m = hv_map();
    hv_set(m, "id", hv_str(id));
    hv_set(m, "name", hv_str(st && st->name ? st->name : id));
    hv_set(m, "title", st && st->title ? hv_str(st->title) : hv_nil());
    hv_set(m, "photo", st && st->photo ? hv_str(st->photo) : hv_nil());
    bool here = !strcmp(ps->staff, id);
    hv_set(m, "checked_in", hv_bool(here));
    hv_set(m, "since", here ? hv_int(ps->since) : hv_nil());
    return m;
}

static hv *duty_view(const hk_hall *h)
{
    hv *arr = hv_arr();
    for (size_t i = 0; i < h->nwins; i++) {
        const hk_win *w = &h->wins[i];
        const hk_window_posts_cfg *pc = win_posts_cfg(h, i);
        const win_posts *wp = &h->posts->wins[i];
        hv *m = hv_map();
        hv_set(m, "id", hv_int(w->cfg->id));
        hv_set(m, "name", hv_str(w->cfg->name));
        hv_set(m, "status", hv_str(hall_window_status_name(w->status)));
        hv *posts = hv_map();
        hv_set(posts, "a", post_view(h, post_staff_id(pc, POST_A), &wp->post[POST_A]));
        hv_set(posts, "b", post_view(h, post_staff_id(pc, POST_B), &wp->post[POST_B]));
        hv_set(m, "posts", posts);
        /* who is at the window now: the checked-in post, A first */
        const char *on = wp->post[POST_A].staff[0] ? wp->post[POST_A].staff : wp->post[POST_B].staff;
        hv_set(m, "on_duty", *on ? hv_str(on) : hv_nil());
        hv_set(m, "on_duty_post", !*on ? hv_nil() : hv_str(wp->post[POST_A].staff[0] ? "a" : "b"));
        hv_push(arr, m);
    }
    return arr;
}

/* ---- commands ---------------------------------------------------------------------------- */

static void emit_checked_out(hk_hall *h, hk_out *out, hk_time now, size_t wi, int post, const char *reason)
{
    const post_state *ps = &h->posts->wins[wi].post[post];
    hv *ev = hall_event("staff.checked_out");
    hv_set(ev, "staff", hv_str(ps->staff));
    hv_set(ev, "staff_name", hv_str(staff_name(h, ps->staff)));
    hv_set(ev, "window", hv_int(h->wins[wi].cfg->id));
    hv_set(ev, "post", hv_str(post == POST_A ? "a" : "b"));
    hv_set(ev, "reason", hv_str(reason));
    hv_set(ev, "day", hv_int(posts_business_day(h->cfg, now)));
    hall_emit(h, out, ev, now.ms);
}

/* The post staff holds at window index wi: POST_A, POST_B, or -1. */
static int post_held(const hk_hall *h, size_t wi, const char *staff)
{
    const hk_window_posts_cfg *pc = win_posts_cfg(h, wi);
    return pc && pc->a && !strcmp(pc->a, staff) ? POST_A : pc && pc->b && !strcmp(pc->b, staff) ? POST_B : -1;
}

static void refuse_no_post(hk_hall *h, const hk_session *s, size_t wi, const hv *req, hk_out *out)
{
    hall_reply_err(out, req, HK_ERR_FORBIDDEN, "staff %s holds no post at window %d (windows[].posts in the config)",
                   s->staff, h->wins[wi].cfg->id);
}

int posts_may_serve(hk_hall *h, const hk_session *s, int window, const hv *req, hk_out *out)
{
    size_t wi = win_index(h, window);
    if (wi == (size_t)-1 || !win_posts_cfg(h, wi) || post_held(h, wi, s->staff) >= 0) return 0;
    refuse_no_post(h, s, wi, req, out);
    return -1;
}

void posts_cmd_checkin(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    int64_t id;
    if (hv_get_int(req, "window", &id) < 0) { hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "window (a number) is required"); return; }
    size_t wi = id >= 1 && id <= INT32_MAX ? win_index(h, (int)id) : (size_t)-1;
    if (wi == (size_t)-1) { hall_reply_err(out, req, HK_ERR_NOT_FOUND, "no window %lld", (long long)id); return; }
    int post = post_held(h, wi, s->staff);
    if (post < 0) { refuse_no_post(h, s, wi, req, out); return; }
    int at_post;
    long at = checked_in_at(h, s->staff, &at_post);
    if (at >= 0) {
        hall_reply_err(out, req, HK_ERR_CONFLICT, "staff %s is already checked in at window %d (post %s): staff.checkout first",
                  s->staff, h->wins[at].cfg->id, at_post == POST_A ? "a" : "b");
        return;
    }
    bool late = checkin_late(h, now);
    hv *ev = hall_event("staff.checked_in");
    hv_set(ev, "staff", hv_str(s->staff));
    hv_set(ev, "staff_name", hv_str(staff_name(h, s->staff)));
    hv_set(ev, "window", hv_int(h->wins[wi].cfg->id));
    hv_set(ev, "post", hv_str(post == POST_A ? "a" : "b"));
    hv_set(ev, "late", hv_bool(late));
    hv_set(ev, "day", hv_int(posts_business_day(h->cfg, now)));
    hall_emit(h, out, ev, now.ms);
    hv *r = hall_reply_ok(out, req);
    hv_set(r, "window", hv_int(h->wins[wi].cfg->id));
    hv_set(r, "post", hv_str(post == POST_A ? "a" : "b"));
    hv_set(r, "late", hv_bool(late));
}

void posts_cmd_checkout(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    int post;
    long wi = checked_in_at(h, s->staff, &post);
    if (wi < 0) { hall_reply_err(out, req, HK_ERR_CONFLICT, "staff %s is not checked in", s->staff); return; }
    emit_checked_out(h, out, now, (size_t)wi, post, "checkout");
    hv *r = hall_reply_ok(out, req);
    hv_set(r, "window", hv_int(h->wins[wi].cfg->id));
    hv_set(r, "post", hv_str(post == POST_A ? "a" : "b"));
}

void posts_cmd_alerts_list(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    hv_set(hall_reply_ok(out, req), "alerts", posts_view_alerts(h));
}

void posts_cmd_alert_ack(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    int64_t id;
    if (hv_get_int(req, "alert", &id) < 0) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "alert (the alert's id, a number) is required");
        return;
    }
    alert *a = alert_by_id(h, id);
    if (!a || a->acked) { hall_reply_err(out, req, HK_ERR_NOT_FOUND, "no active alert %lld", (long long)id); return; }
    /* a staff member acknowledges what is asked of them; managers acknowledge anything */
    if (s->role == HK_ROLE_STAFF && strcmp(a->notify, s->staff) != 0) {
        hall_reply_err(out, req, HK_ERR_FORBIDDEN, "alert %lld is not addressed to staff %s", (long long)id, s->staff);
        return;
    }
    hv *ev = hall_event("alert.cleared");
    hv_set(ev, "id", hv_int(id));
    hv_set(ev, "kind", hv_str(a->kind));
    hv_set(ev, "reason", hv_str("ack"));
    hv_set(ev, "by", hv_str(s->role == HK_ROLE_STAFF ? s->staff : hk_role_name(s->role)));
    hv *view = alert_view(h, a);
    hall_emit(h, out, ev, now.ms);
    hv_set(hall_reply_ok(out, req), "alert", view);
}

void posts_cmd_duty_get(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    hv_set(hall_reply_ok(out, req), "windows", duty_view(h));
}

/* ---- the rules ------------------------------------------------------------------------------ */

static alert *alert_find(const hk_hall *h, const char *kind, int window, int cat, const char *staff)
{
    for (size_t i = 0; i < h->posts->nalerts; i++) {
        alert *a = &h->posts->alerts[i];
        if (!strcmp(a->kind, kind) && a->window == window && a->cat == cat && !strcmp(a->staff, staff ? staff : ""))
            return a;
    }
    return NULL;
}

typedef struct {
    const char *kind;
    int window, cat;
    const char *staff, *notify;
    int suggest;
    char msg[256];
} alert_want;

/* raise: the alert is due; keep: its cause still holds (an alert is cleared once it does not).
 * An acknowledged alert stays hidden until its cause ends, so it is not raised again at once. */
static void alert_rule(hk_hall *h, hk_out *out, hk_time now, const alert_want *w, bool raise, bool keep)
{
    alert *a = alert_find(h, w->kind, w->window, w->cat, w->staff);
    if (a) {
        a->seen = true;
        if (keep) return;
        if (a->acked) { alert_remove(h->posts, a); return; }
        hv *ev = hall_event("alert.cleared");
        hv_set(ev, "id", hv_int(a->id));
        hv_set(ev, "kind", hv_str(a->kind));
        hv_set(ev, "reason", hv_str("resolved"));
        hall_emit(h, out, ev, now.ms);
        return;
    }
    if (!raise) return;
    hv *ev = hall_event("alert.raised");
    hv_set(ev, "id", hv_int(h->posts->last_id + 1));
    hv_set(ev, "kind", hv_str(w->kind));
    hv_set(ev, "window", w->window ? hv_int(w->window) : hv_nil());
    hv_set(ev, "category", w->cat >= 0 ? hv_str(h->cfg->categories[w->cat].id) : hv_nil());
    hv_set(ev, "staff", w->staff && *w->staff ? hv_str(w->staff) : hv_nil());
    hv_set(ev, "notify", w->notify && *w->notify ? hv_str(w->notify) : hv_nil());
    hv_set(ev, "msg", hv_str(w->msg));
    hv_set(ev, "suggest_window", w->suggest ? hv_int(w->suggest) : hv_nil());
    hall_emit(h, out, ev, now.ms);
}

/* A check-in of an earlier business day ends with it (staff who forgot to check out). */
static void checkout_stale(hk_hall *h, hk_time now, hk_out *out)
{
    int32_t today = posts_business_day(h->cfg, now);
    for (size_t i = 0; i < h->nwins; i++)
        for (int p = 0; p < 2; p++) {
            const post_state *ps = &h->posts->wins[i].post[p];
            if (ps->staff[0] && ps->day < today) emit_checked_out(h, out, now, i, p, "day_end");
        }
}

/* the moment window i became paused / empty, as watched by the tick */
static void watch_window(hk_hall *h, size_t i, hk_time now)
{
    win_posts *wp = &h->posts->wins[i];
    int status = h->wins[i].status;
    bool empty = status == HK_WIN_CLOSED || !window_manned(h, i);
    if (status == HK_WIN_PAUSED && wp->seen_status != HK_WIN_PAUSED) wp->paused_since = now.ms;
    if (empty && (wp->seen_status < 0 || !wp->seen_empty)) wp->empty_since = now.ms;
    wp->seen_status = status;
    wp->seen_empty = empty;
}

static void window_rules(hk_hall *h, size_t i, hk_time now, hk_out *out)
{
    const hk_work_cfg *wk = &h->cfg->work;
    const hk_window_posts_cfg *pc = win_posts_cfg(h, i);
    const hk_win *w = &h->wins[i];
    const win_posts *wp = &h->posts->wins[i];
    int32_t today = posts_business_day(h->cfg, now);
    int open = 0, close = 0;
    bool real = false;
    bool span = today_span(h, now, &open, &close, &real);
    bool in_hours = hall_is_open(h, now);
    int64_t span_ms = span ? ms_of_min(now, open) : 0;
    int64_t deadline_ms = span && real ? ms_of_min(now, open - wk->checkin_before_min) : span_ms;
    const char *a = post_staff_id(pc, POST_A), *b = post_staff_id(pc, POST_B);
    const post_state *pa = &wp->post[POST_A];
    alert_want aw;

    /* late_checkin: post A is not here by opening minus checkin_before_min (and did not come and go) */
    bool a_here = a && checked_in_at(h, a, NULL) >= 0;
    bool a_left = a && !a_here && pa->out_at && pa->out_day == today && pa->out_at >= deadline_ms;
    memset(&aw, 0, sizeof aw);
    aw.kind = "late_checkin"; aw.window = w->cfg->id; aw.cat = -1; aw.staff = a ? a : "";
    bool late = a && span && real && now.min > open - wk->checkin_before_min && !a_here && !a_left;
    if (late)
        snprintf(aw.msg, sizeof aw.msg, "%s A岗 %s 未按时签到（应于 %02d:%02d 前到岗）", w->cfg->name, staff_name(h, a),
                 (open - wk->checkin_before_min) / 60, (open - wk->checkin_before_min) % 60);
    alert_rule(h, out, now, &aw, late, late);

    /* ab_away: A's window paused (by A: B pausing a window B runs needs no one told), or A
     * checked out during opening hours while no one else runs the window: B takes over */
    bool covered = w->status != HK_WIN_CLOSED && a && w->staff[0] && strcmp(w->staff, a) != 0;
    bool paused = w->status == HK_WIN_PAUSED && a && (!w->staff[0] || !strcmp(w->staff, a));
    bool away = a && in_hours && (paused || (a_left && !covered));
    int64_t since = now.ms;
    if (away && paused) since = wp->paused_since;
    if (away && a_left && !covered && pa->out_at < since) since = pa->out_at;
    bool due = away && now.ms - since >= (int64_t)wk->away_alert_min * 60000;
    memset(&aw, 0, sizeof aw);
    aw.kind = "ab_away"; aw.window = w->cfg->id; aw.cat = -1; aw.staff = a ? a : ""; aw.notify = b;
    if (due)
        snprintf(aw.msg, sizeof aw.msg, "%s A岗 %s %s已超过%d分钟，%s%s%s", w->cfg->name, staff_name(h, a),
                 paused ? "暂停" : "离岗", wk->away_alert_min, b ? "请B岗 " : "无B岗，请安排人员顶岗",
                 b ? staff_name(h, b) : "", b ? " 顶岗" : "");
    alert_rule(h, out, now, &aw, due, away);

    /* window_empty: a window with posts, in opening hours, closed or with no one checked in */
    bool empty = pc && in_hours && (w->status == HK_WIN_CLOSED || !window_manned(h, i));
    since = wp->empty_since > span_ms ? wp->empty_since : span_ms;
    if (pa->out_at > since) since = pa->out_at;
    if (wp->post[POST_B].out_at > since) since = wp->post[POST_B].out_at;
    due = empty && now.ms - since >= (int64_t)wk->empty_alert_min * 60000;
    memset(&aw, 0, sizeof aw);
    aw.kind = "window_empty"; aw.window = w->cfg->id; aw.cat = -1; aw.staff = "";
    if (due)
        snprintf(aw.msg, sizeof aw.msg, "%s 无人值守已超过%d分钟（%s）", w->cfg->name, wk->empty_alert_min,
                 w->status == HK_WIN_CLOSED ? "窗口关闭" : "无人签到");
    alert_rule(h, out, now, &aw, due, empty);
}

/* The closed window to open for category cat: one with someone checked in first (they can open
 * it at once), then the one that lists cat earliest (its own business), then the lowest id. */
static int suggest_window(const hk_hall *h, int cat)
{
    const char *id = h->cfg->categories[cat].id;
    int best = 0, best_score = 0;
    for (size_t i = 0; i < h->nwins; i++) {
        const hk_win *w = &h->wins[i];
        if (w->status != HK_WIN_CLOSED) continue;
        for (size_t c = 0; c < w->cfg->ncategories; c++) {
            if (strcmp(w->cfg->categories[c], id) != 0) continue;
            int score = (window_manned(h, i) ? 1000 : 0) + 100 - (int)(c < 100 ? c : 99);
            if (score > best_score || (score == best_score && w->cfg->id < best)) {
                best = w->cfg->id;
                best_score = score;
            }
            break;
        }
    }
    return best;
}

static void load_rules(hk_hall *h, hk_time now, hk_out *out)
{
    for (size_t c = 0; h->cfg->work.cat_alerts && c < h->cfg->ncategories; c++) {
        const hk_category_alert_cfg *ac = &h->cfg->work.cat_alerts[c];
        if (!ac->alert_length && !ac->alert_wait_min && !alert_find(h, "load", 0, (int)c, NULL)) continue;
        int waiting = queue_waiting(&h->q, (int)c, false);
        int64_t est = hall_est_wait_s(h, (int)c, waiting);
        bool over = (ac->alert_length && waiting >= ac->alert_length) ||
                    (ac->alert_wait_min && est >= (int64_t)ac->alert_wait_min * 60);
        bool hold = (ac->alert_length && waiting * 100 >= ac->alert_length * LOAD_CLEAR_PCT) ||
                    (ac->alert_wait_min && est * 100 >= (int64_t)ac->alert_wait_min * 60 * LOAD_CLEAR_PCT);
        alert_want aw;
        memset(&aw, 0, sizeof aw);
        aw.kind = "load"; aw.cat = (int)c; aw.staff = "";
        if (over) {
            aw.suggest = suggest_window(h, (int)c);
            const hk_win *sw = aw.suggest ? hall_window(h, aw.suggest) : NULL;
            char tail[96];
            if (sw) snprintf(tail, sizeof tail, "建议开启%s", sw->cfg->name);
            else snprintf(tail, sizeof tail, "没有可开启的关闭窗口，请调配人员");
            snprintf(aw.msg, sizeof aw.msg, "%s 排队%d人，预计等待%lld分钟：%s", h->cfg->categories[c].name, waiting,
                     (long long)(est / 60), tail);
        }
        alert_rule(h, out, now, &aw, over, over || hold);
    }
}

static bool own_kind(const char *kind)
{
    return !strcmp(kind, "late_checkin") || !strcmp(kind, "ab_away") || !strcmp(kind, "window_empty") ||
           !strcmp(kind, "load");
}

/* An alert of ours that no rule speaks for any more (the config changed under it across a
 * restart: another post, a window or category gone) has lost its cause: it is cleared. */
static void clear_orphans(hk_hall *h, hk_time now, hk_out *out)
{
    for (size_t i = 0; i < h->posts->nalerts;) {
        alert *a = &h->posts->alerts[i];
        if (a->seen || !own_kind(a->kind)) { i++; continue; }
        if (a->acked) { alert_remove(h->posts, a); continue; }
        hv *ev = hall_event("alert.cleared");
        hv_set(ev, "id", hv_int(a->id));
        hv_set(ev, "kind", hv_str(a->kind));
        hv_set(ev, "reason", hv_str("resolved"));
        hall_emit(h, out, ev, now.ms);      /* removes it: the same index holds the next one */
    }
}

void posts_tick(hk_hall *h, hk_time now, hk_out *out)
{
    checkout_stale(h, now, out);
    for (size_t i = 0; i < h->posts->nalerts; i++) h->posts->alerts[i].seen = false;
    for (size_t i = 0; i < h->nwins; i++) watch_window(h, i, now);
    for (size_t i = 0; i < h->nwins; i++) window_rules(h, i, now, out);
    load_rules(h, now, out);
    clear_orphans(h, now, out);
}

/* ---- the business day ------------------------------------------------------------------------ */

typedef struct { int issued, served, noshow, waits, services; int64_t wait_ms, max_wait_ms, service_ms; } day_sum;

static hv *day_sum_view(const day_sum *d)
{
    hv *m = hv_map();
    hv_set(m, "issued", hv_int(d->issued));
    hv_set(m, "served", hv_int(d->served));
    hv_set(m, "noshow", hv_int(d->noshow));
    hv_set(m, "avg_wait_s", hv_int(d->waits ? d->wait_ms / d->waits / 1000 : 0));
    hv_set(m, "max_wait_s", hv_int(d->max_wait_ms / 1000));
    hv_set(m, "avg_service_s", hv_int(d->services ? d->service_ms / d->services / 1000 : 0));
    return m;
}

static void day_sum_add(day_sum *d, const hk_ticket *t, int32_t day)
{
    if (t->day == day) d->issued++;
    if (t->state == TK_DONE) d->served++;
    if (t->state == TK_NOSHOW) d->noshow++;
    if (t->called_at && t->called_at >= t->issued_at) {
        int64_t wait = t->called_at - t->issued_at;
        d->waits++;
        d->wait_ms += wait;
        if (wait > d->max_wait_ms) d->max_wait_ms = wait;
    }
    int64_t from = t->started_at ? t->started_at : t->called_at;
    if (t->state == TK_DONE && from && t->finished_at >= from) {
        d->services++;
        d->service_ms += t->finished_at - from;
    }
}

/* Over the tickets the hall still holds: the closing day's, and earlier days' that carried over
 * into it (a day's finished tickets are forgotten when it closes). Waits are issue to (last)
 * call; service is start (or call) to finish. */
void posts_day_summary(const hk_hall *h, hv *ev)
{
    day_sum all;
    memset(&all, 0, sizeof all);
    day_sum *per = hk_calloc(h->cfg->ncategories ? h->cfg->ncategories : 1, sizeof *per);
    for (size_t i = 0; i < h->q.ntickets; i++) {
        const hk_ticket *t = &h->q.tickets[i];
        day_sum_add(&all, t, h->open_day);
        day_sum_add(&per[t->cat], t, h->open_day);
    }
    int r = h->cfg->work.rollover_min;
    char hhmm[16];
    snprintf(hhmm, sizeof hhmm, "%02d:%02d", r / 60, r % 60);
    hv_set(ev, "rollover", hv_str(hhmm));
    hv *total = day_sum_view(&all);
    hv_set(ev, "avg_wait_s", hv_dup(hv_get(total, "avg_wait_s")));
    hv_set(ev, "max_wait_s", hv_dup(hv_get(total, "max_wait_s")));
    hv_set(ev, "avg_service_s", hv_dup(hv_get(total, "avg_service_s")));
    hv_free(total);
    hv *cats = hv_map();
    for (size_t c = 0; c < h->cfg->ncategories; c++) hv_set(cats, h->cfg->categories[c].id, day_sum_view(&per[c]));
    hv_set(ev, "categories", cats);
    free(per);
}

void posts_roll_day(hk_hall *h, hk_out *out, hk_time now)
{
    int32_t today = posts_business_day(h->cfg, now);
    if (!h->open_day || today <= h->open_day) return;
    int issued = 0, served = 0, noshow = 0, carried = 0;
    for (size_t i = 0; i < h->q.ntickets; i++) {
        const hk_ticket *t = &h->q.tickets[i];
        if (t->day == h->open_day) issued++;
        if (t->state == TK_DONE) served++;
        else if (t->state == TK_NOSHOW) noshow++;
        else carried++;
    }
    hv *ev = hall_event("day.closed");
    hv_set(ev, "closed", hv_int(h->open_day));
    hv_set(ev, "opened", hv_int(today));
    hv_set(ev, "issued", hv_int(issued));
    hv_set(ev, "served", hv_int(served));
    hv_set(ev, "noshow", hv_int(noshow));
    hv_set(ev, "carried_over", hv_int(carried));
    posts_day_summary(h, ev);
    hall_emit(h, out, ev, now.ms);
    h->queues_dirty = true;
}

/* ---- checkpoint (core/checkpoint.h) ------------------------------------------------------------ */

hv *posts_checkpoint(const hk_hall *h)
{
    const hk_posts *p = h->posts;
    hv *m = hv_map();
    hv_set(m, "last_id", hv_int(p->last_id));
    hv *posts = hv_arr();
    for (size_t i = 0; i < h->nwins; i++)
        for (int k = 0; k < 2; k++) {
            const post_state *ps = &p->wins[i].post[k];
            if (!ps->staff[0] && !ps->since && !ps->out_at) continue;   /* never used */
            hv *x = hv_map();
            hv_set(x, "window", hv_int(h->wins[i].cfg->id));
            hv_set(x, "post", hv_str(k == POST_A ? "a" : "b"));
            hv_set(x, "staff", hv_str(ps->staff));
            hv_set(x, "since", hv_int(ps->since));
            hv_set(x, "late", hv_bool(ps->late));
            hv_set(x, "day", hv_int(ps->day));
            hv_set(x, "out_at", hv_int(ps->out_at));
            hv_set(x, "out_day", hv_int(ps->out_day));
            hv_push(posts, x);
        }
    hv_set(m, "posts", posts);
    hv *alerts = hv_arr();
    for (size_t i = 0; i < p->nalerts; i++) {
        const alert *a = &p->alerts[i];
        hv *x = hv_map();
        hv_set(x, "id", hv_int(a->id));
        hv_set(x, "kind", hv_str(a->kind));
        hv_set(x, "window", hv_int(a->window));
        hv_set(x, "category", a->cat >= 0 ? hv_str(h->cfg->categories[a->cat].id) : hv_nil());
        hv_set(x, "staff", hv_str(a->staff));
        hv_set(x, "notify", hv_str(a->notify));
        hv_set(x, "suggest_window", hv_int(a->suggest));
        hv_set(x, "msg", hv_str(a->msg));
        hv_set(x, "at", hv_int(a->at));
        hv_set(x, "acked", hv_bool(a->acked));
        hv_push(alerts, x);
    }
    hv_set(m, "alerts", alerts);
    return m;
}

int posts_restore(hk_hall *h, const hv *m)
{
    hk_posts *p = h->posts;
    int64_t last_id;
    const hv *posts = cp_arr(m, "posts"), *alerts = cp_arr(m, "alerts");
    if (cp_int(m, "last_id", &last_id) < 0 || !posts || !alerts) return -1;
    p->last_id = last_id;
    for (size_t i = 0; i < posts->u.a.n; i++) {
        const hv *x = posts->u.a.v[i];
        int64_t wid, since, day, out_at, out_day;
        bool late;
        const char *staff = cp_str(x, "staff");
        int post = post_parse(cp_str(x, "post"));
        if (cp_int(x, "window", &wid) < 0 || cp_int(x, "since", &since) < 0 || cp_int(x, "day", &day) < 0 ||
            cp_int(x, "out_at", &out_at) < 0 || cp_int(x, "out_day", &out_day) < 0 || cp_bool(x, "late", &late) < 0 ||
            !staff || post < 0)
            return -1;
        size_t wi = win_index(h, (int)wid);
        if (wi == (size_t)-1) continue;   /* a window the configuration no longer has */
        post_state *ps = &p->wins[wi].post[post];
        snprintf(ps->staff, sizeof ps->staff, "%s", staff);
        ps->since = since;
        ps->late = late;
        ps->day = (int32_t)day;
        ps->out_at = out_at;
        ps->out_day = (int32_t)out_day;
    }
    for (size_t i = 0; i < alerts->u.a.n; i++) {
        const hv *x = alerts->u.a.v[i];
        int64_t id, wid, sug, at;
        bool acked;
        const char *kind = cp_str(x, "kind"), *staff = cp_str(x, "staff"), *notify = cp_str(x, "notify");
        const char *msg = cp_str(x, "msg");
        if (cp_int(x, "id", &id) < 0 || cp_int(x, "window", &wid) < 0 || cp_int(x, "suggest_window", &sug) < 0 ||
            cp_int(x, "at", &at) < 0 || cp_bool(x, "acked", &acked) < 0 || !kind || !staff || !notify || !msg)
            return -1;
        alert *a = alert_add(h, id, kind, wid, cp_str(x, "category"), staff, notify, msg, sug, at);
        a->acked = acked;
        a->seen = true;   /* as at replay: the next tick judges it */
    }
    return 0;
}
