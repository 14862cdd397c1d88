/* sha1.h: SHA-1 (FIPS 180-4), only for the WebSocket handshake's Sec-WebSocket-Accept check.
 * SHA-1 is not collision-resistant: never use it for anything that needs security. */
#ifndef HK_SHA1_H
#define HK_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_DIGEST_LEN 20

void sha1_digest(const void *data, size_t len, uint8_t out[SHA1_DIGEST_LEN]);

#endif
