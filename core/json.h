/* json.h: the one JSON string escaper, for the incident log, hallctl's output and the audio index.
 * It writes what Python's json.dumps(s, ensure_ascii=False) writes (the incident log's hash chain
 * depends on that): the short escapes, other controls as \u00xx, the rest raw; invalid UTF-8
 * becomes U+FFFD, so the output is always valid UTF-8. */
#ifndef HK_JSON_H
#define HK_JSON_H

#include <stddef.h>

/* s[0..n) as a JSON string literal, quotes included, into out (cap bytes, always NUL-terminated
 * when cap > 0). Returns the length it needs without the NUL, as snprintf does. */
size_t json_str(char *out, size_t cap, const char *s, size_t n);
/* The same, malloc'd (core/alloc.h: never NULL). */
char *json_str_dup(const char *s, size_t n);

#endif
