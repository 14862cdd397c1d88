/* errors.h: the project's one error convention. Inside, a function returns 0 or a negative
 * HK_ERR_* code (a module may have finer codes of its own, mapped to these); at the protocol edge
 * the code becomes its stable word, the `code` of an err reply (contract.md: never renamed). */
#ifndef HK_ERRORS_H
#define HK_ERRORS_H

#include <stddef.h>

typedef enum {
    HK_OK = 0,
    HK_ERR_UNAUTHENTICATED = -1,   /* unauthenticated */
    HK_ERR_FORBIDDEN = -2,         /* forbidden */
    HK_ERR_BAD_REQUEST = -3,       /* bad_request */
    HK_ERR_NOT_FOUND = -4,         /* not_found */
    HK_ERR_CONFLICT = -5,          /* conflict */
    HK_ERR_QUEUE_EMPTY = -6,       /* queue_empty */
    HK_ERR_CLOSED = -7,            /* closed */
    HK_ERR_FROZEN = -8,            /* frozen */
    HK_ERR_UNAVAILABLE = -9,       /* unavailable */
} hk_err;

/* The stable word of a code ("bad_request" for one outside the table: a caller's mistake must
 * still give the client a word of the contract). */
const char *hk_err_word(int code);
/* What the word means, for people (docs/protocol.md has the same table). */
const char *hk_err_meaning(int code);
/* Row i of the table: its code, or 0 past the last row (tests and docs walk it). */
int hk_err_row(size_t i);

#endif
