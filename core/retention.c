/* retention.c: the retention window's day arithmetic and the reply-size bound (retention.h). */
#include "retention.h"

#include <string.h>

int retention_days(const hk_config *cfg)
{
    int d = cfg ? cfg->retention_days : 0;
    if (d <= 0) return HK_DEFAULT_RETENTION_DAYS;
    return d < HK_MIN_RETENTION_DAYS ? HK_MIN_RETENTION_DAYS : d > HK_MAX_RETENTION_DAYS ? HK_MAX_RETENTION_DAYS : d;
}

/* H. Hinnant's days_from_civil and civil_from_days. */
int64_t retention_day_number(int32_t ymd)
{
    int64_t y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

int32_t retention_day_of(int64_t days)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    return (int32_t)(y * 10000 + m * 100 + d);
}

int32_t retention_cutoff(const hk_config *cfg, int32_t today)
{
    return retention_day_of(retention_day_number(today) - retention_days(cfg));
}

size_t retention_size_bound(const hv *v)
{
    if (!v) return 1;
    switch (v->t) {
    case HV_STR: return v->u.s.n + 5;
    case HV_ARR: {
        size_t n = 5;
        for (size_t i = 0; i < v->u.a.n; i++) n += retention_size_bound(v->u.a.v[i]);
        return n;
    }
    case HV_MAP: {
        size_t n = 5;
        for (size_t i = 0; i < v->u.m.n; i++)
            n += strlen(v->u.m.v[i].key) + 5 + retention_size_bound(v->u.m.v[i].val);
        return n;
    }
    default: return 9;
    }
}

void retention_page_init(retention_page *p, int64_t limit)
{
    *p = (retention_page){.list = hv_arr(), .limit = limit};
}

void retention_page_add(retention_page *p, hv *row, int64_t id)
{
    size_t sz = retention_size_bound(row);
    if (p->full || (int64_t)p->list->u.a.n >= p->limit || (p->list->u.a.n && p->bytes + sz > RETENTION_PAGE_BYTES)) {
        hv_free(row);
        p->full = true;
        return;
    }
    p->bytes += sz;
    hv_push(p->list, row);
    p->next = id;
}
