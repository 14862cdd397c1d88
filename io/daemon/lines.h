/* lines.h: the daemon's glue between the GPIO lines (gpio/), the hall's emergency
 * state (core/) and the hub (web/). Part of the hallkeeper program, not of a library. */
#ifndef HK_HALLKEEPER_GPIO_H
#define HK_HALLKEEPER_GPIO_H

#include <uv.h>

#include "core/hall.h"
#include "gpio/gpio.h"
#include "hub.h"
#include "io/store/em_journal.h"

typedef struct hk_lines hk_lines;

/* Opens the configured lines (outputs at their normal value, inputs read as levels). */
hk_lines *lines_open(uv_loop_t *loop, const hk_config *cfg, hk_hall *hall, char *err, size_t errlen);
/* Connects to the hub once it exists: from then on edges are published. */
void lines_attach(hk_lines *l, hub *hb);
/* At start, after the hall is restored: re-applies a persisted emergency and lets inputs that
 * are already active trigger, before the daemon accepts clients. */
void lines_start(hk_lines *l);
/* Every emergency.changed event is also written to this local journal once outputs are set. */
void lines_set_journal(hk_lines *l, em_journal *j);
/* hub_outputs_fn: sets every output the emergency state wants; adds gpio.changed events
 * (out may be NULL at start-up, before the hall's seq is known: then no events). */
void lines_apply(void *arg, hk_out *out);
/* hk_host_cmd (arg = the lines): the commands gpio.list and gpio.sim.set. */
void lines_cmd_list(void *arg, const hk_session *s, const hv *req, hk_time now, hk_out *out);
void lines_cmd_sim_set(void *arg, const hk_session *s, const hv *req, hk_time now, hk_out *out);
/* {n, p50_us, p99_us, max_us} of input edge -> every output set, over the last 16384 edges. */
hv *lines_stats(hk_lines *l);
/* Shutdown: every output to its safe value, then the lines are released. */
void lines_close(hk_lines *l);

#endif
