/* limits.h: how much a client may ask: token buckets for request rates, and a guard that slows
 * stops guessing of tokens (failed hellos per address, docs/security.md). Pure logic; time is
 * passed in. */
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
#define LOGIN_MAX_FAILS 5            /* failed hellos from one address before it is penalised: */
#define LOGIN_BLOCK_MS 2000          /* every hello refused for this long, doubled with each */
#define LOGIN_BLOCK_MAX_MS (15 * 60 * 1000)   /* further failure, up to this */
#define LOGIN_FORGET_MS (10 * 60 * 1000)      /* failures forgotten this long after the last one */
#define LOGIN_LOG_MS 10000           /* failures of one address logged once per this interval */

typedef struct {
    char addr[48];
    int fails;                 /* failures counted toward the penalty (a success does not reset it) */
    int64_t blocked_until, last_ms;
    int64_t log_from;          /* start of the log interval, 0 = nothing pending */
    unsigned unlogged, refused;   /* failures and refused hellos not yet in a log line */
} hk_login_slot;

typedef struct { hk_login_slot s[LOGIN_SLOTS]; } hk_login_guard;

/* How long (ms) every hello from addr is still refused, right token or wrong; 0 = not penalised.
 * A refused hello is counted for the log, not as a failure (its token is never looked at). */
int64_t login_penalty(hk_login_guard *g, const char *addr, int64_t now_ms);
/* Records a failed hello. Returns the penalty it starts or lengthens (0 = none yet). *log_now:
 * true for the first failure of a log interval (logged at once; the rest by login_report). */
int64_t login_failed(hk_login_guard *g, const char *addr, int64_t now_ms, bool *log_now);
/* For each address with failures or refusals not yet logged whose interval has ended: one line's
 * worth (failures, refused, the penalty left), then its counts start again. */
typedef void (*login_report_fn)(void *arg, const char *addr, unsigned failed, unsigned refused,
                                int64_t penalty_ms);
void login_report(hk_login_guard *g, int64_t now_ms, login_report_fn fn, void *arg);

#endif
