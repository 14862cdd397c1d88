/* report_host.h: the daemon's side of the daily report (docs/reports.md): the host commands
 * report.day (the report of a day as a tree, CSV or HTML) and report.events (a day's events,
 * page by page, for archives). Today's events come from the local events journal (it holds the
 * current day); an earlier day is read from the Redis stream hall:{ID}:events, asynchronously on
 * the loop: the first request starts the read and answers {loading: true, retry_ms}, the client
 * asks again and gets the day once it is read (the last day read is kept). */
#ifndef HK_REPORT_HOST_H
#define HK_REPORT_HOST_H

#include <stdint.h>

#include "core/hall.h"

/* hk_host_cmd (arg = the daemon, daemon.h): report.day {day?, format?} and report.events
 * {day?, after?, limit?}. Fill out->reply. */
void report_host_day(void *arg, const hk_session *s, const hv *req, hk_time now, hk_out *out);
void report_host_events(void *arg, const hk_session *s, const hv *req, hk_time now, hk_out *out);

#endif
