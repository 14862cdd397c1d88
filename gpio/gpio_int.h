/* gpio_int.h: what gpio.c (line table, debounce, reporting) shares with its two backends
 * (gpio_gpiod.c, gpio_sim.c). Not for use outside gpio/. */
#ifndef HK_GPIO_INT_H
#define HK_GPIO_INT_H

#include <stdbool.h>

#include "gpio.h"

typedef struct gpio_line {
    gpio_ctx *ctx;
    int idx;
    char *name, *chip;
    int offset, dir, active_low, debounce_ms, normal, safe;
    int value;            /* inputs: last reported (debounced) level; outputs: value last driven */
    uint64_t edge_ms;     /* wall clock of the latest edge seen */
    int fd;               /* inputs: what the poll watches (gpiod event fd, sim pipe read end) or -1 */
    int sim_wfd;          /* sim: pipe write end, or -1 */
    int sim_level;        /* sim: the level on the simulated wire; external lines: their level */
    int sim_fail;         /* sim outputs: 0, or the -errno every write returns (a broken driver) */
    bool external;        /* an input fed by gpio_external_set, never requested from the backend */
    void *hw;             /* gpiod: struct gpiod_line * */
    uv_poll_t poll;
    uv_timer_t debounce;
    bool poll_init, timer_init;
} gpio_line;

typedef struct gpio_backend_ops {
    const char *name;
    /* Request every line. Inputs: set l->value to the level and l->fd to a non-blocking fd that
     * turns readable on an edge. Outputs: drive l->normal. On failure, write err and return
     * negative; release() is then called to undo what was done. */
    int (*open)(gpio_ctx *ctx, char *err, size_t errlen);
    /* Read every pending edge of an input, calling gpio__edge for each. 0 or -errno. */
    int (*drain)(gpio_line *l);
    /* The input's level now (logical), or -errno. */
    int (*level)(gpio_line *l);
    /* Drive an output. Must not allocate or block. 0 or -errno. */
    int (*write)(gpio_line *l, int value);
    /* Free everything open() acquired (called once no handle watches the fds any more). */
    void (*release)(gpio_ctx *ctx);
} gpio_backend_ops;

struct gpio_ctx {
    uv_loop_t *loop;
    const gpio_backend_ops *be;
    void *be_data;
    gpio_line *lines;
    size_t n;
    gpio_edge_cb on_edge;
    gpio_output_cb on_output;
    void *arg;
    uv_timer_t gate;      /* never started: guarantees close_cb comes from the loop */
    bool closing;
    int pending;          /* handles still closing */
    gpio_close_cb close_cb;
    void *close_arg;
};

extern const gpio_backend_ops gpio__sim_ops, gpio__gpiod_ops;

/* A backend saw an edge on input l; value is the level the edge went to (used as is when
 * debounce_ms is 0, otherwise the level is read again once the line has been quiet). */
void gpio__edge(gpio_line *l, int value);

#endif
