/* hall_view.c: what clients see of the hall: snapshots, window and ticket views, estimated
 * waits, opening hours. Read-only over the state. */
#include "hall_int.h"

#include <stdio.h>
#include <string.h>

static int open_windows_for(const hk_hall *h, int cat)
{
    int n = 0;
    const char *id = h->cfg->categories[cat].id;
    for (size_t i = 0; i < h->nwins; i++) {
        if (h->wins[i].status == HK_WIN_CLOSED) continue;
        const hk_window_cfg *w = h->wins[i].cfg;
        for (size_t c = 0; c < w->ncategories; c++)
            if (!strcmp(w->categories[c], id)) { n++; break; }
    }
    return n;
}

/* ahead tickets, served by the open windows of the category in parallel, each taking the
 * category's recent average service time. With no window open we still assume one. */
int64_t hall_est_wait_s(const hk_hall *h, int cat, int ahead)
{
    int n = open_windows_for(h, cat);
    if (n < 1) n = 1;
    int64_t avg = queue_avg_service_ms(&h->q, cat);
    return (int64_t)ahead * avg / n / 1000;
}

hv *hall_view_ticket(const hk_hall *h, const hk_ticket *t) { return hall_view_ticket_ahead(h, t, -1); }

/* ahead >= 0: the caller knows the position already (a new ticket): no scan of the line. */
hv *hall_view_ticket_ahead(const hk_hall *h, const hk_ticket *t, int ahead)
{
    hv *m = hv_map();
    hv_set(m, "code", hv_str(t->code));
    hv_set(m, "category", hv_str(h->cfg->categories[t->cat].id));
    hv_set(m, "priority", hv_str(t->priority ? "priority" : "normal"));
    hv_set(m, "issued_at", hv_int(t->issued_at));
    hv_set(m, "state", hv_str(queue_state_name(t->state)));
    hv_set(m, "window", t->window ? hv_int(t->window) : hv_nil());
    if (t->state == TK_WAITING) {
        /* position in its own line: count the tickets called before it */
        const hk_catq *c = &h->q.cats[t->cat];
        if (ahead >= 0) {
            /* known */
        } else if (t->target_window) {
            ahead = 0;
        } else {
            ahead = 0;
            const hk_line *pl = &c->priority;
            for (size_t i = 0; i < pl->n && pl->v[i] != (int)(t - h->q.tickets); i++) ahead++;
            if (!t->priority) {
                const hk_line *nl = &c->normal;
                for (size_t i = 0; i < nl->n && nl->v[i] != (int)(t - h->q.tickets); i++) ahead++;
            }
        }
        hv_set(m, "ahead", hv_int(ahead));
        hv_set(m, "est_wait_s", hv_int(hall_est_wait_s(h, t->cat, ahead)));
    } else {
        hv_set(m, "ahead", hv_int(0));
        hv_set(m, "est_wait_s", hv_int(0));
    }
    if (t->outcome[0]) hv_set(m, "outcome", hv_str(t->outcome));
    if (t->score) hv_set(m, "score", hv_int(t->score));
    return m;
}

hv *hall_view_window(const hk_hall *h, const hk_win *w)
{
    hv *m = hv_map();
    hv_set(m, "id", hv_int(w->cfg->id));
    hv_set(m, "name", hv_str(w->cfg->name));
    hv_set(m, "zone", hv_str(w->cfg->zone));
    hv *cats = hv_arr();
    for (size_t c = 0; c < w->cfg->ncategories; c++) hv_push(cats, hv_str(w->cfg->categories[c]));
    hv_set(m, "categories", cats);
    hv_set(m, "status", hv_str(hall_window_status_name(w->status)));
    const hk_staff_cfg *st = w->staff[0] ? hk_config_staff(h->cfg, w->staff) : NULL;
    hv_set(m, "staff", w->staff[0] ? hv_str(w->staff) : hv_nil());
    hv_set(m, "staff_name", st && st->name ? hv_str(st->name) : hv_nil());
    hv_set(m, "staff_title", st && st->title ? hv_str(st->title) : hv_nil());
    hv_set(m, "pause_reason", w->reason[0] ? hv_str(w->reason) : hv_nil());
    if (w->current >= 0) {
        const hk_ticket *t = &h->q.tickets[w->current];
        hv *cur = hv_map();
        hv_set(cur, "code", hv_str(t->code));
        hv_set(cur, "category", hv_str(h->cfg->categories[t->cat].id));
        hv_set(cur, "state", hv_str(queue_state_name(t->state)));
        hv_set(cur, "called_at", hv_int(t->called_at));
        hv_set(cur, "recalls", hv_int(t->recalls));
        hv_set(m, "current", cur);
    } else {
        hv_set(m, "current", hv_nil());
    }
    return m;
}

hv *hall_view_queues(const hk_hall *h)
{
    hv *m = hv_map();
    for (size_t c = 0; c < h->cfg->ncategories; c++) {
        int waiting = queue_waiting(&h->q, (int)c, false);
        hv *q = hv_map();
        hv_set(q, "name", hv_str(h->cfg->categories[c].name));
        hv_set(q, "waiting", hv_int(waiting));
        hv_set(q, "priority_waiting", hv_int(queue_waiting(&h->q, (int)c, true)));
        hv_set(q, "est_wait_s", hv_int(hall_est_wait_s(h, (int)c, waiting)));
        hv_set(m, h->cfg->categories[c].id, q);
    }
    return m;
}

bool hall_is_open(const hk_hall *h, hk_time now)
{
    if (!h->cfg->hours_set) return true;
    for (size_t i = 0; i < h->cfg->nhours; i++) {
        const hk_hours_cfg *hr = &h->cfg->hours[i];
        if (!(hr->days & (1 << now.wday))) continue;
        for (int s = 0; s < hr->nspans; s++)
            if (now.min >= hr->spans[s].open_min && now.min < hr->spans[s].close_min) return true;
    }
    return false;
}

void hall_next_open(const hk_hall *h, hk_time now, char *buf, size_t len)
{
    static const char *days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    for (int d = 0; d < 8; d++) {
        int wday = (now.wday + d) % 7;
        int best = -1;
        for (size_t i = 0; i < h->cfg->nhours; i++) {
            const hk_hours_cfg *hr = &h->cfg->hours[i];
            if (!(hr->days & (1 << wday))) continue;
            for (int s = 0; s < hr->nspans; s++) {
                int o = hr->spans[s].open_min;
                if (d == 0 && o <= now.min) continue;
                if (best < 0 || o < best) best = o;
            }
        }
        if (best >= 0) {
            snprintf(buf, len, "%s%s %02d:%02d", d == 0 ? "today " : (d == 1 ? "tomorrow " : ""),
                     days[wday], best / 60, best % 60);
            return;
        }
    }
    snprintf(buf, len, "no opening hours configured");
}

hv *hall_state(const hk_hall *h, int role, hk_time now)
{
    /* nothing below is personal data of a visitor: ticket codes only; silent incidents are
     * left out for display and kiosk roles */
    hv *s = hv_map();
    hv *hall = hv_map();
    hv_set(hall, "id", hv_str(h->cfg->hall_id));
    hv_set(hall, "name", hv_str(h->cfg->hall_name));
    hv_set(s, "hall", hall);
    hv_set(s, "open", hv_bool(hall_is_open(h, now)));
    hv *cats = hv_arr();
    for (size_t c = 0; c < h->cfg->ncategories; c++) {
        hv *cm = hv_map();
        hv_set(cm, "id", hv_str(h->cfg->categories[c].id));
        hv_set(cm, "name", hv_str(h->cfg->categories[c].name));
        hv_push(cats, cm);
    }
    hv_set(s, "categories", cats);
    hv *wins = hv_arr();
    for (size_t i = 0; i < h->nwins; i++) hv_push(wins, hall_view_window(h, &h->wins[i]));
    hv_set(s, "windows", wins);
    hv_set(s, "queues", hall_view_queues(h));
    hv *rc = hv_arr();
    for (int i = 0; i < h->nrecent; i++) {
        const hk_recent *r = &h->recent[i];
        const hk_win *w = hall_window((hk_hall *)h, r->window);
        hv *m = hv_map();
        hv_set(m, "code", hv_str(r->code));
        hv_set(m, "window", hv_int(r->window));
        hv_set(m, "window_name", hv_str(w ? w->cfg->name : ""));
        hv_set(m, "category", hv_str(h->cfg->categories[r->cat].id));
        hv_set(m, "at", hv_int(r->at));
        hv_set(m, "recall", hv_bool(r->recall));
        hv_push(rc, m);
    }
    hv_set(s, "recent_calls", rc);
    hv_set(s, "emergency", hall_view_emergency(h, role));
    if (role & (HK_ROLE_STAFF | HK_ROLE_SECURITY | HK_ROLE_ADMIN)) hv_set(s, "alerts", posts_view_alerts(h));
    hv_set(s, "appointments", hall_view_appointments(h, now));
    if (role & (HK_ROLE_STAFF | HK_ROLE_ADMIN)) {
        hv *cs = cases_summary(h);
        hv_set(cs, "followups_open", hv_int(ratings_open_followups(h)));
        hv_set(s, "supervision", cs);
    }
    hv *faults = hv_arr();
    for (int i = 0; i < h->nfaults; i++) {
        const hk_fault *f = &h->faults[i];
        hv *m = hv_map();
        hv_set(m, "kind", hv_str(f->kind));
        hv_set(m, "grade", hv_str(emergency_fault_grade_name(f->grade)));
        hv_set(m, "grade_zh", hv_str(emergency_fault_grade_zh(f->grade)));
        hv_set(m, "since", hv_int(f->since));
        hv_set(m, "detail", hv_str(f->detail));
        hv_push(faults, m);
    }
    hv_set(s, "faults", faults);
    return s;
}
