/* json.c: see json.h. */
#include "json.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

void hv_json_str(FILE *f, const char *s, size_t n)
{
    char *j = json_str_dup(s, n);
    fputs(j, f);
    free(j);
}

void hv_json(FILE *f, const hv *v)
{
    if (!v) { fputs("null", f); return; }
    switch (v->t) {
    case HV_NIL: fputs("null", f); break;
    case HV_BOOL: fputs(v->u.b ? "true" : "false", f); break;
    case HV_INT: fprintf(f, "%" PRId64, v->u.i); break;
    case HV_FLOAT:
        if (isfinite(v->u.f)) fprintf(f, "%.17g", v->u.f);
        else fputs("null", f);   /* JSON has no NaN or infinity */
        break;
    case HV_STR: hv_json_str(f, v->u.s.p, v->u.s.n); break;
    case HV_ARR:
        fputc('[', f);
        for (size_t i = 0; i < v->u.a.n; i++) {
            if (i) fputc(',', f);
            hv_json(f, v->u.a.v[i]);
        }
        fputc(']', f);
        break;
    case HV_MAP:
        fputc('{', f);
        for (size_t i = 0; i < v->u.m.n; i++) {
            if (i) fputc(',', f);
            hv_json_str(f, v->u.m.v[i].key, strlen(v->u.m.v[i].key));
            fputc(':', f);
            hv_json(f, v->u.m.v[i].val);
        }
        fputc('}', f);
        break;
    }
}
