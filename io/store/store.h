/* store.h: the hall's durable event log in Redis, over hiredis async on the daemon's libuv loop.
 * Every event is one stream entry in hall:{ID}:events with the explicit ID 0-SEQ, written together
 * with hall:{ID}:seq in one MULTI/EXEC. Appends are pipelined on one connection and complete in
 * order; an append that was in flight when the connection broke is sent again after reconnect
 * (the explicit ID makes a second write of the same event a no-op), so a completion means the
 * event is in Redis. The connection is a state machine: connecting -> ready -> lost -> backoff. */
#ifndef HK_STORE_H
#define HK_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct store store;

typedef void (*store_done_cb)(void *arg, int status);              /* 0 = durable */
typedef void (*store_link_cb)(void *arg, int up);                  /* Redis link up (1) / down (0) */
typedef void (*store_event_cb)(void *arg, uint64_t seq, const uint8_t *data, size_t len);
typedef void (*store_restored_cb)(void *arg, int status, uint64_t last_seq);

/* url: "redis://HOST:PORT/DB" (HOST an IP address or localhost) or "unix:///path/to/sock". */
store *store_new(uv_loop_t *loop, const char *hall_id, const char *url, char *err, size_t errlen);
/* Redis Sentinel: every connect asks the sentinels ("HOST:PORT", HOST an IP address or localhost)
 * in turn for master's address (SENTINEL get-master-addr-by-name), connects there, SELECTs db and
 * checks ROLE is master. A lost link, a refused write (-READONLY after a failover) or a sentinel
 * naming another master (checked every 2 s) makes it ask again; confirmed appends no replica is
 * known to have yet (WAIT), then unconfirmed ones, are sent to the new master in order. */
store *store_new_sentinel(uv_loop_t *loop, const char *hall_id, const char *const *sentinels, size_t n,
                          const char *master, int db, char *err, size_t errlen);
/* Sentinel mode, before store_start: AUTH [user] password on the master (its requirepass, or an
 * ACL user), AUTH sentinel_password on every sentinel. Any may be NULL (no AUTH there); user needs
 * password. 0, -EINVAL (not a Sentinel store, already started, user without password), -ENOMEM. */
int store_set_auth(store *s, const char *user, const char *password, const char *sentinel_password);
void store_set_link_cb(store *s, store_link_cb cb, void *arg);
int store_start(store *s);   /* starts connecting; retries with backoff until store_stop */

/* Reads the hall's events in seq order (XRANGE in pages), calling each() per event and done() at
 * the end: from the latest day.checkpoint (hall:{ID}:checkpoint, docs/streams.md) on, or from the
 * first entry without one. A checkpoint key naming an entry the stream lacks fails it (-ENOENT).
 * Waits for the link if it is not up yet. */
int store_restore(store *s, store_event_cb each, store_restored_cb done, void *arg);
/* The same over every entry the stream holds, whatever the checkpoint (reports of past days). */
int store_read_all(store *s, store_event_cb each, store_restored_cb done, void *arg);

/* Appends one event (data = its msgpack map). done() is called exactly once, in append order. */
int store_append(store *s, uint64_t seq, const char *ev, int64_t at_ms,
                 const uint8_t *data, size_t len, store_done_cb done, void *arg);

/* A hall that started from its local copy while Redis was away (docs/redis.md): store_hold keeps
 * every append queued, unsent, until store_release, which drops the queued appends up to seq upto
 * (Redis has them: their done() gets 0) and sends the rest in order. */
void store_hold(store *s);
int store_release(store *s, uint64_t upto);
/* The stream's last entry, once the link is up: cb(arg, 0, seq, data, len) (seq 0: the stream is
 * empty); -EIO if the link broke first (ask again when it is up), -EPROTO (seq UINT64_MAX) for an
 * entry ID this hall never writes. -EAGAIN when the link is not up. */
typedef void (*store_top_cb)(void *arg, int status, uint64_t seq, const uint8_t *data, size_t len);
int store_top(store *s, store_top_cb cb, void *arg);

int store_is_up(const store *s);   /* the link is ready and appends are not held */
/* Sends a PING when the link is idle: a Redis that hangs (stopped, swapped out) is then noticed
 * by the reply time-out even when the hall is quiet. Call it about once a second. */
void store_keepalive(store *s);
size_t store_pending(const store *s);   /* appends not yet confirmed */
uint64_t store_confirmed(const store *s); /* the highest seq confirmed so far (appends complete in order) */

/* Stops: no callbacks after this except close_cb, which is called once all handles are closed.
 * Pending appends are dropped (their done() is not called). */
void store_stop(store *s, void (*close_cb)(void *arg), void *arg);
void store_free(store *s);

#endif
