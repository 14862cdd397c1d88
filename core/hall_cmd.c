/* hall_cmd.c: the hall.v1 commands. One table holds every command, the hall's and the host's,
 * with the roles that may run it; this is the only place a command is routed and its role
 * checked. Hall handlers validate, then emit events (which change the state through hall_apply),
 * then build the reply from the new state; host rows run what the host registered. */
#include "hall_int.h"
#include "text.h"
#include "idcard.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef void (*cmd_fn)(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);

/* ---- replies ---------------------------------------------------------------------------- */

static hv *reply_new(const hv *id, const char *t)
{
    hv *r = hv_map();
    hv_set(r, "t", hv_str(t));
    hv_set(r, "id", id ? hv_dup(id) : hv_nil());
    return r;
}

hv *hall_err_reply(const hv *id, int code, const char *msg)
{
    hv *r = reply_new(id, "err");
    hv_set(r, "code", hv_str(hk_err_word(code)));
    hv_set(r, "msg", hv_str(msg));
    return r;
}

void hall_reply_err(hk_out *out, const hv *req, int code, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hv_free(out->reply);
    out->reply = hall_err_reply(hv_get(req, "id"), code, msg);
}

hv *hall_reply_ok(hk_out *out, const hv *req)
{
    hv_free(out->reply);
    out->reply = reply_new(hv_get(req, "id"), "ok");
    return out->reply;
}

/* ---- shared pieces ------------------------------------------------------------------------ */

/* queue.changed is a snapshot: many changes in a moment make one event, at the next tick
 * (hall_tick), instead of one per ticket to every screen. */
static void queues_changed(hk_hall *h) { h->queues_dirty = true; }

static void emit_window(hk_hall *h, hk_out *out, hk_time now, const hk_win *w, int status,
                        const char *staff, const char *reason)
{
    /* the event carries the window as it will be, so replay needs nothing else */
    hv *view = hall_view_window(h, w);
    hv_set(view, "status", hv_str(hall_window_status_name(status)));
    hv_set(view, "staff", staff && *staff ? hv_str(staff) : hv_nil());
    const hk_staff_cfg *st = staff && *staff ? hk_config_staff(h->cfg, staff) : NULL;
    hv_set(view, "staff_name", st && st->name ? hv_str(st->name) : hv_nil());
    hv_set(view, "staff_title", st && st->title ? hv_str(st->title) : hv_nil());
    hv_set(view, "pause_reason", reason && *reason ? hv_str(reason) : hv_nil());
    hv *ev = hall_event("window.changed");
    hv_set(ev, "window", view);
    hall_emit(h, out, ev, now.ms);
}

/* The window this staff connection acts for, or an err reply. */
static hk_win *session_window(hk_hall *h, hk_session *s, const hv *req, hk_out *out)
{
    hk_win *w = s->window ? hall_window(h, s->window) : NULL;
    if (!w) {
        hall_reply_err(out, req, HK_ERR_CONFLICT, "no window is open on this connection: send window.open first");
        return NULL;
    }
    if (w->status == HK_WIN_CLOSED || strcmp(w->staff, s->staff) != 0) {
        s->window = 0;
        hall_reply_err(out, req, HK_ERR_CONFLICT, "window %d is no longer open for staff %s", w->cfg->id, s->staff);
        return NULL;
    }
    return w;
}

static hk_ticket *window_ticket(hk_hall *h, hk_win *w, const hv *req, hk_out *out)
{
    if (w->current < 0) {
        hall_reply_err(out, req, HK_ERR_CONFLICT, "no ticket at window %d: call one first", w->cfg->id);
        return NULL;
    }
    return &h->q.tickets[w->current];
}

static void reply_ticket(hk_hall *h, hk_out *out, const hv *req, const hk_ticket *t)
{
    hv_set(hall_reply_ok(out, req), "ticket", hall_view_ticket(h, t));
}

static void reply_window(hk_hall *h, hk_out *out, const hv *req, const hk_win *w)
{
    hv_set(hall_reply_ok(out, req), "window", hall_view_window(h, w));
}

static hv *ticket_event(const hk_hall *h, const char *name, const hk_ticket *t, const hk_win *w)
{
    hv *ev = hall_event(name);
    hv_set(ev, "code", hv_str(t->code));
    hv_set(ev, "window", hv_int(w->cfg->id));
    hv_set(ev, "category", hv_str(h->cfg->categories[t->cat].id));
    return ev;
}

/* ---- commands ------------------------------------------------------------------------------ */

static void cmd_state_get(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    hv_set(hall_reply_ok(out, req), "state", hall_state(h, s->role, now));
}

/* id_number (docs/queue.md, ID-card priority): a kiosk's card reader gives the visitor's resident
 * ID number; its birth date decides an elderly priority ticket. The number is only read here: it
 * is in no reply, event, log or message (the request itself is not stored). 0, or -1 replied. */
static int ticket_id_number(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out, bool *elderly)
{
    const char *id = hv_get_str(req, "id_number");
    if (s->role != HK_ROLE_KIOSK) {
        hall_reply_err(out, req, HK_ERR_FORBIDDEN, "id_number is read by a kiosk's card reader (role kiosk only)");
        return -1;
    }
    if (hv_has(req, "priority") || hv_has(req, "priority_reason") || hv_has(req, "appointment")) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "id_number decides the priority itself: send it without priority, "
                       "priority_reason or appointment");
        return -1;
    }
    if (!id) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "id_number must be a string of 18 characters");
        return -1;
    }
    int32_t birth;
    int rc = idcard_check(id, now.day, &birth);
    if (rc < 0) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "%s", idcard_error(rc));
        return -1;
    }
    int age = h->cfg->queue.set ? h->cfg->queue.elderly_age : HK_DEFAULT_ELDERLY_AGE;
    *elderly = idcard_age(birth, now.day) >= age;
    return 0;
}

static void cmd_ticket_issue(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    const char *catid = hv_get_str(req, "category");
    const char *prio = hv_get_str(req, "priority");
    const hv *appt = hv_get(req, "appointment");
    int appt_cat = -1;
    if (appt && appt->t == HV_STR) {   /* a check-in: category and priority come from the booking */
        char awhy[256];
        int acode = hall_appointment_check(h, s, appt->u.s.p, hv_get_str(req, "check"), catid, now, &appt_cat,
                                           awhy, sizeof awhy);
        if (acode) { hall_reply_err(out, req, acode, "%s", awhy); return; }
        catid = h->cfg->categories[appt_cat].id;
    }
    if (!catid) { hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "category (a string) is required"); return; }
    int cat = queue_cat_index(&h->q, catid);
    if (cat < 0) { hall_reply_err(out, req, HK_ERR_NOT_FOUND, "no category '%s'", catid); return; }
    if (hv_has(req, "priority") &&
        (!prio || (strcmp(prio, "normal") != 0 && strcmp(prio, "priority") != 0))) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "priority must be \"normal\" or \"priority\"");
        return;
    }
    /* why a visitor is served first: a class of visitor for the report, never a name */
    static const char *const reasons[] = {"elderly", "disabled", "pregnant", "other"};
    const char *reason = hv_get_str(req, "priority_reason");
    bool asks_priority = prio && !strcmp(prio, "priority");
    if (hv_has(req, "priority_reason")) {
        size_t r = 0;
        while (reason && r < sizeof reasons / sizeof *reasons && strcmp(reason, reasons[r]) != 0) r++;
        if (!reason || r == sizeof reasons / sizeof *reasons) {
            hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "priority_reason must be \"elderly\", \"disabled\", \"pregnant\" or \"other\"");
            return;
        }
        if (!asks_priority) {
            hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "priority_reason is only for priority \"priority\"");
            return;
        }
    }
    bool elderly = false;
    if (hv_has(req, "id_number") && ticket_id_number(h, s, req, now, out, &elderly) < 0) return;
    if (elderly) reason = "elderly";
    /* queue.priority_roles (a config built by hand, queue.set false, takes the default) */
    int proles = h->cfg->queue.set ? h->cfg->queue.priority_roles : HK_DEFAULT_PRIORITY_ROLES;
    if (asks_priority && !(appt && appt->t == HV_STR) && !(proles & s->role)) {   /* a booking is priority anyway */
        char who[32] = "";
        static const int issuers[] = {HK_ROLE_KIOSK, HK_ROLE_STAFF, HK_ROLE_ADMIN};
        for (size_t i = 0; i < sizeof issuers / sizeof *issuers; i++)
            if (proles & issuers[i])
                snprintf(who + strlen(who), sizeof who - strlen(who), "%s%s", who[0] ? ", " : "", hk_role_name(issuers[i]));
        hall_reply_err(out, req, HK_ERR_FORBIDDEN, "role %s may not issue priority tickets: queue.priority_roles allows %s "
                       "(a guide at the entrance issues them with a staff token)", hk_role_name(s->role),
                       who[0] ? who : "no role (appointments only)");
        return;
    }
    if (appt && appt->t != HV_STR && appt->t != HV_NIL) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "appointment must be a string");
        return;
    }
    const hv *qr = hv_get(req, "qr");   /* read by the host (io/daemon/printing.c) */
    if (qr && qr->t != HV_BOOL) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "qr must be true or false (true: the reply carries the phone link's QR code)");
        return;
    }
    char why[160];
    int blocked = hall_queue_blocked(h, true, appt && appt->t == HV_STR, why, sizeof why);
    if (blocked) { hall_reply_err(out, req, blocked, "%s", why); return; }
    if (!hall_is_open(h, now)) {
        char next[64];
        hall_next_open(h, now, next, sizeof next);
        hall_reply_err(out, req, HK_ERR_CLOSED, "the hall is closed; tickets are issued again %s", next);
        return;
    }
    (void)s;
    hall_roll_day(h, out, now);   /* the first ticket of a new day closes the last one first */
    bool priority = appt_cat >= 0 || elderly || (prio && !strcmp(prio, "priority"));
    char code[16];
    int32_t day = posts_business_day(h->cfg, now);   /* work.rollover: codes restart with the business day */
    int cap = h->cfg->categories[cat].daily_cap;     /* a booking was promised: never capped */
    if (cap > 0 && appt_cat < 0 && queue_numbers_used(&h->q, cat, day) >= cap) {
        hall_reply_err(out, req, HK_ERR_UNAVAILABLE, "all %d tickets of today for %s (%s) are issued (categories[].daily_cap): "
                       "come again on the next working day", cap, catid, h->cfg->categories[cat].name);
        return;
    }
    queue_next_code(&h->q, cat, day, code, sizeof code);
    int ahead = queue_ahead(&h->q, cat, priority);
    int64_t est = hall_est_wait_s(h, cat, ahead);
    hv *ev = hall_event("ticket.issued");
    hv_set(ev, "code", hv_str(code));
    hv_set(ev, "category", hv_str(catid));
    hv_set(ev, "priority", hv_str(priority ? "priority" : "normal"));
    hv_set(ev, "issued_at", hv_int(now.ms));
    hv_set(ev, "ahead", hv_int(ahead));
    hv_set(ev, "est_wait_s", hv_int(est));
    hv_set(ev, "day", hv_int(day));
    hv_set(ev, "by", hv_str(hk_role_name(s->role)));   /* the ticket printer prints the kiosk's tickets */
    /* public: only that it was booked; the booking number, which the booking system can tie to
     * a person, is in the staff-only appointment.checked_in that follows */
    if (appt && appt->t == HV_STR) hv_set(ev, "appointment", hv_bool(true));
    if (reason) hv_set(ev, "priority_reason", hv_str(reason));
    hall_emit(h, out, ev, now.ms);
    if (appt_cat >= 0) hall_appointment_checked_in(h, out, appt->u.s.p, code, now);
    queues_changed(h);
    hk_ticket *t = queue_find(&h->q, code);
    hv *tv = hall_view_ticket_ahead(h, t, ahead);
    hv_set(tv, "est_wait_s", hv_int(est));
    if (reason) hv_set(tv, "priority_reason", hv_str(reason));
    hv_set(hall_reply_ok(out, req), "ticket", tv);
}

static void cmd_window_open(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    int64_t id;
    if (hv_get_int(req, "window", &id) < 0) { hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "window (a number) is required"); return; }
    hk_win *w = hall_window(h, id);
    if (!w) { hall_reply_err(out, req, HK_ERR_NOT_FOUND, "no window %lld", (long long)id); return; }
    if (posts_may_serve(h, s, w->cfg->id, req, out) < 0) return;   /* as staff.checkin: a post holder only */
    if (w->status != HK_WIN_CLOSED && strcmp(w->staff, s->staff) != 0) {
        hall_reply_err(out, req, HK_ERR_CONFLICT, "window %d is open for staff %s", w->cfg->id, w->staff);
        return;
    }
    if (w->status == HK_WIN_CLOSED) {
        emit_window(h, out, now, w, HK_WIN_OPEN, s->staff, NULL);
        queues_changed(h);
    }
    s->window = w->cfg->id;   /* re-opening one's own window (a reconnecting tablet) is fine */
    reply_window(h, out, req, w);
}

static void cmd_window_close(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    hk_win *w = session_window(h, s, req, out);
    if (!w) return;
    if (w->current >= 0) {
        hall_reply_err(out, req, HK_ERR_CONFLICT, "ticket %s is still at window %d: finish, transfer or mark it no-show first",
            h->q.tickets[w->current].code, w->cfg->id);
        return;
    }
    emit_window(h, out, now, w, HK_WIN_CLOSED, NULL, NULL);
    queues_changed(h);
    s->window = 0;
    reply_window(h, out, req, w);
}

static void cmd_window_pause(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    hk_win *w = session_window(h, s, req, out);
    if (!w) return;
    const hv *reason = hv_get(req, "reason");
    if (reason && reason->t != HV_STR && reason->t != HV_NIL) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "reason must be a string");
        return;
    }
    if (w->status == HK_WIN_PAUSED) { hall_reply_err(out, req, HK_ERR_CONFLICT, "window %d is already paused", w->cfg->id); return; }
    emit_window(h, out, now, w, HK_WIN_PAUSED, s->staff, reason && reason->t == HV_STR ? reason->u.s.p : "");
    reply_window(h, out, req, w);
}

static void cmd_window_resume(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    hk_win *w = session_window(h, s, req, out);
    if (!w) return;
    if (w->status != HK_WIN_PAUSED) { hall_reply_err(out, req, HK_ERR_CONFLICT, "window %d is not paused", w->cfg->id); return; }
    emit_window(h, out, now, w, HK_WIN_OPEN, s->staff, NULL);
    reply_window(h, out, req, w);
}

static void emit_called(hk_hall *h, hk_out *out, hk_time now, const hk_ticket *t, const hk_win *w, bool recall)
{
    hv *ev = ticket_event(h, "ticket.called", t, w);
    hv_set(ev, "window_name", hv_str(w->cfg->name));
    hv_set(ev, "recall", hv_bool(recall));
    hall_emit(h, out, ev, now.ms);
}

static void cmd_call_next(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    hk_win *w = session_window(h, s, req, out);
    if (!w) return;
    if (w->status == HK_WIN_PAUSED) { hall_reply_err(out, req, HK_ERR_CONFLICT, "window %d is paused: resume it first", w->cfg->id); return; }
    char why[160];
    int blocked = hall_queue_blocked(h, false, false, why, sizeof why);
    if (blocked) { hall_reply_err(out, req, blocked, "%s", why); return; }
    if (w->current >= 0) {
        hall_reply_err(out, req, HK_ERR_CONFLICT, "ticket %s is still at window %d: finish, transfer or mark it no-show first",
            h->q.tickets[w->current].code, w->cfg->id);
        return;
    }
    int idx = queue_pick(&h->q, w->cfg, now.ms);
    if (idx < 0) { hall_reply_err(out, req, HK_ERR_QUEUE_EMPTY, "no one is waiting for window %d", w->cfg->id); return; }
    emit_called(h, out, now, &h->q.tickets[idx], w, false);
    emit_window(h, out, now, w, w->status, w->staff, w->reason);
    queues_changed(h);
    reply_ticket(h, out, req, &h->q.tickets[idx]);
}

static void cmd_call_recall(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    hk_win *w = session_window(h, s, req, out);
    hk_ticket *t = w ? window_ticket(h, w, req, out) : NULL;
    if (!t) return;
    if (t->state != TK_CALLED) { hall_reply_err(out, req, HK_ERR_CONFLICT, "ticket %s is already being served", t->code); return; }
    emit_called(h, out, now, t, w, true);
    reply_ticket(h, out, req, t);
}

static void cmd_ticket_start(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    hk_win *w = session_window(h, s, req, out);
    hk_ticket *t = w ? window_ticket(h, w, req, out) : NULL;
    if (!t) return;
    if (t->state != TK_CALLED) { hall_reply_err(out, req, HK_ERR_CONFLICT, "ticket %s is already being served", t->code); return; }
    hall_emit(h, out, ticket_event(h, "ticket.started", t, w), now.ms);
    emit_window(h, out, now, w, w->status, w->staff, w->reason);
    reply_ticket(h, out, req, t);
}

static void cmd_ticket_noshow(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    hk_win *w = session_window(h, s, req, out);
    hk_ticket *t = w ? window_ticket(h, w, req, out) : NULL;
    if (!t) return;
    if (t->state != TK_CALLED) { hall_reply_err(out, req, HK_ERR_CONFLICT, "ticket %s is being served: finish it instead", t->code); return; }
    hall_emit(h, out, ticket_event(h, "ticket.noshow", t, w), now.ms);
    emit_window(h, out, now, w, w->status, w->staff, w->reason);
    reply_ticket(h, out, req, t);
}

static const char *const outcomes[] = {"即办件", "承诺件", "联办件", "上报件", "补正", "不予受理", "受理"};

/* 四件管理: a 承诺件, and a 联办件 or 上报件 naming its matter, opens a supervised case (cases.c);
 * every finish invites a rating of the service (ratings.c). The outcome's own arguments are
 * optional (docs/cases.md). */
static void cmd_ticket_finish(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    const char *outcome = hv_get_str(req, "outcome");
    bool known = false;
    for (size_t i = 0; outcome && i < sizeof outcomes / sizeof *outcomes; i++)
        if (!strcmp(outcome, outcomes[i])) known = true;
    if (!known) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "outcome must be one of 即办件 承诺件 联办件 上报件 补正 不予受理 受理");
        return;
    }
    char why[200];
    int bad = cases_check_finish(h, outcome, req, why, sizeof why);
    if (bad) { hall_reply_err(out, req, bad, "%s", why); return; }
    hk_win *w = session_window(h, s, req, out);
    hk_ticket *t = w ? window_ticket(h, w, req, out) : NULL;
    if (!t) return;
    bool opens = cases_outcome_opens(outcome, req);
    hv *ev = ticket_event(h, "ticket.finished", t, w);
    hv_set(ev, "outcome", hv_str(outcome));
    const char *matter = hv_get_str(req, "matter");
    if (matter) hv_set(ev, "matter", hv_str(matter));
    if (opens) hv_set(ev, "case", hv_int(cases_next_id(h)));
    const hv *missing = hv_get(req, "missing");
    if (missing) hv_set(ev, "missing", hv_dup(missing));   /* 补正: the one-time notice */
    hall_emit(h, out, ev, now.ms);
    if (opens) cases_open(h, out, now, t, w, outcome, req);
    ratings_invite(h, out, now, t, w);
    emit_window(h, out, now, w, w->status, w->staff, w->reason);
    reply_ticket(h, out, req, t);
    if (opens) hv_set(out->reply, "case", hv_int(cases_next_id(h) - 1));
}

static void cmd_ticket_transfer(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    const char *catid = hv_get_str(req, "category");
    int64_t target = 0;
    bool has_win = hv_has(req, "window");
    if (has_win && hv_get_int(req, "window", &target) < 0) { hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "window must be a number"); return; }
    if (!catid && !has_win) { hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "transfer needs a category or a window"); return; }
    if (hv_has(req, "category") && !catid) { hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "category must be a string"); return; }
    hk_win *tw = NULL;
    if (has_win && !(tw = hall_window(h, target))) { hall_reply_err(out, req, HK_ERR_NOT_FOUND, "no window %lld", (long long)target); return; }
    int cat = catid ? queue_cat_index(&h->q, catid) : -1;
    if (catid && cat < 0) { hall_reply_err(out, req, HK_ERR_NOT_FOUND, "no category '%s'", catid); return; }
    hk_win *w = session_window(h, s, req, out);
    hk_ticket *t = w ? window_ticket(h, w, req, out) : NULL;
    if (!t) return;
    if (tw == w) { hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "the ticket is already at window %d", w->cfg->id); return; }
    if (cat < 0) cat = t->cat;
    hv *ev = hall_event("ticket.transferred");
    hv_set(ev, "code", hv_str(t->code));
    hv_set(ev, "from_window", hv_int(w->cfg->id));
    hv_set(ev, "category", hv_str(h->cfg->categories[cat].id));
    hv_set(ev, "window", tw ? hv_int(tw->cfg->id) : hv_nil());
    hall_emit(h, out, ev, now.ms);
    emit_window(h, out, now, w, w->status, w->staff, w->reason);
    queues_changed(h);
    reply_ticket(h, out, req, t);
}

/* 好差评: five levels; 1 and 2 need a reason from the configured list and open a follow-up. The
 * public ticket.rated carries no free text; rating.recorded (staff/admin) has the whole record. */
static void cmd_ticket_rate(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    const char *code = hv_get_str(req, "code");
    int64_t score;
    (void)s;
    if (!code) { hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "code (a string) is required"); return; }
    if (hv_get_int(req, "score", &score) < 0 || score < 1 || score > 5) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "score must be a whole number from 1 (非常不满意) to 5 (非常满意)");
        return;
    }
    char why[400];
    int bad = ratings_check(h, (int)score, req, why, sizeof why);
    if (bad) { hall_reply_err(out, req, bad, "%s", why); return; }
    hk_ticket *t = queue_find(&h->q, code);
    if (!t) { hall_reply_err(out, req, HK_ERR_NOT_FOUND, "no ticket %s", code); return; }
    if (t->state != TK_DONE) { hall_reply_err(out, req, HK_ERR_CONFLICT, "ticket %s is not finished yet", code); return; }
    if (t->score) { hall_reply_err(out, req, HK_ERR_CONFLICT, "ticket %s is already rated", code); return; }
    hv *ev = hall_event("ticket.rated");
    hv_set(ev, "code", hv_str(t->code));
    hv_set(ev, "score", hv_int(score));
    hv_set(ev, "level", hv_str(ratings_level_name((int)score)));
    hv_set(ev, "category", hv_str(h->cfg->categories[t->cat].id));
    hv_set(ev, "window", t->window ? hv_int(t->window) : hv_nil());
    hall_emit(h, out, ev, now.ms);
    int followup = ratings_record(h, out, now, t, (int)score, req);
    reply_ticket(h, out, req, t);
    if (followup) hv_set(out->reply, "followup", hv_int(followup));
}

/* ---- hello and dispatch -------------------------------------------------------------------- */

/* Compares the whole of both, byte for byte, without an early exit: the time taken does not
 * reveal how much of a token matched, and a NUL inside the presented one is just a byte. */
static bool token_equal(void *arg, const char *stored, const uint8_t *p, size_t n)
{
    (void)arg;
    size_t ls = strlen(stored);
    unsigned char diff = (unsigned char)(ls != n);
    for (size_t i = 0; i < n; i++) diff |= (unsigned char)((uint8_t)stored[i % (ls ? ls : 1)] ^ p[i]);
    return ls && diff == 0;
}

static void cmd_hello(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    const hv *tv = hv_get(req, "token");
    /* a token is its whole msgpack string: one with a NUL inside names no configured token and
     * no ticket (both are C strings), so it is refused here, before anything compares it */
    const char *token = tv && tv->t == HV_STR && strlen(tv->u.s.p) == tv->u.s.n ? tv->u.s.p : NULL;
    const hv *events = hv_get(req, "events");   /* the subscription: the transport applies it */
    bool events_ok = !events || events->t == HV_BOOL;
    if (events && events->t == HV_ARR) {
        events_ok = events->u.a.n <= 16;
        for (size_t i = 0; events_ok && i < events->u.a.n; i++)
            events_ok = events->u.a.v[i]->t == HV_STR && events->u.a.v[i]->u.s.n <= 64;
    }
    if (!events_ok) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "events must be true, false or a list of at most 16 event names");
        return;
    }
    const hk_token_cfg *found = NULL;
    hk_token_verifier verify = h->verify_token ? h->verify_token : token_equal;
    /* every token is tried, so the time taken does not say which one matched */
    for (size_t i = 0; token && i < h->cfg->ntokens; i++)
        if (verify(h->verify_token_arg, h->cfg->tokens[i].token, (const uint8_t *)token, tv->u.s.n) && !found)
            found = &h->cfg->tokens[i];
    if (!found && hall_hello_visitor(h, s, req, token, now, out)) return;   /* a phone's ticket link (hall_mobile.c) */
    if (!found) {
        hall_reply_err(out, req, HK_ERR_UNAUTHENTICATED, token || (tv && tv->t == HV_STR) ? "unknown token" : "token (a string) is required");
        out->close_after = true;
        return;
    }
    s->role = found->role;
    s->window = 0;
    s->token = (int)(found - h->cfg->tokens) + 1;
    snprintf(s->staff, sizeof s->staff, "%s", found->staff ? found->staff : "");
    out->auth_role = found->role;
    hv *r = hall_reply_ok(out, req);
    hv_set(r, "role", hv_str(hk_role_name(found->role)));
    hv *hall = hv_map();
    hv_set(hall, "id", hv_str(h->cfg->hall_id));
    hv_set(hall, "name", hv_str(h->cfg->hall_name));
    hv_set(r, "hall", hall);
    if (found->staff) hv_set(r, "staff", hv_str(found->staff));
    hv_set(r, "seq", hv_int((int64_t)h->seq));
    hv_set(r, "state", hall_state(h, s->role, now));
}

#define STAFF HK_ROLE_STAFF
static const struct {
    const char *name;
    int roles;
    cmd_fn fn;   /* NULL: a host row, run by the handler the host registers (hall_cmd_register) */
} commands[] = {
    {"state.get", HK_ROLE_ANY, cmd_state_get},
    {"ticket.issue", HK_ROLE_KIOSK | HK_ROLE_STAFF | HK_ROLE_ADMIN, cmd_ticket_issue},
    {"window.open", STAFF, cmd_window_open},
    {"window.close", STAFF, cmd_window_close},
    {"window.pause", STAFF, cmd_window_pause},
    {"window.resume", STAFF, cmd_window_resume},
    {"call.next", STAFF, cmd_call_next},
    {"call.recall", STAFF, cmd_call_recall},
    {"ticket.start", STAFF, cmd_ticket_start},
    {"ticket.noshow", STAFF, cmd_ticket_noshow},
    {"ticket.finish", STAFF, cmd_ticket_finish},
    {"ticket.transfer", STAFF, cmd_ticket_transfer},
    {"ticket.rate", HK_ROLE_STAFF | HK_ROLE_KIOSK, cmd_ticket_rate},
    {"emergency.trigger", HK_ROLE_SECURITY | HK_ROLE_ADMIN, hall_cmd_emergency_trigger},
    {"emergency.ack", HK_ROLE_SECURITY | HK_ROLE_ADMIN, hall_cmd_emergency_ack},
    {"emergency.clear", HK_ROLE_SECURITY | HK_ROLE_ADMIN, hall_cmd_emergency_clear},
    {"emergency.report", HK_ROLE_STAFF | HK_ROLE_SECURITY | HK_ROLE_ADMIN, hall_cmd_emergency_report},
    {"emergency.confirm", HK_ROLE_SECURITY | HK_ROLE_ADMIN, hall_cmd_emergency_confirm},
    {"emergency.playbooks", HK_ROLE_STAFF | HK_ROLE_SECURITY | HK_ROLE_ADMIN, hall_cmd_emergency_playbooks},
    /* host rows: the GPIO lines (io/daemon/lines.c) */
    {"gpio.list", HK_ROLE_SECURITY | HK_ROLE_ADMIN, NULL},
    {"gpio.sim.set", HK_ROLE_ADMIN, NULL},
    /* the incident log in the data directory (io/daemon/incidents.c) */
    {"incidents.list", HK_ROLE_SECURITY | HK_ROLE_ADMIN, NULL},
    /* the daemon's own state (io/daemon/host_cmds.c) */
    {"stats.get", HK_ROLE_ADMIN, NULL},
    {"health", HK_ROLE_ANY, NULL},
    {"clock.advance", HK_ROLE_ADMIN, NULL},   /* only with hallkeeper --test-clock */
    {"announce", HK_ROLE_SECURITY | HK_ROLE_ADMIN, NULL},   /* the speakers (io/daemon/speakers.c) */
    {"staff.checkin", STAFF, posts_cmd_checkin},
    {"staff.checkout", STAFF, posts_cmd_checkout},
    {"alerts.list", HK_ROLE_STAFF | HK_ROLE_SECURITY | HK_ROLE_ADMIN, posts_cmd_alerts_list},
    {"alert.ack", HK_ROLE_STAFF | HK_ROLE_ADMIN, posts_cmd_alert_ack},
    {"duty.get", HK_ROLE_ANY, posts_cmd_duty_get},
    {"appointment.add", HK_ROLE_ADMIN, hall_cmd_appointment_add},
    {"appointment.import", HK_ROLE_ADMIN, hall_cmd_appointment_import},
    {"appointment.cancel", HK_ROLE_ADMIN, hall_cmd_appointment_cancel},
    {"appointments.list", HK_ROLE_STAFF | HK_ROLE_ADMIN, hall_cmd_appointments_list},
    {"matters.list", HK_ROLE_ANY, hall_cmd_matters_list},
    {"case.close", HK_ROLE_STAFF | HK_ROLE_ADMIN, hall_cmd_case_close},
    {"cases.list", HK_ROLE_STAFF | HK_ROLE_ADMIN, hall_cmd_cases_list},
    {"cases.stats", HK_ROLE_ADMIN, hall_cmd_cases_stats},
    {"cases.board", HK_ROLE_ANY, hall_cmd_cases_board},   /* public: codes, matters, deadlines only */
    {"ratings.stats", HK_ROLE_ADMIN, hall_cmd_ratings_stats},
    {"ratings.reasons", HK_ROLE_ANY, hall_cmd_ratings_reasons},   /* the rating device's list */
    {"followups.list", HK_ROLE_STAFF | HK_ROLE_ADMIN, hall_cmd_followups_list},
    {"followup.close", HK_ROLE_ADMIN, hall_cmd_followup_close},
    {"ticket.get", HK_ROLE_VISITOR | HK_ROLE_STAFF | HK_ROLE_ADMIN, hall_cmd_ticket_get},   /* own ticket only for visitors */
    /* host rows: the daily report, read from the events journal or Redis (io/daemon/report_host.c) */
    {"report.day", HK_ROLE_ADMIN, NULL},
    {"report.events", HK_ROLE_ADMIN, NULL},   /* a day's events page by page (hallctl archive) */
};

#define NCOMMANDS (sizeof commands / sizeof *commands)
_Static_assert(NCOMMANDS <= HK_CMD_ROWS, "HK_CMD_ROWS (hall_int.h) is too small for the command table");

int hall_cmd_register(hk_hall *h, const char *name, hk_host_cmd fn, void *arg)
{
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(name, commands[i].name) != 0) continue;
        if (commands[i].fn) return -1;   /* a hall command: the host cannot take it over */
        h->host[i] = (hk_host_slot){fn, arg};
        return 0;
    }
    return -1;
}

const char *hall_cmd_row(size_t i, int *roles, bool *host)
{
    if (i >= NCOMMANDS) return NULL;
    if (roles) *roles = commands[i].roles;
    if (host) *host = !commands[i].fn;
    return commands[i].name;
}

void hall_cmd(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    const char *t = hv_get_str(req, "t");
    const hv *id = hv_get(req, "id");
    out->req = req;
    if (!t) { hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "t (the command name, a string) is required"); return; }
    if (!id || id->t != HV_INT || id->u.i < 0) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "id (a non-negative integer) is required");
        return;
    }
    if (!strcmp(t, "hello")) { cmd_hello(h, s, req, now, out); return; }
    if (!s->role) { hall_reply_err(out, req, HK_ERR_UNAUTHENTICATED, "send hello with a token first"); return; }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(t, commands[i].name) != 0) continue;
        if (!(commands[i].roles & s->role)) {
            hall_reply_err(out, req, HK_ERR_FORBIDDEN, "role %s may not use %s", hk_role_name(s->role), t);
            return;
        }
        char why[200];   /* every free-text argument, by one check (core/text.c) */
        if (text_check_request(t, req, why, sizeof why) < 0) { hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "%s", why); return; }
        if (commands[i].fn) commands[i].fn(h, s, req, now, out);
        else if (h->host[i].fn) h->host[i].fn(h->host[i].arg, s, req, now, out);
        else hall_reply_err(out, req, HK_ERR_UNAVAILABLE, "%s is not available in this build", t);
        return;
    }
    hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "unknown command '%.64s'", t);
}
