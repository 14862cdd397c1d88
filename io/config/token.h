/* token.h: device and staff secrets as the config stores them: either the plain secret or a
 * salted hash "sha256$SALT$HASH" (SALT and HASH in hex, HASH = SHA-256(SALT bytes || secret)),
 * made with `hallctl token hash SECRET`. Comparisons take the same time however much matches. */
#ifndef HK_TOKEN_H
#define HK_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

/* true if presented matches stored (plain or hashed). */
bool token_verify(const char *stored, const char *presented);
/* Writes "sha256$SALT$HASH" for secret with a fresh random salt. 0, or -1 (buffer too small). */
int token_hash(const char *secret, char *out, size_t len);
/* 0 if s is a well-formed hash (or does not claim to be one), -1 with a reason otherwise. */
int token_check_format(const char *s, const char **why);

#endif
