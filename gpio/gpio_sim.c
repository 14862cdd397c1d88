/* gpio_sim.c: the simulated backend. No hardware: outputs are remembered, each input is a pipe
 * whose records are edges on a simulated wire, so injected edges reach the daemon through the
 * same uv_poll_t and debounce path as edges of real lines. Values are logical (active_low is a
 * property of the wiring, which the simulator does not have). HALL_SIM_GPIO_INIT="fire_panel=1,x=0"
 * sets initial input levels (default 0, inactive). */
#include "gpio_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

typedef struct { int32_t idx, value; } sim_rec;   /* 8 bytes: one write() is atomic on a pipe */

/* Applies HALL_SIM_GPIO_INIT. A typo must not pass silently (a test would start with the wrong
 * level), but it is a test aid, not configuration: warn and go on. */
static void sim_apply_init(gpio_ctx *ctx)
{
    const char *env = getenv("HALL_SIM_GPIO_INIT");
    if (!env || !*env) return;
    const char *p = env;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        int idx = -1;
        if (eq && (size_t)(eq - p) < 128) {
            char name[128];
            memcpy(name, p, (size_t)(eq - p));
            name[eq - p] = '\0';
            idx = gpio_find(ctx, name);
        }
        size_t vlen = eq ? len - (size_t)(eq - p) - 1 : 0;
        if (idx < 0 || vlen != 1 || (eq[1] != '0' && eq[1] != '1')) {
            log_warn("gpio: HALL_SIM_GPIO_INIT: ignoring '%.*s' (want NAME=0|1 with NAME an input line)",
                     (int)len, p);
        } else if (ctx->lines[idx].dir != HK_GPIO_IN) {
            log_warn("gpio: HALL_SIM_GPIO_INIT: '%s' is an output; outputs start at their normal value",
                     ctx->lines[idx].name);
        } else {
            ctx->lines[idx].sim_level = ctx->lines[idx].value = eq[1] - '0';
        }
        p += len;
        if (*p == ',') p++;
    }
}

static int sim_open(gpio_ctx *ctx, char *err, size_t errlen)
{
    for (size_t i = 0; i < ctx->n; i++) {
        gpio_line *l = &ctx->lines[i];
        if (l->dir == HK_GPIO_OUT) {
            l->value = l->normal;
            continue;
        }
        if (l->external) continue;
        int fds[2];
        if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
            snprintf(err, errlen, "gpio line '%s': cannot create its simulator pipe: %s", l->name,
                     strerror(errno));
            return -1;
        }
        l->fd = fds[0];
        l->sim_wfd = fds[1];
        l->sim_level = l->value = 0;
    }
    sim_apply_init(ctx);
    return 0;
}

static int sim_drain(gpio_line *l)
{
    sim_rec recs[32];
    for (;;) {
        ssize_t r = read(l->fd, recs, sizeof recs);
        if (r < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
        if (r == 0) return -EPIPE;
        for (size_t i = 0; i < (size_t)r / sizeof *recs; i++) {
            if (recs[i].idx != l->idx || (recs[i].value != 0 && recs[i].value != 1)) return -EPROTO;
            l->sim_level = recs[i].value;
            gpio__edge(l, recs[i].value);
            if (l->ctx->closing) return 0;
        }
        if ((size_t)r < sizeof recs) return 0;
    }
}

static int sim_level(gpio_line *l) { return l->sim_level; }

static int sim_write(gpio_line *l, int value) { return l->sim_fail; }  /* gpio.c keeps and reports the value */

static void sim_release(gpio_ctx *ctx)
{
    for (size_t i = 0; i < ctx->n; i++) {
        gpio_line *l = &ctx->lines[i];
        if (l->fd >= 0) close(l->fd);
        if (l->sim_wfd >= 0) close(l->sim_wfd);
        l->fd = l->sim_wfd = -1;
    }
}

const gpio_backend_ops gpio__sim_ops = {
    .name = "sim", .open = sim_open, .drain = sim_drain, .level = sim_level, .write = sim_write,
    .release = sim_release,
};

int gpio_sim_fail(gpio_ctx *ctx, int idx, int err)
{
    if (!ctx || idx < 0 || (size_t)idx >= ctx->n || err > 0) return -EINVAL;
    if (ctx->be != &gpio__sim_ops) return -ENOTSUP;
    if (ctx->lines[idx].dir != HK_GPIO_OUT) return -EPERM;
    ctx->lines[idx].sim_fail = err;
    return 0;
}

int gpio_sim_inject(gpio_ctx *ctx, int idx, int value)
{
    if (!ctx || idx < 0 || (size_t)idx >= ctx->n || (value != 0 && value != 1)) return -EINVAL;
    if (ctx->be != &gpio__sim_ops) return -ENOTSUP;
    gpio_line *l = &ctx->lines[idx];
    if (l->dir != HK_GPIO_IN) return -EPERM;
    if (ctx->closing) return -ECANCELED;
    sim_rec rec = { idx, value };
    ssize_t r = write(l->sim_wfd, &rec, sizeof rec);
    if (r < 0) return -errno;
    return r == (ssize_t)sizeof rec ? 0 : -EIO;
}
