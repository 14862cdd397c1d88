/* redis_uv.h: our hiredis (0.14) <-> libuv adapter. Unlike the packaged one it does not ignore
 * poll errors (hiredis is asked to read so it notices the failure) and it bounds both the connect
 * and the wait for replies with a timer, because a dead peer may otherwise never be noticed. */
#ifndef HK_REDIS_UV_H
#define HK_REDIS_UV_H

#include <hiredis/async.h>
#include <uv.h>

/* Attaches ac (fresh from redisAsyncConnect*, before the connect callback is set) to loop.
 * A connect that has not completed after connect_ms is reported through the context's
 * connect callback with REDIS_ERR and the context is freed; a connected context that has
 * commands waiting and receives nothing for reply_ms is freed (pending callbacks get NULL, the
 * disconnect callback runs). ac->errstr then says "timed out". on_closed(arg) is called once
 * the adapter's own handles are closed, which happens after hiredis freed the context.
 * Returns 0, or a negative error (ac untouched, the caller frees it). */
int redis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop, unsigned connect_ms, unsigned reply_ms,
                    void (*on_closed)(void *arg), void *arg);

#endif
