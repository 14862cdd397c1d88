/* token.c: see token.h. */
#include "token.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_ARGON2 "$argon2id$"

static bool id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Length of the ID before the first '.', or 0 if s does not start with one. */
static size_t id_len(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && i <= TOKEN_ID_MAX && id_char(s[i])) i++;
    return i > 0 && i <= TOKEN_ID_MAX && i < n && s[i] == '.' ? i : 0;
}

bool token_is_hashed(const char *stored)
{
    size_t n = id_len(stored, strlen(stored));
    return n && !strncmp(stored + n + 1, TOKEN_ARGON2, strlen(TOKEN_ARGON2));
}

double token_entropy_bits(const char *token)
{
    size_t n = id_len(token, strlen(token));
    const char *s = n ? token + n + 1 : token;
    bool lower = false, upper = false, digit = false, other = false, hex = true, seen[256] = {false};
    size_t len = strlen(s), distinct = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        lower |= c >= 'a' && c <= 'z';
        upper |= c >= 'A' && c <= 'Z';
        digit |= c >= '0' && c <= '9';
        other |= !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
        hex &= (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!seen[c]) distinct++;
        seen[c] = true;
    }
    if (distinct < TOKEN_MIN_DISTINCT) return 0;
    int alphabet = hex && !(digit && !lower && !upper) ? 16   /* hex digits: 4 bits each */
                   : 26 * lower + 26 * upper + 10 * digit + 32 * other;
    return alphabet ? (double)len * log2((double)alphabet) : 0;
}

/* The m= (KiB) and t= of an Argon2id string. */
static int hash_params(const char *h, unsigned long *m_kib, unsigned long *t)
{
    const char *p = strstr(h, "$m=");
    return p && sscanf(p, "$m=%lu,t=%lu,", m_kib, t) == 2 ? 0 : -1;
}

int token_check(const char *stored, const char **why)
{
    if (!strncmp(stored, "sha256$", 7)) {
        *why = "salted SHA-256 token hashes are no longer accepted: make an Argon2id hash with "
               "`hallctl token new ROLE` (a new token) or `hallctl token hash ID.SECRET`";
        return -1;
    }
    size_t n = id_len(stored, strlen(stored));
    if (n && !strncmp(stored + n + 1, "$argon2", 7)) {
        const char *h = stored + n + 1;
        unsigned long m_kib, t;
        if (strncmp(h, TOKEN_ARGON2, strlen(TOKEN_ARGON2)) || hash_params(h, &m_kib, &t) < 0) {
            *why = "a hashed token is ID.$argon2id$v=19$m=..,t=..,p=..$SALT$HASH (make one with `hallctl token new ROLE`)";
            return -1;
        }
        if (m_kib * 1024ul > TOKEN_MEMLIMIT_MAX || t > TOKEN_OPSLIMIT_MAX) {
            *why = "this token hash asks for more than 64 MiB or 4 passes: every hello would be slow (make a new one "
                   "with `hallctl token hash`)";
            return -1;
        }
        return 0;
    }
    if (token_entropy_bits(stored) < TOKEN_MIN_BITS) {
        *why = "token is too weak: it needs at least 128 bits of entropy (e.g. 22 random letters and digits, or 32 hex "
               "digits, with at least 10 different characters); make one with `hallctl token new ROLE`";
        return -1;
    }
    return 0;
}

bool token_id_matches(const char *stored, const uint8_t *p, size_t n)
{
    if (!token_is_hashed(stored)) return false;
    size_t sn = id_len(stored, strlen(stored)), pn = id_len((const char *)p, n);
    return sn == pn && !memcmp(stored, p, sn);
}

bool token_plain_equal(const char *stored, const uint8_t *p, size_t n)
{
    if (sodium_init() < 0) return false;
    /* digests of the whole of both: the time does not depend on where they differ */
    unsigned char a[32], b[32];
    crypto_hash_sha256(a, (const unsigned char *)stored, strlen(stored));
    crypto_hash_sha256(b, p, n);
    return sodium_memcmp(a, b, 32) == 0;
}

bool token_hash_verify(const char *stored, const uint8_t *p, size_t n)
{
    if (sodium_init() < 0 || !token_is_hashed(stored)) return false;
    const char *h = stored + id_len(stored, strlen(stored)) + 1;
    return crypto_pwhash_str_verify(h, (const char *)p, n) == 0;
}

int token_hash(const char *token, char *out, size_t len, const char **why)
{
    size_t n = id_len(token, strlen(token));
    if (!n) {
        *why = "a token to hash is ID.SECRET (ID: 1 to 32 of A-Z a-z 0-9 _ -): the ID selects its hash at hello";
        return -1;
    }
    if (token_check(token, why) < 0) return -1;
    char h[crypto_pwhash_STRBYTES];
    if (sodium_init() < 0 ||
        crypto_pwhash_str_alg(h, token, strlen(token), TOKEN_OPSLIMIT, TOKEN_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        *why = "out of memory for the hash";
        return -1;
    }
    int w = snprintf(out, len, "%.*s.%s", (int)n, token, h);
    if (w < 0 || (size_t)w >= len) {
        *why = "hash too long";
        return -1;
    }
    return 0;
}

int token_new(const char *id, char *out, size_t len)
{
    size_t n = strlen(id);
    if (!n || n > TOKEN_ID_MAX || id_len(id, n) || strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n)
        return -1;
    if (sodium_init() < 0) return -1;
    for (;;) {
        unsigned char secret[TOKEN_SECRET_BYTES];
        char b64[sodium_base64_ENCODED_LEN(TOKEN_SECRET_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
        randombytes_buf(secret, sizeof secret);
        sodium_bin2base64(b64, sizeof b64, secret, sizeof secret, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        int w = snprintf(out, len, "%s.%s", id, b64);
        if (w < 0 || (size_t)w >= len) return -1;
        if (token_entropy_bits(out) >= TOKEN_MIN_BITS) return 0;   /* a rare draw with few distinct characters */
    }
}
