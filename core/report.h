/* report.h: the daily report of a hall (DB43/T 2422.6-7: waits, service times, satisfaction,
 * cases), built by folding the day's events as they were emitted. Pure: no I/O, no clock; the
 * caller says how a timestamp maps to the local day and hour. The same aggregator runs in the
 * daemon (report.day) and in hallctl (report, archive), so both give the same numbers.
 * docs/reports.md describes every figure and the CSV and HTML layouts. */
#ifndef HK_REPORT_H
#define HK_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "val.h"

/* The satisfaction rate the standard asks for (DB43/T 2422.6 §5): share of ratings 3..5. */
#define REPORT_SATISFACTION_TARGET 0.95

/* Maps a time (ms since the epoch) to the local day (YYYYMMDD) and minute of the day (0..1439).
 * NULL means UTC. */
typedef void (*report_local_fn)(int64_t ms, int32_t *day, int *minute);

typedef struct report report;

report *report_new(int32_t day, report_local_fn local);
void report_free(report *r);

/* Names for the output; windows and staff also learn theirs from window.changed events. */
void report_set_hall(report *r, const char *id, const char *name);
void report_name_category(report *r, const char *id, const char *name);
void report_name_window(report *r, int id, const char *name);
void report_name_staff(report *r, const char *id, const char *name);

/* Folds one event ({ev, seq, at, ...} as emitted). Events of earlier days only teach who sat at
 * which window and when a carried-over ticket was issued; events of later days and unknown or
 * malformed events are ignored. Returns 1 if the event counted for the day, else 0. */
int report_add(report *r, const hv *ev);

/* The report as a value tree (the reply of report.day). Caller frees. */
hv *report_tree(const report *r);
/* CSV (RFC 4180, UTF-8 with a byte-order mark, CRLF) and a self-contained printable HTML page.
 * malloc'd and NUL-terminated; *len without the NUL. NULL only when out of memory. */
char *report_csv(const report *r, size_t *len);
char *report_html(const report *r, size_t *len);

/* Nearest-rank percentile (p in 0..100) of n sorted values; 0 when n == 0. */
int64_t report_percentile(const int64_t *sorted, size_t n, int p);

#endif
