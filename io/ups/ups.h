/* ups.h: a client of Network UPS Tools' upsd (TCP 3493, docs/wiring.md "UPS") on the loop. It
 * polls one UPS's ups.status and battery.charge, never blocking, reconnecting with a back-off, and
 * reports what it learns: on battery (OB), battery low (LB), or why it cannot tell. */
#ifndef HK_UPS_H
#define HK_UPS_H

#include <stdbool.h>
#include <uv.h>

#include "core/config.h"

typedef struct ups_client ups_client;

/* A reading: error NULL and the flags of ups.status (status is its text, "OL", "OB LB", ...;
 * charge -1 when the UPS does not report battery.charge); or error set (upsd unreachable, no such
 * UPS, data stale, no answer) and the flags meaningless. Called on every change, and again for
 * an error that lasts, at most once a poll. */
typedef void (*ups_cb)(void *arg, bool on_battery, bool battery_low, const char *status, int charge,
                       const char *error);

/* NULL with err on a bad address. The first poll starts at once. */
ups_client *ups_open(uv_loop_t *loop, const hk_ups_cfg *cfg, ups_cb cb, void *arg, char *err, size_t errlen);
/* Closes the connection and frees the client through the loop (callbacks stop at once). */
void ups_close(ups_client *u);

/* Parses one line of upsd's answer. Returns 1 for `VAR <ups> <var> "<value>"` (var and value
 * copied out), -1 for `ERR <word>` (word copied to value), 0 for anything else. For the tests. */
int ups_parse_line(const char *line, char *var, size_t varlen, char *value, size_t valuelen);

#endif
