/* lines.c: see lines.h. The order inside lines_on_edge is the rule of the emergency path: state
 * machine, then outputs, then (through the hub) persistence and events. Outputs are verified: a
 * failed set, or a feedback input that does not follow within its time, is reported to the hall
 * (hall_output_result: the step is failed, never done, and an "output:LINE" fault is raised). */
#include "lines.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/codec/codec.h"
#include "core/log.h"
#include "io/base/clock.h"
#include "io/ups/ups.h"

#define LINES_SAMPLES 16384

/* One line's verification. Outputs: the feedback input and how the output is doing. Supervised
 * inputs: a fault contact, a level to hold, a heartbeat. */
typedef struct {
    struct hk_lines *l;
    int idx;                /* the line */
    int fb;                 /* outputs: the feedback input, or -1 */
    uv_timer_t *timer;      /* outputs with feedback: checks it feedback_ms after a change;
                             * inputs with a heartbeat: fires when no edge came in heartbeat_ms */
    int64_t fail_since;     /* ms: failing since, 0 = working */
} line_check;

struct hk_lines {
    uint32_t edge_us[LINES_SAMPLES];   /* edge read -> every output set, newest LINES_SAMPLES */
    size_t nedge;
    const hk_config *cfg;
    hk_hall *hall;
    hub *hb;
    gpio_ctx *ctx;
    em_journal *journal;
    hk_out early;           /* events from before the hub existed (start-up) */
    line_check *checks;     /* [gpio_count], outputs only */
    uv_timer_t *retry;      /* drives failed outputs again every LINES_RETRY_MS while any fails */
    uv_loop_t *loop;
    ups_client *ups;        /* the UPS through upsd, feeding the external inputs */
    int ups_ob, ups_lb;     /* their line indices */
    int64_t ups_fault_since, ups_low_since;
};

#define LINES_RETRY_MS 1000

static void lines_set_outputs(hk_lines *l, hk_out *out);
static void check_feedback_edge(hk_lines *l, int idx, int value, hk_out *out);
static void on_heartbeat_lost(uv_timer_t *t);

/* Tells the hall how output c is doing (nothing is emitted while nothing changes). */
static void report(line_check *c, bool ok, const char *why, hk_out *out)
{
    hk_time now = hk_clock_now();
    /* logged when it starts failing and when it works again, not at every retry (once a second) */
    if (!ok && !c->fail_since) log_err("gpio: output %s failed: %s", gpio_name(c->l->ctx, c->idx), why);
    else if (ok && c->fail_since) log_notice("gpio: output %s works again", gpio_name(c->l->ctx, c->idx));
    if (!ok && !c->fail_since) c->fail_since = now.ms;
    hall_output_result(c->l->hall, gpio_name(c->l->ctx, c->idx), ok, why, c->fail_since, now, out);
    if (ok) c->fail_since = 0;
}

/* The feedback of an output must equal the output's value once its time is up. */
static void feedback_verdict(line_check *c, hk_out *out)
{
    int want = gpio_read(c->l->ctx, c->idx), got = gpio_read(c->l->ctx, c->fb);
    if (got == want) { report(c, true, NULL, out); return; }
    char why[160];
    snprintf(why, sizeof why, "feedback %s reads %d, expected %d after %d ms", gpio_name(c->l->ctx, c->fb), got,
             want, c->l->cfg->gpio_lines[c->idx].feedback_ms);
    report(c, false, why, out);
}

static void on_feedback_timer(uv_timer_t *t)
{
    line_check *c = t->data;
    hk_out out;
    hk_out_init(&out);
    feedback_verdict(c, &out);
    if (c->l->hb) hub_publish(c->l->hb, &out);
    hk_out_clear(&out);
}

static void feedback_arm(line_check *c)
{
    if (c->timer) uv_timer_start(c->timer, on_feedback_timer, (uint64_t)c->l->cfg->gpio_lines[c->idx].feedback_ms, 0);
}

static int checks_open(hk_lines *l, uv_loop_t *loop)
{
    size_t n = gpio_count(l->ctx);
    l->checks = calloc(n ? n : 1, sizeof *l->checks);
    if (!l->checks) return -1;
    for (size_t i = 0; i < n; i++) {
        line_check *c = &l->checks[i];
        c->l = l;
        c->idx = (int)i;
        c->fb = -1;
        if (i >= l->cfg->ngpio_lines) continue;
        const hk_gpio_line_cfg *g = &l->cfg->gpio_lines[i];
        if (gpio_dir(l->ctx, (int)i) == HK_GPIO_IN) {
            if (!g->heartbeat_ms) continue;
            if (!(c->timer = malloc(sizeof *c->timer))) return -1;
            uv_timer_init(loop, c->timer);
            c->timer->data = c;
            uv_timer_start(c->timer, on_heartbeat_lost, (uint64_t)g->heartbeat_ms, (uint64_t)g->heartbeat_ms);
            continue;
        }
        if (!g->feedback) continue;
        c->fb = gpio_find(l->ctx, g->feedback);
        if (c->fb < 0 || !(c->timer = malloc(sizeof *c->timer))) return -1;
        uv_timer_init(loop, c->timer);
        c->timer->data = c;
    }
    return 0;
}

static void on_timer_closed(uv_handle_t *h) { free(h); }

/* ---- supervised inputs: a fault is shown within 100 s (EN 54-2 §8), here at the edge or, for a
 * heartbeat, after heartbeat_ms (at most 100 s) ---- */

static void input_fault(line_check *c, bool active, const char *why, hk_out *out)
{
    hk_time now = hk_clock_now();
    const char *name = gpio_name(c->l->ctx, c->idx);
    char kind[96];
    snprintf(kind, sizeof kind, "input:%s", name);
    if (active && !c->fail_since) {
        c->fail_since = now.ms;
        log_err("gpio: supervised input %s: %s", name, why);
    } else if (!active && c->fail_since) {
        log_notice("gpio: supervised input %s is normal again", name);
    }
    hall_fault(c->l->hall, kind, active, c->fail_since, why, now, out);
    if (!active) c->fail_since = 0;
}

/* The level or edge of a supervised input: a fault contact, a level to hold, a heartbeat. */
static void supervise(line_check *c, int value, bool edge, hk_out *out)
{
    const hk_gpio_line_cfg *g = &c->l->cfg->gpio_lines[c->idx];
    char why[128];
    if (g->fault_contact) {
        snprintf(why, sizeof why, "fault contact %s reports a fault of the panel", g->name);
        input_fault(c, value == 1, why, out);
    } else if (g->has_expect) {
        snprintf(why, sizeof why, "%s must read %d, reads %d (wire broken or device off?)", g->name, g->expect, value);
        input_fault(c, value != g->expect, why, out);
    } else if (g->heartbeat_ms && edge) {
        input_fault(c, false, NULL, out);
    }
    if (g->heartbeat_ms && c->timer) uv_timer_again(c->timer);
}

static void on_heartbeat_lost(uv_timer_t *t)
{
    line_check *c = t->data;
    char why[128];
    snprintf(why, sizeof why, "no heartbeat on %s for %d ms", gpio_name(c->l->ctx, c->idx),
             c->l->cfg->gpio_lines[c->idx].heartbeat_ms);
    if (!c->l->hb) {                  /* before the hall serves: published with the start-up */
        input_fault(c, true, why, &c->l->early);
        return;
    }
    hk_out out;
    hk_out_init(&out);
    input_fault(c, true, why, &out);
    hub_publish(c->l->hb, &out);
    hk_out_clear(&out);
}

static void on_retry(uv_timer_t *t)
{
    hk_lines *l = t->data;
    hk_out out;
    hk_out_init(&out);
    lines_set_outputs(l, &out);
    if (l->hb) hub_publish(l->hb, &out);
    hk_out_clear(&out);
}

static void lines_on_edge(void *arg, int idx, int value, uint64_t ts_ms)
{
    hk_lines *l = arg;
    (void)ts_ms;
    uint64_t t0 = uv_hrtime();
    hk_out out;
    hk_out_init(&out);
    const char *name = gpio_name(l->ctx, idx);
    hall_input(l->hall, name, value, hk_clock_now(), &out);
    lines_set_outputs(l, &out);       /* the outputs, before anything else */
    l->edge_us[l->nedge++ % LINES_SAMPLES] = (uint32_t)((uv_hrtime() - t0) / 1000);
    check_feedback_edge(l, idx, value, &out);
    supervise(&l->checks[idx], value, true, &out);
    log_notice("gpio: input %s -> %d", name, value);
    /* then (through the outputs hook) the local journal, and Redis and the clients */
    if (l->hb) hub_publish(l->hb, &out);
    else lines_apply(l, &out);
    hk_out_clear(&out);
}

hk_lines *lines_open(uv_loop_t *loop, const hk_config *cfg, hk_hall *hall, char *err, size_t errlen)
{
    hk_lines *l = calloc(1, sizeof *l);
    if (!l) { snprintf(err, errlen, "out of memory"); return NULL; }
    l->cfg = cfg;
    l->hall = hall;
    l->loop = loop;
    hk_out_init(&l->early);
    l->ctx = gpio_open(loop, cfg->gpio_lines, cfg->ngpio_lines, cfg->gpio_backend ? cfg->gpio_backend : "sim",
                       lines_on_edge, NULL, l, err, errlen);
    if (!l->ctx) { free(l); return NULL; }
    if ((l->retry = malloc(sizeof *l->retry))) {
        uv_timer_init(loop, l->retry);
        l->retry->data = l;
    }
    if (!l->retry || checks_open(l, loop) < 0) {
        snprintf(err, errlen, "out of memory");
        lines_close(l);
        return NULL;
    }
    return l;
}

/* An edge of a feedback input: following its output confirms it at once; leaving it is allowed
 * for feedback_ms (a lock moving), then it is a fault. */
static void check_feedback_edge(hk_lines *l, int idx, int value, hk_out *out)
{
    for (size_t i = 0; i < gpio_count(l->ctx); i++) {
        line_check *c = &l->checks[i];
        if (c->fb != idx) continue;
        if (gpio_read(l->ctx, c->idx) == value) {
            uv_timer_stop(c->timer);
            report(c, true, NULL, out);
        } else {
            feedback_arm(c);
        }
    }
}

/* A reading of the UPS: its state becomes the external inputs ups_on_battery and ups_battery_low
 * (edges as from a wire: playbook triggers, latching); a battery running low or a UPS that cannot
 * be read is a fault. */
static void on_ups(void *arg, bool on_battery, bool battery_low, const char *status, int charge, const char *error)
{
    hk_lines *l = arg;
    hk_time now = hk_clock_now();
    hk_out out;
    hk_out_init(&out);
    if (error) {
        if (!l->ups_fault_since) {
            l->ups_fault_since = now.ms;
            log_err("ups: %s", error);
        }
        hall_fault(l->hall, "ups", true, l->ups_fault_since, error, now, &out);
    } else {
        if (l->ups_fault_since) log_notice("ups: read again: %s", status);
        l->ups_fault_since = 0;
        hall_fault(l->hall, "ups", false, 0, NULL, now, &out);
        char why[96];
        snprintf(why, sizeof why, "UPS battery low (%s%s%d %%)", status, charge >= 0 ? ", charge " : "",
                 charge >= 0 ? charge : 0);
        if (battery_low && !l->ups_low_since) l->ups_low_since = now.ms;
        hall_fault(l->hall, "ups_battery", battery_low, l->ups_low_since, why, now, &out);
        if (!battery_low) l->ups_low_since = 0;
    }
    hub_publish(l->hb, &out);
    hk_out_clear(&out);
    if (!error) {   /* through the edge path: the outputs first, then the events */
        gpio_external_set(l->ctx, l->ups_ob, on_battery);
        gpio_external_set(l->ctx, l->ups_lb, battery_low);
    }
}

void lines_attach(hk_lines *l, hub *hb)
{
    l->hb = hb;
    if (l->early.nevents) hub_publish(hb, &l->early);
    hk_out_clear(&l->early);
    if (l->cfg->ups.host) {   /* read once the hall serves: every reading reaches the clients */
        char err[160];
        l->ups_ob = gpio_find(l->ctx, "ups_on_battery");
        l->ups_lb = gpio_find(l->ctx, "ups_battery_low");
        if (!(l->ups = ups_open(l->loop, &l->cfg->ups, on_ups, l, err, sizeof err))) log_err("ups: %s", err);
        else log_info("ups: reading %s at %s:%d every %d ms", l->cfg->ups.name, l->cfg->ups.host, l->cfg->ups.port,
                      l->cfg->ups.poll_ms);
    }
}

void lines_set_journal(hk_lines *l, em_journal *j) { l->journal = j; }

/* After the outputs: the emergency's local record, before Redis hears of it. */
static void lines_journal(hk_lines *l, const hk_out *out)
{
    for (size_t i = 0; l->journal && i < out->nevents; i++) {
        const char *name = hv_get_str(out->events[i], "ev");
        if (!name || strcmp(name, "emergency.changed") != 0) continue;
        uint8_t *buf;
        size_t len;
        if (codec_encode(out->events[i], 0, &buf, &len) < 0) continue;
        int rc = em_journal_append(l->journal, buf, len);
        if (rc < 0) log_err("emergency journal: cannot write: %s", strerror(-rc));
        free(buf);
    }
}

/* Drives every output to what the emergency state wants; gpio.changed events into out. */
static void lines_set_outputs(hk_lines *l, hk_out *out)
{
    const emergency_out *eo = hall_outputs(l->hall);
    hk_time now = {0, 0, 0, 0};
    int have_now = 0;
    bool failing = false;
    for (size_t i = 0; i < eo->ngpio && i < gpio_count(l->ctx); i++) {
        int want = eo->gpio[i];
        line_check *c = &l->checks[i];
        /* an output whose set failed is driven again (at every change, and by the retry timer);
         * one whose feedback failed is judged again when its feedback moves */
        if (want < 0 || gpio_dir(l->ctx, (int)i) != HK_GPIO_OUT ||
            (gpio_read(l->ctx, (int)i) == want && !(c->fail_since && c->fb < 0))) continue;
        int rc = gpio_set(l->ctx, (int)i, want);
        if (rc < 0) {
            char why[96];
            snprintf(why, sizeof why, "cannot set to %d: %s", want, strerror(-rc));
            if (out) report(c, false, why, out);
            else log_err("gpio: cannot set %s to %d: %s", gpio_name(l->ctx, (int)i), want, strerror(-rc));
            failing = true;
            continue;
        }
        if (c->fb >= 0) feedback_arm(c);              /* verified when the feedback follows */
        else if (c->fail_since && out) report(c, true, NULL, out);
        if (!have_now) { now = hk_clock_now(); have_now = 1; }
        if (out) hall_output_changed(l->hall, gpio_name(l->ctx, (int)i), want, now, out);
    }
    if (have_now) log_notice("gpio: outputs set for the emergency state");
    if (failing && !uv_is_active((uv_handle_t *)l->retry)) uv_timer_start(l->retry, on_retry, LINES_RETRY_MS, LINES_RETRY_MS);
    else if (!failing) uv_timer_stop(l->retry);
}

void lines_apply(void *arg, hk_out *out)
{
    hk_lines *l = arg;
    lines_set_outputs(l, out);
    if (out) lines_journal(l, out);
}

void lines_start(hk_lines *l)
{
    size_t n = gpio_count(l->ctx);
    int *levels = hk_calloc(n ? n : 1, sizeof *levels);
    for (size_t i = 0; i < n; i++) levels[i] = gpio_dir(l->ctx, (int)i) == HK_GPIO_IN ? gpio_read(l->ctx, (int)i) : -1;
    hall_input_levels(l->hall, levels, n, hk_clock_now(), &l->early);
    lines_apply(l, &l->early);
    for (size_t i = 0; i < n; i++) {
        if (gpio_dir(l->ctx, (int)i) == HK_GPIO_IN) supervise(&l->checks[i], levels[i], false, &l->early);
        else feedback_arm(&l->checks[i]);   /* the normal state is verified too */
    }
    free(levels);
    const emergency_out *eo = hall_outputs(l->hall);
    if (eo->nactive) log_warn("emergency active at start: outputs re-applied before accepting clients");
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* stats.get: what the daemon measured of its own emergency path (scripts/bench/emergency). */
hv *lines_stats(hk_lines *l)
{
    size_t n = l->nedge < LINES_SAMPLES ? l->nedge : LINES_SAMPLES;
    hv *m = hv_map();
    hv_set(m, "n", hv_int((int64_t)l->nedge));
    if (n) {
        uint32_t *v = hk_malloc(n * sizeof *v);
        memcpy(v, l->edge_us, n * sizeof *v);
        qsort(v, n, sizeof *v, cmp_u32);
        hv_set(m, "p50_us", hv_int(v[n / 2]));
        hv_set(m, "p99_us", hv_int(v[(n * 99) / 100]));
        hv_set(m, "max_us", hv_int(v[n - 1]));
        free(v);
    }
    return m;
}

static hv *line_view(hk_lines *l, int idx)
{
    hv *m = hv_map();
    hv_set(m, "name", hv_str(gpio_name(l->ctx, idx)));
    hv_set(m, "dir", hv_str(gpio_dir(l->ctx, idx) == HK_GPIO_OUT ? "out" : "in"));
    hv_set(m, "value", hv_int(gpio_read(l->ctx, idx)));
    return m;
}

void lines_cmd_list(void *arg, const hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    hk_lines *l = arg;
    (void)s;
    (void)now;
    hv *r = hall_reply_ok(out, req), *lines = hv_arr();
    for (size_t i = 0; i < gpio_count(l->ctx); i++) hv_push(lines, line_view(l, (int)i));
    hv_set(r, "lines", lines);
    hv_set(r, "backend", hv_str(gpio_backend(l->ctx)));
}

void lines_cmd_sim_set(void *arg, const hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    hk_lines *l = arg;
    (void)s;
    const char *name = hv_get_str(req, "line");
    int64_t value = 0;
    bool fail = false, set_fail = hv_has(req, "fail");
    if (set_fail && hv_get_bool(req, "fail", &fail) < 0) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "fail must be true or false");
        return;
    }
    if (!name || (!set_fail && (hv_get_int(req, "value", &value) < 0 || (value != 0 && value != 1)))) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST,
                       "gpio.sim.set needs line (a name) and value (0 or 1), or fail (true or false)");
        return;
    }
    if (strcmp(gpio_backend(l->ctx), "sim") != 0) {
        hall_reply_err(out, req, HK_ERR_UNAVAILABLE, "gpio.sim.set works on the sim backend only");
        return;
    }
    int idx = gpio_find(l->ctx, name);
    if (idx < 0) {
        hall_reply_err(out, req, HK_ERR_NOT_FOUND, "no GPIO line '%.64s'", name);
        return;
    }
    int rc;
    if (set_fail) {
        rc = gpio_sim_fail(l->ctx, idx, fail ? -EIO : 0);   /* the simulated driver breaks or mends */
        value = gpio_read(l->ctx, idx);
    } else if (gpio_dir(l->ctx, idx) == HK_GPIO_IN) {
        rc = gpio_sim_inject(l->ctx, idx, (int)value);   /* then debounce, events, triggers */
    } else {
        rc = gpio_set(l->ctx, idx, (int)value);
        if (rc == 0) hall_output_changed(l->hall, name, (int)value, now, out);
    }
    if (rc < 0) {
        hall_reply_err(out, req, HK_ERR_UNAVAILABLE, "cannot set %.64s: %s", name, strerror(-rc));
        return;
    }
    hv *r = hall_reply_ok(out, req), *lv = line_view(l, idx);
    hv_set(lv, "value", hv_int(value));
    hv_set(r, "line", lv);
}

void lines_close(hk_lines *l)
{
    if (!l) return;
    if (gpio_safe_all(l->ctx) < 0) log_err("gpio: not every output reached its safe value");
    else log_notice("gpio: outputs in their safe state");
    for (size_t i = 0; l->checks && i < gpio_count(l->ctx); i++)
        if (l->checks[i].timer) uv_close((uv_handle_t *)l->checks[i].timer, on_timer_closed);
    free(l->checks);
    if (l->retry) uv_close((uv_handle_t *)l->retry, on_timer_closed);
    ups_close(l->ups);
    gpio_close(l->ctx, NULL, NULL);
    hk_out_clear(&l->early);
    free(l);
}
