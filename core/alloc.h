/* alloc.h: the one allocator of every part. Out of memory is not survivable in the hall (a
 * half-built reply or state cannot be run), so these never return NULL: they call the hook the
 * host set and then abort(). core itself never writes anywhere; the daemon's hook logs first. */
#ifndef HK_ALLOC_H
#define HK_ALLOC_H

#include <stddef.h>

/* Called once, with the size asked for, before abort(). NULL restores the default (abort only). */
typedef void (*hk_oom_fn)(size_t size);
void hk_alloc_set_oom(hk_oom_fn fn);

/* As malloc, calloc, realloc and strdup, but a size (or count) of 0 still gives a block, and never
 * NULL. */
void *hk_malloc(size_t size);
void *hk_calloc(size_t n, size_t size);
void *hk_realloc(void *p, size_t size);
char *hk_strdup(const char *s);

/* For a constructor that reports out of memory by NULL where the caller cannot go on. */
_Noreturn void hk_alloc_fail(size_t size);

#endif
