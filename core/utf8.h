/* utf8.h: UTF-8 validation, for the JSON that the incident log, hallctl and the audio index
 * write (invalid bytes become U+FFFD so every line stays valid). */
#ifndef HK_UTF8_H
#define HK_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at p (n bytes available, n >= 1), or 0 if it is invalid
 * (overlong forms, surrogates and code points above U+10FFFF are invalid). */
size_t utf8_seq_len(const unsigned char *p, size_t n);

#endif
