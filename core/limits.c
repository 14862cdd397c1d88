/* limits.c: see limits.h. */
#include "limits.h"

#include <stdio.h>
#include <string.h>

bool bucket_take(hk_bucket *b, double rate, double burst, int64_t now_ms)
{
    if (!b->started) {
        b->started = true;
        b->tokens = burst;
        b->last_ms = now_ms;
    }
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * rate / 1000.0;
        if (b->tokens > burst) b->tokens = burst;
        b->last_ms = now_ms;
    }
    if (b->tokens < 1.0) return false;
    b->tokens -= 1.0;
    return true;
}

static hk_login_slot *login_find(const hk_login_guard *g, const char *addr)
{
    for (int i = 0; i < LOGIN_SLOTS; i++)
        if (g->s[i].addr[0] && !strcmp(g->s[i].addr, addr)) return (hk_login_slot *)&g->s[i];
    return NULL;
}

int64_t login_failed(hk_login_guard *g, const char *addr, int64_t now_ms)
{
    hk_login_slot *s = login_find(g, addr);
    if (!s) {
        /* a free slot, else the one least recently used */
        s = &g->s[0];
        for (int i = 0; i < LOGIN_SLOTS; i++) {
            if (!g->s[i].addr[0]) { s = &g->s[i]; break; }
            if (g->s[i].last_ms < s->last_ms) s = &g->s[i];
        }
        memset(s, 0, sizeof *s);
        snprintf(s->addr, sizeof s->addr, "%s", addr);
    }
    if (now_ms - s->first_ms > LOGIN_WINDOW_MS) {
        s->first_ms = now_ms;
        s->fails = 0;
    }
    s->last_ms = now_ms;
    bool was_slow = s->blocked_until > now_ms;
    if (++s->fails >= LOGIN_MAX_FAILS) s->blocked_until = now_ms + LOGIN_BLOCK_MS;
    return was_slow || s->blocked_until > now_ms ? LOGIN_PENALTY_MS : 0;
}

void login_succeeded(hk_login_guard *g, const char *addr)
{
    hk_login_slot *s = login_find(g, addr);
    if (s && s->blocked_until == 0) memset(s, 0, sizeof *s);
}
