/* queue.c: see queue.h. The call policy is documented in docs/queue.md with a worked example. */
#include "queue.h"
#include "checkpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

#define HK_DEFAULT_SERVICE_MS (5 * 60 * 1000)
/* A category's head ticket gets this many seconds of "virtual wait" so that an empty-looking
 * wait of 0 s still ranks by the window's preference order. */
#define HK_WAIT_BIAS_S 60.0

static void line_insert(hk_line *l, const hk_queue *q, int idx)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = hk_realloc(l->v, l->cap * sizeof *l->v);
    }
    /* nearly always appended at the end; transfers may land in the middle */
    size_t pos = l->n;
    uint64_t ord = q->tickets[idx].order;
    while (pos > 0 && q->tickets[l->v[pos - 1]].order > ord) pos--;
    memmove(l->v + pos + 1, l->v + pos, (l->n - pos) * sizeof *l->v);
    l->v[pos] = idx;
    l->n++;
}

static void line_remove(hk_line *l, int idx)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i] == idx) {
            memmove(l->v + i, l->v + i + 1, (l->n - i - 1) * sizeof *l->v);
            l->n--;
            return;
        }
    }
}

void queue_init(hk_queue *q, const hk_config *cfg)
{
    memset(q, 0, sizeof *q);
    q->cfg = cfg;
    strmap_init(&q->by_code);
    q->cats = hk_calloc(cfg->ncategories ? cfg->ncategories : 1, sizeof *q->cats);
    for (size_t i = 0; i < cfg->ncategories; i++) q->cats[i].next_number = 1;
    q->next_order = 1;
}

void queue_free(hk_queue *q)
{
    for (size_t i = 0; i < q->cfg->ncategories; i++) {
        free(q->cats[i].normal.v);
        free(q->cats[i].priority.v);
    }
    free(q->cats);
    free(q->direct.v);
    free(q->tickets);
    strmap_free(&q->by_code);
    memset(q, 0, sizeof *q);
}

int queue_cat_index(const hk_queue *q, const char *id)
{
    if (!id) return -1;
    for (size_t i = 0; i < q->cfg->ncategories; i++)
        if (!strcmp(q->cfg->categories[i].id, id)) return (int)i;
    return -1;
}

hk_ticket *queue_find(hk_queue *q, const char *code)
{
    int idx;
    if (!code || strmap_get(&q->by_code, code, &idx) < 0) return NULL;
    return &q->tickets[idx];
}

int queue_ticket_index(const hk_queue *q, const hk_ticket *t) { return (int)(t - q->tickets); }

static void catq_roll(hk_catq *c, int32_t day)
{
    if (c->day != day) { c->day = day; c->next_number = 1; }
}

void queue_next_code(const hk_queue *q, int cat, int32_t day, char *code, size_t len)
{
    const hk_catq *c = &q->cats[cat];
    int n = c->day == day ? c->next_number : 1;
    /* a ticket carried over from an earlier day keeps its code: a new day's numbering steps over
     * it, so no two tickets in the hall share a code (events and phones name tickets by code) */
    int idx;
    do snprintf(code, len, "%s%03d", q->cfg->categories[cat].id, n++);
    while (strmap_get(&q->by_code, code, &idx) == 0);
}

int queue_numbers_used(const hk_queue *q, int cat, int32_t day)
{
    const hk_catq *c = &q->cats[cat];
    return c->day == day ? c->next_number - 1 : 0;
}

static int code_number(const char *code)
{
    while (*code && (*code < '0' || *code > '9')) code++;
    return atoi(code);
}

/* A new ticket with this code and nothing else set, at the end of the table: its index. */
static int ticket_append(hk_queue *q, const char *code)
{
    if (q->ntickets == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 256;
        q->tickets = hk_realloc(q->tickets, q->cap * sizeof *q->tickets);
    }
    int idx = (int)q->ntickets++;
    hk_ticket *t = &q->tickets[idx];
    memset(t, 0, sizeof *t);
    snprintf(t->code, sizeof t->code, "%s", code);
    return idx;
}

int queue_add(hk_queue *q, const char *code, int cat, bool priority, int32_t day, int64_t issued_at)
{
    hk_ticket *old = queue_find(q, code);
    if (old && old->day == day) return -1;
    int idx = ticket_append(q, code);
    hk_ticket *t = &q->tickets[idx];
    t->cat = cat;
    t->priority = priority;
    t->day = day;
    t->issued_at = issued_at;
    t->state = TK_WAITING;
    t->order = q->next_order++;
    strmap_put(&q->by_code, t->code, idx);
    hk_catq *c = &q->cats[cat];
    catq_roll(c, day);
    int n = code_number(code);
    if (n >= c->next_number) c->next_number = n + 1;
    line_insert(priority ? &c->priority : &c->normal, q, idx);
    return idx;
}

void queue_withdraw(hk_queue *q, int idx)
{
    hk_ticket *t = &q->tickets[idx];
    if (t->target_window) line_remove(&q->direct, idx);
    else line_remove(t->priority ? &q->cats[t->cat].priority : &q->cats[t->cat].normal, idx);
}

void queue_remove_waiting(hk_queue *q, int idx)
{
    const hk_ticket *t = &q->tickets[idx];
    hk_catq *c = &q->cats[t->cat];
    /* The fairness cap counts priority calls that overtook a waiting normal ticket of the same
     * category. It is updated here, while the event is applied and before the ticket leaves its
     * line, so live use and replay see the very same lines and count the same. A call of a
     * ticket transferred to a window is outside the category's lines and counts for nothing. */
    if (!t->target_window) {
        if (t->priority && c->normal.n) c->prio_streak++;
        else c->prio_streak = 0;
    }
    queue_withdraw(q, idx);
}

void queue_requeue(hk_queue *q, int idx)
{
    hk_ticket *t = &q->tickets[idx];
    t->state = TK_WAITING;
    if (t->target_window) line_insert(&q->direct, q, idx);
    else line_insert(t->priority ? &q->cats[t->cat].priority : &q->cats[t->cat].normal, q, idx);
}

int queue_waiting(const hk_queue *q, int cat, bool priority_only)
{
    const hk_catq *c = &q->cats[cat];
    int n = (int)c->priority.n;
    if (!priority_only) n += (int)c->normal.n;
    for (size_t i = 0; i < q->direct.n; i++)
        if (q->tickets[q->direct.v[i]].cat == cat &&
            (!priority_only || q->tickets[q->direct.v[i]].priority)) n++;
    return n;
}

int queue_ahead(const hk_queue *q, int cat, bool priority)
{
    /* A new ticket goes to the end of its line; priority tickets go before every normal one. */
    const hk_catq *c = &q->cats[cat];
    return priority ? (int)c->priority.n : (int)(c->priority.n + c->normal.n);
}

static double head_score(const hk_queue *q, int idx, double weight, int rank, int64_t now_ms)
{
    double wait_s = (double)(now_ms - q->tickets[idx].issued_at) / 1000.0;
    if (wait_s < 0) wait_s = 0;
    return weight * (wait_s + HK_WAIT_BIAS_S) / (1.0 + rank);
}

/* Best head among the window's categories in either the priority or the normal lines. */
static int pick_from(const hk_queue *q, const hk_window_cfg *w, bool prio, int64_t now_ms)
{
    int best = -1;
    double best_score = -1;
    for (size_t r = 0; r < w->ncategories; r++) {
        int cat = queue_cat_index(q, w->categories[r]);
        if (cat < 0) continue;
        const hk_line *l = prio ? &q->cats[cat].priority : &q->cats[cat].normal;
        if (!l->n) continue;
        double s = head_score(q, l->v[0], q->cfg->categories[cat].weight, (int)r, now_ms);
        if (s > best_score) { best_score = s; best = l->v[0]; }   /* ties keep the preferred */
    }
    return best;
}

hk_queue_policy_cfg queue_policy(const hk_config *cfg)
{
    hk_queue_policy_cfg p = cfg->queue;
    if (!p.set) {
        p.set = true;
        p.priority_max_in_row = HK_DEFAULT_PRIORITY_MAX_IN_ROW;
        p.normal_max_wait_min = HK_DEFAULT_NORMAL_MAX_WAIT_MIN;
        p.appointment_early_min = HK_DEFAULT_APPOINTMENT_EARLY_MIN;
        p.appointment_grace_min = HK_DEFAULT_APPOINTMENT_GRACE_MIN;
    }
    if (p.priority_max_in_row < 1) p.priority_max_in_row = 1;
    if (p.normal_max_wait_min < 1) p.normal_max_wait_min = 1;
    return p;
}

/* The normal head that has waited longest, if it has waited max_wait_ms or more. Oldest first
 * (ties: the window's preferred category), so overdue visitors are served in arrival order. */
static int pick_overdue(const hk_queue *q, const hk_window_cfg *w, int64_t now_ms, int64_t max_wait_ms)
{
    int best = -1;
    for (size_t r = 0; r < w->ncategories; r++) {
        int cat = queue_cat_index(q, w->categories[r]);
        if (cat < 0 || !q->cats[cat].normal.n) continue;
        int head = q->cats[cat].normal.v[0];
        const hk_ticket *t = &q->tickets[head];
        if (now_ms - t->issued_at < max_wait_ms) continue;
        if (best < 0 || t->issued_at < q->tickets[best].issued_at) best = head;
    }
    return best;
}

/* Priority heads, except that a category whose last max_in_row calls were priority tickets
 * overtaking waiting normal ones offers its normal head instead. */
static int pick_priority(const hk_queue *q, const hk_window_cfg *w, int64_t now_ms, int max_in_row)
{
    int best = -1;
    double best_score = -1;
    for (size_t r = 0; r < w->ncategories; r++) {
        int cat = queue_cat_index(q, w->categories[r]);
        if (cat < 0) continue;
        const hk_catq *c = &q->cats[cat];
        if (!c->priority.n) continue;
        int cand = c->prio_streak >= max_in_row && c->normal.n ? c->normal.v[0] : c->priority.v[0];
        double s = head_score(q, cand, q->cfg->categories[cat].weight, (int)r, now_ms);
        if (s > best_score) { best_score = s; best = cand; }   /* ties keep the preferred */
    }
    return best;
}

int queue_pick(const hk_queue *q, const hk_window_cfg *w, int64_t now_ms)
{
    for (size_t i = 0; i < q->direct.n; i++)
        if (q->tickets[q->direct.v[i]].target_window == w->id) return q->direct.v[i];
    hk_queue_policy_cfg pol = queue_policy(q->cfg);
    int idx = pick_overdue(q, w, now_ms, (int64_t)pol.normal_max_wait_min * 60 * 1000);
    if (idx < 0) idx = pick_priority(q, w, now_ms, pol.priority_max_in_row);
    return idx >= 0 ? idx : pick_from(q, w, false, now_ms);
}

void queue_record_service(hk_queue *q, int cat, int64_t ms)
{
    if (ms <= 0) return;
    hk_catq *c = &q->cats[cat];
    c->service_ms[c->service_pos] = ms;
    c->service_pos = (c->service_pos + 1) % HK_SERVICE_SAMPLES;
    if (c->nservice < HK_SERVICE_SAMPLES) c->nservice++;
}

int64_t queue_avg_service_ms(const hk_queue *q, int cat)
{
    const hk_catq *c = &q->cats[cat];
    if (!c->nservice) return HK_DEFAULT_SERVICE_MS;
    int64_t sum = 0;
    for (int i = 0; i < c->nservice; i++) sum += c->service_ms[i];
    return sum / c->nservice;
}

static void line_remap(hk_line *l, const int *remap)
{
    for (size_t i = 0; i < l->n; i++) l->v[i] = remap[l->v[i]];
}

size_t queue_forget_before(hk_queue *q, int32_t day, int *remap)
{
    size_t kept = 0;
    for (size_t i = 0; i < q->ntickets; i++) {
        const hk_ticket *t = &q->tickets[i];
        bool finished = t->state == TK_DONE || t->state == TK_NOSHOW;
        if (finished && t->day < day) {
            remap[i] = -1;
            continue;
        }
        remap[i] = (int)kept;
        if (kept != i) q->tickets[kept] = *t;
        kept++;
    }
    size_t forgotten = q->ntickets - kept;
    q->ntickets = kept;
    /* the table shrinks to what is left, so a busy day's peak is given back */
    size_t cap = kept < 256 ? 256 : kept;
    if (cap < q->cap) {
        q->tickets = hk_realloc(q->tickets, cap * sizeof *q->tickets);
        q->cap = cap;
    }
    for (size_t c = 0; c < q->cfg->ncategories; c++) {
        line_remap(&q->cats[c].normal, remap);
        line_remap(&q->cats[c].priority, remap);
    }
    line_remap(&q->direct, remap);
    /* codes repeat across days: the index keeps, for each code, the newest ticket left */
    strmap_free(&q->by_code);
    strmap_init(&q->by_code);
    for (size_t i = 0; i < q->ntickets; i++) strmap_put(&q->by_code, q->tickets[i].code, (int)i);
    return forgotten;
}

/* ---- checkpoint ------------------------------------------------------------------------------- */

static const char *const tk_state_names[] = {"waiting", "called", "serving", "done", "noshow"};

const char *queue_state_name(tk_state s)
{
    return (unsigned)s < sizeof tk_state_names / sizeof *tk_state_names ? tk_state_names[s] : "waiting";
}

hv *queue_checkpoint(const hk_queue *q)
{
    hv *m = hv_map();
    hv_set(m, "next_order", hv_int((int64_t)q->next_order));
    hv *cats = hv_arr();
    for (size_t i = 0; i < q->cfg->ncategories; i++) {
        const hk_catq *c = &q->cats[i];
        hv *x = hv_map();
        hv_set(x, "id", hv_str(q->cfg->categories[i].id));
        hv_set(x, "prio_streak", hv_int(c->prio_streak));
        hv_set(x, "next_number", hv_int(c->next_number));
        hv_set(x, "day", hv_int(c->day));
        hv *svc = hv_arr();
        for (int k = 0; k < c->nservice; k++) hv_push(svc, hv_int(c->service_ms[k]));
        hv_set(x, "service_ms", svc);
        hv_set(x, "service_pos", hv_int(c->service_pos));
        hv_push(cats, x);
    }
    hv_set(m, "cats", cats);
    hv *tickets = hv_arr();
    for (size_t i = 0; i < q->ntickets; i++) {
        const hk_ticket *t = &q->tickets[i];
        hv *x = hv_map();
        hv_set(x, "code", hv_str(t->code));
        hv_set(x, "category", hv_str(q->cfg->categories[t->cat].id));
        hv_set(x, "priority", hv_bool(t->priority));
        hv_set(x, "day", hv_int(t->day));
        hv_set(x, "issued_at", hv_int(t->issued_at));
        hv_set(x, "called_at", hv_int(t->called_at));
        hv_set(x, "started_at", hv_int(t->started_at));
        hv_set(x, "finished_at", hv_int(t->finished_at));
        hv_set(x, "window", hv_int(t->window));
        hv_set(x, "target_window", hv_int(t->target_window));
        hv_set(x, "state", hv_str(tk_state_names[t->state]));
        hv_set(x, "outcome", hv_str(t->outcome));
        hv_set(x, "score", hv_int(t->score));
        hv_set(x, "recalls", hv_int(t->recalls));
        hv_set(x, "order", hv_int((int64_t)t->order));
        hv_push(tickets, x);
    }
    hv_set(m, "tickets", tickets);
    return m;
}

static int restore_cat(hk_queue *q, const hv *x)
{
    int64_t streak, next, day, pos;
    const hv *svc = cp_arr(x, "service_ms");
    if (cp_int(x, "prio_streak", &streak) < 0 || cp_int(x, "next_number", &next) < 0 || cp_int(x, "day", &day) < 0 ||
        cp_int(x, "service_pos", &pos) < 0 || !svc || !cp_str(x, "id") || pos < 0 || pos >= HK_SERVICE_SAMPLES ||
        svc->u.a.n > HK_SERVICE_SAMPLES)
        return -1;
    int cat = queue_cat_index(q, cp_str(x, "id"));
    if (cat < 0) return 0;   /* a category the configuration no longer has */
    hk_catq *c = &q->cats[cat];
    c->prio_streak = (int)streak;
    c->next_number = (int)next;
    c->day = (int32_t)day;
    c->service_pos = (int)pos;
    c->nservice = (int)svc->u.a.n;
    for (size_t k = 0; k < svc->u.a.n; k++) {
        const hv *v = svc->u.a.v[k];
        if (v->t != HV_INT) return -1;
        c->service_ms[k] = v->u.i;
    }
    return 0;
}

/* One ticket: its index, -2 if malformed, -1 if its category is gone. */
static int restore_ticket(hk_queue *q, const hv *x)
{
    static const char *const keys[] = {"day", "issued_at", "called_at", "started_at", "finished_at", "window",
                                       "target_window", "score", "recalls", "order"};
    int64_t v[10];
    for (size_t k = 0; k < 10; k++)
        if (cp_int(x, keys[k], &v[k]) < 0) return -2;
    const char *code = cp_str(x, "code"), *state = cp_str(x, "state"), *outcome = cp_str(x, "outcome");
    bool priority;
    int st = -1;
    for (int k = 0; state && k < 5; k++)
        if (!strcmp(state, tk_state_names[k])) st = k;
    if (!code || !*code || strlen(code) >= sizeof q->tickets->code || st < 0 || !outcome ||
        cp_bool(x, "priority", &priority) < 0 || !cp_str(x, "category"))
        return -2;
    int cat = queue_cat_index(q, cp_str(x, "category"));
    if (cat < 0) return -1;
    int idx = ticket_append(q, code);
    hk_ticket *t = &q->tickets[idx];
    snprintf(t->outcome, sizeof t->outcome, "%s", outcome);
    t->cat = cat;
    t->priority = priority;
    t->state = (tk_state)st;
    t->day = (int32_t)v[0];
    t->issued_at = v[1];
    t->called_at = v[2];
    t->started_at = v[3];
    t->finished_at = v[4];
    t->window = (int)v[5];
    t->target_window = (int)v[6];
    t->score = (int)v[7];
    t->recalls = (int)v[8];
    t->order = (uint64_t)v[9];
    return idx;
}

int queue_restore(hk_queue *q, const hv *m, int **remap, size_t *nremap)
{
    int64_t next_order;
    const hv *cats = cp_arr(m, "cats"), *tickets = cp_arr(m, "tickets");
    *remap = NULL;
    *nremap = 0;
    if (cp_int(m, "next_order", &next_order) < 0 || !cats || !tickets) return -1;
    q->next_order = (uint64_t)next_order;
    for (size_t i = 0; i < cats->u.a.n; i++)
        if (restore_cat(q, cats->u.a.v[i]) < 0) return -1;
    *remap = hk_realloc(NULL, (tickets->u.a.n ? tickets->u.a.n : 1) * sizeof **remap);
    *nremap = tickets->u.a.n;
    for (size_t i = 0; i < tickets->u.a.n; i++) {
        int idx = restore_ticket(q, tickets->u.a.v[i]);
        if (idx == -2) return -1;
        (*remap)[i] = idx;
    }
    /* the index and the waiting lines follow from the tickets, as queue_forget_before rebuilds
     * them: for each code the last ticket that has it; waiting tickets by order */
    for (size_t i = 0; i < q->ntickets; i++) {
        strmap_put(&q->by_code, q->tickets[i].code, (int)i);
        if (q->tickets[i].state == TK_WAITING) queue_requeue(q, (int)i);
    }
    return 0;
}
