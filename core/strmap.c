/* strmap.c: see strmap.h. Linear probing, grows at 50 % load; no deletion is needed because
 * tickets are never forgotten within a hall's life in memory. */
#include "strmap.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

static uint64_t strmap_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;      /* FNV-1a */
    for (; *s; s++) { h ^= (unsigned char)*s; h *= 1099511628211ULL; }
    return h;
}

void strmap_init(strmap *m) { memset(m, 0, sizeof *m); }

void strmap_free(strmap *m)
{
    for (size_t i = 0; i < m->cap; i++) free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static void strmap_grow(strmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    char **keys = hk_calloc(ncap, sizeof *keys);
    int *vals = hk_calloc(ncap, sizeof *vals);
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = strmap_hash(m->keys[i]) & (ncap - 1);
        while (keys[j]) j = (j + 1) & (ncap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = ncap;
}

void strmap_put(strmap *m, const char *key, int val)
{
    if ((m->n + 1) * 2 > m->cap) strmap_grow(m);
    size_t j = strmap_hash(key) & (m->cap - 1);
    while (m->keys[j]) {
        if (!strcmp(m->keys[j], key)) { m->vals[j] = val; return; }
        j = (j + 1) & (m->cap - 1);
    }
    m->keys[j] = hk_strdup(key);
    m->vals[j] = val;
    m->n++;
}

int strmap_get(const strmap *m, const char *key, int *val)
{
    if (!m->cap) return -1;
    size_t j = strmap_hash(key) & (m->cap - 1);
    while (m->keys[j]) {
        if (!strcmp(m->keys[j], key)) { *val = m->vals[j]; return 0; }
        j = (j + 1) & (m->cap - 1);
    }
    return -1;
}
