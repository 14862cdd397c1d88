/* test_gpio.c: gpio/ on a real libuv loop with the sim backend (edges travel through the pipe,
 * the uv_poll_t and the debounce timer as real ones do), plus the gpiod backend's error on a
 * machine without the named chip. Every test ends with uv_loop_close() == 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gpio/gpio.h"
#include "core/log.h"

/* The demo hall's lines (contract.md "Configuration"). */
static const hk_gpio_line_cfg demo_lines[] = {
    { .name = "fire_panel", .chip = "gpiochip0", .offset = 17, .dir = HK_GPIO_IN, .active_low = true,
      .debounce_ms = 50 },
    { .name = "door_main", .chip = "gpiochip0", .offset = 22, .dir = HK_GPIO_OUT, .normal = 0, .safe = 1 },
    { .name = "power_nonfire", .chip = "gpiochip0", .offset = 23, .dir = HK_GPIO_OUT, .normal = 1, .safe = 0 },
    { .name = "hvac_fans", .chip = "gpiochip0", .offset = 24, .dir = HK_GPIO_OUT, .normal = 1, .safe = 0 },
    { .name = "siren", .chip = "gpiochip0", .offset = 25, .dir = HK_GPIO_OUT, .normal = 0, .safe = 0 },
};
#define NDEMO (sizeof demo_lines / sizeof demo_lines[0])

typedef struct {
    struct { int idx, value; uint64_t ts; uint64_t loop_ms; } edges[64];
    int nedges;
    struct { int idx, value; } outs[64];
    int nouts;
    int closed;
    uv_loop_t *loop;
} rec;

static void on_edge(void *arg, int idx, int value, uint64_t ts_ms)
{
    rec *r = arg;
    assert_true(r->nedges < 64);
    r->edges[r->nedges].idx = idx;
    r->edges[r->nedges].value = value;
    r->edges[r->nedges].ts = ts_ms;
    r->edges[r->nedges].loop_ms = uv_now(r->loop);
    r->nedges++;
}

static void on_output(void *arg, int idx, int value)
{
    rec *r = arg;
    assert_true(r->nouts < 64);
    r->outs[r->nouts].idx = idx;
    r->outs[r->nouts].value = value;
    r->nouts++;
}

static void on_closed(void *arg) { ((rec *)arg)->closed++; }

typedef struct {
    uv_loop_t loop;
    uv_timer_t guard;
    int guard_fired;
    rec r;
} fixture;

static void on_guard(uv_timer_t *t) { ((fixture *)t->data)->guard_fired = 1; }

static fixture *fx_new(void)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    uv_timer_init(&f->loop, &f->guard);
    f->guard.data = f;
    f->r.loop = &f->loop;
    return f;
}

/* Runs the loop for ms milliseconds, or until the number of edges reaches want_edges (>= 0). */
static void run_for(fixture *f, uint64_t ms, int want_edges)
{
    f->guard_fired = 0;
    uv_timer_start(&f->guard, on_guard, ms, 0);
    while (!f->guard_fired && (want_edges < 0 || f->r.nedges < want_edges))
        uv_run(&f->loop, UV_RUN_ONCE);
    uv_timer_stop(&f->guard);
}

/* Closes ctx (if any) and the fixture; asserts that nothing was left on the loop. Returns the
 * number of edges reported in all. */
static int fx_end(fixture *f, gpio_ctx *ctx)
{
    if (ctx) {
        int before = f->r.closed;
        gpio_close(ctx, on_closed, &f->r);
        assert_int_equal(f->r.closed, before);   /* never inside gpio_close */
    }
    uv_close((uv_handle_t *)&f->guard, NULL);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    if (ctx) assert_int_equal(f->r.closed, 1);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    int n = f->r.nedges;
    free(f);
    return n;
}

static gpio_ctx *open_demo(fixture *f)
{
    char err[256];
    gpio_ctx *ctx = gpio_open(&f->loop, demo_lines, NDEMO, "sim", on_edge, on_output, &f->r, err, sizeof err);
    if (!ctx) fail_msg("gpio_open: %s", err);
    return ctx;
}

static int setup(void **state)
{
    unsetenv("HALL_SIM_GPIO_INIT");
    return 0;
}

static void test_open_demo(void **state)
{
    fixture *f = fx_new();
    gpio_ctx *ctx = open_demo(f);
    assert_string_equal(gpio_backend(ctx), "sim");
    assert_int_equal(gpio_count(ctx), NDEMO);
    for (size_t i = 0; i < NDEMO; i++) {
        assert_int_equal(gpio_find(ctx, demo_lines[i].name), (int)i);
        assert_string_equal(gpio_name(ctx, (int)i), demo_lines[i].name);
        assert_int_equal(gpio_dir(ctx, (int)i), demo_lines[i].dir);
        int want = demo_lines[i].dir == HK_GPIO_OUT ? demo_lines[i].normal : 0;
        assert_int_equal(gpio_read(ctx, (int)i), want);
    }
    assert_int_equal(gpio_find(ctx, "no_such_line"), -1);
    assert_int_equal(gpio_find(ctx, NULL), -1);
    assert_null(gpio_name(ctx, 5));
    assert_null(gpio_name(ctx, -1));
    assert_int_equal(gpio_read(ctx, 99), -EINVAL);
    assert_int_equal(gpio_dir(ctx, 99), -EINVAL);
    /* nothing happens on its own */
    run_for(f, 120, -1);
    assert_int_equal(f->r.nedges, 0);
    assert_int_equal(f->r.nouts, 0);
    fx_end(f, ctx);
}

static void test_sim_init_env(void **state)
{
    setenv("HALL_SIM_GPIO_INIT", "fire_panel=1,no_such=0,door_main=1,bad", 1);
    fixture *f = fx_new();
    gpio_ctx *ctx = open_demo(f);
    int fire = gpio_find(ctx, "fire_panel"), door = gpio_find(ctx, "door_main");
    assert_int_equal(gpio_read(ctx, fire), 1);       /* an active fire contact from the start */
    assert_int_equal(gpio_read(ctx, door), 0);       /* outputs start at normal, whatever the env says */
    run_for(f, 120, -1);
    assert_int_equal(f->r.nedges, 0);                /* a level at open is read, not reported */
    /* the wire really is at 1: the contact opening is an edge to 0 */
    assert_int_equal(gpio_sim_inject(ctx, fire, 0), 0);
    run_for(f, 1000, 1);
    assert_int_equal(f->r.nedges, 1);
    assert_int_equal(f->r.edges[0].value, 0);
    fx_end(f, ctx);
    unsetenv("HALL_SIM_GPIO_INIT");
}

static void test_inject_debounced(void **state)
{
    fixture *f = fx_new();
    gpio_ctx *ctx = open_demo(f);
    int fire = gpio_find(ctx, "fire_panel");
    uv_update_time(&f->loop);
    uint64_t t0 = uv_now(&f->loop);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t wall0 = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;

    assert_int_equal(gpio_sim_inject(ctx, fire, 1), 0);
    assert_int_equal(gpio_read(ctx, fire), 0);       /* not before the loop read and debounced it */
    run_for(f, 2000, 1);
    assert_int_equal(f->r.nedges, 1);
    assert_int_equal(f->r.edges[0].idx, fire);
    assert_int_equal(f->r.edges[0].value, 1);
    assert_true(f->r.edges[0].loop_ms - t0 >= 49);   /* held back for debounce_ms */
    assert_true(f->r.edges[0].ts >= wall0 && f->r.edges[0].ts < wall0 + 2000);
    assert_int_equal(gpio_read(ctx, fire), 1);
    /* same level again: an edge record, but no change to report */
    assert_int_equal(gpio_sim_inject(ctx, fire, 1), 0);
    run_for(f, 150, -1);
    assert_int_equal(f->r.nedges, 1);
    assert_int_equal(f->r.nouts, 0);
    fx_end(f, ctx);
}

static void test_bounce(void **state)
{
    fixture *f = fx_new();
    gpio_ctx *ctx = open_demo(f);
    int fire = gpio_find(ctx, "fire_panel");
    assert_int_equal(gpio_sim_inject(ctx, fire, 1), 0);
    assert_int_equal(gpio_sim_inject(ctx, fire, 0), 0);
    assert_int_equal(gpio_sim_inject(ctx, fire, 1), 0);
    run_for(f, 300, -1);
    assert_int_equal(f->r.nedges, 1);
    assert_int_equal(f->r.edges[0].value, 1);

    assert_int_equal(gpio_sim_inject(ctx, fire, 0), 0);
    run_for(f, 1000, 2);
    assert_int_equal(f->r.nedges, 2);
    assert_int_equal(f->r.edges[1].value, 0);
    fx_end(f, ctx);
}

/* Bounces spread over several loop turns: every edge restarts the quiet period, so the level is
 * reported debounce_ms after the LAST edge, and a burst that ends where it began is no change.
 * A long debounce keeps this true on a loaded machine (a stall only delays, never reorders). */
static void test_bounce_restarts_timer(void **state)
{
    const hk_gpio_line_cfg lines[] = {
        { .name = "contact", .chip = "gpiochip0", .offset = 4, .dir = HK_GPIO_IN, .debounce_ms = 300 },
    };
    fixture *f = fx_new();
    char err[256];
    gpio_ctx *ctx = gpio_open(&f->loop, lines, 1, "sim", on_edge, NULL, &f->r, err, sizeof err);
    assert_non_null(ctx);
    for (int i = 0; i < 4; i++) {            /* 1 0 1 0, 40 ms apart */
        assert_int_equal(gpio_sim_inject(ctx, 0, i % 2 ? 0 : 1), 0);
        run_for(f, 40, -1);
    }
    run_for(f, 600, -1);
    assert_int_equal(f->r.nedges, 0);
    assert_int_equal(gpio_read(ctx, 0), 0);

    /* 1, then 0 after 200 ms, then 1 after 50 more: a timer that ran from the first edge would
     * fire at 300 ms and report 1 only 50 ms after the last edge */
    assert_int_equal(gpio_sim_inject(ctx, 0, 1), 0);
    run_for(f, 200, -1);
    assert_int_equal(gpio_sim_inject(ctx, 0, 0), 0);
    run_for(f, 50, -1);
    uv_update_time(&f->loop);
    uint64_t t_last = uv_now(&f->loop);
    assert_int_equal(gpio_sim_inject(ctx, 0, 1), 0);
    run_for(f, 3000, 1);
    assert_int_equal(f->r.nedges, 1);
    assert_int_equal(f->r.edges[0].value, 1);
    assert_true(f->r.edges[0].loop_ms - t_last >= 299);
    fx_end(f, ctx);
}

static void test_no_debounce(void **state)
{
    const hk_gpio_line_cfg lines[] = {
        { .name = "button", .chip = "gpiochip0", .offset = 5, .dir = HK_GPIO_IN, .debounce_ms = 0 },
        { .name = "slow", .chip = "gpiochip0", .offset = 6, .dir = HK_GPIO_IN, .debounce_ms = 200 },
    };
    fixture *f = fx_new();
    char err[256];
    gpio_ctx *ctx = gpio_open(&f->loop, lines, 2, "sim", on_edge, NULL, &f->r, err, sizeof err);
    assert_non_null(ctx);
    /* debounce_ms 0: each edge is reported as it is read */
    assert_int_equal(gpio_sim_inject(ctx, 0, 1), 0);
    assert_int_equal(gpio_sim_inject(ctx, 0, 0), 0);
    assert_int_equal(gpio_sim_inject(ctx, 0, 1), 0);
    run_for(f, 1000, 3);
    assert_int_equal(f->r.nedges, 3);
    assert_int_equal(f->r.edges[0].value, 1);
    assert_int_equal(f->r.edges[1].value, 0);
    assert_int_equal(f->r.edges[2].value, 1);
    /* each line has its own debounce time */
    uv_update_time(&f->loop);
    uint64_t t0 = uv_now(&f->loop);
    assert_int_equal(gpio_sim_inject(ctx, 1, 1), 0);
    run_for(f, 2000, 4);
    assert_int_equal(f->r.nedges, 4);
    assert_int_equal(f->r.edges[3].idx, 1);
    assert_true(f->r.edges[3].loop_ms - t0 >= 199);
    fx_end(f, ctx);
}

static void test_outputs(void **state)
{
    fixture *f = fx_new();
    gpio_ctx *ctx = open_demo(f);
    int fire = gpio_find(ctx, "fire_panel"), door = gpio_find(ctx, "door_main"),
        power = gpio_find(ctx, "power_nonfire"), hvac = gpio_find(ctx, "hvac_fans"), siren = gpio_find(ctx, "siren");

    assert_int_equal(gpio_set(ctx, door, 1), 0);
    assert_int_equal(gpio_read(ctx, door), 1);        /* immediate, no loop turn needed */
    assert_int_equal(f->r.nouts, 1);
    assert_int_equal(f->r.outs[0].idx, door);
    assert_int_equal(f->r.outs[0].value, 1);
    assert_int_equal(gpio_set(ctx, door, 1), 0);      /* no change, no report */
    assert_int_equal(f->r.nouts, 1);
    assert_int_equal(gpio_set(ctx, siren, 1), 0);
    assert_int_equal(gpio_read(ctx, siren), 1);
    assert_int_equal(f->r.nouts, 2);

    /* refused: an input, a bad index, a value that is not 0/1 */
    assert_int_equal(gpio_set(ctx, fire, 1), -EPERM);
    assert_int_equal(gpio_read(ctx, fire), 0);
    assert_int_equal(gpio_set(ctx, 42, 1), -EINVAL);
    assert_int_equal(gpio_set(ctx, -1, 1), -EINVAL);
    assert_int_equal(gpio_set(ctx, door, 2), -EINVAL);
    assert_int_equal(gpio_sim_inject(ctx, door, 1), -EPERM);
    assert_int_equal(gpio_sim_inject(ctx, fire, 3), -EINVAL);
    assert_int_equal(f->r.nouts, 2);

    /* shutdown: door 1 (released), power 0, fans 0, siren 0; only changes are reported */
    assert_int_equal(gpio_set(ctx, door, 0), 0);
    f->r.nouts = 0;
    assert_int_equal(gpio_safe_all(ctx), 0);
    assert_int_equal(gpio_read(ctx, door), 1);
    assert_int_equal(gpio_read(ctx, power), 0);
    assert_int_equal(gpio_read(ctx, hvac), 0);
    assert_int_equal(gpio_read(ctx, siren), 0);
    assert_int_equal(gpio_read(ctx, fire), 0);
    assert_int_equal(f->r.nouts, 4);
    assert_int_equal(gpio_safe_all(ctx), 0);
    assert_int_equal(f->r.nouts, 4);
    run_for(f, 60, -1);
    assert_int_equal(f->r.nedges, 0);
    fx_end(f, ctx);
}

/* Every refused configuration leaves nothing on the loop. */
static void expect_open_error(const hk_gpio_line_cfg *lines, size_t n, const char *backend, const char *want)
{
    fixture *f = fx_new();
    char err[256] = "unchanged";
    gpio_ctx *ctx = gpio_open(&f->loop, lines, n, backend, on_edge, on_output, &f->r, err, sizeof err);
    assert_null(ctx);
    if (!strstr(err, want)) fail_msg("error '%s' does not say '%s'", err, want);
    fx_end(f, NULL);
}

static void test_open_errors(void **state)
{
    hk_gpio_line_cfg lines[NDEMO];
    memcpy(lines, demo_lines, sizeof lines);
    lines[3].offset = 22;   /* hvac_fans on door_main's pin */
    expect_open_error(lines, NDEMO, "sim", "gpio lines 'door_main' and 'hvac_fans' are both gpiochip0 offset 22");

    memcpy(lines, demo_lines, sizeof lines);
    lines[4].name = "door_main";
    expect_open_error(lines, NDEMO, "sim", "gpio line name 'door_main' is used twice");

    memcpy(lines, demo_lines, sizeof lines);
    lines[1].safe = 2;
    expect_open_error(lines, NDEMO, "sim", "normal and safe must be 0 or 1");

    memcpy(lines, demo_lines, sizeof lines);
    lines[0].debounce_ms = -5;
    expect_open_error(lines, NDEMO, "sim", "debounce_ms");

    expect_open_error(demo_lines, NDEMO, "wiringpi", "unknown gpio backend 'wiringpi' (sim or gpiod)");
    expect_open_error(demo_lines, NDEMO, NULL, "unknown gpio backend");
}

/* This machine has no GPIO chip (CI, containers): the gpiod backend must refuse with a clear
 * reason, not crash and not leak. On a Pi, gpiochip9 does not exist either. */
static void test_gpiod_no_chip(void **state)
{
    if (access("/dev/gpiochip9", F_OK) == 0) skip();
    hk_gpio_line_cfg lines[NDEMO];
    memcpy(lines, demo_lines, sizeof lines);
    for (size_t i = 0; i < NDEMO; i++) lines[i].chip = "gpiochip9";
    expect_open_error(lines, NDEMO, "gpiod", "gpiochip9: no such GPIO chip");
    if (access("/dev/gpiochip0", F_OK) != 0)
        expect_open_error(demo_lines, NDEMO, "gpiod", "gpiochip0: no such GPIO chip");
}

static void test_sim_only_calls(void **state)
{
    /* gpio_sim_inject is refused on a context that is not sim; without a chip, build none and
     * check the NULL and range guards instead */
    assert_int_equal(gpio_sim_inject(NULL, 0, 1), -EINVAL);
    assert_int_equal(gpio_set(NULL, 0, 1), -EINVAL);
    assert_int_equal(gpio_read(NULL, 0), -EINVAL);
    assert_int_equal(gpio_count(NULL), 0);
}

/* A closing context reports nothing more, even with an edge waiting out its debounce. */
static void test_close_with_pending_edge(void **state)
{
    fixture *f = fx_new();
    gpio_ctx *ctx = open_demo(f);
    assert_int_equal(gpio_sim_inject(ctx, 0, 1), 0);
    run_for(f, 10, -1);          /* read from the pipe: the debounce timer is running */
    assert_int_equal(gpio_sim_inject(ctx, 0, 0), 0);  /* and one still in the pipe */
    int before = f->r.nedges;   /* 0, unless a stalled machine let the timer fire already */
    /* fx_end runs the loop to completion: had the timer survived, the edge would be reported */
    assert_int_equal(fx_end(f, ctx), before);
}

/* Closing from inside on_edge: the edges still waiting in the same read are not reported. */
typedef struct { gpio_ctx *ctx; rec *r; } closer;
static void close_on_edge(void *arg, int idx, int value, uint64_t ts)
{
    closer *c = arg;
    on_edge(c->r, idx, value, ts);
    gpio_close(c->ctx, on_closed, c->r);
    gpio_close(c->ctx, on_closed, c->r);   /* a second close is ignored */
}

static void test_close_inside_callback(void **state)
{
    const hk_gpio_line_cfg lines[] = {
        { .name = "button", .chip = "gpiochip0", .offset = 5, .dir = HK_GPIO_IN, .debounce_ms = 0 },
    };
    fixture *f = fx_new();
    closer c = { NULL, &f->r };
    char err[256];
    c.ctx = gpio_open(&f->loop, lines, 1, "sim", close_on_edge, NULL, &c, err, sizeof err);
    assert_non_null(c.ctx);
    assert_int_equal(gpio_sim_inject(c.ctx, 0, 1), 0);
    assert_int_equal(gpio_sim_inject(c.ctx, 0, 0), 0);
    assert_int_equal(gpio_sim_inject(c.ctx, 0, 1), 0);
    run_for(f, 1000, 1);
    uv_close((uv_handle_t *)&f->guard, NULL);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(f->r.nedges, 1);
    assert_int_equal(f->r.closed, 1);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
}

/* The pipe holds a few thousand records; beyond that inject says so instead of blocking. */
static void test_inject_flood(void **state)
{
    fixture *f = fx_new();
    gpio_ctx *ctx = open_demo(f);
    int r = 0, i;
    for (i = 0; i < 100000 && r == 0; i++) r = gpio_sim_inject(ctx, 0, i % 2 ? 0 : 1);
    assert_int_equal(r, -EAGAIN);
    assert_true(i > 100);
    run_for(f, 1000, 1);
    /* the last accepted record was i-2 (i-1 failed): the level settles there, one report */
    int last = (i - 2) % 2 ? 0 : 1;
    assert_int_equal(gpio_read(ctx, 0), last);
    assert_int_equal(f->r.nedges, last ? 1 : 0);
    fx_end(f, ctx);
}

/* Outputs only: no input handle, still closes through the loop. */
static void test_outputs_only(void **state)
{
    fixture *f = fx_new();
    char err[256];
    gpio_ctx *ctx = gpio_open(&f->loop, demo_lines + 1, NDEMO - 1, "sim", on_edge, NULL, &f->r, err, sizeof err);
    assert_non_null(ctx);
    assert_int_equal(gpio_set(ctx, 0, 1), 0);       /* on_output NULL: fine */
    assert_int_equal(gpio_read(ctx, 0), 1);
    fx_end(f, ctx);
    /* and no lines at all */
    f = fx_new();
    ctx = gpio_open(&f->loop, NULL, 0, "sim", NULL, NULL, NULL, err, sizeof err);
    assert_non_null(ctx);
    assert_int_equal(gpio_count(ctx), 0);
    assert_int_equal(gpio_safe_all(ctx), 0);
    fx_end(f, ctx);
}

/* The emergency path: an edge handler drives outputs at once, from inside the callback. */
typedef struct { gpio_ctx *ctx; rec r; } chain;
static void chain_edge(void *arg, int idx, int value, uint64_t ts)
{
    chain *c = arg;
    on_edge(&c->r, idx, value, ts);
    if (value == 1) {
        assert_int_equal(gpio_set(c->ctx, gpio_find(c->ctx, "door_main"), 1), 0);
        assert_int_equal(gpio_set(c->ctx, gpio_find(c->ctx, "siren"), 1), 0);
    }
}
static void chain_out(void *arg, int idx, int value) { on_output(&((chain *)arg)->r, idx, value); }

static void test_edge_drives_outputs(void **state)
{
    fixture *f = fx_new();
    chain c = { 0 };
    c.r.loop = &f->loop;
    char err[256];
    c.ctx = gpio_open(&f->loop, demo_lines, NDEMO, "sim", chain_edge, chain_out, &c, err, sizeof err);
    assert_non_null(c.ctx);
    assert_int_equal(gpio_sim_inject(c.ctx, 0, 1), 0);
    f->guard_fired = 0;
    uv_timer_start(&f->guard, on_guard, 2000, 0);
    while (!f->guard_fired && c.r.nedges < 1) uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(c.r.nedges, 1);
    assert_int_equal(c.r.nouts, 2);
    assert_int_equal(gpio_read(c.ctx, gpio_find(c.ctx, "door_main")), 1);
    assert_int_equal(gpio_read(c.ctx, gpio_find(c.ctx, "siren")), 1);
    fx_end(f, c.ctx);
}

int main(void)
{
    hk_log_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_open_demo, setup),
        cmocka_unit_test_setup(test_sim_init_env, setup),
        cmocka_unit_test_setup(test_inject_debounced, setup),
        cmocka_unit_test_setup(test_bounce, setup),
        cmocka_unit_test_setup(test_bounce_restarts_timer, setup),
        cmocka_unit_test_setup(test_no_debounce, setup),
        cmocka_unit_test_setup(test_outputs, setup),
        cmocka_unit_test_setup(test_open_errors, setup),
        cmocka_unit_test_setup(test_gpiod_no_chip, setup),
        cmocka_unit_test_setup(test_sim_only_calls, setup),
        cmocka_unit_test_setup(test_close_with_pending_edge, setup),
        cmocka_unit_test_setup(test_close_inside_callback, setup),
        cmocka_unit_test_setup(test_inject_flood, setup),
        cmocka_unit_test_setup(test_outputs_only, setup),
        cmocka_unit_test_setup(test_edge_drives_outputs, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
