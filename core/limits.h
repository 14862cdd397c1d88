/* limits.h: how much a client may ask: token buckets for request rates, and a guard that slows
 * down guessing of tokens (failed hellos per address). Pure logic; time is passed in. */
#ifndef HK_LIMITS_H
#define HK_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    double tokens;
    int64_t last_ms;
    bool started;
} hk_bucket;

/* Takes one request from the bucket (refilled at rate per second, holding at most burst).
 * false: over the limit. */
bool bucket_take(hk_bucket *b, double rate, double burst, int64_t now_ms);

#define LOGIN_SLOTS 128
#define LOGIN_MAX_FAILS 5            /* failed hellos from one address ... */
#define LOGIN_WINDOW_MS 60000        /* ... within this time ... */
#define LOGIN_BLOCK_MS 60000         /* ... make its failures slow for this long: */
#define LOGIN_PENALTY_MS 2000        /* each failed hello is answered only after this delay */

typedef struct {
    char addr[48];
    int fails;
    int64_t first_ms, blocked_until, last_ms;
} hk_login_slot;

typedef struct { hk_login_slot s[LOGIN_SLOTS]; } hk_login_guard;

/* Records a failed hello. Returns how long to hold back its answer: 0 normally, LOGIN_PENALTY_MS
 * while the address has failed too often. A correct token is never held back. */
int64_t login_failed(hk_login_guard *g, const char *addr, int64_t now_ms);
void login_succeeded(hk_login_guard *g, const char *addr);

#endif
