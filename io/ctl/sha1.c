/* sha1.c: a one-shot SHA-1 (FIPS 180-4 section 6.1). libsodium has no SHA-1, and the
 * WebSocket handshake (RFC 6455 section 4.1) needs it for nothing but the Accept check. */
#include "sha1.h"

#include <string.h>

static uint32_t sha1_rol(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }

static void sha1_block(uint32_t h[5], const uint8_t *p)
{
    uint32_t w[80];
    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 | (uint32_t)p[4 * t + 2] << 8 |
               (uint32_t)p[4 * t + 3];
    for (int t = 16; t < 80; t++) w[t] = sha1_rol(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);

    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int t = 0; t < 80; t++) {
        uint32_t f, k;
        if (t < 20) { f = (b & c) | (~b & d); k = 0x5a827999u; }
        else if (t < 40) { f = b ^ c ^ d; k = 0x6ed9eba1u; }
        else if (t < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8f1bbcdcu; }
        else { f = b ^ c ^ d; k = 0xca62c1d6u; }
        uint32_t tmp = sha1_rol(a, 5) + f + e + k + w[t];
        e = d;
        d = c;
        c = sha1_rol(b, 30);
        b = a;
        a = tmp;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
}

void sha1_digest(const void *data, size_t len, uint8_t out[SHA1_DIGEST_LEN])
{
    uint32_t h[5] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u, 0xc3d2e1f0u};
    const uint8_t *p = data;
    size_t full = len / 64;
    for (size_t i = 0; i < full; i++) sha1_block(h, p + 64 * i);

    /* The tail, the 0x80 marker and the 64-bit bit length fill one or two last blocks. */
    uint8_t last[128] = {0};
    size_t rest = len % 64;
    if (rest) memcpy(last, p + 64 * full, rest);
    last[rest] = 0x80;
    size_t nlast = rest < 56 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++) last[nlast - 1 - i] = (uint8_t)(bits >> (8 * i));
    sha1_block(h, last);
    if (nlast == 128) sha1_block(h, last + 64);

    for (int i = 0; i < 5; i++) {
        out[4 * i] = (uint8_t)(h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(h[i] >> 8);
        out[4 * i + 3] = (uint8_t)h[i];
    }
}
