/* val.c: the dynamic value tree of val.h. Allocation failure aborts: the daemon cannot
 * run the hall with a half-built reply, and a controller box that is out of memory is restarted. */
#include "val.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

static hv *hv_new(hv_type t)
{
    hv *v = hk_calloc(1, sizeof *v);
    v->t = t;
    return v;
}

hv *hv_nil(void) { return hv_new(HV_NIL); }
hv *hv_bool(bool b) { hv *v = hv_new(HV_BOOL); v->u.b = b; return v; }
hv *hv_int(int64_t i) { hv *v = hv_new(HV_INT); v->u.i = i; return v; }
hv *hv_float(double f) { hv *v = hv_new(HV_FLOAT); v->u.f = f; return v; }
hv *hv_arr(void) { return hv_new(HV_ARR); }
hv *hv_map(void) { return hv_new(HV_MAP); }

hv *hv_strn(const char *p, size_t n)
{
    hv *v = hv_new(HV_STR);
    v->u.s.p = hk_calloc(n + 1, 1);
    if (n) memcpy(v->u.s.p, p, n);
    v->u.s.n = n;
    return v;
}

hv *hv_str(const char *s) { return s ? hv_strn(s, strlen(s)) : hv_nil(); }

void hv_free(hv *v)
{
    if (!v) return;
    switch (v->t) {
    case HV_STR: free(v->u.s.p); break;
    case HV_ARR:
        for (size_t i = 0; i < v->u.a.n; i++) hv_free(v->u.a.v[i]);
        free(v->u.a.v);
        break;
    case HV_MAP:
        for (size_t i = 0; i < v->u.m.n; i++) { free(v->u.m.v[i].key); hv_free(v->u.m.v[i].val); }
        free(v->u.m.v);
        break;
    default: break;
    }
    free(v);
}

hv *hv_dup(const hv *v)
{
    if (!v) return NULL;
    switch (v->t) {
    case HV_NIL: return hv_nil();
    case HV_BOOL: return hv_bool(v->u.b);
    case HV_INT: return hv_int(v->u.i);
    case HV_FLOAT: return hv_float(v->u.f);
    case HV_STR: return hv_strn(v->u.s.p, v->u.s.n);
    case HV_ARR: {
        hv *a = hv_arr();
        for (size_t i = 0; i < v->u.a.n; i++) hv_push(a, hv_dup(v->u.a.v[i]));
        return a;
    }
    case HV_MAP: {
        hv *m = hv_map();
        for (size_t i = 0; i < v->u.m.n; i++) hv_set(m, v->u.m.v[i].key, hv_dup(v->u.m.v[i].val));
        return m;
    }
    }
    return hv_nil();
}

hv *hv_push(hv *arr, hv *v)
{
    if (arr->u.a.n == arr->u.a.cap) {
        arr->u.a.cap = arr->u.a.cap ? arr->u.a.cap * 2 : 4;
        arr->u.a.v = hk_realloc(arr->u.a.v, arr->u.a.cap * sizeof *arr->u.a.v);
    }
    arr->u.a.v[arr->u.a.n++] = v;
    return arr;
}

static hv_pair *hv_find(const hv *map, const char *key, size_t klen)
{
    if (!map || map->t != HV_MAP) return NULL;
    for (size_t i = 0; i < map->u.m.n; i++) {
        hv_pair *p = &map->u.m.v[i];
        if (strlen(p->key) == klen && memcmp(p->key, key, klen) == 0) return p;
    }
    return NULL;
}

hv *hv_setn(hv *map, const char *key, size_t klen, hv *v)
{
    hv_pair *p = hv_find(map, key, klen);
    if (p) { hv_free(p->val); p->val = v; return map; }
    if (map->u.m.n == map->u.m.cap) {
        map->u.m.cap = map->u.m.cap ? map->u.m.cap * 2 : 8;
        map->u.m.v = hk_realloc(map->u.m.v, map->u.m.cap * sizeof *map->u.m.v);
    }
    char *k = hk_calloc(klen + 1, 1);
    memcpy(k, key, klen);
    map->u.m.v[map->u.m.n].key = k;
    map->u.m.v[map->u.m.n].val = v;
    map->u.m.n++;
    return map;
}

hv *hv_set(hv *map, const char *key, hv *v) { return hv_setn(map, key, strlen(key), v); }

hv *hv_get(const hv *map, const char *key)
{
    hv_pair *p = hv_find(map, key, strlen(key));
    return p ? p->val : NULL;
}

bool hv_has(const hv *map, const char *key) { return hv_get(map, key) != NULL; }

const char *hv_get_str(const hv *map, const char *key)
{
    hv *v = hv_get(map, key);
    return v && v->t == HV_STR ? v->u.s.p : NULL;
}

int hv_get_int(const hv *map, const char *key, int64_t *out)
{
    hv *v = hv_get(map, key);
    if (!v) return -1;
    if (v->t == HV_INT) { *out = v->u.i; return 0; }
    /* msgpack senders (browsers) may encode whole numbers as floats */
    if (v->t == HV_FLOAT && v->u.f == floor(v->u.f) && fabs(v->u.f) < 9.0e15) {
        *out = (int64_t)v->u.f;
        return 0;
    }
    return -1;
}

int hv_get_bool(const hv *map, const char *key, bool *out)
{
    hv *v = hv_get(map, key);
    if (!v || v->t != HV_BOOL) return -1;
    *out = v->u.b;
    return 0;
}

bool hv_equal(const hv *a, const hv *b)
{
    if (!a || !b) return a == b;
    if (a->t != b->t) return false;
    switch (a->t) {
    case HV_NIL: return true;
    case HV_BOOL: return a->u.b == b->u.b;
    case HV_INT: return a->u.i == b->u.i;
    case HV_FLOAT: return a->u.f == b->u.f;
    case HV_STR: return a->u.s.n == b->u.s.n && memcmp(a->u.s.p, b->u.s.p, a->u.s.n) == 0;
    case HV_ARR:
        if (a->u.a.n != b->u.a.n) return false;
        for (size_t i = 0; i < a->u.a.n; i++)
            if (!hv_equal(a->u.a.v[i], b->u.a.v[i])) return false;
        return true;
    case HV_MAP:
        if (a->u.m.n != b->u.m.n) return false;
        for (size_t i = 0; i < a->u.m.n; i++) {
            hv *bv = hv_get(b, a->u.m.v[i].key);
            if (!hv_equal(a->u.m.v[i].val, bv)) return false;
        }
        return true;
    }
    return false;
}
