/* token.c: see token.h. */
#include "token.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define TOKEN_PREFIX "sha256$"
#define TOKEN_SALT 16

static int unhex(const char *hex, size_t n, unsigned char *out, size_t outlen)
{
    size_t bin_len = 0;
    if (sodium_hex2bin(out, outlen, hex, n, NULL, &bin_len, NULL) != 0) return -1;
    return (int)bin_len;
}

int token_check_format(const char *s, const char **why)
{
    if (strncmp(s, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0) return 0;
    const char *salt = s + strlen(TOKEN_PREFIX), *dollar = strchr(salt, '$');
    unsigned char buf[64];
    if (!dollar || dollar - salt < 16 || dollar - salt > 128 || unhex(salt, (size_t)(dollar - salt), buf, sizeof buf) < 8) {
        *why = "a hashed token is sha256$SALT$HASH with SALT 16..128 hex digits (make one with `hallctl token hash SECRET`)";
        return -1;
    }
    if (strlen(dollar + 1) != 64 || unhex(dollar + 1, 64, buf, sizeof buf) != 32) {
        *why = "a hashed token's HASH must be 64 hex digits (SHA-256)";
        return -1;
    }
    return 0;
}

bool token_verify(const char *stored, const char *presented)
{
    if (sodium_init() < 0) return false;
    size_t plen = strlen(presented);
    if (strncmp(stored, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) == 0) {
        const char *salt = stored + strlen(TOKEN_PREFIX), *dollar = strchr(salt, '$');
        unsigned char sbin[64], want[32], got[32];
        if (!dollar) return false;
        int slen = unhex(salt, (size_t)(dollar - salt), sbin, sizeof sbin);
        if (slen < 0 || unhex(dollar + 1, strlen(dollar + 1), want, sizeof want) != 32) return false;
        crypto_hash_sha256_state st;
        crypto_hash_sha256_init(&st);
        crypto_hash_sha256_update(&st, sbin, (size_t)slen);
        crypto_hash_sha256_update(&st, (const unsigned char *)presented, plen);
        crypto_hash_sha256_final(&st, got);
        return sodium_memcmp(got, want, 32) == 0;
    }
    /* plain secrets: compare digests, so the time does not depend on where they differ */
    unsigned char a[32], b[32];
    crypto_hash_sha256(a, (const unsigned char *)stored, strlen(stored));
    crypto_hash_sha256(b, (const unsigned char *)presented, plen);
    return sodium_memcmp(a, b, 32) == 0;
}

int token_hash(const char *secret, char *out, size_t len)
{
    if (sodium_init() < 0) return -1;
    unsigned char salt[TOKEN_SALT], h[32];
    char salthex[2 * TOKEN_SALT + 1], hhex[65];
    randombytes_buf(salt, sizeof salt);
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, salt, sizeof salt);
    crypto_hash_sha256_update(&st, (const unsigned char *)secret, strlen(secret));
    crypto_hash_sha256_final(&st, h);
    sodium_bin2hex(salthex, sizeof salthex, salt, sizeof salt);
    sodium_bin2hex(hhex, sizeof hhex, h, sizeof h);
    int n = snprintf(out, len, TOKEN_PREFIX "%s$%s", salthex, hhex);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}
