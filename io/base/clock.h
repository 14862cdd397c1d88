/* clock.h: the hall's one clock. Every part that needs "now" (the hub, the lines, the speakers,
 * the printer, the reports) reads it here, so `hallkeeper --test-clock` moves them all at once. */
#ifndef HK_CLOCK_H
#define HK_CLOCK_H

#include <stdint.h>

#include "core/hall.h"

/* Wall time (plus what hk_clock_advance added), with its local day, minute and weekday. */
hk_time hk_clock_now(void);
/* The local day, minute and weekday of a wall time (ms since the epoch). */
hk_time hk_clock_at(int64_t ms);
/* As hk_clock_at, in the shape core/report.h's report_local_fn wants. */
void hk_clock_local(int64_t ms, int32_t *day, int *minute);
/* Moves the hall's clock forward (tests of a simulated day: hallkeeper --test-clock). */
void hk_clock_advance(int64_t ms);
/* A monotonic clock in ms for time-outs and intervals: never moved, never the hall's time. */
int64_t hk_clock_mono_ms(void);

#endif
