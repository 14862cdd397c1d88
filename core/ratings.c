/* ratings.c: 好差评: rating levels and reasons, follow-ups of bad ratings, satisfaction
 * statistics by window, staff, category or day (docs/cases.md). */
#include "ratings.h"
#include "cases.h"
#include "text.h"
#include "checkpoint.h"
#include "retention.h"
#include "days.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

#define FOLLOWUPS_LIST_DEFAULT 200   /* rows of a followups.list page unless `limit` says otherwise */

/* Who served a finished ticket, until it is rated (rating.invited). */
typedef struct {
    char code[16];
    int32_t day;
    int window;
    char staff[32];
} rt_invite;

/* One rating, small enough to keep a year of them for any grouping and period. */
typedef struct {
    int32_t day;
    int32_t window;               /* 0 = unknown */
    int16_t cat, staff;           /* indexes into cfg->categories and cfg->staff, -1 = unknown */
    int8_t score;
} rt_record;

typedef struct {
    int id;
    char code[16];
    int window;
    char staff[32];
    char category[8];
    int score;
    char reason[64];
    char text[RATING_TEXT_MAX + 4];
    int32_t day;
    int64_t opened_at;
    bool closed;
    char resolution[RATING_RESOLUTION_MAX + 4];
    char by[32];
    int64_t closed_at;
} rt_followup;

struct hk_ratings {
    const hk_config *cfg;
    rt_invite *inv; size_t ninv, capinv;
    rt_record *rec; size_t nrec, caprec;
    rt_followup *fu; size_t nfu, capfu;
    int next_followup;
    int32_t kept_from;            /* rating rows and closed follow-ups before this day were released; 0 = none */
};

static const char *const levels[] = {NULL, "非常不满意", "不满意", "基本满意", "满意", "非常满意"};

static const char *const default_reasons[] = {
    "服务态度不好", "办事效率低", "等候时间过长", "业务不熟练", "未一次性告知", "办事环境差", "其他",
};

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap) return p;
    *cap = *cap ? *cap * 2 : 16;
    p = hk_realloc(p, *cap * size);
    return p;
}

static void copy_str(char *dst, size_t size, const char *src) { snprintf(dst, size, "%s", src ? src : ""); }

hk_ratings *ratings_new(const hk_config *cfg)
{
    hk_ratings *r = hk_calloc(1, sizeof *r);
    r->cfg = cfg;
    r->next_followup = 1;
    return r;
}

void ratings_free(hk_ratings *r)
{
    if (!r) return;
    free(r->inv);
    free(r->rec);
    free(r->fu);
    free(r);
}

const char *ratings_level_name(int score) { return score >= 1 && score <= 5 ? levels[score] : NULL; }

size_t ratings_reasons(const hk_config *cfg, const char *const **out)
{
    if (cfg->nrating_reasons) {
        *out = (const char *const *)cfg->rating_reasons;
        return cfg->nrating_reasons;
    }
    *out = default_reasons;
    return sizeof default_reasons / sizeof *default_reasons;
}

static double target_of(const hk_config *cfg)
{
    return cfg->rating_target > 0 && cfg->rating_target <= 1 ? cfg->rating_target : HK_DEFAULT_RATING_TARGET;
}

/* ---- commands' event makers --------------------------------------------------------------- */

void ratings_invite(hk_hall *h, hk_out *out, hk_time now, const hk_ticket *t, const hk_win *w)
{
    hv *ev = hall_event("rating.invited");
    hv_set(ev, "code", hv_str(t->code));
    hv_set(ev, "window", hv_int(w->cfg->id));
    hv_set(ev, "staff", w->staff[0] ? hv_str(w->staff) : hv_nil());
    hv_set(ev, "category", hv_str(h->cfg->categories[t->cat].id));
    hv_set(ev, "day", hv_int(now.day));
    hall_emit(h, out, ev, now.ms);
}

int ratings_check(const hk_hall *h, int score, const hv *req, char *why, size_t len)
{
    const hv *reason = hv_get(req, "reason");
    if (reason && reason->t == HV_NIL) reason = NULL;
    if (score <= 2) {
        const char *const *rs;
        size_t nr = ratings_reasons(h->cfg, &rs);
        const char *given = reason && reason->t == HV_STR ? reason->u.s.p : NULL;
        bool known = false;
        for (size_t i = 0; given && i < nr; i++) known |= !strcmp(given, rs[i]);
        if (!known) {
            size_t at = (size_t)snprintf(why, len, "a score of %d (%s) needs a reason, one of:", score, levels[score]);
            for (size_t i = 0; i < nr && at < len; i++) at += (size_t)snprintf(why + at, len - at, " %s", rs[i]);
            return HK_ERR_BAD_REQUEST;
        }
    } else if (reason) {
        snprintf(why, len, "reason applies to scores 1 and 2 (不满意, 非常不满意) only");
        return HK_ERR_BAD_REQUEST;
    }
    const hv *text = hv_get(req, "text");
    if (text && text->t != HV_NIL && text_check(text, RATING_TEXT_MAX, false, "text", why, len) < 0) return HK_ERR_BAD_REQUEST;
    return HK_OK;
}

static const rt_invite *invite_find(const hk_ratings *r, const char *code)
{
    for (size_t i = 0; i < r->ninv; i++)
        if (!strcmp(r->inv[i].code, code)) return &r->inv[i];
    return NULL;
}

int ratings_record(hk_hall *h, hk_out *out, hk_time now, const hk_ticket *t, int score, const hv *req)
{
    const rt_invite *inv = invite_find(h->ratings, t->code);
    const char *staff = inv && inv->staff[0] ? inv->staff : NULL;
    int window = inv ? inv->window : t->window;
    const char *reason = hv_get_str(req, "reason");
    const char *text = hv_get_str(req, "text");
    const char *cat = h->cfg->categories[t->cat].id;
    hv *ev = hall_event("rating.recorded");
    hv_set(ev, "code", hv_str(t->code));
    hv_set(ev, "score", hv_int(score));
    hv_set(ev, "level", hv_str(levels[score]));
    hv_set(ev, "reason", reason ? hv_str(reason) : hv_nil());
    hv_set(ev, "text", text ? hv_str(text) : hv_nil());
    hv_set(ev, "window", window ? hv_int(window) : hv_nil());
    hv_set(ev, "staff", staff ? hv_str(staff) : hv_nil());
    hv_set(ev, "category", hv_str(cat));
    hv_set(ev, "day", hv_int(now.day));
    hall_emit(h, out, ev, now.ms);
    if (score > 2) return 0;
    int id = h->ratings->next_followup;
    ev = hall_event("followup.opened");
    hv_set(ev, "id", hv_int(id));
    hv_set(ev, "code", hv_str(t->code));
    hv_set(ev, "window", window ? hv_int(window) : hv_nil());
    hv_set(ev, "staff", staff ? hv_str(staff) : hv_nil());
    hv_set(ev, "score", hv_int(score));
    hv_set(ev, "level", hv_str(levels[score]));
    hv_set(ev, "reason", reason ? hv_str(reason) : hv_nil());
    hv_set(ev, "text", text ? hv_str(text) : hv_nil());
    hv_set(ev, "category", hv_str(cat));
    hv_set(ev, "day", hv_int(now.day));
    hall_emit(h, out, ev, now.ms);
    return id;
}

/* ---- events --------------------------------------------------------------------------------- */

static int apply_invited(hk_ratings *r, const hv *ev)
{
    const char *code = hv_get_str(ev, "code");
    int64_t day = 0, window = 0;
    if (!code || hv_get_int(ev, "day", &day) < 0) return -1;
    hv_get_int(ev, "window", &window);
    /* tickets of the days before yesterday are forgotten by the hall and can no longer be rated
     * (days counted as days, not as YYYYMMDD numbers: the 30th is the day before the 1st) */
    size_t keep = 0;
    int64_t today = hk_day_number((int32_t)day);
    for (size_t i = 0; i < r->ninv; i++)
        if (hk_day_number(r->inv[i].day) >= today - 1 && strcmp(r->inv[i].code, code) != 0)
            r->inv[keep++] = r->inv[i];
    r->ninv = keep;
    r->inv = grow(r->inv, &r->capinv, r->ninv, sizeof *r->inv);
    rt_invite *in = &r->inv[r->ninv++];
    memset(in, 0, sizeof *in);
    copy_str(in->code, sizeof in->code, code);
    copy_str(in->staff, sizeof in->staff, hv_get_str(ev, "staff"));
    in->day = (int32_t)day;
    in->window = (int)window;
    return 0;
}

static int index_of_staff(const hk_config *cfg, const char *id)
{
    for (size_t i = 0; id && i < cfg->nstaff && i < INT16_MAX; i++)
        if (!strcmp(cfg->staff[i].id, id)) return (int)i;
    return -1;
}

static int index_of_cat(const hk_config *cfg, const char *id)
{
    for (size_t i = 0; id && i < cfg->ncategories; i++)
        if (!strcmp(cfg->categories[i].id, id)) return (int)i;
    return -1;
}

static int apply_recorded(hk_ratings *r, const hv *ev)
{
    const char *code = hv_get_str(ev, "code");
    int64_t score = 0, day = 0, window = 0;
    if (!code || hv_get_int(ev, "score", &score) < 0 || score < 1 || score > 5) return -1;
    hv_get_int(ev, "day", &day);
    hv_get_int(ev, "window", &window);
    r->rec = grow(r->rec, &r->caprec, r->nrec, sizeof *r->rec);
    rt_record *x = &r->rec[r->nrec++];
    x->day = (int32_t)day;
    x->window = (int32_t)(window > 0 && window <= INT32_MAX ? window : 0);
    x->cat = (int16_t)index_of_cat(r->cfg, hv_get_str(ev, "category"));
    x->staff = (int16_t)index_of_staff(r->cfg, hv_get_str(ev, "staff"));
    x->score = (int8_t)score;
    for (size_t i = 0; i < r->ninv; i++)
        if (!strcmp(r->inv[i].code, code)) {
            r->inv[i] = r->inv[--r->ninv];
            break;
        }
    return 0;
}

static rt_followup *followup_find(const hk_ratings *r, int64_t id)
{
    for (size_t i = 0; i < r->nfu; i++)
        if (r->fu[i].id == id) return &r->fu[i];
    return NULL;
}

static int apply_followup_opened(hk_ratings *r, const hv *ev, int64_t at)
{
    int64_t id = 0, window = 0, score = 0, day = 0;
    const char *code = hv_get_str(ev, "code");
    if (hv_get_int(ev, "id", &id) < 0 || id < 1 || !code || followup_find(r, id)) return -1;
    hv_get_int(ev, "window", &window);
    hv_get_int(ev, "score", &score);
    hv_get_int(ev, "day", &day);
    r->fu = grow(r->fu, &r->capfu, r->nfu, sizeof *r->fu);
    rt_followup *f = &r->fu[r->nfu++];
    memset(f, 0, sizeof *f);
    f->id = (int)id;
    copy_str(f->code, sizeof f->code, code);
    copy_str(f->staff, sizeof f->staff, hv_get_str(ev, "staff"));
    copy_str(f->category, sizeof f->category, hv_get_str(ev, "category"));
    copy_str(f->reason, sizeof f->reason, hv_get_str(ev, "reason"));
    copy_str(f->text, sizeof f->text, hv_get_str(ev, "text"));
    f->window = (int)window;
    f->score = (int)score;
    f->day = (int32_t)day;
    f->opened_at = at;
    if (id >= r->next_followup) r->next_followup = (int)id + 1;
    return 0;
}

int ratings_apply(hk_hall *h, const hv *ev, const char *name)
{
    hk_ratings *r = h->ratings;
    int64_t at = 0;
    hv_get_int(ev, "at", &at);
    if (!strcmp(name, "rating.invited")) return apply_invited(r, ev);
    if (!strcmp(name, "rating.recorded")) return apply_recorded(r, ev);
    if (!strcmp(name, "followup.opened")) return apply_followup_opened(r, ev, at);
    if (!strcmp(name, "followup.closed")) {
        int64_t id = 0;
        rt_followup *f = hv_get_int(ev, "id", &id) == 0 ? followup_find(r, id) : NULL;
        if (!f) return -1;
        f->closed = true;
        f->closed_at = at;
        copy_str(f->resolution, sizeof f->resolution, hv_get_str(ev, "resolution"));
        copy_str(f->by, sizeof f->by, hv_get_str(ev, "by"));
        return 0;
    }
    return 0;
}

int ratings_open_followups(const hk_hall *h)
{
    int n = 0;
    for (size_t i = 0; i < h->ratings->nfu; i++) n += !h->ratings->fu[i].closed;
    return n;
}

/* ---- retention (retention.h) ------------------------------------------------------------------ */

/* A follow-up event carries no local day of its closing: the latest it can be is the opening day
 * plus the whole days between opening and closing, plus one (the opening's time of day). */
static int64_t closed_day_bound(const rt_followup *f)
{
    int64_t span = f->closed_at > f->opened_at ? f->closed_at - f->opened_at : 0;
    return hk_day_number(f->day) + span / 86400000 + 1;
}

void ratings_forget_before(hk_hall *h, int32_t day)
{
    hk_ratings *r = h->ratings;
    size_t kept = 0;
    for (size_t i = 0; i < r->nrec; i++)
        if (r->rec[i].day >= day) r->rec[kept++] = r->rec[i];
    bool released = kept != r->nrec;
    r->nrec = kept;
    int64_t limit = hk_day_number(day);
    kept = 0;
    for (size_t i = 0; i < r->nfu; i++) {
        const rt_followup *f = &r->fu[i];
        if (f->closed && closed_day_bound(f) < limit) continue;   /* open ones stay however old */
        if (kept != i) r->fu[kept] = *f;
        kept++;
    }
    released |= kept != r->nfu;
    r->nfu = kept;
    /* kept_from moves only when something went: it says what was released, not what could have been */
    if (released && day > r->kept_from) r->kept_from = day;
}

int32_t ratings_kept_from(const hk_hall *h) { return h->ratings->kept_from; }

static void set_coverage(hv *m, const hk_ratings *r, const char *what)
{
    hv_set(m, "kept_from", r->kept_from ? hv_int(r->kept_from) : hv_nil());
    if (r->kept_from) {
        char note[200];
        snprintf(note, sizeof note, "%s before kept_from were released from memory (retention.days); "
                 "their days are in the daily report archives (hallctl archive)", what);
        hv_set(m, "note", hv_str(note));
    }
}

/* ---- statistics ------------------------------------------------------------------------------- */

typedef struct {
    char key[40];
    const char *name;
    int64_t n[6];                /* by score; [0] unused */
} rt_group;

/* Satisfaction (DB43/T 2422.6 §5): 非常满意 + 满意 + 基本满意 over all ratings. */
static hv *group_view(const rt_group *g, double target, bool with_key)
{
    hv *m = hv_map();
    if (with_key) {
        hv_set(m, "key", hv_str(g->key));
        hv_set(m, "name", g->name ? hv_str(g->name) : hv_nil());
    }
    hv *counts = hv_map();
    int64_t total = 0;
    for (int s = 5; s >= 1; s--) {
        hv_set(counts, levels[s], hv_int(g->n[s]));
        total += g->n[s];
    }
    hv_set(m, "counts", counts);
    hv_set(m, "n", hv_int(total));
    int64_t good = g->n[5] + g->n[4] + g->n[3];
    if (total) {
        double rate = (double)good / (double)total;
        hv_set(m, "satisfaction_rate", hv_float(rate));
        hv_set(m, "meets_target", hv_bool(rate >= target));
    } else {
        hv_set(m, "satisfaction_rate", hv_nil());
        hv_set(m, "meets_target", hv_nil());
    }
    return m;
}

static rt_group *group_for(rt_group **gs, size_t *ng, size_t *cap, const char *key, const char *name)
{
    for (size_t i = 0; i < *ng; i++)
        if (!strcmp((*gs)[i].key, key)) return &(*gs)[i];
    *gs = grow(*gs, cap, *ng, sizeof **gs);
    rt_group *g = &(*gs)[(*ng)++];
    memset(g, 0, sizeof *g);
    copy_str(g->key, sizeof g->key, key);
    g->name = name;
    return g;
}

static int day_cmp(const void *a, const void *b) { return strcmp(((const rt_group *)a)->key, ((const rt_group *)b)->key); }

void hall_cmd_ratings_stats(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    static const char *const bys[] = {"window", "staff", "category", "day"};
    const hk_config *cfg = h->cfg;
    const hk_ratings *r = h->ratings;
    const char *by = hv_get_str(req, "by");
    int64_t from = 0, to = 99991231;
    (void)s;
    (void)now;
    if (hv_has(req, "by")) {
        bool known = false;
        for (size_t i = 0; by && i < sizeof bys / sizeof *bys; i++) known |= !strcmp(by, bys[i]);
        if (!known) { hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "by must be one of window, staff, category, day"); return; }
    }
    if ((hv_has(req, "from") && (hv_get_int(req, "from", &from) < 0 || from < 19700101 || from > 99991231)) ||
        (hv_has(req, "to") && (hv_get_int(req, "to", &to) < 0 || to < 19700101 || to > 99991231))) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "from and to must be local days written YYYYMMDD, e.g. 20251123");
        return;
    }
    rt_group total = {{0}, NULL, {0}};
    rt_group *gs = NULL;
    size_t ng = 0, cap = 0;
    char key[40];
    /* every configured window, category and staff member is listed, rated or not */
    if (by && !strcmp(by, "window"))
        for (size_t i = 0; i < cfg->nwindows; i++) {
            snprintf(key, sizeof key, "%d", cfg->windows[i].id);
            group_for(&gs, &ng, &cap, key, cfg->windows[i].name);
        }
    if (by && !strcmp(by, "category"))
        for (size_t i = 0; i < cfg->ncategories; i++)
            group_for(&gs, &ng, &cap, cfg->categories[i].id, cfg->categories[i].name);
    if (by && !strcmp(by, "staff"))
        for (size_t i = 0; i < cfg->nstaff; i++) group_for(&gs, &ng, &cap, cfg->staff[i].id, cfg->staff[i].name);
    for (size_t i = 0; i < r->nrec; i++) {
        const rt_record *x = &r->rec[i];
        if (x->day < from || x->day > to) continue;
        total.n[x->score]++;
        if (!by) continue;
        const char *name = NULL;
        if (!strcmp(by, "window")) {
            const hk_window_cfg *w = hk_config_window(cfg, x->window);
            snprintf(key, sizeof key, "%d", x->window);
            name = w ? w->name : NULL;
        } else if (!strcmp(by, "staff")) {
            snprintf(key, sizeof key, "%s", x->staff >= 0 ? cfg->staff[x->staff].id : "unknown");
            name = x->staff >= 0 ? cfg->staff[x->staff].name : NULL;
        } else if (!strcmp(by, "category")) {
            snprintf(key, sizeof key, "%s", x->cat >= 0 ? cfg->categories[x->cat].id : "unknown");
            name = x->cat >= 0 ? cfg->categories[x->cat].name : NULL;
        } else {
            snprintf(key, sizeof key, "%08d", (int)x->day);
        }
        group_for(&gs, &ng, &cap, key, name)->n[x->score]++;
    }
    if (by && !strcmp(by, "day") && ng > 1) qsort(gs, ng, sizeof *gs, day_cmp);
    double target = target_of(cfg);
    hv *groups = hv_arr();
    for (size_t i = 0; i < ng; i++) hv_push(groups, group_view(&gs[i], target, true));
    free(gs);
    hv *st = group_view(&total, target, false);
    hv_set(st, "by", by ? hv_str(by) : hv_nil());
    hv_set(st, "from", hv_has(req, "from") ? hv_int(from) : hv_nil());
    hv_set(st, "to", hv_has(req, "to") ? hv_int(to) : hv_nil());
    hv_set(st, "target", hv_float(target));
    hv *lv = hv_arr();
    for (int sc = 5; sc >= 1; sc--) hv_push(lv, hv_str(levels[sc]));
    hv_set(st, "levels", lv);
    hv_set(st, "groups", groups);
    /* a range reaching before the kept days counts only what is held: say so, not smaller numbers */
    hv_set(st, "kept_from", r->kept_from ? hv_int(r->kept_from) : hv_nil());
    bool partial = r->kept_from && from < r->kept_from;
    hv_set(st, "partial", hv_bool(partial));
    if (partial) {
        char note[200];
        snprintf(note, sizeof note, "ratings before %08d were released from memory (retention.days); "
                 "those days are in the daily report archives (hallctl archive)", (int)r->kept_from);
        hv_set(st, "note", hv_str(note));
    }
    hv_set(hall_reply_ok(out, req), "stats", st);
}

void hall_cmd_ratings_reasons(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    (void)s;
    (void)now;
    const char *const *rs;
    size_t nr = ratings_reasons(h->cfg, &rs);
    hv *reasons = hv_arr();
    for (size_t i = 0; i < nr; i++) hv_push(reasons, hv_str(rs[i]));
    hv *lv = hv_arr();
    for (int sc = 5; sc >= 1; sc--) {
        hv *m = hv_map();
        hv_set(m, "score", hv_int(sc));
        hv_set(m, "name", hv_str(levels[sc]));
        hv_set(m, "needs_reason", hv_bool(sc <= 2));
        hv_push(lv, m);
    }
    hv *r = hall_reply_ok(out, req);
    hv_set(r, "levels", lv);
    hv_set(r, "reasons", reasons);
    hv_set(r, "text_max", hv_int(RATING_TEXT_MAX));
    hv_set(r, "target", hv_float(target_of(h->cfg)));
}

/* ---- follow-ups ------------------------------------------------------------------------------- */

static hv *followup_view(const hk_hall *h, const rt_followup *f)
{
    hv *m = hv_map();
    hv_set(m, "id", hv_int(f->id));
    hv_set(m, "code", hv_str(f->code));
    hv_set(m, "status", hv_str(f->closed ? "closed" : "open"));
    hv_set(m, "window", f->window ? hv_int(f->window) : hv_nil());
    hv_set(m, "staff", f->staff[0] ? hv_str(f->staff) : hv_nil());
    const hk_staff_cfg *st = f->staff[0] ? hk_config_staff(h->cfg, f->staff) : NULL;
    hv_set(m, "staff_name", st && st->name ? hv_str(st->name) : hv_nil());
    hv_set(m, "category", hv_str(f->category));
    hv_set(m, "score", hv_int(f->score));
    hv_set(m, "level", hv_str(ratings_level_name(f->score) ? ratings_level_name(f->score) : ""));
    hv_set(m, "reason", f->reason[0] ? hv_str(f->reason) : hv_nil());
    hv_set(m, "text", f->text[0] ? hv_str(f->text) : hv_nil());
    hv_set(m, "day", hv_int(f->day));
    hv_set(m, "opened_at", hv_int(f->opened_at));
    if (f->closed) {
        hv_set(m, "resolution", hv_str(f->resolution));
        hv_set(m, "closed_by", hv_str(f->by));
        hv_set(m, "closed_at", hv_int(f->closed_at));
    }
    return m;
}

/* Staff see the follow-ups of their own service; admins see all. Oldest open first. */
void hall_cmd_followups_list(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    const char *status = hv_get_str(req, "status");
    (void)now;
    if (hv_has(req, "status") &&
        (!status || (strcmp(status, "open") && strcmp(status, "closed") && strcmp(status, "all")))) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "status must be open (default), closed or all");
        return;
    }
    if (!status) status = "open";
    int64_t limit = FOLLOWUPS_LIST_DEFAULT, after = 0;
    if (hv_has(req, "limit") && (hv_get_int(req, "limit", &limit) < 0 || limit < 1 || limit > RETENTION_PAGE_MAX)) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "limit must be a number from 1 to %d", RETENTION_PAGE_MAX);
        return;
    }
    const hv *av = hv_get(req, "after");
    if (av && av->t != HV_NIL && (hv_get_int(req, "after", &after) < 0 || after < 0)) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "after must be the follow-up number of the last row of the previous page (its `next`)");
        return;
    }
    /* in the order of their numbers (oldest first); a page ends at `limit` rows or when the
     * reply nears the frame limit, and `next` is the cursor of the page after it */
    retention_page pg;
    retention_page_init(&pg, limit);
    int64_t count = 0;
    for (size_t i = 0; i < h->ratings->nfu; i++) {
        const rt_followup *f = &h->ratings->fu[i];
        if (s->role == HK_ROLE_STAFF && strcmp(f->staff, s->staff) != 0) continue;
        if (strcmp(status, "all") && strcmp(status, f->closed ? "closed" : "open")) continue;
        count++;
        if (f->id > after && !pg.full) retention_page_add(&pg, followup_view(h, f), f->id);
    }
    hv *r = hall_reply_ok(out, req);
    hv_set(r, "status", hv_str(status));
    hv_set(r, "count", hv_int(count));
    hv_set(r, "followups", pg.list);
    hv_set(r, "next", pg.full ? hv_int(pg.next) : hv_nil());
    set_coverage(r, h->ratings, "closed follow-ups");
}

/* The follow-up is named by `followup`: `id` is the request's own id in hall.v1. */
void hall_cmd_followup_close(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    int64_t id;
    char why[160];
    if (hv_get_int(req, "followup", &id) < 0) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "followup (the follow-up's number) is required");
        return;
    }
    if (text_check(hv_get(req, "resolution"), RATING_RESOLUTION_MAX, false, "resolution", why, sizeof why) < 0) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "%s (how the rating was verified and handled)", why);
        return;
    }
    rt_followup *f = followup_find(h->ratings, id);
    if (!f) { hall_reply_err(out, req, HK_ERR_NOT_FOUND, "no follow-up %lld", (long long)id); return; }
    if (f->closed) { hall_reply_err(out, req, HK_ERR_CONFLICT, "follow-up %d is already closed", f->id); return; }
    hv *ev = hall_event("followup.closed");
    hv_set(ev, "id", hv_int(f->id));
    hv_set(ev, "code", hv_str(f->code));
    hv_set(ev, "resolution", hv_str(hv_get_str(req, "resolution")));
    hv_set(ev, "by", hv_str(s->role == HK_ROLE_STAFF ? s->staff : hk_role_name(s->role)));
    hall_emit(h, out, ev, now.ms);
    hv_set(hall_reply_ok(out, req), "followup", followup_view(h, f));
}

/* ---- checkpoint (core/checkpoint.h) ------------------------------------------------------------ */

/* Ratings of the kept days (retention.days, docs/retention.md) are held: in the checkpoint, the ratings of a run of one day that agree on
 * window, category, staff and score become one [day, window, category, staff, score, count]
 * row, in order of first occurrence. Statistics only count, so the rows give them back exactly. */
static bool same_id(const char *a, const char *b) { return a && b ? !strcmp(a, b) : a == b; }

static hv *records_checkpoint(const hk_ratings *r)
{
    hv *rows = hv_arr();
    size_t run = 0;   /* first row of the current day */
    for (size_t i = 0; i < r->nrec; i++) {
        const rt_record *x = &r->rec[i];
        hv *row = NULL;
        if (run < rows->u.a.n && rows->u.a.v[run]->u.a.v[0]->u.i != x->day) run = rows->u.a.n;
        for (size_t k = run; k < rows->u.a.n && !row; k++) {
            hv **f = rows->u.a.v[k]->u.a.v;
            const char *cat = f[2]->t == HV_STR ? f[2]->u.s.p : NULL, *staff = f[3]->t == HV_STR ? f[3]->u.s.p : NULL;
            const char *xcat = x->cat >= 0 ? r->cfg->categories[x->cat].id : NULL;
            const char *xstaff = x->staff >= 0 ? r->cfg->staff[x->staff].id : NULL;
            if (f[1]->u.i == x->window && f[4]->u.i == x->score && same_id(cat, xcat) && same_id(staff, xstaff))
                row = rows->u.a.v[k];
        }
        if (row) {
            row->u.a.v[5]->u.i++;
            continue;
        }
        row = hv_arr();
        hv_push(row, hv_int(x->day));
        hv_push(row, hv_int(x->window));
        hv_push(row, x->cat >= 0 ? hv_str(r->cfg->categories[x->cat].id) : hv_nil());
        hv_push(row, x->staff >= 0 ? hv_str(r->cfg->staff[x->staff].id) : hv_nil());
        hv_push(row, hv_int(x->score));
        hv_push(row, hv_int(1));
        hv_push(rows, row);
    }
    return rows;
}

hv *ratings_checkpoint(const hk_hall *h)
{
    const hk_ratings *r = h->ratings;
    hv *m = hv_map();
    hv_set(m, "next_followup", hv_int(r->next_followup));
    hv_set(m, "kept_from", hv_int(r->kept_from));
    hv *inv = hv_arr();
    for (size_t i = 0; i < r->ninv; i++) {
        hv *x = hv_map();
        hv_set(x, "code", hv_str(r->inv[i].code));
        hv_set(x, "day", hv_int(r->inv[i].day));
        hv_set(x, "window", hv_int(r->inv[i].window));
        hv_set(x, "staff", hv_str(r->inv[i].staff));
        hv_push(inv, x);
    }
    hv_set(m, "invites", inv);
    hv_set(m, "records", records_checkpoint(r));
    hv *fus = hv_arr();
    for (size_t i = 0; i < r->nfu; i++) {
        const rt_followup *f = &r->fu[i];
        hv *x = hv_map();
        hv_set(x, "id", hv_int(f->id));
        hv_set(x, "code", hv_str(f->code));
        hv_set(x, "window", hv_int(f->window));
        hv_set(x, "staff", hv_str(f->staff));
        hv_set(x, "category", hv_str(f->category));
        hv_set(x, "score", hv_int(f->score));
        hv_set(x, "reason", hv_str(f->reason));
        hv_set(x, "text", hv_str(f->text));
        hv_set(x, "day", hv_int(f->day));
        hv_set(x, "opened_at", hv_int(f->opened_at));
        hv_set(x, "closed", hv_bool(f->closed));
        hv_set(x, "resolution", hv_str(f->resolution));
        hv_set(x, "by", hv_str(f->by));
        hv_set(x, "closed_at", hv_int(f->closed_at));
        hv_push(fus, x);
    }
    hv_set(m, "followups", fus);
    return m;
}

static int restore_records(hk_ratings *r, const hv *rows)
{
    for (size_t i = 0; i < rows->u.a.n; i++) {
        const hv *row = rows->u.a.v[i];
        if (row->t != HV_ARR || row->u.a.n < 6) return -1;
        hv **f = row->u.a.v;
        if (f[0]->t != HV_INT || f[1]->t != HV_INT || f[4]->t != HV_INT || f[5]->t != HV_INT ||
            (f[2]->t != HV_STR && f[2]->t != HV_NIL) || (f[3]->t != HV_STR && f[3]->t != HV_NIL) ||
            f[4]->u.i < 1 || f[4]->u.i > 5 || f[5]->u.i < 1 || f[1]->u.i < 0 || f[1]->u.i > INT32_MAX)
            return -1;
        int cat = index_of_cat(r->cfg, f[2]->t == HV_STR ? f[2]->u.s.p : NULL);
        int staff = index_of_staff(r->cfg, f[3]->t == HV_STR ? f[3]->u.s.p : NULL);
        for (int64_t n = 0; n < f[5]->u.i; n++) {
            r->rec = grow(r->rec, &r->caprec, r->nrec, sizeof *r->rec);
            rt_record *x = &r->rec[r->nrec++];
            x->day = (int32_t)f[0]->u.i;
            x->window = (int32_t)f[1]->u.i;
            x->cat = (int16_t)cat;
            x->staff = (int16_t)staff;
            x->score = (int8_t)f[4]->u.i;
        }
    }
    return 0;
}

int ratings_restore(hk_hall *h, const hv *m)
{
    hk_ratings *r = h->ratings;
    int64_t next;
    const hv *inv = cp_arr(m, "invites"), *rows = cp_arr(m, "records"), *fus = cp_arr(m, "followups");
    if (cp_int(m, "next_followup", &next) < 0 || next < 1 || next > INT32_MAX || !inv || !rows || !fus) return -1;
    r->next_followup = (int)next;
    int64_t kept_from = 0;   /* absent in checkpoints written before retention */
    if (hv_has(m, "kept_from") && (cp_int(m, "kept_from", &kept_from) < 0 || kept_from < 0 || kept_from > 99991231))
        return -1;
    r->kept_from = (int32_t)kept_from;
    for (size_t i = 0; i < inv->u.a.n; i++) {
        const hv *x = inv->u.a.v[i];
        int64_t day, window;
        const char *code = cp_str(x, "code"), *staff = cp_str(x, "staff");
        if (!code || !staff || cp_int(x, "day", &day) < 0 || cp_int(x, "window", &window) < 0) return -1;
        r->inv = grow(r->inv, &r->capinv, r->ninv, sizeof *r->inv);
        rt_invite *in = &r->inv[r->ninv++];
        memset(in, 0, sizeof *in);
        copy_str(in->code, sizeof in->code, code);
        copy_str(in->staff, sizeof in->staff, staff);
        in->day = (int32_t)day;
        in->window = (int)window;
    }
    if (restore_records(r, rows) < 0) return -1;
    for (size_t i = 0; i < fus->u.a.n; i++) {
        const hv *x = fus->u.a.v[i];
        static const char *const sk[] = {"code", "staff", "category", "reason", "text", "resolution", "by"};
        static const char *const ik[] = {"id", "window", "score", "day", "opened_at", "closed_at"};
        const char *s[7];
        int64_t v[6];
        bool closed;
        for (size_t j = 0; j < 7; j++)
            if (!(s[j] = cp_str(x, sk[j]))) return -1;
        for (size_t j = 0; j < 6; j++)
            if (cp_int(x, ik[j], &v[j]) < 0) return -1;
        if (cp_bool(x, "closed", &closed) < 0 || v[0] < 1 || v[0] > INT32_MAX || followup_find(r, v[0])) return -1;
        r->fu = grow(r->fu, &r->capfu, r->nfu, sizeof *r->fu);
        rt_followup *f = &r->fu[r->nfu++];
        memset(f, 0, sizeof *f);
        f->id = (int)v[0];
        copy_str(f->code, sizeof f->code, s[0]);
        copy_str(f->staff, sizeof f->staff, s[1]);
        copy_str(f->category, sizeof f->category, s[2]);
        copy_str(f->reason, sizeof f->reason, s[3]);
        copy_str(f->text, sizeof f->text, s[4]);
        copy_str(f->resolution, sizeof f->resolution, s[5]);
        copy_str(f->by, sizeof f->by, s[6]);
        f->window = (int)v[1];
        f->score = (int)v[2];
        f->day = (int32_t)v[3];
        f->opened_at = v[4];
        f->closed_at = v[5];
        f->closed = closed;
    }
    return 0;
}
