/* report_host.h: the daemon's side of the daily report (docs/reports.md): the deferred commands
 * report.day (the report of a day as a tree, CSV or HTML) and report.events (a day's events,
 * page by page, for archives). Today's events come from the local events journal (it holds the
 * current day); an earlier day is read from the Redis stream hall:{ID}:events, asynchronously on
 * the loop: the first request starts the read and answers {loading: true, retry_ms}, the client
 * asks again and gets the day once it is read (the last day read is kept). */
#ifndef HK_REPORT_HOST_H
#define HK_REPORT_HOST_H

#include <stdint.h>

#include "core/hall.h"
#include "io/store/journal.h"
#include "io/store/store.h"

/* cmd: "report.day" or "report.events" (roles already checked). journal_day: the local day the
 * events journal holds (YYYYMMDD). Fills out->reply. */
void report_host_command(const hk_config *cfg, journal *events, store *st, int32_t journal_day,
                         int32_t today, const char *cmd, const hv *req, hk_out *out);

#endif
