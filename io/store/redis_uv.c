/* redis_uv.c: see redis_uv.h. One uv_poll_t follows the interest hiredis declares through its
 * ev hooks; one repeating uv_timer_t runs while a connect or a reply is awaited. */
#include "redis_uv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define REDIS_UV_TICK_MS 100

typedef struct redis_uv {
    redisAsyncContext *ac;          /* NULL once hiredis called cleanup */
    uv_poll_t poll;
    uv_timer_t timer;
    int events;                     /* UV_READABLE|UV_WRITABLE the poll is started with */
    int open_handles;
    unsigned connect_ms, reply_ms;
    uint64_t started;               /* when the connect began */
    uint64_t wait_start;            /* last progress while replies are awaited; 0 = idle */
    void (*on_closed)(void *arg);
    void *arg;
} redis_uv;

static void rp_on_poll(uv_poll_t *h, int status, int events);

static void rp_set_events(redis_uv *p, int events)
{
    if (events == p->events || !p->ac) return;
    if (events) {
        if (uv_poll_start(&p->poll, events, rp_on_poll) != 0) return;  /* the timer will notice */
    } else {
        uv_poll_stop(&p->poll);
    }
    p->events = events;
}

static void rp_on_tick(uv_timer_t *t);

static void rp_arm(redis_uv *p)
{
    if (uv_is_active((uv_handle_t *)&p->timer)) return;
    p->wait_start = uv_now(p->poll.loop);
    uv_timer_start(&p->timer, rp_on_tick, REDIS_UV_TICK_MS, REDIS_UV_TICK_MS);
}

static void rp_add_read(void *d) { redis_uv *p = d; rp_set_events(p, p->events | UV_READABLE); }
static void rp_del_read(void *d) { redis_uv *p = d; rp_set_events(p, p->events & ~UV_READABLE); }
static void rp_add_write(void *d)
{
    redis_uv *p = d;
    rp_set_events(p, p->events | UV_WRITABLE);
    rp_arm(p);   /* hiredis asks for writability whenever a command is queued */
}
static void rp_del_write(void *d) { redis_uv *p = d; rp_set_events(p, p->events & ~UV_WRITABLE); }

static void rp_on_close(uv_handle_t *h)
{
    redis_uv *p = h->data;
    if (--p->open_handles > 0) return;
    if (p->on_closed) p->on_closed(p->arg);
    free(p);
}

/* hiredis is freeing the context: the fd is closed right after, so stop watching it now. */
static void rp_cleanup(void *d)
{
    redis_uv *p = d;
    p->ac = NULL;
    uv_close((uv_handle_t *)&p->poll, rp_on_close);
    uv_close((uv_handle_t *)&p->timer, rp_on_close);
}

static void rp_fail(redis_uv *p, const char *why)
{
    redisAsyncContext *ac = p->ac;
    ac->c.err = REDIS_ERR_IO;
    snprintf(ac->c.errstr, sizeof ac->c.errstr, "%s", why);
    ac->err = ac->c.err;
    ac->errstr = ac->c.errstr;
    /* hiredis reports a failed connect through the connect callback, then frees the context
     * (no disconnect callback for a context that never connected): do the same. */
    if (!(ac->c.flags & REDIS_CONNECTED) && ac->onConnect)
        ac->onConnect(ac, REDIS_ERR);
    redisAsyncFree(ac);
}

static void rp_on_tick(uv_timer_t *t)
{
    redis_uv *p = t->data;
    redisAsyncContext *ac = p->ac;
    if (!ac) return;
    uint64_t now = uv_now(t->loop);
    if (!(ac->c.flags & REDIS_CONNECTED)) {
        if (now - p->started >= p->connect_ms) rp_fail(p, "connect timed out");
        return;
    }
    if (ac->replies.head == NULL) {     /* nothing awaited: sleep until the next command */
        p->wait_start = 0;
        uv_timer_stop(t);
        return;
    }
    if (p->wait_start == 0) p->wait_start = now;
    else if (now - p->wait_start >= p->reply_ms) rp_fail(p, "no reply from redis: timed out");
}

static void rp_on_poll(uv_poll_t *h, int status, int events)
{
    redis_uv *p = h->data;
    if (!p->ac) return;
    if (status < 0) {
        /* libuv stopped the handle; let hiredis read so it sees the socket error (or, if the
         * error was spurious, carries on), then restore the interest it had. */
        int was = p->events;
        p->events = 0;
        redisAsyncHandleRead(p->ac);
        if (p->ac) rp_set_events(p, p->events | was);
        return;
    }
    if (events & UV_READABLE) {
        p->wait_start = uv_now(h->loop);   /* bytes arrived: the peer is alive */
        redisAsyncHandleRead(p->ac);
    }
    if (p->ac && (events & UV_WRITABLE))
        redisAsyncHandleWrite(p->ac);
}

int redis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop, unsigned connect_ms, unsigned reply_ms,
                    void (*on_closed)(void *arg), void *arg)
{
    if (ac->ev.data != NULL) return -EEXIST;
    redis_uv *p = calloc(1, sizeof *p);
    if (!p) return -ENOMEM;
    int rc = uv_poll_init(loop, &p->poll, ac->c.fd);
    if (rc != 0) {
        free(p);
        return rc;
    }
    uv_timer_init(loop, &p->timer);
    p->poll.data = p;
    p->timer.data = p;
    p->open_handles = 2;
    p->ac = ac;
    p->connect_ms = connect_ms;
    p->reply_ms = reply_ms;
    p->on_closed = on_closed;
    p->arg = arg;
    p->started = uv_now(loop);
    ac->ev.data = p;
    ac->ev.addRead = rp_add_read;
    ac->ev.delRead = rp_del_read;
    ac->ev.addWrite = rp_add_write;
    ac->ev.delWrite = rp_del_write;
    ac->ev.cleanup = rp_cleanup;
    rp_arm(p);   /* the connect time-out */
    return 0;
}
