/* gpio_gpiod.c: the real backend, libgpiod v1 (Debian 12: 1.6). Outputs are requested with their
 * normal value, inputs with both-edge events; active_low is handed to the kernel, so every value
 * and edge here is already logical. v1 has no debounce: gpio.c does it with a timer. */
#include "gpio_int.h"

#include <errno.h>
#include <fcntl.h>
#include <gpiod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define CONSUMER "hallkeeper"

typedef struct {
    struct gpiod_chip **chips;   /* each chip opened once, whatever name it was given by */
    size_t nchips;
} gpiod_data;

static struct gpiod_chip *chip_open(gpiod_data *d, const char *descr, char *err, size_t errlen)
{
    errno = 0;
    struct gpiod_chip *c = gpiod_chip_open_lookup(descr);   /* name, number, path or label */
    if (!c) {
        int e = errno;
        if (e == ENOENT || e == ENODEV || e == 0)
            snprintf(err, errlen, "%s: no such GPIO chip", descr);
        else if (e == ENOTTY || e == EINVAL)
            snprintf(err, errlen, "%s: not a GPIO chip", descr);
        else if (e == EACCES || e == EPERM)
            snprintf(err, errlen, "%s: permission denied (is the user in the gpio group?)", descr);
        else
            snprintf(err, errlen, "%s: cannot open GPIO chip: %s", descr, strerror(e));
        return NULL;
    }
    /* "gpiochip0", "0" and a label may name the same chip: keep one handle per kernel chip so a
     * line given twice under two names is caught below. */
    for (size_t i = 0; i < d->nchips; i++)
        if (!strcmp(gpiod_chip_name(d->chips[i]), gpiod_chip_name(c))) {
            gpiod_chip_close(c);
            return d->chips[i];
        }
    d->chips[d->nchips++] = c;
    return c;
}

static int line_open(gpio_ctx *ctx, gpiod_data *d, gpio_line *l, char *err, size_t errlen)
{
    struct gpiod_chip *chip = NULL;
    for (size_t j = 0; j < (size_t)l->idx && !chip; j++)
        if (!strcmp(ctx->lines[j].chip, l->chip))
            chip = gpiod_line_get_chip(ctx->lines[j].hw);
    if (!chip && !(chip = chip_open(d, l->chip, err, errlen))) return -1;

    unsigned nlines = gpiod_chip_num_lines(chip);
    if ((unsigned)l->offset >= nlines) {
        snprintf(err, errlen, "%s offset %d (%s): out of range, the chip has %u lines (0..%u)", l->chip,
                 l->offset, l->name, nlines, nlines ? nlines - 1 : 0);
        return -1;
    }
    struct gpiod_line *hw = gpiod_chip_get_line(chip, (unsigned)l->offset);
    if (!hw) {
        snprintf(err, errlen, "%s offset %d (%s): %s", l->chip, l->offset, l->name, strerror(errno));
        return -1;
    }
    for (size_t j = 0; j < (size_t)l->idx; j++)
        if (ctx->lines[j].hw == hw) {
            snprintf(err, errlen, "gpio lines '%s' and '%s' are the same line (%s offset %d)",
                     ctx->lines[j].name, l->name, gpiod_chip_name(chip), l->offset);
            return -1;
        }

    int flags = l->active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0;
    int r = l->dir == HK_GPIO_OUT ? gpiod_line_request_output_flags(hw, CONSUMER, flags, l->normal)
                                  : gpiod_line_request_both_edges_events_flags(hw, CONSUMER, flags);
    if (r < 0) {
        int e = errno;
        if (e == EBUSY) {
            gpiod_line_update(hw);
            const char *who = gpiod_line_consumer(hw);
            snprintf(err, errlen, "%s offset %d (%s): line busy, used by '%s'", l->chip, l->offset, l->name,
                     who ? who : "another program or driver");
        } else {
            snprintf(err, errlen, "%s offset %d (%s): cannot request line: %s", l->chip, l->offset, l->name,
                     strerror(e));
        }
        return -1;
    }
    l->hw = hw;   /* requested: released with its chip */

    if (l->dir == HK_GPIO_OUT) {
        l->value = l->normal;
        return 0;
    }
    int v = gpiod_line_get_value(hw);
    int fd = gpiod_line_event_get_fd(hw);
    if (v < 0 || fd < 0) {
        snprintf(err, errlen, "%s offset %d (%s): cannot read input: %s", l->chip, l->offset, l->name,
                 strerror(errno));
        return -1;
    }
    /* the event fd blocks by default; the loop must never wait on it */
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        snprintf(err, errlen, "%s offset %d (%s): %s", l->chip, l->offset, l->name, strerror(errno));
        return -1;
    }
    l->value = v;
    l->fd = fd;
    return 0;
}

static int gpiod_open(gpio_ctx *ctx, char *err, size_t errlen)
{
    gpiod_data *d = calloc(1, sizeof *d);
    if (!d || !(d->chips = calloc(ctx->n ? ctx->n : 1, sizeof *d->chips))) {
        free(d);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    ctx->be_data = d;
    for (size_t i = 0; i < ctx->n; i++)
        if (!ctx->lines[i].external && line_open(ctx, d, &ctx->lines[i], err, errlen) < 0) return -1;
    return 0;
}

static int gpiod_drain(gpio_line *l)
{
    struct gpiod_line_event ev[16];
    for (;;) {
        int n = gpiod_line_event_read_fd_multiple(l->fd, ev, 16);
        if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
        for (int i = 0; i < n; i++) {
            gpio__edge(l, ev[i].event_type == GPIOD_LINE_EVENT_RISING_EDGE);
            if (l->ctx->closing) return 0;
        }
        if (n < 16) return 0;
    }
}

static int gpiod_level(gpio_line *l)
{
    int v = gpiod_line_get_value(l->hw);
    return v < 0 ? -errno : v;
}

static int gpiod_write(gpio_line *l, int value)
{
    return gpiod_line_set_value(l->hw, value) < 0 ? -errno : 0;
}

static void gpiod_release(gpio_ctx *ctx)
{
    gpiod_data *d = ctx->be_data;
    if (!d) return;
    for (size_t i = 0; i < d->nchips; i++)
        gpiod_chip_close(d->chips[i]);   /* releases its requested lines and their event fds */
    free(d->chips);
    free(d);
    ctx->be_data = NULL;
    for (size_t i = 0; i < ctx->n; i++) {
        ctx->lines[i].hw = NULL;
        ctx->lines[i].fd = -1;
    }
}

const gpio_backend_ops gpio__gpiod_ops = {
    .name = "gpiod", .open = gpiod_open, .drain = gpiod_drain, .level = gpiod_level, .write = gpiod_write,
    .release = gpiod_release,
};
