/* emergency.c: the emergency state machine of emergency.h. Pure: libc only, time passed in.
 * All per-incident storage is allocated once in emergency_new(), so an input edge never
 * allocates on its way to the outputs. */
#include "emergency.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define STAFF_TEAM (HK_ROLE_STAFF | HK_ROLE_SECURITY | HK_ROLE_ADMIN)
#define COMMANDERS (HK_ROLE_SECURITY | HK_ROLE_ADMIN)

struct emergency {
    const hk_config *cfg;
    hk_playbook_cfg *pb;        /* resolved playbooks: deep copies owned here */
    size_t npb;
    int **step_line;            /* per playbook, per step: gpio line index of a gpio step, else -1 */
    int **trig_line;            /* per playbook, per trigger: input line index, -1 if unknown */
    emergency_incident *inc;    /* one slot per playbook */
    int *level;                 /* per cfg gpio line: last known logical value, -1 unknown */
    size_t maxsteps, totalsteps;
    emergency_report_state reports[EMERGENCY_REPORTS_MAX];   /* waiting for security, oldest first */
    size_t nreports;
    int64_t last_report_id;
};

/* ---- errors ---- */

int emergency_err(int code, const char **msg)
{
    static const struct { int code, err; const char *msg; } t[] = {
        { 0, HK_OK, "ok" },
        { EMERGENCY_ENOTFOUND, HK_ERR_NOT_FOUND, "no such playbook, active incident, step or line" },
        { EMERGENCY_ECONFLICT, HK_ERR_CONFLICT, "the playbook is already active (a drill cannot run while it is real)" },
        { EMERGENCY_EFORBIDDEN, HK_ERR_FORBIDDEN, "only security or admin may do this" },
        { EMERGENCY_EBADREQ, HK_ERR_BAD_REQUEST, "bad request (a clear needs a reason; only checklist steps are acknowledged)" },
        { EMERGENCY_EINPUT, HK_ERR_CONFLICT, "a trigger input is still active; it must return to normal before clearing" },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].code == code) {
            if (msg) *msg = t[i].msg;
            return t[i].err;
        }
    if (msg) *msg = "unknown error";
    return HK_ERR_BAD_REQUEST;
}

const char *emergency_strerror(int code, const char **msg)
{
    int err = emergency_err(code, msg);
    return err ? hk_err_word(err) : "ok";
}

/* ---- building: copies of playbooks resolved against the config ---- */

static char *dupstr(const char *s, bool *oom)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (!p) { *oom = true; return NULL; }
    memcpy(p, s, n);
    return p;
}

static int line_index(const hk_config *cfg, const char *name, int dir)
{
    for (size_t i = 0; name && i < cfg->ngpio_lines; i++)
        if (cfg->gpio_lines[i].name && strcmp(cfg->gpio_lines[i].name, name) == 0)
            return (dir < 0 || cfg->gpio_lines[i].dir == dir) ? (int)i : -1;
    return -1;
}

/* filter (built-ins only; a config playbook naming a missing line was already refused by the
 * loader): drop triggers whose input the config lacks, and turn gpio steps whose output it lacks
 * into checklist items for a person. */
static void copy_playbook(const hk_config *cfg, hk_playbook_cfg *d, const hk_playbook_cfg *s, bool filter, bool *oom)
{
    d->id = dupstr(s->id, oom);
    d->name = dupstr(s->name ? s->name : s->id, oom);
    d->silent = s->silent;
    d->severity = s->severity;
    d->triggers_required = s->triggers_required;
    d->report = s->report;
    d->triggers = calloc(s->ntriggers ? s->ntriggers : 1, sizeof *d->triggers);
    d->steps = calloc(s->nsteps ? s->nsteps : 1, sizeof *d->steps);
    if (!d->triggers || !d->steps) { *oom = true; return; }
    for (size_t k = 0; k < s->ntriggers; k++) {
        if (filter && line_index(cfg, s->triggers[k].gpio, HK_GPIO_IN) < 0) continue;
        hk_trigger_cfg *t = &d->triggers[d->ntriggers++];
        t->gpio = dupstr(s->triggers[k].gpio, oom);
        t->value = s->triggers[k].value;
    }
    for (size_t k = 0; k < s->nsteps; k++) {
        const hk_step_cfg *ss = &s->steps[k];
        hk_step_cfg *ds = &d->steps[d->nsteps++];
        *ds = *ss;
        if (filter && ss->do_ && strcmp(ss->do_, "gpio") == 0 && line_index(cfg, ss->line, HK_GPIO_OUT) < 0) {
            char text[160];
            const char *m = playbook_manual_text(ss->line, ss->value);
            if (!m) snprintf(text, sizeof text, "手动操作：%s 置为 %d", ss->line, ss->value);
            memset(ds, 0, sizeof *ds);
            ds->do_ = dupstr("checklist", oom);
            ds->text = dupstr(m ? m : text, oom);
            continue;
        }
        ds->do_ = dupstr(ss->do_, oom);
        ds->line = dupstr(ss->line, oom);
        ds->mode = dupstr(ss->mode, oom);
        ds->text = dupstr(ss->text, oom);
        ds->zones = NULL;
        ds->nzones = 0;
        if (ss->nzones) {
            ds->zones = calloc(ss->nzones, sizeof *ds->zones);
            if (!ds->zones) { *oom = true; continue; }
            ds->nzones = ss->nzones;
            for (size_t z = 0; z < ss->nzones; z++) ds->zones[z] = dupstr(ss->zones[z], oom);
        }
    }
}

static void free_playbook(hk_playbook_cfg *p)
{
    free(p->id);
    free(p->name);
    for (size_t k = 0; p->triggers && k < p->ntriggers; k++) free(p->triggers[k].gpio);
    free(p->triggers);
    for (size_t k = 0; p->steps && k < p->nsteps; k++) {
        hk_step_cfg *s = &p->steps[k];
        free(s->do_);
        free(s->line);
        free(s->mode);
        free(s->text);
        for (size_t z = 0; s->zones && z < s->nzones; z++) free(s->zones[z]);
        free(s->zones);
    }
    free(p->steps);
}

void emergency_free(emergency *e)
{
    if (!e) return;
    for (size_t i = 0; i < e->npb; i++) {
        free_playbook(&e->pb[i]);
        if (e->step_line) free(e->step_line[i]);
        if (e->trig_line) free(e->trig_line[i]);
        if (e->inc) free(e->inc[i].steps);
    }
    free(e->pb);
    free(e->step_line);
    free(e->trig_line);
    free(e->inc);
    free(e->level);
    free(e);
}

static bool is_do(const hk_step_cfg *s, const char *what) { return s->do_ && strcmp(s->do_, what) == 0; }

emergency *emergency_new(const hk_config *cfg)
{
    emergency *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->cfg = cfg;
    bool oom = false;
    size_t nb = playbook_builtin_count(), cap = nb + cfg->nplaybooks;
    e->pb = calloc(cap, sizeof *e->pb);
    e->level = calloc(cfg->ngpio_lines ? cfg->ngpio_lines : 1, sizeof *e->level);
    if (!e->pb || !e->level) { emergency_free(e); return NULL; }
    for (size_t i = 0; i < cfg->ngpio_lines; i++) e->level[i] = -1;

    for (size_t i = 0; i < nb && !oom; i++) {
        const hk_playbook_cfg *b = playbook_builtin(i), *over = NULL;
        for (size_t j = 0; j < cfg->nplaybooks && !over; j++)
            if (cfg->playbooks[j].id && strcmp(cfg->playbooks[j].id, b->id) == 0) over = &cfg->playbooks[j];
        hk_playbook_cfg *d = &e->pb[e->npb++];
        copy_playbook(cfg, d, over ? over : b, !over, &oom);
        /* the loader's severity default is 0: an override that gives none keeps the built-in rank */
        if (over && over->severity == 0) d->severity = b->severity;
        if (over && over->report < 0) d->report = b->report;      /* likewise the report policy */
        if (d->report < 0) d->report = HK_REPORT_NONE;
    }
    for (size_t j = 0; j < cfg->nplaybooks && !oom; j++)
        if (!playbook_builtin_find(cfg->playbooks[j].id)) {
            hk_playbook_cfg *d = &e->pb[e->npb++];
            copy_playbook(cfg, d, &cfg->playbooks[j], false, &oom);
            if (d->report < 0) d->report = HK_REPORT_NONE;
        }

    e->step_line = calloc(e->npb ? e->npb : 1, sizeof *e->step_line);
    e->trig_line = calloc(e->npb ? e->npb : 1, sizeof *e->trig_line);
    e->inc = calloc(e->npb ? e->npb : 1, sizeof *e->inc);
    if (oom || !e->step_line || !e->trig_line || !e->inc) { emergency_free(e); return NULL; }
    for (size_t i = 0; i < e->npb; i++) {
        const hk_playbook_cfg *p = &e->pb[i];
        e->step_line[i] = calloc(p->nsteps ? p->nsteps : 1, sizeof **e->step_line);
        e->trig_line[i] = calloc(p->ntriggers ? p->ntriggers : 1, sizeof **e->trig_line);
        e->inc[i].steps = calloc(p->nsteps ? p->nsteps : 1, sizeof *e->inc[i].steps);
        if (!e->step_line[i] || !e->trig_line[i] || !e->inc[i].steps) { emergency_free(e); return NULL; }
        for (size_t k = 0; k < p->nsteps; k++)
            e->step_line[i][k] = is_do(&p->steps[k], "gpio") ? line_index(cfg, p->steps[k].line, HK_GPIO_OUT) : -1;
        for (size_t k = 0; k < p->ntriggers; k++)
            e->trig_line[i][k] = line_index(cfg, p->triggers[k].gpio, HK_GPIO_IN);
        if (p->nsteps > e->maxsteps) e->maxsteps = p->nsteps;
        e->totalsteps += p->nsteps;
    }
    return e;
}

/* ---- lookups and ranking ---- */

size_t emergency_playbook_count(const emergency *e) { return e->npb; }

const hk_playbook_cfg *emergency_playbook(const emergency *e, size_t i) { return i < e->npb ? &e->pb[i] : NULL; }

int emergency_playbook_index(const emergency *e, const char *id)
{
    for (size_t i = 0; id && i < e->npb; i++)
        if (strcmp(e->pb[i].id, id) == 0) return (int)i;
    return -1;
}

const emergency_incident *emergency_incident_at(const emergency *e, size_t i) { return i < e->npb ? &e->inc[i] : NULL; }

size_t emergency_active_count(const emergency *e)
{
    size_t n = 0;
    for (size_t i = 0; i < e->npb; i++) n += e->inc[i].active;
    return n;
}

/* Does active incident a outrank active incident b? Real > drill, then severity, then the
 * earlier start, then playbook order: a total order, so screens never flicker between two. */
static bool outranks(const emergency *e, size_t a, size_t b)
{
    const emergency_incident *x = &e->inc[a], *y = &e->inc[b];
    if (x->drill != y->drill) return !x->drill;
    if (e->pb[a].severity != e->pb[b].severity) return e->pb[a].severity > e->pb[b].severity;
    if (x->started_at != y->started_at) return x->started_at < y->started_at;
    return a < b;
}

int emergency_primary(const emergency *e, bool public_only)
{
    int best = -1;
    for (size_t i = 0; i < e->npb; i++) {
        if (!e->inc[i].active || (public_only && e->pb[i].silent)) continue;
        if (best < 0 || outranks(e, i, (size_t)best)) best = (int)i;
    }
    return best;
}

int emergency_audience(const emergency *e, size_t i)
{
    return i < e->npb && e->pb[i].silent ? STAFF_TEAM : HK_ROLE_ANY;
}

/* ---- state changes ---- */

/* Copies who into a fixed buffer, cut at a UTF-8 character boundary (it goes out in msgpack
 * strings, which browsers decode strictly). */
/* Copies src into a fixed field of size bytes, cut at a character boundary. */
static void set_fixed(char *dst, size_t size, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n > size - 1) {
        n = size - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80) n--;
    }
    if (n) memcpy(dst, src, n);
    dst[n] = '\0';
}

static void set_who(char *dst, const char *src) { set_fixed(dst, EMERGENCY_WHO_MAX, src); }

static const char *trigger_input_active(const emergency *e, size_t i)
{
    const hk_playbook_cfg *p = &e->pb[i];
    for (size_t k = 0; k < p->ntriggers; k++) {
        int l = e->trig_line[i][k];
        if (l >= 0 && e->level[l] == p->triggers[k].value) return p->triggers[k].gpio;
    }
    return NULL;
}

static void start_incident(emergency *e, size_t i, bool drill, const char *who, int64_t now)
{
    emergency_incident *inc = &e->inc[i];
    const hk_playbook_cfg *p = &e->pb[i];
    inc->active = true;
    inc->drill = drill;
    inc->started_at = now;
    set_who(inc->triggered_by, who);
    for (size_t k = 0; k < p->nsteps; k++) {
        emergency_step_state *s = &inc->steps[k];
        memset(s, 0, sizeof *s);
        /* everything but a checklist is carried out by the controller the moment it starts; an
         * output whose feedback must confirm it is done when the host says it followed */
        int l = e->step_line[i][k];
        if (is_do(&p->steps[k], "checklist")) continue;
        if (l < 0 || !e->cfg->gpio_lines[l].feedback) s->done_at = now;
    }
    inc->latched = trigger_input_active(e, i) == NULL;
}

static void end_incident(emergency *e, size_t i)
{
    emergency_incident *inc = &e->inc[i];
    inc->active = inc->drill = inc->latched = false;
    inc->started_at = 0;
    inc->triggered_by[0] = '\0';
    memset(inc->steps, 0, e->pb[i].nsteps * sizeof *inc->steps);
}

int emergency_output_result(emergency *e, const char *line, bool ok, const char *why, int64_t now, bool *changed)
{
    int l = line_index(e->cfg, line, HK_GPIO_OUT);
    if (changed) *changed = false;
    if (l < 0) return EMERGENCY_ENOTFOUND;
    for (size_t i = 0; i < e->npb; i++) {
        if (!e->inc[i].active) continue;
        for (size_t k = 0; k < e->pb[i].nsteps; k++) {
            emergency_step_state *s = &e->inc[i].steps[k];
            if (e->step_line[i][k] != l) continue;
            if (ok && !s->done_at) {
                s->done_at = now;
                if (changed) *changed = true;
            } else if (!ok && (s->done_at || !s->failed_at)) {
                s->done_at = 0;
                s->failed_at = now;
                set_fixed(s->failed, sizeof s->failed, why ? why : "output failed");
                if (changed) *changed = true;
            }
        }
    }
    return 0;
}

int emergency_report(emergency *e, const char *playbook, const char *who, const char *note, int64_t now, int64_t *id)
{
    int i = emergency_playbook_index(e, playbook);
    if (i < 0) return EMERGENCY_ENOTFOUND;
    if (e->pb[i].report == HK_REPORT_NONE) return EMERGENCY_EFORBIDDEN;
    emergency_incident *inc = &e->inc[i];
    if (inc->active && !inc->drill) return EMERGENCY_ECONFLICT;
    if (e->pb[i].report == HK_REPORT_NOW) {
        start_incident(e, (size_t)i, false, who ? who : "staff", now);   /* set_who cuts it to fit */
        return 1;
    }
    for (size_t k = 0; k < e->nreports; k++)     /* one report per playbook waits: a second one adds nothing */
        if (e->reports[k].playbook == i) { if (id) *id = e->reports[k].id; return 0; }
    if (e->nreports == EMERGENCY_REPORTS_MAX) return EMERGENCY_ECONFLICT;
    emergency_report_state *r = &e->reports[e->nreports++];
    memset(r, 0, sizeof *r);
    r->id = e->last_report_id = now > e->last_report_id ? now : e->last_report_id + 1;
    r->playbook = i;
    r->at = now;
    set_who(r->by, who);
    set_fixed(r->note, sizeof r->note, note);
    if (id) *id = r->id;
    return 0;
}

int emergency_report_resolve(emergency *e, int64_t id, bool confirm, int role, const char *who, int64_t now,
                             const char **playbook)
{
    if (!(role & COMMANDERS)) return EMERGENCY_EFORBIDDEN;
    size_t k;
    for (k = 0; k < e->nreports && e->reports[k].id != id; k++) {}
    if (k == e->nreports) return EMERGENCY_ENOTFOUND;
    emergency_report_state r = e->reports[k];
    memmove(&e->reports[k], &e->reports[k + 1], (e->nreports - k - 1) * sizeof *e->reports);
    e->nreports--;
    if (playbook) *playbook = e->pb[r.playbook].id;
    if (confirm && !(e->inc[r.playbook].active && !e->inc[r.playbook].drill)) {
        char by[EMERGENCY_WHO_MAX];
        snprintf(by, sizeof by, "%.24s (%.30s)", who ? who : hk_role_name(role), r.by);
        start_incident(e, (size_t)r.playbook, false, by, now);
    }
    return 0;
}

size_t emergency_report_count(const emergency *e) { return e->nreports; }

int emergency_trigger(emergency *e, const char *playbook, bool drill, int role, const char *who, int64_t now)
{
    if (!(role & COMMANDERS)) return EMERGENCY_EFORBIDDEN;
    int i = emergency_playbook_index(e, playbook);
    if (i < 0) return EMERGENCY_ENOTFOUND;
    emergency_incident *inc = &e->inc[i];
    if (inc->active && (!inc->drill || drill)) return EMERGENCY_ECONFLICT;
    start_incident(e, (size_t)i, drill, who ? who : hk_role_name(role), now);
    return 0;
}

static int target(const emergency *e, const char *playbook)
{
    int i = playbook ? emergency_playbook_index(e, playbook) : emergency_primary(e, false);
    return i >= 0 && e->inc[i].active ? i : -1;
}

int emergency_ack(emergency *e, const char *playbook, int step, int role, const char *who, int64_t now)
{
    if (!(role & COMMANDERS)) return EMERGENCY_EFORBIDDEN;
    int i = target(e, playbook);
    if (i < 0 || step < 0 || (size_t)step >= e->pb[i].nsteps) return EMERGENCY_ENOTFOUND;
    if (!is_do(&e->pb[i].steps[step], "checklist")) return EMERGENCY_EBADREQ;
    emergency_step_state *s = &e->inc[i].steps[step];
    if (s->ack_at) return EMERGENCY_ECONFLICT;
    s->done_at = s->ack_at = now;
    set_who(s->ack_by, who ? who : hk_role_name(role));
    return 0;
}

int emergency_clear(emergency *e, const char *playbook, int role, const char *who, const char *reason,
                    const char **input)
{
    if (!(role & COMMANDERS)) return EMERGENCY_EFORBIDDEN;
    bool has_reason = false;
    for (const char *r = reason; r && *r && !has_reason; r++)
        has_reason = !(*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r');
    if (!has_reason) return EMERGENCY_EBADREQ;
    int i = target(e, playbook);
    if (i < 0) return EMERGENCY_ENOTFOUND;
    const char *held = trigger_input_active(e, (size_t)i);
    if (held) {
        if (input) *input = held;
        return EMERGENCY_EINPUT;
    }
    end_incident(e, (size_t)i);
    return 0;
}

/* One input line (index l) now reads value. */
static void input_at(emergency *e, size_t l, int value, int64_t now, bool *changed)
{
    e->level[l] = value;
    char who[EMERGENCY_WHO_MAX];
    const char *name = e->cfg->gpio_lines[l].name;
    size_t n = strlen(name);
    if (n > sizeof who - 6) n = sizeof who - 6;   /* line names are short identifiers (ASCII) */
    memcpy(who, "gpio:", 5);
    memcpy(who + 5, name, n);
    who[5 + n] = '\0';
    for (size_t i = 0; i < e->npb; i++) {
        const hk_playbook_cfg *p = &e->pb[i];
        emergency_incident *inc = &e->inc[i];
        bool hit = false, uses = false;
        size_t at_trigger = 0;
        for (size_t k = 0; k < p->ntriggers; k++) {
            int tl = e->trig_line[i][k];
            if (tl == (int)l) {
                uses = true;
                hit |= p->triggers[k].value == value;
            }
            at_trigger += tl >= 0 && e->level[tl] == p->triggers[k].value;
        }
        if (!uses) continue;
        /* two-input confirmation: the edge counts only when enough independent alarms agree */
        size_t need = p->triggers_required > 1 ? (size_t)p->triggers_required : 1;
        if (need > p->ntriggers) need = p->ntriggers;   /* a built-in whose inputs are not all wired */
        hit &= at_trigger >= need;
        if (hit && (!inc->active || inc->drill)) {
            start_incident(e, i, false, who, now);   /* inputs only ever start real incidents */
            *changed = true;
        } else if (inc->active) {
            bool latched = trigger_input_active(e, i) == NULL;
            if (latched != inc->latched) { inc->latched = latched; *changed = true; }
        }
    }
}

int emergency_input(emergency *e, const char *line, int value, int64_t now, bool *changed)
{
    bool dummy = false;
    if (!changed) changed = &dummy;
    *changed = false;
    int l = line_index(e->cfg, line, -1);
    if (l < 0) return EMERGENCY_ENOTFOUND;
    if (e->cfg->gpio_lines[l].dir != HK_GPIO_IN || (value != 0 && value != 1)) return EMERGENCY_EBADREQ;
    input_at(e, (size_t)l, value, now, changed);
    return 0;
}

void emergency_input_levels(emergency *e, const int *levels, size_t n, int64_t now, bool *changed)
{
    bool dummy = false;
    if (!changed) changed = &dummy;
    *changed = false;
    for (size_t l = 0; l < n && l < e->cfg->ngpio_lines; l++)
        if (e->cfg->gpio_lines[l].dir == HK_GPIO_IN && (levels[l] == 0 || levels[l] == 1))
            input_at(e, l, levels[l], now, changed);
}

/* ---- outputs ---- */

const char *emergency_display_name(int display)
{
    return display == EMERGENCY_DISPLAY_EVACUATION ? "evacuation" : display == EMERGENCY_DISPLAY_NOTICE ? "notice" : "normal";
}

static int display_parse(const char *mode)
{
    if (mode && strcmp(mode, "evacuation") == 0) return EMERGENCY_DISPLAY_EVACUATION;
    if (mode && strcmp(mode, "notice") == 0) return EMERGENCY_DISPLAY_NOTICE;
    return EMERGENCY_DISPLAY_NORMAL;
}

int emergency_out_init(const emergency *e, emergency_out *out)
{
    memset(out, 0, sizeof *out);
    size_t ng = e->cfg->ngpio_lines;
    out->gpio = calloc(ng ? ng : 1, sizeof *out->gpio);
    out->gpio_owner = calloc(ng ? ng : 1, sizeof *out->gpio_owner);
    out->active = calloc(e->npb ? e->npb : 1, sizeof *out->active);
    out->announce = calloc(e->maxsteps ? e->maxsteps : 1, sizeof *out->announce);
    out->alerts = calloc(e->totalsteps ? e->totalsteps : 1, sizeof *out->alerts);
    out->ngpio = ng;
    if (!out->gpio || !out->gpio_owner || !out->active || !out->announce || !out->alerts) {
        emergency_out_free(out);
        return -1;
    }
    return 0;
}

void emergency_out_free(emergency_out *out)
{
    free(out->gpio);
    free(out->gpio_owner);
    free(out->active);
    free(out->announce);
    free(out->alerts);
    memset(out, 0, sizeof *out);
}

void emergency_outputs(const emergency *e, emergency_out *out)
{
    const hk_config *cfg = e->cfg;
    for (size_t l = 0; l < out->ngpio; l++) {
        out->gpio[l] = cfg->gpio_lines[l].dir == HK_GPIO_OUT ? cfg->gpio_lines[l].normal : -1;
        out->gpio_owner[l] = -1;
    }
    /* rank the active incidents, highest first (insertion sort: a handful at most) */
    out->nactive = 0;
    for (size_t i = 0; i < e->npb; i++) {
        if (!e->inc[i].active) continue;
        size_t k = out->nactive++;
        while (k > 0 && outranks(e, i, (size_t)out->active[k - 1])) {
            out->active[k] = out->active[k - 1];
            k--;
        }
        out->active[k] = (int)i;
    }
    out->primary = out->primary_public = out->display_from = out->announce_from = -1;
    out->drill = out->frozen = out->appointments_only = false;
    out->display = EMERGENCY_DISPLAY_NORMAL;
    out->display_text = NULL;
    out->occupancy_cap = -1;
    out->nannounce = out->nalerts = 0;
    out->audience = 0;

    for (size_t r = 0; r < out->nactive; r++) {
        int i = out->active[r];
        const hk_playbook_cfg *p = &e->pb[i];
        bool pub = !p->silent;
        if (out->primary < 0) out->primary = i;
        if (pub && out->primary_public < 0) {
            out->primary_public = i;
            out->drill = e->inc[i].drill;
        }
        out->audience |= pub ? HK_ROLE_ANY : STAFF_TEAM;
        const hk_step_cfg *disp = NULL, *notice = NULL;
        bool speaks = false;
        for (size_t k = 0; k < p->nsteps; k++) {
            const hk_step_cfg *s = &p->steps[k];
            int l = e->step_line[i][k];
            /* higher-ranked incidents were applied first; within one incident the later step wins */
            if (l >= 0 && (out->gpio_owner[l] < 0 || out->gpio_owner[l] == i)) {
                out->gpio[l] = s->value;
                out->gpio_owner[l] = i;
            }
            if (is_do(s, "alert")) out->alerts[out->nalerts++] = s;
            if (!pub) continue;
            if (is_do(s, "queue_freeze")) out->frozen = true;
            else if (is_do(s, "display") && !disp) disp = s;
            else if (is_do(s, "notice") && !notice) notice = s;
            else if (is_do(s, "occupancy")) {
                if (s->mode && strcmp(s->mode, "appointments_only") == 0) out->appointments_only = true;
                else if (out->occupancy_cap < 0 || s->cap < out->occupancy_cap) out->occupancy_cap = s->cap;
            }
            speaks |= is_do(s, "announce") || is_do(s, "notice");
        }
        if (out->display_from < 0 && (disp || notice)) {
            out->display_from = i;
            out->display = disp ? display_parse(disp->mode) : EMERGENCY_DISPLAY_NOTICE;
            out->display_text = disp && disp->text ? disp->text : notice ? notice->text : NULL;
        }
        if (out->announce_from < 0 && speaks) {
            out->announce_from = i;
            for (size_t k = 0; k < p->nsteps; k++)
                if (is_do(&p->steps[k], "announce") || is_do(&p->steps[k], "notice"))
                    out->announce[out->nannounce++] = &p->steps[k];
        }
    }
}

/* ---- hv: views, persistence ---- */

static hv *step_cfg_hv(const hk_step_cfg *s)
{
    hv *m = hv_map();
    hv_set(m, "do", hv_str(s->do_));
    if (s->text) hv_set(m, "text", hv_str(s->text));
    if (is_do(s, "gpio")) {
        hv_set(m, "line", hv_str(s->line));
        hv_set(m, "value", hv_int(s->value));
    }
    if (s->mode) hv_set(m, "mode", hv_str(s->mode));
    if (is_do(s, "announce")) hv_set(m, "loop", hv_bool(s->loop));
    if (is_do(s, "occupancy") && s->mode && strcmp(s->mode, "cap") == 0) hv_set(m, "cap", hv_int(s->cap));
    if (s->nzones) {
        hv *z = hv_arr();
        for (size_t k = 0; k < s->nzones; k++) hv_push(z, hv_str(s->zones[k]));
        hv_set(m, "zones", z);
    }
    if (is_do(s, "alert")) {
        hv *r = hv_arr();
        for (int bit = HK_ROLE_KIOSK; bit <= HK_ROLE_ADMIN; bit <<= 1)
            if (s->roles & bit) hv_push(r, hv_str(hk_role_name(bit)));
        hv_set(m, "roles", r);
    }
    return m;
}

static hv *incident_hv(const emergency *e, size_t i)
{
    const hk_playbook_cfg *p = &e->pb[i];
    const emergency_incident *inc = &e->inc[i];
    hv *m = hv_map();
    hv_set(m, "playbook", hv_str(p->id));
    hv_set(m, "name", hv_str(p->name));
    hv_set(m, "drill", hv_bool(inc->drill));
    hv_set(m, "silent", hv_bool(p->silent));
    hv_set(m, "severity", hv_int(p->severity));
    hv_set(m, "started_at", hv_int(inc->started_at));
    hv_set(m, "triggered_by", hv_str(inc->triggered_by));
    hv_set(m, "latched", hv_bool(inc->latched));
    hv *steps = hv_arr();
    for (size_t k = 0; k < p->nsteps; k++) {
        const emergency_step_state *st = &inc->steps[k];
        hv *s = step_cfg_hv(&p->steps[k]);
        hv_set(s, "done_at", st->done_at ? hv_int(st->done_at) : hv_nil());
        if (st->ack_at) {
            hv_set(s, "ack_by", hv_str(st->ack_by));
            hv_set(s, "ack_at", hv_int(st->ack_at));
        }
        if (st->failed_at) {
            hv_set(s, "failed_at", hv_int(st->failed_at));
            hv_set(s, "failed", hv_str(st->failed));
        }
        hv_push(steps, s);
    }
    hv_set(m, "steps", steps);
    return m;
}

/* {active, <fields of incidents[0]>, incidents}: takes ownership of incidents. */
static hv *top_hv(hv *incidents)
{
    hv *m = hv_map();
    hv_set(m, "active", hv_bool(incidents->u.a.n > 0));
    if (incidents->u.a.n) {
        const hv *first = incidents->u.a.v[0];
        for (size_t k = 0; k < first->u.m.n; k++) hv_set(m, first->u.m.v[k].key, hv_dup(first->u.m.v[k].val));
    }
    hv_set(m, "incidents", incidents);
    return m;
}

static hv *reports_hv(const emergency *e)
{
    hv *list = hv_arr();
    for (size_t k = 0; k < e->nreports; k++) {
        const emergency_report_state *r = &e->reports[k];
        hv *m = hv_map();
        hv_set(m, "id", hv_int(r->id));
        hv_set(m, "playbook", hv_str(e->pb[r->playbook].id));
        hv_set(m, "name", hv_str(e->pb[r->playbook].name));
        hv_set(m, "at", hv_int(r->at));
        hv_set(m, "by", hv_str(r->by));
        if (r->note[0]) hv_set(m, "note", hv_str(r->note));
        hv_push(list, m);
    }
    return list;
}

hv *emergency_to_hv(const emergency *e)
{
    /* the same ranking as the outputs, without emergency_out's buffers */
    hv *list = hv_arr();
    size_t n = emergency_active_count(e), done = 0;
    int prev = -1;
    while (done < n) {
        int best = -1;
        for (size_t i = 0; i < e->npb; i++) {
            if (!e->inc[i].active) continue;
            if (prev >= 0 && !outranks(e, (size_t)prev, i)) continue;   /* already listed */
            if (best < 0 || outranks(e, i, (size_t)best)) best = (int)i;
        }
        hv_push(list, incident_hv(e, (size_t)best));
        prev = best;
        done++;
    }
    hv *m = top_hv(list);
    if (e->nreports) hv_set(m, "reports", reports_hv(e));   /* the team's: public views drop it */
    return m;
}

hv *emergency_hv_for_role(const hv *full, int role)
{
    if (role & STAFF_TEAM) return hv_dup(full);
    hv *list = hv_arr();
    const hv *inc = hv_get(full, "incidents");
    for (size_t k = 0; inc && inc->t == HV_ARR && k < inc->u.a.n; k++) {
        bool silent = false;
        const hv *one = inc->u.a.v[k];
        if (one->t != HV_MAP || (hv_get_bool(one, "silent", &silent) == 0 && silent)) continue;
        hv_push(list, hv_dup(one));
    }
    return top_hv(list);
}

static int restore_one(emergency *e, const hv *m)
{
    const char *id = hv_get_str(m, "playbook");
    if (m->t != HV_MAP || !id) return EMERGENCY_EBADREQ;
    int i = emergency_playbook_index(e, id);
    if (i < 0) return 1;
    bool drill = false, latched = false;
    int64_t started = 0;
    if (hv_get_bool(m, "drill", &drill) || hv_get_int(m, "started_at", &started)) return EMERGENCY_EBADREQ;
    const char *who = hv_get_str(m, "triggered_by");
    start_incident(e, (size_t)i, drill, who ? who : "", started);
    /* the persisted latch stands until the inputs it depends on have been read again */
    bool levels_known = e->pb[i].ntriggers > 0;
    for (size_t k = 0; k < e->pb[i].ntriggers; k++)
        levels_known &= e->trig_line[i][k] >= 0 && e->level[e->trig_line[i][k]] >= 0;
    if (!levels_known && hv_get_bool(m, "latched", &latched) == 0) e->inc[i].latched = latched;
    const hv *steps = hv_get(m, "steps");
    const hk_playbook_cfg *p = &e->pb[i];
    for (size_t k = 0; steps && steps->t == HV_ARR && k < steps->u.a.n && k < p->nsteps; k++) {
        const hv *s = steps->u.a.v[k];
        const char *what = hv_get_str(s, "do");
        if (!what || strcmp(what, p->steps[k].do_) != 0) continue;   /* the playbook changed: keep the fresh state */
        emergency_step_state *st = &e->inc[i].steps[k];
        int64_t v;
        st->done_at = hv_get_int(s, "done_at", &v) == 0 ? v : 0;
        st->ack_at = hv_get_int(s, "ack_at", &v) == 0 ? v : 0;
        set_who(st->ack_by, st->ack_at ? hv_get_str(s, "ack_by") : NULL);
        st->failed_at = hv_get_int(s, "failed_at", &v) == 0 ? v : 0;
        const char *why = hv_get_str(s, "failed");
        set_fixed(st->failed, sizeof st->failed, st->failed_at ? why : NULL);
    }
    return 0;
}

static void restore_reports(emergency *e, const hv *list)
{
    e->nreports = 0;
    for (size_t k = 0; list && list->t == HV_ARR && k < list->u.a.n && e->nreports < EMERGENCY_REPORTS_MAX; k++) {
        const hv *m = list->u.a.v[k];
        int64_t id = 0, at = 0;
        int i = m->t == HV_MAP ? emergency_playbook_index(e, hv_get_str(m, "playbook")) : -1;
        if (i < 0 || hv_get_int(m, "id", &id) < 0 || hv_get_int(m, "at", &at) < 0) continue;
        emergency_report_state *r = &e->reports[e->nreports++];
        memset(r, 0, sizeof *r);
        r->id = id;
        r->playbook = i;
        r->at = at;
        set_who(r->by, hv_get_str(m, "by"));
        set_fixed(r->note, sizeof r->note, hv_get_str(m, "note"));
        if (id > e->last_report_id) e->last_report_id = id;
    }
}

int emergency_restore_hv(emergency *e, const hv *obj)
{
    for (size_t i = 0; i < e->npb; i++)
        if (e->inc[i].active) end_incident(e, i);
    e->nreports = 0;
    if (!obj || obj->t != HV_MAP) return EMERGENCY_EBADREQ;
    restore_reports(e, hv_get(obj, "reports"));
    const hv *list = hv_get(obj, "incidents");
    bool active = false;
    if (!list) {
        /* nothing active is written without incidents only by hand; accept {active: false} */
        return hv_get_bool(obj, "active", &active) == 0 && !active ? 0 : EMERGENCY_EBADREQ;
    }
    if (list->t != HV_ARR) return EMERGENCY_EBADREQ;
    int skipped = 0;
    for (size_t k = 0; k < list->u.a.n; k++) {
        int rc = restore_one(e, list->u.a.v[k]);
        if (rc < 0) {
            for (size_t i = 0; i < e->npb; i++)
                if (e->inc[i].active) end_incident(e, i);
            return rc;
        }
        skipped += rc;
    }
    return skipped;
}

hv *emergency_playbooks_hv(const emergency *e)
{
    hv *list = hv_arr();
    for (size_t i = 0; i < e->npb; i++) {
        const hk_playbook_cfg *p = &e->pb[i];
        hv *m = hv_map();
        hv_set(m, "id", hv_str(p->id));
        hv_set(m, "name", hv_str(p->name));
        hv_set(m, "silent", hv_bool(p->silent));
        hv_set(m, "severity", hv_int(p->severity));
        if (p->report == HK_REPORT_NOW || p->report == HK_REPORT_CONFIRM)
            hv_set(m, "report", hv_str(p->report == HK_REPORT_NOW ? "now" : "confirm"));
        hv *t = hv_arr();
        for (size_t k = 0; k < p->ntriggers; k++) {
            hv *tm = hv_map();
            hv_set(tm, "gpio", hv_str(p->triggers[k].gpio));
            hv_set(tm, "value", hv_int(p->triggers[k].value));
            hv_push(t, tm);
        }
        hv_set(m, "triggers", t);
        hv_set(m, "triggers_required", hv_int(p->triggers_required > 1 ? p->triggers_required : 1));
        hv *s = hv_arr();
        for (size_t k = 0; k < p->nsteps; k++) hv_push(s, step_cfg_hv(&p->steps[k]));
        hv_set(m, "steps", s);
        hv_push(list, m);
    }
    return list;
}

/* ---- network / information-system fault grade, DB43/T 2422.4 §6.3.1.2 ---- */

int emergency_fault_grade(int64_t duration_ms)
{
    if (duration_ms <= 0) return 0;
    if (duration_ms < 20 * 60 * 1000LL) return 3;
    if (duration_ms < 60 * 60 * 1000LL) return 2;
    return 1;
}

const char *emergency_fault_grade_name(int grade)
{
    return grade == 1 ? "I" : grade == 2 ? "II" : grade == 3 ? "III" : "none";
}

const char *emergency_fault_grade_zh(int grade)
{
    return grade == 1 ? "重大" : grade == 2 ? "较大" : grade == 3 ? "一般" : "";
}
