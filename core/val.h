/* val.h: a small dynamic value tree (nil, bool, int, float, string, array, map).
 * It is how core/ sees protocol requests, replies and events without knowing msgpack:
 * core/codec/codec.c turns frames into these trees and back. Maps have string keys, in insertion order. */
#ifndef HK_VAL_H
#define HK_VAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { HV_NIL, HV_BOOL, HV_INT, HV_FLOAT, HV_STR, HV_ARR, HV_MAP } hv_type;

typedef struct hv hv;
typedef struct hv_pair { char *key; hv *val; } hv_pair;

struct hv {
    hv_type t;
    union {
        bool b;
        int64_t i;
        double f;
        struct { char *p; size_t n; } s;      /* p is NUL-terminated; may contain NULs */
        struct { hv **v; size_t n, cap; } a;
        struct { hv_pair *v; size_t n, cap; } m;
    } u;
};

hv *hv_nil(void);
hv *hv_bool(bool b);
hv *hv_int(int64_t i);
hv *hv_float(double f);
hv *hv_str(const char *s);              /* NULL gives nil */
hv *hv_strn(const char *p, size_t n);
hv *hv_arr(void);
hv *hv_map(void);
void hv_free(hv *v);
hv *hv_dup(const hv *v);

/* Containers take ownership of the value; they return the container for chaining. */
hv *hv_push(hv *arr, hv *v);
hv *hv_set(hv *map, const char *key, hv *v);   /* replaces an existing key */
hv *hv_setn(hv *map, const char *key, size_t klen, hv *v);

hv *hv_get(const hv *map, const char *key);      /* NULL if absent or map is not a map */
bool hv_has(const hv *map, const char *key);
const char *hv_get_str(const hv *map, const char *key); /* NULL if absent or not a string */
int hv_get_int(const hv *map, const char *key, int64_t *out); /* 0, or -1 absent / wrong type */
int hv_get_bool(const hv *map, const char *key, bool *out);
bool hv_equal(const hv *a, const hv *b);

#endif
