/* alloc.c: see alloc.h. */
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

static hk_oom_fn alloc_oom;

void hk_alloc_set_oom(hk_oom_fn fn) { alloc_oom = fn; }

void hk_alloc_fail(size_t size)
{
    if (alloc_oom) alloc_oom(size);
    abort();
}

static void *alloc_check(void *p, size_t size)
{
    if (!p) hk_alloc_fail(size);
    return p;
}

void *hk_malloc(size_t size) { return alloc_check(malloc(size ? size : 1), size); }

/* n of 0 still gives one zeroed element, as the callers' old calloc(n ? n : 1, size) did. */
void *hk_calloc(size_t n, size_t size)
{
    return alloc_check(calloc(n ? n : 1, size ? size : 1), n * size);
}

void *hk_realloc(void *p, size_t size) { return alloc_check(realloc(p, size ? size : 1), size); }

char *hk_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(hk_malloc(n), s, n);
}
