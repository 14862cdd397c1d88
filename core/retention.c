/* retention.c: the retention window's day arithmetic and the reply-size bound (retention.h). */
#include "retention.h"
#include "days.h"

#include <string.h>

int retention_days(const hk_config *cfg)
{
    int d = cfg ? cfg->retention_days : 0;
    if (d <= 0) return HK_DEFAULT_RETENTION_DAYS;
    return d < HK_MIN_RETENTION_DAYS ? HK_MIN_RETENTION_DAYS : d > HK_MAX_RETENTION_DAYS ? HK_MAX_RETENTION_DAYS : d;
}

int32_t retention_cutoff(const hk_config *cfg, int32_t today)
{
    return hk_day_add(today, -retention_days(cfg));
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
