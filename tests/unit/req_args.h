/* req_args.h: the arguments of a hall.v1 request in the unit tests, given as varargs
 * (KEY, KIND, VALUE, ..., NULL). KIND: "s" a string, "i" an int, "I" an int64_t, "v" an hv *
 * (consumed). Included by each test that builds requests; header-only, as each test is one
 * executable. */
#ifndef HK_TEST_REQ_ARGS_H
#define HK_TEST_REQ_ARGS_H

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "core/val.h"

static inline void test_req_args(hv *req, va_list ap)
{
    const char *k;
    while ((k = va_arg(ap, const char *))) {
        const char *kind = va_arg(ap, const char *);
        if (!strcmp(kind, "s")) hv_set(req, k, hv_str(va_arg(ap, const char *)));
        else if (!strcmp(kind, "v")) hv_set(req, k, va_arg(ap, hv *));
        else if (!strcmp(kind, "I")) hv_set(req, k, hv_int(va_arg(ap, int64_t)));
        else hv_set(req, k, hv_int(va_arg(ap, int)));
    }
}

#endif
