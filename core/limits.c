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

/* The address's slot, made if need be: a free one, else the one least recently used. */
static hk_login_slot *login_slot(hk_login_guard *g, const char *addr, int64_t now_ms)
{
    hk_login_slot *s = login_find(g, addr);
    if (s) {
        if (now_ms - s->last_ms > LOGIN_FORGET_MS && s->blocked_until <= now_ms) s->fails = 0;
        return s;
    }
    s = &g->s[0];
    for (int i = 0; i < LOGIN_SLOTS; i++) {
        if (!g->s[i].addr[0]) { s = &g->s[i]; break; }
        if (g->s[i].last_ms < s->last_ms) s = &g->s[i];
    }
    memset(s, 0, sizeof *s);
    snprintf(s->addr, sizeof s->addr, "%s", addr);
    s->last_ms = now_ms;
    return s;
}

static void login_count(hk_login_slot *s, int64_t now_ms, bool *first)
{
    *first = s->log_from == 0;
    if (*first) s->log_from = now_ms;
}

int64_t login_penalty(hk_login_guard *g, const char *addr, int64_t now_ms)
{
    hk_login_slot *s = login_find(g, addr);
    if (!s || s->blocked_until <= now_ms) return 0;
    bool first;
    login_count(s, now_ms, &first);
    s->refused++;
    return s->blocked_until - now_ms;
}

int64_t login_failed(hk_login_guard *g, const char *addr, int64_t now_ms, bool *log_now)
{
    hk_login_slot *s = login_slot(g, addr, now_ms);
    s->last_ms = now_ms;
    login_count(s, now_ms, log_now);
    if (!*log_now) s->unlogged++;
    if (++s->fails < LOGIN_MAX_FAILS) return 0;
    int shift = s->fails - LOGIN_MAX_FAILS;
    int64_t block = LOGIN_BLOCK_MS;
    while (shift-- > 0 && block < LOGIN_BLOCK_MAX_MS) block *= 2;
    if (block > LOGIN_BLOCK_MAX_MS) block = LOGIN_BLOCK_MAX_MS;
    s->blocked_until = now_ms + block;
    return block;
}

void login_report(hk_login_guard *g, int64_t now_ms, login_report_fn fn, void *arg)
{
    for (int i = 0; i < LOGIN_SLOTS; i++) {
        hk_login_slot *s = &g->s[i];
        if (!s->addr[0] || !s->log_from || now_ms - s->log_from < LOGIN_LOG_MS) continue;
        if (s->unlogged || s->refused)
            fn(arg, s->addr, s->unlogged, s->refused, s->blocked_until > now_ms ? s->blocked_until - now_ms : 0);
        s->unlogged = s->refused = 0;
        s->log_from = 0;
    }
}
