/* token.h: device and staff tokens as the config holds them (docs/security.md "Tokens"):
 *  - a plain token: at least TOKEN_MIN_BITS of estimated entropy, compared whole, byte for byte;
 *  - an Argon2id hash "ID.$argon2id$v=19$m=..,t=..,p=1$SALT$HASH" of a token "ID.SECRET", made
 *    by `hallctl token new ROLE` or `hallctl token hash TOKEN`: the ID before the first '.'
 *    selects the one hash a hello runs (off the loop: it is slow by design).
 * The old salted SHA-256 hashes ("sha256$...") are refused at load with a message saying so. */
#ifndef HK_TOKEN_H
#define HK_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOKEN_MIN_BITS 128
#define TOKEN_MIN_DISTINCT 10       /* characters: "aaaa..." is long but not random */
#define TOKEN_ID_MAX 32
#define TOKEN_SECRET_BYTES 24       /* a new token's secret: 192 bits, 32 base64url characters */
/* What a new hash costs: Argon2id with libsodium's INTERACTIVE passes and a quarter of its
 * memory, so a Pi answers a hello in tens of milliseconds and two at once stay in 32 MiB. */
#define TOKEN_OPSLIMIT 2            /* crypto_pwhash_OPSLIMIT_INTERACTIVE */
#define TOKEN_MEMLIMIT (16u << 20)
#define TOKEN_MEMLIMIT_MAX (64u << 20)   /* a configured hash asking for more is refused */
#define TOKEN_OPSLIMIT_MAX 4

/* At load: 0 if stored is a strong plain token or a well-formed hash, -1 with a reason. */
int token_check(const char *stored, const char **why);
/* The estimated entropy of a plain token's secret (the part after "ID." when there is one). */
double token_entropy_bits(const char *token);
bool token_is_hashed(const char *stored);
/* true if stored is a hash whose ID is the presented token's (the n bytes up to its first '.'). */
bool token_id_matches(const char *stored, const uint8_t *p, size_t n);
/* A plain token against the presented n bytes: the whole of both, in constant time. */
bool token_plain_equal(const char *stored, const uint8_t *p, size_t n);
/* A hash against the presented n bytes: one Argon2id run (slow: call it off the loop). */
bool token_hash_verify(const char *stored, const uint8_t *p, size_t n);
/* Writes the hash of token ("ID.SECRET"). 0, or -1 with a reason. */
int token_hash(const char *token, char *out, size_t len, const char **why);
/* Writes a fresh random token "ID.SECRET" (id: 1..TOKEN_ID_MAX of A-Z a-z 0-9 _ -). 0, or -1. */
int token_new(const char *id, char *out, size_t len);

#endif
