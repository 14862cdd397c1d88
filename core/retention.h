/* retention.h: bounded memory and checkpoint (docs/config.md "retention"). A hall that runs for
 * years must not keep every case, follow-up, rating and appointment it ever had: at each day
 * rollover, when day.closed is applied (live and at replay alike, so both forget the same), the
 * closed items older than retention.days are released. Open cases and open follow-ups stay
 * however old. Older days remain in the event stream and the day archives (docs/reports.md). */
#ifndef HK_RETENTION_H
#define HK_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "hall.h"
#include "val.h"

/* retention.days of the configuration, its default when not set (a config built by hand). */
int retention_days(const hk_config *cfg);
/* The first day (YYYYMMDD) still kept when the hall is in day `today`: today - retention.days. */
int32_t retention_cutoff(const hk_config *cfg, int32_t today);
/* An upper bound of the msgpack size of v, to cut a list reply before it nears the 64 KiB frame. */
size_t retention_size_bound(const hv *v);

/* Called by apply_day_closed (core/hall.c) with the first day still kept: each module releases
 * what is finished and older (cases.c: closed cases by closing day; ratings.c: rating rows by day
 * and closed follow-ups by closing day; appointments.c: checked-in, released and cancelled
 * appointments by slot day). Deterministic: the same events give the same state. */
void cases_forget_before(hk_hall *h, int32_t day);
void ratings_forget_before(hk_hall *h, int32_t day);
void appt_forget_before(hk_hall *h, int32_t day);
/* The first day of which closed cases / rating rows and closed follow-ups are all still held:
 * 0 while nothing was ever released. */
int32_t cases_kept_from(const hk_hall *h);
int32_t ratings_kept_from(const hk_hall *h);

/* What a list command may put into one reply: well below the 64 KiB frame with its envelope. */
#define RETENTION_PAGE_BYTES (40 * 1024)
#define RETENTION_PAGE_MAX 500

/* One page of a paged list reply (cases.list, followups.list): rows are added until `limit` rows
 * or RETENTION_PAGE_BYTES; `next` is then the cursor (id of the last row) of the page after. */
typedef struct {
    hv *list;          /* the rows, an array the caller puts into its reply */
    int64_t limit, next;
    size_t bytes;
    bool full;         /* a row did not fit: there is a next page */
} retention_page;

void retention_page_init(retention_page *p, int64_t limit);
/* Adds row (consumed) whose cursor is id, unless the page is full already or it does not fit. */
void retention_page_add(retention_page *p, hv *row, int64_t id);

#endif
