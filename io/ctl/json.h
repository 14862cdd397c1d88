/* json.h: a value tree (core/val.h) written as JSON, for hallctl's --json output, reports and
 * archives. One writer, so every tool prints the same JSON for the same value. */
#ifndef HK_HV_JSON_H
#define HK_HV_JSON_H

#include <stddef.h>
#include <stdio.h>

#include "core/val.h"

/* A JSON string of n bytes: UTF-8 passes through, control characters are escaped, invalid bytes
 * become U+FFFD, so the output is valid JSON whatever the input. */
void hv_json_str(FILE *f, const char *s, size_t n);

/* The whole value; NULL is null, and floats JSON cannot hold (NaN, infinities) are null too. */
void hv_json(FILE *f, const hv *v);

#endif
