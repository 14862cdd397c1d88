/* gpio.c: the backend-independent half of gpio.h: the line table, validation, the poll and
 * debounce path every input edge goes through (real or simulated), output reporting, closing. */
#include "gpio_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static gpio_line *line_at(const gpio_ctx *ctx, int idx)
{
    if (!ctx || idx < 0 || (size_t)idx >= ctx->n) return NULL;
    return &ctx->lines[idx];
}

/* ---- reporting and debounce ---- */

static void report(gpio_line *l, int value)
{
    gpio_ctx *ctx = l->ctx;
    if (ctx->closing || value == l->value) return;
    l->value = value;
    log_info("gpio: input %s = %d", l->name, value);
    if (ctx->on_edge) ctx->on_edge(ctx->arg, l->idx, value, l->edge_ms);
}

static void on_debounce(uv_timer_t *t)
{
    gpio_line *l = t->data;
    int v = l->external ? l->sim_level : l->ctx->be->level(l);
    if (v < 0) {
        log_err("gpio: cannot read input %s: %s", l->name, strerror(-v));
        return;
    }
    report(l, v);
}

void gpio__edge(gpio_line *l, int value)
{
    if (l->ctx->closing) return;
    l->edge_ms = wall_ms();
    if (l->debounce_ms <= 0)
        report(l, value ? 1 : 0);
    else /* every edge restarts the quiet period; the level is read once it has passed */
        uv_timer_start(&l->debounce, on_debounce, (uint64_t)l->debounce_ms, 0);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    gpio_line *l = p->data;
    int r = status < 0 ? status : l->ctx->be->drain(l);
    if (r < 0 && r != -EAGAIN) {
        /* a watcher that keeps failing would spin the loop: stop it, say so loudly */
        log_err("gpio: input %s stopped: %s", l->name, status < 0 ? uv_strerror(r) : strerror(-r));
        uv_poll_stop(p);
    }
}

/* ---- open ---- */

static int copy_lines(gpio_ctx *ctx, const hk_gpio_line_cfg *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < ctx->n; i++) {
        const hk_gpio_line_cfg *c = &cfg[i];
        gpio_line *l = &ctx->lines[i];
        l->ctx = ctx;
        l->idx = (int)i;
        l->fd = l->sim_wfd = -1;
        if (!c->name || !*c->name) return fail(err, errlen, "gpio line %zu has no name", i);
        if (!c->chip || !*c->chip) return fail(err, errlen, "gpio line '%s' has no chip", c->name);
        if (c->offset < 0)
            return fail(err, errlen, "gpio line '%s': offset %d is negative", c->name, c->offset);
        if (c->dir != HK_GPIO_IN && c->dir != HK_GPIO_OUT)
            return fail(err, errlen, "gpio line '%s': dir must be in or out", c->name);
        if (c->dir == HK_GPIO_OUT && ((c->normal != 0 && c->normal != 1) || (c->safe != 0 && c->safe != 1)))
            return fail(err, errlen, "gpio line '%s': normal and safe must be 0 or 1", c->name);
        if (c->dir == HK_GPIO_IN && (c->debounce_ms < 0 || c->debounce_ms > 60000))
            return fail(err, errlen, "gpio line '%s': debounce_ms must be 0..60000, got %d", c->name,
                        c->debounce_ms);
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(cfg[j].name, c->name))
                return fail(err, errlen, "gpio line name '%s' is used twice", c->name);
            if (!strcmp(cfg[j].chip, c->chip) && cfg[j].offset == c->offset)
                return fail(err, errlen, "gpio lines '%s' and '%s' are both %s offset %d", cfg[j].name,
                            c->name, c->chip, c->offset);
        }
        l->name = strdup(c->name);
        l->chip = strdup(c->chip);
        if (!l->name || !l->chip) return fail(err, errlen, "out of memory");
        l->offset = c->offset;
        l->dir = c->dir;
        l->active_low = c->active_low;
        l->debounce_ms = c->dir == HK_GPIO_IN ? c->debounce_ms : 0;
        l->normal = c->dir == HK_GPIO_OUT ? c->normal : 0;
        l->safe = c->dir == HK_GPIO_OUT ? c->safe : 0;
        l->external = c->external && c->dir == HK_GPIO_IN;
    }
    return 0;
}

static void free_ctx(gpio_ctx *ctx)
{
    for (size_t i = 0; i < ctx->n; i++) {
        free(ctx->lines[i].name);
        free(ctx->lines[i].chip);
    }
    free(ctx->lines);
    free(ctx);
}

static void dispose(gpio_ctx *ctx);

gpio_ctx *gpio_open(uv_loop_t *loop, const hk_gpio_line_cfg *lines, size_t n, const char *backend,
                    gpio_edge_cb on_edge, gpio_output_cb on_output, void *arg, char *err, size_t errlen)
{
    char scratch[160];
    if (!err || !errlen) {   /* the backends always write a reason */
        err = scratch;
        errlen = sizeof scratch;
    }
    err[0] = '\0';
    if (!loop || (n && !lines)) {
        fail(err, errlen, "gpio_open: no loop or no lines");
        return NULL;
    }
    const gpio_backend_ops *be = NULL;
    if (backend && !strcmp(backend, "sim")) be = &gpio__sim_ops;
    else if (backend && !strcmp(backend, "gpiod")) be = &gpio__gpiod_ops;
    else {
        fail(err, errlen, "unknown gpio backend '%s' (sim or gpiod)", backend ? backend : "(none)");
        return NULL;
    }
    gpio_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx || !(ctx->lines = calloc(n ? n : 1, sizeof *ctx->lines))) {
        free(ctx);
        fail(err, errlen, "out of memory");
        return NULL;
    }
    ctx->loop = loop;
    ctx->be = be;
    ctx->n = n;
    ctx->on_edge = on_edge;
    ctx->on_output = on_output;
    ctx->arg = arg;
    if (copy_lines(ctx, lines, err, errlen) < 0) {
        free_ctx(ctx);
        return NULL;
    }
    if (be->open(ctx, err, errlen) < 0) {
        be->release(ctx);
        free_ctx(ctx);
        return NULL;
    }
    /* From here on, handles exist: a failure closes them through the loop. */
    uv_timer_init(loop, &ctx->gate);
    ctx->gate.data = ctx;
    for (size_t i = 0; i < n; i++) {
        gpio_line *l = &ctx->lines[i];
        if (l->dir != HK_GPIO_IN) continue;
        uv_timer_init(loop, &l->debounce);
        l->debounce.data = l;
        l->timer_init = true;
        if (l->external) continue;        /* no fd: gpio_external_set feeds it */
        int r = uv_poll_init(loop, &l->poll, l->fd);
        if (r == 0) {
            l->poll.data = l;
            l->poll_init = true;
            r = uv_poll_start(&l->poll, UV_READABLE, on_poll);
        }
        if (r < 0) {
            fail(err, errlen, "gpio line '%s': cannot watch its events: %s", l->name, uv_strerror(r));
            dispose(ctx);
            return NULL;
        }
    }
    log_info("gpio: %zu line(s) on the %s backend", n, be->name);
    return ctx;
}

/* ---- close ---- */

static void closed(uv_handle_t *h)
{
    gpio_ctx *ctx = h->data;
    if (--ctx->pending > 0) return;
    gpio_close_cb cb = ctx->close_cb;
    void *arg = ctx->close_arg;
    ctx->be->release(ctx);   /* only now: no poll watches the fds any more */
    free_ctx(ctx);
    if (cb) cb(arg);
}

static void close_one(gpio_ctx *ctx, uv_handle_t *h)
{
    h->data = ctx;   /* no callback of the handle runs any more: only closed() needs it */
    ctx->pending++;
    uv_close(h, closed);
}

static void dispose(gpio_ctx *ctx)
{
    ctx->closing = true;
    for (size_t i = 0; i < ctx->n; i++) {
        gpio_line *l = &ctx->lines[i];
        if (l->timer_init) close_one(ctx, (uv_handle_t *)&l->debounce);
        if (l->poll_init) close_one(ctx, (uv_handle_t *)&l->poll);
    }
    close_one(ctx, (uv_handle_t *)&ctx->gate);
}

void gpio_close(gpio_ctx *ctx, gpio_close_cb close_cb, void *arg)
{
    if (!ctx || ctx->closing) return;
    ctx->close_cb = close_cb;
    ctx->close_arg = arg;
    dispose(ctx);
}

/* ---- queries and outputs ---- */

size_t gpio_count(const gpio_ctx *ctx) { return ctx ? ctx->n : 0; }

const char *gpio_name(const gpio_ctx *ctx, int idx)
{
    const gpio_line *l = line_at(ctx, idx);
    return l ? l->name : NULL;
}

int gpio_dir(const gpio_ctx *ctx, int idx)
{
    const gpio_line *l = line_at(ctx, idx);
    return l ? l->dir : -EINVAL;
}

int gpio_find(const gpio_ctx *ctx, const char *name)
{
    if (!ctx || !name) return -1;
    for (size_t i = 0; i < ctx->n; i++)
        if (!strcmp(ctx->lines[i].name, name)) return (int)i;
    return -1;
}

const char *gpio_backend(const gpio_ctx *ctx) { return ctx ? ctx->be->name : NULL; }

int gpio_external_set(gpio_ctx *ctx, int idx, int value)
{
    gpio_line *l = line_at(ctx, idx);
    if (!l || (value != 0 && value != 1)) return -EINVAL;
    if (!l->external) return -EPERM;
    if (ctx->closing) return -ECANCELED;
    l->sim_level = value;      /* the level the debounce reads back */
    gpio__edge(l, value);      /* debounced and reported like a wire's edge */
    return 0;
}

int gpio_read(const gpio_ctx *ctx, int idx)
{
    const gpio_line *l = line_at(ctx, idx);
    return l ? l->value : -EINVAL;
}

int gpio_set(gpio_ctx *ctx, int idx, int value)
{
    gpio_line *l = line_at(ctx, idx);
    if (!l || (value != 0 && value != 1)) return -EINVAL;
    if (l->dir != HK_GPIO_OUT) return -EPERM;
    int r = ctx->be->write(l, value);   /* the line first: reporting may be slow, the door may not */
    if (r < 0) {
        log_err("gpio: cannot set %s to %d: %s", l->name, value, strerror(-r));
        return r;
    }
    if (l->value == value) return 0;
    l->value = value;
    log_debug("gpio: output %s = %d", l->name, value);
    if (ctx->on_output) ctx->on_output(ctx->arg, idx, value);
    return 0;
}

int gpio_safe_all(gpio_ctx *ctx)
{
    int first = 0;
    if (!ctx) return -EINVAL;
    for (size_t i = 0; i < ctx->n; i++) {
        if (ctx->lines[i].dir != HK_GPIO_OUT) continue;
        int r = gpio_set(ctx, (int)i, ctx->lines[i].safe);
        if (r < 0 && !first) first = r;
    }
    return first;
}
