/* hall.c: the hall's state, its events and their application (see hall.h). Commands live in
 * hall_cmd.c; this file owns what an event does to the state, so replay and live use share it. */
#include "hall_int.h"
#include "checkpoint.h"
#include "retention.h"   /* releasing old closed items at day.closed */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

hk_hall *hall_new(const hk_config *cfg)
{
    hk_hall *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->cfg = cfg;
    queue_init(&h->q, cfg);
    h->nwins = cfg->nwindows;
    h->wins = calloc(h->nwins ? h->nwins : 1, sizeof *h->wins);
    if (!h->wins) { queue_free(&h->q); free(h); return NULL; }
    h->em = emergency_new(cfg);
    if (!h->em || emergency_out_init(h->em, &h->eo) < 0) {
        emergency_free(h->em);
        queue_free(&h->q);
        free(h->wins);
        free(h);
        return NULL;
    }
    emergency_outputs(h->em, &h->eo);
    h->em_public = hall_view_emergency(h, HK_ROLE_DISPLAY);
    for (size_t i = 0; i < h->nwins; i++) {
        h->wins[i].cfg = &cfg->windows[i];
        h->wins[i].status = HK_WIN_CLOSED;
        h->wins[i].current = -1;
    }
    if (!(h->posts = posts_new(h))) { hall_free(h); return NULL; }
    h->appts = appt_book_new();
    h->cases = cases_new();
    h->ratings = ratings_new(cfg);
    return h;
}

void hall_free(hk_hall *h)
{
    if (!h) return;
    posts_free(h->posts);
    appt_book_free(h->appts);
    cases_free(h->cases);
    ratings_free(h->ratings);
    hv_free(h->checkpoint_parts);
    queue_free(&h->q);
    emergency_out_free(&h->eo);
    emergency_free(h->em);
    hv_free(h->em_public);
    free(h->wins);
    free(h);
}

uint64_t hall_seq(const hk_hall *h) { return h->seq; }
void hall_set_token_verifier(hk_hall *h, hk_token_verifier fn, void *arg)
{
    h->verify_token = fn;
    h->verify_token_arg = arg;
}
void hall_set_seq(hk_hall *h, uint64_t seq) { if (seq > h->seq) h->seq = seq; }
const hk_config *hall_config(const hk_hall *h) { return h->cfg; }

hk_win *hall_window(hk_hall *h, int64_t id)
{
    for (size_t i = 0; i < h->nwins; i++)
        if (h->wins[i].cfg->id == id) return &h->wins[i];
    return NULL;
}

const char *hall_window_status_name(int status)
{
    switch (status) {
    case HK_WIN_OPEN: return "open";
    case HK_WIN_PAUSED: return "paused";
    default: return "closed";
    }
}

static int window_status_parse(const char *s)
{
    if (!s) return -1;
    if (!strcmp(s, "open")) return HK_WIN_OPEN;
    if (!strcmp(s, "paused")) return HK_WIN_PAUSED;
    if (!strcmp(s, "closed")) return HK_WIN_CLOSED;
    return -1;
}

/* ---- events: applying ---------------------------------------------------------------- */

static hk_ticket *ev_ticket(hk_hall *h, const hv *ev)
{
    return queue_find(&h->q, hv_get_str(ev, "code"));
}

static void note_recent_call(hk_hall *h, const hk_ticket *t, int window, int64_t at, bool recall)
{
    memmove(h->recent + 1, h->recent, (HK_RECENT_CALLS - 1) * sizeof *h->recent);
    hk_recent *r = &h->recent[0];
    snprintf(r->code, sizeof r->code, "%s", t->code);
    r->window = window;
    r->cat = t->cat;
    r->at = at;
    r->recall = recall;
    if (h->nrecent < HK_RECENT_CALLS) h->nrecent++;
}

static void detach_current(hk_hall *h, hk_ticket *t)
{
    hk_win *w = hall_window(h, t->window);
    if (w && w->current == queue_ticket_index(&h->q, t)) w->current = -1;
}

/* day.closed: the finished tickets of the days before `opened` are forgotten (their events stay
 * in the stream and the journal); waiting and called ones carry over (extended service). */
static int apply_day_closed(hk_hall *h, const hv *ev)
{
    int64_t opened = 0;
    if (hv_get_int(ev, "opened", &opened) < 0 || opened <= 0) return -1;
    h->open_day = (int32_t)opened;
    int *remap = hk_malloc((h->q.ntickets ? h->q.ntickets : 1) * sizeof *remap);
    queue_forget_before(&h->q, (int32_t)opened, remap);
    for (size_t i = 0; i < h->nwins; i++)
        if (h->wins[i].current >= 0) h->wins[i].current = remap[h->wins[i].current];
    free(remap);
    /* closed items older than retention.days (core/retention.h) */
    int32_t keep_from = retention_cutoff(h->cfg, (int32_t)opened);
    cases_forget_before(h, keep_from);
    ratings_forget_before(h, keep_from);
    appt_forget_before(h, keep_from);
    return 0;
}

/* At the configured work.rollover time, with the day's summary (posts.c). */
void hall_roll_day(hk_hall *h, hk_out *out, hk_time now)
{
    int32_t before = h->open_day;
    posts_roll_day(h, out, now);
    if (before && h->open_day != before) hall_checkpoint_emit(h, out, now);   /* day.checkpoint */
}

static int apply_issued(hk_hall *h, const hv *ev)
{
    int cat = queue_cat_index(&h->q, hv_get_str(ev, "category"));
    const char *code = hv_get_str(ev, "code");
    const char *prio = hv_get_str(ev, "priority");
    int64_t day = 0, issued = 0;
    hv_get_int(ev, "day", &day);
    hv_get_int(ev, "issued_at", &issued);
    if (cat < 0 || !code) return -1;
    if (!h->open_day) h->open_day = (int32_t)day;   /* the first day; later ones open by day.closed */
    return queue_add(&h->q, code, cat, prio && !strcmp(prio, "priority"), (int32_t)day, issued) < 0 ? -1 : 0;
}

static int apply_called(hk_hall *h, const hv *ev, int64_t at)
{
    hk_ticket *t = ev_ticket(h, ev);
    int64_t wid = 0;
    bool recall = false;
    hv_get_int(ev, "window", &wid);
    hv_get_bool(ev, "recall", &recall);
    hk_win *w = hall_window(h, wid);
    if (!t || !w) return -1;
    int idx = queue_ticket_index(&h->q, t);
    if (recall) {
        t->recalls++;
    } else {
        if (t->state == TK_WAITING) queue_remove_waiting(&h->q, idx);
        t->state = TK_CALLED;
        t->called_at = at;
        t->window = w->cfg->id;
        t->target_window = 0;
        t->recalls = 0;
        w->current = idx;
    }
    note_recent_call(h, t, w->cfg->id, at, recall);
    return 0;
}

static int apply_started(hk_hall *h, const hv *ev, int64_t at)
{
    hk_ticket *t = ev_ticket(h, ev);
    if (!t) return -1;
    t->state = TK_SERVING;
    t->started_at = at;
    return 0;
}

static int apply_finished(hk_hall *h, const hv *ev, int64_t at)
{
    hk_ticket *t = ev_ticket(h, ev);
    const char *outcome = hv_get_str(ev, "outcome");
    if (!t) return -1;
    t->state = TK_DONE;
    t->finished_at = at;
    snprintf(t->outcome, sizeof t->outcome, "%s", outcome ? outcome : "");
    int64_t from = t->started_at ? t->started_at : t->called_at;
    if (from) queue_record_service(&h->q, t->cat, at - from);
    detach_current(h, t);
    return 0;
}

static int apply_noshow(hk_hall *h, const hv *ev, int64_t at)
{
    hk_ticket *t = ev_ticket(h, ev);
    if (!t) return -1;
    t->state = TK_NOSHOW;
    t->finished_at = at;
    detach_current(h, t);
    return 0;
}

static int apply_transferred(hk_hall *h, const hv *ev)
{
    hk_ticket *t = ev_ticket(h, ev);
    int cat = queue_cat_index(&h->q, hv_get_str(ev, "category"));
    int64_t target = 0;
    hv_get_int(ev, "window", &target);
    if (!t || cat < 0) return -1;
    if (t->state == TK_WAITING) queue_withdraw(&h->q, queue_ticket_index(&h->q, t));
    detach_current(h, t);
    t->cat = cat;
    t->target_window = (int)target;
    t->started_at = t->called_at = 0;
    queue_requeue(&h->q, queue_ticket_index(&h->q, t));
    return 0;
}

static int apply_rated(hk_hall *h, const hv *ev)
{
    hk_ticket *t = ev_ticket(h, ev);
    int64_t score = 0;
    if (!t || hv_get_int(ev, "score", &score) < 0) return -1;
    t->score = (int)score;
    return 0;
}

static int apply_window(hk_hall *h, const hv *ev)
{
    const hv *wv = hv_get(ev, "window");
    int64_t id = 0;
    if (!wv || hv_get_int(wv, "id", &id) < 0) return -1;
    hk_win *w = hall_window(h, id);
    int status = window_status_parse(hv_get_str(wv, "status"));
    if (!w || status < 0) return -1;
    w->status = status;
    const char *staff = hv_get_str(wv, "staff");
    const char *reason = hv_get_str(wv, "pause_reason");
    snprintf(w->staff, sizeof w->staff, "%s", staff ? staff : "");
    snprintf(w->reason, sizeof w->reason, "%s", reason ? reason : "");
    return 0;
}

static int apply_fault(hk_hall *h, const hv *ev)
{
    const char *kind = hv_get_str(ev, "kind");
    bool active = false;
    int64_t grade = 0, since = 0;
    if (!kind || hv_get_bool(ev, "active", &active) < 0) return -1;
    hv_get_int(ev, "grade_n", &grade);
    hv_get_int(ev, "since", &since);
    int i;
    for (i = 0; i < h->nfaults && strcmp(h->faults[i].kind, kind) != 0; i++) {}
    if (!active) {
        if (i < h->nfaults) {
            memmove(&h->faults[i], &h->faults[i + 1], (size_t)(h->nfaults - i - 1) * sizeof *h->faults);
            h->nfaults--;
        }
        return 0;
    }
    if (i == h->nfaults) {
        if (h->nfaults == HK_MAX_FAULTS) return -1;
        h->nfaults++;
    }
    hk_fault *f = &h->faults[i];
    snprintf(f->kind, sizeof f->kind, "%s", kind);
    f->grade = (int)grade;
    f->since = since;
    const char *detail = hv_get_str(ev, "detail");
    snprintf(f->detail, sizeof f->detail, "%s", detail ? detail : "");
    return 0;
}

void hall_fault(hk_hall *h, const char *kind, bool active, int64_t since_ms, const char *detail,
                hk_time now, hk_out *out)
{
    int i;
    for (i = 0; i < h->nfaults && strcmp(h->faults[i].kind, kind) != 0; i++) {}
    int grade = active ? emergency_fault_grade(now.ms - since_ms) : 0;
    if (active && grade == 0) grade = 3;
    if (active && i < h->nfaults && h->faults[i].grade == grade) return;   /* nothing new */
    if (!active && i == h->nfaults) return;
    if (!active) {
        grade = h->faults[i].grade;
        since_ms = h->faults[i].since;
    }
    hv *ev = hall_event("fault");
    hv_set(ev, "kind", hv_str(kind));
    hv_set(ev, "active", hv_bool(active));
    hv_set(ev, "grade", hv_str(emergency_fault_grade_name(grade)));
    hv_set(ev, "grade_n", hv_int(grade));
    hv_set(ev, "grade_zh", hv_str(emergency_fault_grade_zh(grade)));
    hv_set(ev, "since", hv_int(since_ms));
    hv_set(ev, "duration_ms", hv_int(now.ms - since_ms));
    if (detail) hv_set(ev, "detail", hv_str(detail));
    hall_emit(h, out, ev, now.ms);
}

void hall_announce(hk_hall *h, hk_out *out, bool started, const char *text, const char *zone,
                   const char *priority, bool truncated, hk_time now)
{
    hv *ev = hall_event(started ? "announce.started" : "announce.finished");
    hv_set(ev, "text", hv_str(text ? text : ""));
    hv_set(ev, "zone", hv_str(zone ? zone : ""));
    hv_set(ev, "priority", hv_str(priority ? priority : ""));
    if (!started) hv_set(ev, "truncated", hv_bool(truncated));
    hall_emit(h, out, ev, now.ms);
}

int hall_apply(hk_hall *h, const hv *ev)
{
    const char *name = hv_get_str(ev, "ev");
    int64_t at = 0;
    hv_get_int(ev, "at", &at);
    if (!name) return -1;
    if (!strcmp(name, "ticket.issued")) return apply_issued(h, ev);
    if (!strcmp(name, "ticket.called")) return apply_called(h, ev, at);
    if (!strcmp(name, "ticket.started")) return apply_started(h, ev, at);
    if (!strcmp(name, "ticket.finished")) return apply_finished(h, ev, at);
    if (!strcmp(name, "ticket.noshow")) return apply_noshow(h, ev, at);
    if (!strcmp(name, "ticket.transferred")) return apply_transferred(h, ev);
    if (!strcmp(name, "ticket.rated")) return apply_rated(h, ev);
    if (!strcmp(name, "window.changed")) return apply_window(h, ev);
    if (!strcmp(name, "emergency.changed")) return hall_apply_emergency(h, ev);
    if (!strcmp(name, "fault")) return apply_fault(h, ev);
    if (!strcmp(name, "day.closed")) return apply_day_closed(h, ev);
    if (!strncmp(name, "day.checkpoint", 14)) return hall_checkpoint_apply(h, ev, name);
    if (!strcmp(name, "staff.checked_in") || !strcmp(name, "staff.checked_out") ||
        !strcmp(name, "alert.raised") || !strcmp(name, "alert.cleared"))
        return posts_apply(h, ev);
    if (!strncmp(name, "appointment.", 12)) return hall_apply_appointment(h, ev);
    if (!strncmp(name, "case.", 5)) return cases_apply(h, ev, name);
    if (!strncmp(name, "rating.", 7) || !strncmp(name, "followup.", 9)) return ratings_apply(h, ev, name);
    return 0;   /* derived or informational events (queue.changed, ...) change nothing */
}

int hall_replay(hk_hall *h, const hv *event)
{
    int64_t seq = 0;
    if (hv_get_int(event, "seq", &seq) == 0 && (uint64_t)seq > h->seq) h->seq = (uint64_t)seq;
    return hall_apply(h, event);
}

/* Gives the event its seq and time, applies it, and hands it to the caller for persistence
 * and broadcast. ev is consumed. */
void hall_emit(hk_hall *h, hk_out *out, hv *ev, int64_t at)
{
    hv_set(ev, "seq", hv_int((int64_t)++h->seq));
    hv_set(ev, "at", hv_int(at));
    hall_apply(h, ev);
    if (out->nevents == out->cap) {
        out->cap = out->cap ? out->cap * 2 : 4;
        out->events = hk_realloc(out->events, out->cap * sizeof *out->events);
    }
    out->events[out->nevents++] = ev;
}

hv *hall_event(const char *name)
{
    hv *ev = hv_map();
    hv_set(ev, "t", hv_str("ev"));
    hv_set(ev, "ev", hv_str(name));
    return ev;
}

void hk_out_init(hk_out *o) { memset(o, 0, sizeof *o); }

void hk_out_clear(hk_out *o)
{
    hv_free(o->reply);
    for (size_t i = 0; i < o->nevents; i++) hv_free(o->events[i]);
    free(o->events);
    memset(o, 0, sizeof *o);
}

void hall_tick(hk_hall *h, hk_time now, hk_out *out)
{
    hall_roll_day(h, out, now);
    if (h->queues_dirty) {
        h->queues_dirty = false;
        hv *ev = hall_event("queue.changed");
        hv_set(ev, "queues", hall_view_queues(h));
        hall_emit(h, out, ev, now.ms);
    }
    posts_tick(h, now, out);
    hall_appointment_tick(h, now, out);
    cases_tick(h, now, out);
}

/* ---- checkpoint (checkpoint.h): the hall's own durable fields ------------------------------- */

hv *hall_core_checkpoint(const hk_hall *h)
{
    hv *m = hv_map();
    hv_set(m, "open_day", hv_int(h->open_day));
    hv *wins = hv_arr();
    for (size_t i = 0; i < h->nwins; i++) {
        const hk_win *w = &h->wins[i];
        hv *x = hv_map();
        hv_set(x, "id", hv_int(w->cfg->id));
        hv_set(x, "status", hv_str(hall_window_status_name(w->status)));
        hv_set(x, "staff", hv_str(w->staff));
        hv_set(x, "reason", hv_str(w->reason));
        hv_set(x, "current", hv_int(w->current));   /* an index into the queue's tickets */
        hv_push(wins, x);
    }
    hv_set(m, "windows", wins);
    hv *recent = hv_arr();
    for (int i = 0; i < h->nrecent; i++) {
        const hk_recent *r = &h->recent[i];
        hv *x = hv_map();
        hv_set(x, "code", hv_str(r->code));
        hv_set(x, "window", hv_int(r->window));
        hv_set(x, "category", hv_str(h->cfg->categories[r->cat].id));
        hv_set(x, "at", hv_int(r->at));
        hv_set(x, "recall", hv_bool(r->recall));
        hv_push(recent, x);
    }
    hv_set(m, "recent", recent);
    hv *faults = hv_arr();
    for (int i = 0; i < h->nfaults; i++) {
        const hk_fault *f = &h->faults[i];
        hv *x = hv_map();
        hv_set(x, "kind", hv_str(f->kind));
        hv_set(x, "grade", hv_int(f->grade));
        hv_set(x, "since", hv_int(f->since));
        hv_set(x, "detail", hv_str(f->detail));
        hv_push(faults, x);
    }
    hv_set(m, "faults", faults);
    return m;
}

/* Windows, categories and tickets the configuration no longer has are left out, as replaying
 * their events would skip them. */
int hall_core_restore(hk_hall *h, const hv *m, const int *remap, size_t nremap)
{
    int64_t day;
    const hv *wins = cp_arr(m, "windows"), *recent = cp_arr(m, "recent"), *faults = cp_arr(m, "faults");
    if (cp_int(m, "open_day", &day) < 0 || !wins || !recent || !faults) return -1;
    h->open_day = (int32_t)day;
    for (size_t i = 0; i < wins->u.a.n; i++) {
        const hv *x = wins->u.a.v[i];
        int64_t id, cur;
        const char *staff = cp_str(x, "staff"), *reason = cp_str(x, "reason");
        int status = window_status_parse(cp_str(x, "status"));
        if (cp_int(x, "id", &id) < 0 || cp_int(x, "current", &cur) < 0 || status < 0 || !staff || !reason ||
            cur < -1 || cur >= (int64_t)nremap)
            return -1;
        hk_win *w = hall_window(h, id);
        if (!w) continue;
        w->status = status;
        snprintf(w->staff, sizeof w->staff, "%s", staff);
        snprintf(w->reason, sizeof w->reason, "%s", reason);
        w->current = cur >= 0 ? remap[cur] : -1;
    }
    h->nrecent = 0;
    for (size_t i = 0; i < recent->u.a.n && h->nrecent < HK_RECENT_CALLS; i++) {
        const hv *x = recent->u.a.v[i];
        int64_t window, at;
        bool recall;
        const char *code = cp_str(x, "code");
        if (!code || cp_int(x, "window", &window) < 0 || cp_int(x, "at", &at) < 0 || cp_bool(x, "recall", &recall) < 0 ||
            !cp_str(x, "category"))
            return -1;
        int cat = queue_cat_index(&h->q, cp_str(x, "category"));
        if (cat < 0) continue;
        hk_recent *r = &h->recent[h->nrecent++];
        snprintf(r->code, sizeof r->code, "%s", code);
        r->window = (int)window;
        r->cat = cat;
        r->at = at;
        r->recall = recall;
    }
    h->nfaults = 0;
    for (size_t i = 0; i < faults->u.a.n && h->nfaults < HK_MAX_FAULTS; i++) {
        const hv *x = faults->u.a.v[i];
        int64_t grade, since;
        const char *kind = cp_str(x, "kind"), *detail = cp_str(x, "detail");
        if (!kind || !detail || cp_int(x, "grade", &grade) < 0 || cp_int(x, "since", &since) < 0) return -1;
        hk_fault *f = &h->faults[h->nfaults++];
        snprintf(f->kind, sizeof f->kind, "%s", kind);
        f->grade = (int)grade;
        f->since = since;
        snprintf(f->detail, sizeof f->detail, "%s", detail);
    }
    return 0;
}
