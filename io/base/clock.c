/* clock.c: see clock.h. */
#include "clock.h"

#include <time.h>

static int64_t clock_offset_ms;   /* only ever moved by clock.advance under --test-clock */

void hk_clock_advance(int64_t ms) { clock_offset_ms += ms; }

hk_time hk_clock_at(int64_t ms)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&secs, &tm);
    hk_time t;
    t.ms = ms;
    t.day = (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
    t.min = tm.tm_hour * 60 + tm.tm_min;
    t.wday = (tm.tm_wday + 6) % 7;
    return t;
}

void hk_clock_local(int64_t ms, int32_t *day, int *minute)
{
    hk_time t = hk_clock_at(ms);
    *day = t.day;
    *minute = t.min;
}

hk_time hk_clock_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return hk_clock_at((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + clock_offset_ms);
}

int64_t hk_clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
