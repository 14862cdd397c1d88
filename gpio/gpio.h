/* gpio.h: the hall's GPIO lines (fire panel contacts, door releases, power and fan relays, sirens)
 * behind one small interface on the daemon's libuv loop. Two backends: "gpiod" (libgpiod v1, real
 * chips) and "sim" (in-memory lines; inputs are driven through a pipe into the same poll and
 * debounce path as real edges). All values are logical: 1 = active, active_low already applied. */
#ifndef HK_GPIO_H
#define HK_GPIO_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/config.h"

typedef struct gpio_ctx gpio_ctx;

/* An input's debounced level changed. ts_ms: wall clock (ms since the epoch) of the last edge
 * before the level settled. Not called for the levels read at open: use gpio_read for those. */
typedef void (*gpio_edge_cb)(void *arg, int idx, int value, uint64_t ts_ms);
/* An output was driven to a new value (after the line was set). */
typedef void (*gpio_output_cb)(void *arg, int idx, int value);
typedef void (*gpio_close_cb)(void *arg);

/* Requests every line: outputs start at their `normal` value (no glitch), inputs are read as
 * levels at once. backend: "sim" or "gpiod". on_output may be NULL. Returns NULL with a one-line
 * reason in err ("gpiochip9: no such GPIO chip", out-of-range offset, busy line, a line or name
 * used twice, ...). After a failure, run the loop before uv_loop_close: a few handles may still
 * be closing. */
gpio_ctx *gpio_open(uv_loop_t *loop, const hk_gpio_line_cfg *lines, size_t n, const char *backend,
                    gpio_edge_cb on_edge, gpio_output_cb on_output, void *arg, char *err, size_t errlen);

/* Stops every watcher and closes every handle; once all are closed the lines are released, ctx
 * is freed and close_cb(arg) runs (always from the loop, never inside gpio_close; may be NULL).
 * No on_edge after this call. Outputs are not changed: call gpio_safe_all first on shutdown. */
void gpio_close(gpio_ctx *ctx, gpio_close_cb close_cb, void *arg);

size_t gpio_count(const gpio_ctx *ctx);
const char *gpio_name(const gpio_ctx *ctx, int idx);   /* NULL if idx is out of range */
int gpio_dir(const gpio_ctx *ctx, int idx);            /* HK_GPIO_IN / HK_GPIO_OUT, or -EINVAL */
int gpio_find(const gpio_ctx *ctx, const char *name);  /* idx, or -1 */
const char *gpio_backend(const gpio_ctx *ctx);         /* "sim" or "gpiod" */

/* Inputs: the last debounced level; outputs: the value last driven. 0/1, or -EINVAL. */
int gpio_read(const gpio_ctx *ctx, int idx);

/* Drives an output now: one ioctl on gpiod, no allocation, no waiting (the emergency path).
 * 0, -EINVAL (bad idx or value not 0/1), -EPERM (an input), or -errno from the chip. */
int gpio_set(gpio_ctx *ctx, int idx, int value);

/* Every output to its `safe` value (shutdown, fault). 0, or the first error (all are tried). */
int gpio_safe_all(gpio_ctx *ctx);

/* Sim backend only: puts an edge on an input's simulated wire. It is read back by the line's
 * uv_poll_t and debounced exactly like a real edge. 0, -ENOTSUP (not sim), -EINVAL (bad idx or
 * value), -EPERM (an output: use gpio_set), -EAGAIN (too many edges not yet read). */
int gpio_sim_inject(gpio_ctx *ctx, int idx, int value);

/* An external input (hk_gpio_line_cfg.external: the UPS's state read from upsd) took a level: it
 * goes through the same debounce and edge path as a wire. 0, -EINVAL, -EPERM (not external). */
int gpio_external_set(gpio_ctx *ctx, int idx, int value);

/* Sim backend only: from now on every write to output idx fails with err (a negative errno, e.g.
 * -EIO: a relay driver that stopped answering), or works again (err 0). For tests of the path that
 * reports a failed output. 0, -ENOTSUP, -EINVAL, -EPERM (an input). */
int gpio_sim_fail(gpio_ctx *ctx, int idx, int err);

#endif
