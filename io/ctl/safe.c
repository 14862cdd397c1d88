/* safe.c: see safe.h. */
#include "safe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

static void safe_str(hv *v)
{
    const unsigned char *p = (const unsigned char *)v->u.s.p;
    size_t n = v->u.s.n, o = 0;
    bool clean = true;
    for (size_t i = 0; i < n && clean; i++) clean = p[i] >= 0x20 && p[i] != 0x7f && p[i] != '\\' && p[i] < 0x80;
    if (clean) return;
    char *buf = malloc(n * 6 + 1);   /* the longest escape, \u009b, is 6 bytes for 2 */
    if (!buf) abort();
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq_len(p + i, n - i);
        if (p[i] == '\\') { memcpy(buf + o, "\\\\", 2); o += 2; i++; }
        else if (p[i] < 0x20 || p[i] == 0x7f) { o += (size_t)sprintf(buf + o, "\\x%02x", p[i]); i++; }
        else if (k == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0) { o += (size_t)sprintf(buf + o, "\\u%04x", p[i + 1]); i += 2; }
        else if (!k) { memcpy(buf + o, "\xef\xbf\xbd", 3); o += 3; i++; }
        else { memcpy(buf + o, p + i, k); o += k; i += k; }
    }
    hv *fresh = hv_strn(buf, o);
    free(buf);
    char *old = v->u.s.p;   /* swap the buffers, so each is freed by its own hv */
    v->u.s.p = fresh->u.s.p;
    v->u.s.n = fresh->u.s.n;
    fresh->u.s.p = old;
    hv_free(fresh);
}

void ctl_safe_text(hv *v)
{
    if (!v) return;
    if (v->t == HV_STR) safe_str(v);
    else if (v->t == HV_ARR)
        for (size_t i = 0; i < v->u.a.n; i++) ctl_safe_text(v->u.a.v[i]);
    else if (v->t == HV_MAP)
        for (size_t i = 0; i < v->u.m.n; i++) ctl_safe_text(v->u.m.v[i].val);
}
