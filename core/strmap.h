/* strmap.h: a small open-addressing hash map from string keys to int values (ticket codes to
 * ticket indexes). Keys are copied. */
#ifndef HK_STRMAP_H
#define HK_STRMAP_H

#include <stddef.h>

typedef struct {
    char **keys;
    int *vals;
    size_t cap, n;
} strmap;

void strmap_init(strmap *m);
void strmap_free(strmap *m);
void strmap_put(strmap *m, const char *key, int val);   /* inserts or replaces */
int strmap_get(const strmap *m, const char *key, int *val);  /* 0 found, -1 absent */

#endif
