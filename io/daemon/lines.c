/* hallkeeper_gpio.c: see hallkeeper_gpio.h. The order inside lines_on_edge is the rule of the
 * emergency path: state machine, then outputs, then (through the hub) persistence and events. */
#include "lines.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/codec/codec.h"
#include "core/log.h"
#include "io/base/clock.h"

#define LINES_SAMPLES 16384

struct hk_lines {
    uint32_t edge_us[LINES_SAMPLES];   /* edge read -> every output set, newest LINES_SAMPLES */
    size_t nedge;
    const hk_config *cfg;
    hk_hall *hall;
    hub *hb;
    gpio_ctx *ctx;
    em_journal *journal;
    hk_out early;           /* events from before the hub existed (start-up) */
};

static void lines_set_outputs(hk_lines *l, hk_out *out);

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
    hk_out_init(&l->early);
    l->ctx = gpio_open(loop, cfg->gpio_lines, cfg->ngpio_lines, cfg->gpio_backend ? cfg->gpio_backend : "sim",
                       lines_on_edge, NULL, l, err, errlen);
    if (!l->ctx) { free(l); return NULL; }
    return l;
}

void lines_attach(hk_lines *l, hub *hb)
{
    l->hb = hb;
    if (l->early.nevents) hub_publish(hb, &l->early);
    hk_out_clear(&l->early);
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
    for (size_t i = 0; i < eo->ngpio && i < gpio_count(l->ctx); i++) {
        int want = eo->gpio[i];
        if (want < 0 || gpio_dir(l->ctx, (int)i) != HK_GPIO_OUT || gpio_read(l->ctx, (int)i) == want) continue;
        int rc = gpio_set(l->ctx, (int)i, want);
        if (rc < 0) {
            log_err("gpio: cannot set %s to %d: %s", gpio_name(l->ctx, (int)i), want, strerror(-rc));
            continue;
        }
        if (!have_now) { now = hk_clock_now(); have_now = 1; }
        if (out) hall_output_changed(l->hall, gpio_name(l->ctx, (int)i), want, now, out);
    }
    if (have_now) log_notice("gpio: outputs set for the emergency state");
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
    free(levels);
    lines_apply(l, &l->early);
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

static hv *ok_reply(const hv *req)
{
    hv *r = hv_map();
    hv_set(r, "t", hv_str("ok"));
    hv_set(r, "id", hv_dup(hv_get(req, "id")));
    return r;
}

void lines_command(void *arg, const hk_session *s, const hv *req, hk_out *out)
{
    hk_lines *l = arg;
    (void)s;
    const hv *id = hv_get(req, "id");
    if (!strcmp(out->deferred, "gpio.list")) {
        hv *r = ok_reply(req), *lines = hv_arr();
        for (size_t i = 0; i < gpio_count(l->ctx); i++) hv_push(lines, line_view(l, (int)i));
        hv_set(r, "lines", lines);
        hv_set(r, "backend", hv_str(gpio_backend(l->ctx)));
        out->reply = r;
        return;
    }
    /* gpio.sim.set */
    const char *name = hv_get_str(req, "line");
    int64_t value;
    if (!name || hv_get_int(req, "value", &value) < 0 || (value != 0 && value != 1)) {
        out->reply = hall_err_reply(id, "bad_request", "gpio.sim.set needs line (a name) and value (0 or 1)");
        return;
    }
    if (strcmp(gpio_backend(l->ctx), "sim") != 0) {
        out->reply = hall_err_reply(id, "unavailable", "gpio.sim.set works on the sim backend only");
        return;
    }
    int idx = gpio_find(l->ctx, name);
    if (idx < 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "no GPIO line '%.64s'", name);
        out->reply = hall_err_reply(id, "not_found", msg);
        return;
    }
    int rc;
    if (gpio_dir(l->ctx, idx) == HK_GPIO_IN) {
        rc = gpio_sim_inject(l->ctx, idx, (int)value);   /* then debounce, events, triggers */
    } else {
        rc = gpio_set(l->ctx, idx, (int)value);
        if (rc == 0) hall_output_changed(l->hall, name, (int)value, hk_clock_now(), out);
    }
    if (rc < 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "cannot set %.64s: %s", name, strerror(-rc));
        out->reply = hall_err_reply(id, "unavailable", msg);
        return;
    }
    hv *r = ok_reply(req), *lv = line_view(l, idx);
    hv_set(lv, "value", hv_int(value));
    hv_set(r, "line", lv);
    out->reply = r;
}

void lines_close(hk_lines *l)
{
    if (!l) return;
    if (gpio_safe_all(l->ctx) < 0) log_err("gpio: not every output reached its safe value");
    else log_notice("gpio: outputs in their safe state");
    gpio_close(l->ctx, NULL, NULL);
    hk_out_clear(&l->early);
    free(l);
}
