/* json.c: see json.h. */
#include "json.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "utf8.h"

/* Appends b[0..len) at *k, as much as fits before the NUL; *k counts all of it. */
static void json_put(char *out, size_t cap, size_t *k, const void *b, size_t len)
{
    if (*k + 1 < cap) {
        size_t room = cap - 1 - *k;
        memcpy(out + *k, b, len < room ? len : room);
    }
    *k += len;
}

size_t json_str(char *out, size_t cap, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t k = 0;
    json_put(out, cap, &k, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\r' ? "\\r"
                          : c == '\t' ? "\\t" : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
        if (esc) {
            json_put(out, cap, &k, esc, 2);
            i++;
        } else if (c < 0x20) {
            char u[8];
            snprintf(u, sizeof u, "\\u%04x", c);
            json_put(out, cap, &k, u, 6);
            i++;
        } else {
            size_t l = utf8_seq_len(p + i, n - i);
            if (l == 0) {
                json_put(out, cap, &k, "\xef\xbf\xbd", 3);
                i++;
            } else {
                json_put(out, cap, &k, p + i, l);
                i += l;
            }
        }
    }
    json_put(out, cap, &k, "\"", 1);
    if (cap) out[k < cap ? k : cap - 1] = 0;
    return k;
}

char *json_str_dup(const char *s, size_t n)
{
    size_t need = json_str(NULL, 0, s, n);
    char *out = hk_malloc(need + 1);
    json_str(out, need + 1, s, n);
    return out;
}
