/* store.c: see store.h. One hiredis async connection driven by a small state machine; appends
 * wait in a FIFO until Redis confirms them, and the FIFO is sent again after every reconnect.
 * With Redis Sentinel every connect first asks the sentinels in turn where the master is (on a
 * second, short-lived connection), then checks with ROLE that the server really is the master. */
#include "store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "core/alloc.h"
#include "core/log.h"
#include "redis_uv.h"
#include "redis_url.h"

#define STORE_CONNECT_MS 2000
#define STORE_REPLY_MS 5000
#define STORE_BACKOFF_MIN_MS 100
#define STORE_LOADING_RETRY_MS 20   /* Redis answered LOADING: probe again this soon */
#define STORE_BACKOFF_MAX_MS 2000
/* A unix socket that is not there yet at start-up is, in practice, the embedded redis-server
 * still starting (it binds its socket some tens of ms after the spawn): for the first second of a
 * store that has never been up, a failed unix connect is tried again this soon instead of after
 * the 100/200 ms backoff, so an empty hall is ready as soon as Redis is, not up to 200 ms later.
 * A unix connect is one cheap, non-blocking syscall (ENOENT or ECONNREFUSED at once). */
#define STORE_START_POLL_MS 10
#define STORE_START_POLL_FOR_MS 1000
#define STORE_PAGE 5000
/* Sentinel mode: a sentinel gets this long to connect and to answer before the next is asked. */
#define STORE_SENTINEL_MS 1000
/* Sentinel mode: while the link is up, a sentinel is asked every this many keepalives (seconds)
 * whether the master moved. A failover does not always break our link at once: a master cut off
 * from the sentinels (a network split) is never told to step down, and one being demoted keeps
 * taking writes until the sentinels get round to reconfiguring it. */
#define STORE_PROBE_EVERY 2
/* Sentinel mode: replication to the replicas is asynchronous, so a master that dies, or is
 * demoted while we still write to it (a failover the sentinels start while our link to the old
 * master still works), may never pass its last confirmed events on to the master that follows.
 * So confirmed events are kept until a replica has them (WAIT 1 STORE_WAIT_MS, sent about once a
 * second and whenever STORE_WAIT_EVERY events are kept), at most STORE_RETAIN_MAX of them, and
 * sent again to whatever master the next link reaches; the explicit IDs make that a no-op for
 * events it already has. */
#define STORE_WAIT_MS 100
#define STORE_WAIT_EVERY 512
#define STORE_RETAIN_MAX 16384

/* What Redis answers when XADD is given an ID at or below the stream's top: for a resend of
 * our own append it means "already stored" (checked, see on_exec). */
#define XADD_ID_TOO_SMALL "ERR The ID specified in XADD is equal or smaller"

enum { ST_IDLE, ST_CONNECTING, ST_READY, ST_BACKOFF, ST_STOPPED };
enum { OP_UNSENT, OP_SENT, OP_VERIFY, OP_DONE };

typedef struct store_op {
    struct store_op *next;
    uint64_t seq;
    int state;
    int status;                 /* for OP_DONE: what done() gets */
    char *xadd;                 /* preformatted RESP commands, sent again after a reconnect */
    int xadd_len;
    char *set;
    int set_len;
    store_done_cb done;
    void *arg;
} store_op;

struct store {
    uv_loop_t *loop;
    char *url;
    char *key_events;           /* hall:{ID}:events */
    char *key_seq;              /* hall:{ID}:seq */
    int is_unix;
    char *path;                 /* unix socket */
    char host[INET6_ADDRSTRLEN];
    int port;
    int db;
    char *user, *password;      /* optional AUTH */

    /* Sentinel mode (sentinel != 0): host/port above are the master the sentinels named last */
    int sentinel;
    struct { char host[INET6_ADDRSTRLEN]; int port; } *sents;
    size_t nsents, sent_next, sent_tried;
    char *master_name;
    char *sent_password;        /* AUTH on every sentinel connection (their requirepass), or NULL */
    redisAsyncContext *sac;     /* the sentinel being asked, or NULL */
    char sent_why[128];         /* why the last sentinel failed, for the round's summary */
    int have_master;            /* host/port hold an answer from a sentinel */
    int probing;                /* sac is a check, while the link is up, that the master has not moved */
    unsigned probe_ticks;
    char probe_host[INET6_ADDRSTRLEN]; /* another master named by the last probe, to be confirmed */
    int probe_port;
    int asked;                  /* the master being connected to was named by sent_next */
    store_op *rhead, *rtail;    /* confirmed ops no replica is known to have yet */
    size_t nretained;
    uint64_t sent_seq;          /* the last op whose transaction was sent on this link */
    uint64_t replicated;        /* every op up to this seq is on a replica (WAIT said so) */
    uint64_t wait_mark;         /* the sent_seq the WAIT in flight covers */
    int wait_inflight;
    int wait_warned;            /* "no replica" was said for this streak */
    int retain_warned;          /* "too many kept" was said for this streak */

    int state;
    redisAsyncContext *ac;
    uv_timer_t timer;           /* backoff */
    unsigned backoff_ms;
    uint64_t fail_since;        /* first connect failure of the current streak, 0 = none */
    uint64_t started_at;        /* store_start, for the start-up poll of a unix socket */
    int ever_up;                /* the link has been ready at least once */
    int warned;                 /* this streak was reported */
    int open_handles;           /* timer + live adapters, for store_stop's close_cb */

    store_op *head, *tail, *unsent;
    size_t pending;
    uint64_t confirmed;         /* highest seq Redis has confirmed */
    int held;                   /* store_hold: appends wait unsent until store_release */

    struct {
        int active, inflight;
        store_event_cb each;
        store_restored_cb done;
        void *arg;
        int have_cursor;
        uint64_t cur_ms, cur_n; /* last entry delivered */
        uint64_t seq_key, max_seq;
        uint64_t checkpoint;    /* seq the restore starts at (hall:{ID}:checkpoint), 0 = the first */
        int whole;              /* store_read_all: every entry, whatever the checkpoint */
    } rs;
    uint64_t cp_first, cp_next; /* the day.checkpoint.part series being appended (store_append) */
    uintptr_t rs_gen;           /* tags restore replies: a finished restore ignores late ones */

    store_link_cb link_cb;
    void *link_arg;
    void (*close_cb)(void *arg);
    void *close_arg;
};

static void store_connect(store *s);
static void store_connect_master(store *s);
static void on_adapter_closed(void *arg);
static void connect_failed(store *s, const char *why);
static void store_drop_link(store *s, redisAsyncContext *ac);
static void op_free(store_op *op);
static void on_role(redisAsyncContext *ac, void *r, void *priv);
static void retained_requeue(store *s);
static void retained_prune(store *s);
static void replica_wait(store *s);
static void sentinel_probe(store *s);
static void store_flush(store *s);
static void restore_send(store *s);
static int parse_id(const char *id, uint64_t *ms, uint64_t *n);

/* ---- url --------------------------------------------------------------------------------- */

/* The URL into the link's fields; the daemon connects to an address only (see below). */
static int parse_url(store *s, const char *url, char *err, size_t errlen)
{
    redis_url u;
    if (redis_url_parse(&u, url, err, errlen) != 0) {
        redis_url_free(&u);
        return -EINVAL;
    }
    s->user = u.user;
    s->password = u.password;
    s->db = u.db;
    if (u.path) {
        s->is_unix = 1;
        s->path = u.path;
        return 0;
    }
    /* hiredis would resolve a name with a blocking getaddrinfo on the loop: accept addresses only */
    if (!strcmp(u.host, "localhost")) strcpy(u.host, "127.0.0.1");
    unsigned char buf[sizeof(struct in6_addr)];
    if (strlen(u.host) >= sizeof s->host ||
        (inet_pton(AF_INET, u.host, buf) != 1 && inet_pton(AF_INET6, u.host, buf) != 1)) {
        snprintf(err, errlen, "redis url %s: host must be an IP address or localhost", url);
        return -EINVAL;
    }
    strcpy(s->host, u.host);
    s->port = u.port;
    return 0;
}

/* "HOST:PORT" (HOST an IP address, IPv6 in brackets, or localhost) into host/port. */
static int parse_hostport(const char *in, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(in, ':');
    if (!colon || colon == in) return -EINVAL;
    const char *h = in;
    size_t n = (size_t)(colon - in);
    if (in[0] == '[') {
        if (n < 3 || in[n - 1] != ']') return -EINVAL;
        h++;
        n -= 2;
    }
    if (n >= hostlen) return -EINVAL;
    memcpy(host, h, n);
    host[n] = 0;
    char *e;
    long p = strtol(colon + 1, &e, 10);
    if (e == colon + 1 || *e || p < 1 || p > 65535) return -EINVAL;
    *port = (int)p;
    if (!strcmp(host, "localhost")) snprintf(host, hostlen, "127.0.0.1");
    unsigned char buf[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, host, buf) != 1 && inet_pton(AF_INET6, host, buf) != 1) return -EINVAL;
    return 0;
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

static store *store_alloc(uv_loop_t *loop, const char *hall_id, const char *url, char *err, size_t errlen)
{
    store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "store: out of memory");
        return NULL;
    }
    s->loop = loop;
    s->url = strdup(url);
    size_t n = strlen(hall_id) + 16;
    s->key_events = malloc(n);
    s->key_seq = malloc(n);
    if (!s->url || !s->key_events || !s->key_seq) {
        snprintf(err, errlen, "store: out of memory");
        store_free(s);
        return NULL;
    }
    /* the braces are a hash tag: every key of a hall lands in one cluster slot */
    snprintf(s->key_events, n, "hall:{%s}:events", hall_id);
    snprintf(s->key_seq, n, "hall:{%s}:seq", hall_id);
    s->backoff_ms = STORE_BACKOFF_MIN_MS;
    return s;
}

static void store_init_timer(store *s)
{
    uv_timer_init(s->loop, &s->timer);
    s->timer.data = s;
    s->open_handles = 1;
}

store *store_new(uv_loop_t *loop, const char *hall_id, const char *url, char *err, size_t errlen)
{
    if (!hall_id || !*hall_id || !url) {
        snprintf(err, errlen, "store: hall id and redis url are required");
        return NULL;
    }
    store *s = store_alloc(loop, hall_id, url, err, errlen);
    if (!s) return NULL;
    if (parse_url(s, url, err, errlen) != 0) {
        store_free(s);   /* nothing was opened yet */
        return NULL;
    }
    store_init_timer(s);
    return s;
}

store *store_new_sentinel(uv_loop_t *loop, const char *hall_id, const char *const *sentinels, size_t n,
                          const char *master, int db, char *err, size_t errlen)
{
    if (!hall_id || !*hall_id || !sentinels || n == 0 || !master || !*master || db < 0) {
        snprintf(err, errlen, "store: hall id, at least one sentinel and the master's name are required");
        return NULL;
    }
    char desc[160];
    snprintf(desc, sizeof desc, "master %s (via %zu sentinel%s)", master, n, n == 1 ? "" : "s");
    store *s = store_alloc(loop, hall_id, desc, err, errlen);
    if (!s) return NULL;
    s->sentinel = 1;
    s->db = db;
    s->master_name = strdup(master);
    s->sents = calloc(n, sizeof *s->sents);
    if (!s->master_name || !s->sents) {
        snprintf(err, errlen, "store: out of memory");
        store_free(s);
        return NULL;
    }
    s->nsents = n;
    for (size_t i = 0; i < n; i++) {
        if (parse_hostport(sentinels[i], s->sents[i].host, sizeof s->sents[i].host, &s->sents[i].port) != 0) {
            snprintf(err, errlen, "redis sentinel '%s': expected HOST:PORT with HOST an IP address or localhost",
                     sentinels[i]);
            store_free(s);
            return NULL;
        }
    }
    store_init_timer(s);
    return s;
}

int store_set_auth(store *s, const char *user, const char *password, const char *sentinel_password)
{
    if (!s->sentinel || s->state != ST_IDLE || (user && !password)) return -EINVAL;
    char *u = user ? strdup(user) : NULL, *p = password ? strdup(password) : NULL;
    char *sp = sentinel_password ? strdup(sentinel_password) : NULL;
    if ((user && !u) || (password && !p) || (sentinel_password && !sp)) {
        free(u);
        free(p);
        free(sp);
        return -ENOMEM;
    }
    free(s->user);
    free(s->password);
    free(s->sent_password);
    s->user = u;
    s->password = p;
    s->sent_password = sp;
    return 0;
}

void store_set_link_cb(store *s, store_link_cb cb, void *arg)
{
    s->link_cb = cb;
    s->link_arg = arg;
}

int store_start(store *s)
{
    if (s->state != ST_IDLE) return -EALREADY;
    s->started_at = uv_now(s->loop);
    store_connect(s);
    return 0;
}

int store_is_up(const store *s) { return s->state == ST_READY && !s->held; }

static void on_ping(redisAsyncContext *ac, void *r, void *priv)
{
    (void)ac; (void)r; (void)priv;   /* the answer itself does not matter: its absence does */
}

void store_keepalive(store *s)
{
    if (s->sentinel) {
        replica_wait(s);
        if (s->state == ST_READY && !s->sac && ++s->probe_ticks % STORE_PROBE_EVERY == 0) sentinel_probe(s);
    }
    if (s->state == ST_READY && s->ac && !s->pending) redisAsyncCommand(s->ac, on_ping, NULL, "PING");
}
uint64_t store_confirmed(const store *s) { return s->confirmed; }
size_t store_pending(const store *s) { return s->pending; }

static void op_free(store_op *op)
{
    redisFreeCommand(op->xadd);
    redisFreeCommand(op->set);
    free(op);
}

static void store_maybe_closed(store *s)
{
    if (s->state == ST_STOPPED && s->open_handles == 0 && s->close_cb) {
        void (*cb)(void *) = s->close_cb;
        s->close_cb = NULL;
        cb(s->close_arg);
    }
}

static void on_handle_closed(uv_handle_t *h)
{
    store *s = h->data;
    s->open_handles--;
    store_maybe_closed(s);
}

static void on_adapter_closed(void *arg)
{
    store *s = arg;
    s->open_handles--;
    store_maybe_closed(s);
}

void store_stop(store *s, void (*close_cb)(void *arg), void *arg)
{
    if (s->state == ST_STOPPED) return;
    s->state = ST_STOPPED;
    s->close_cb = close_cb;
    s->close_arg = arg;
    while (s->head) {
        store_op *op = s->head;
        s->head = op->next;
        op_free(op);
    }
    s->tail = s->unsent = NULL;
    s->pending = 0;
    while (s->rhead) {
        store_op *op = s->rhead;
        s->rhead = op->next;
        op_free(op);
    }
    s->rtail = NULL;
    s->nretained = 0;
    s->rs.active = 0;
    uv_timer_stop(&s->timer);
    uv_close((uv_handle_t *)&s->timer, on_handle_closed);
    if (s->ac) {
        redisAsyncContext *ac = s->ac;
        s->ac = NULL;
        redisAsyncFree(ac);     /* deferred by hiredis if we are inside one of its callbacks */
    }
    if (s->sac) {
        redisAsyncContext *ac = s->sac;
        s->sac = NULL;
        redisAsyncFree(ac);
    }
}

void store_free(store *s)
{
    if (!s) return;
    free(s->url);
    free(s->key_events);
    free(s->key_seq);
    free(s->path);
    free(s->user);
    free(s->password);
    free(s->sent_password);
    free(s->sents);
    free(s->master_name);
    free(s);
}

/* ---- connection state machine ------------------------------------------------------------- */

static void on_backoff(uv_timer_t *t)
{
    store *s = t->data;
    if (s->state == ST_BACKOFF) store_connect(s);
}

static void store_backoff(store *s)
{
    s->state = ST_BACKOFF;
    if (s->is_unix && !s->ever_up && uv_now(s->loop) - s->started_at < STORE_START_POLL_FOR_MS &&
        s->backoff_ms == STORE_BACKOFF_MIN_MS) {
        uv_timer_start(&s->timer, on_backoff, STORE_START_POLL_MS, 0);   /* see STORE_START_POLL_MS */
        return;
    }
    uv_timer_start(&s->timer, on_backoff, s->backoff_ms, 0);
    s->backoff_ms = s->backoff_ms * 2 > STORE_BACKOFF_MAX_MS ? STORE_BACKOFF_MAX_MS : s->backoff_ms * 2;
}

/* Warns once per streak, and only after a second: an embedded server that is still creating
 * its socket at start-up is not worth a warning. */
static void connect_failed(store *s, const char *why)
{
    /* the master a sentinel named did not work out (gone, or not the master): the next round
     * starts with the next sentinel, so one that is cut off from the others and still names the
     * old master cannot keep us away from the new one */
    if (s->sentinel && s->asked) s->sent_next = (s->sent_next + 1) % s->nsents;
    s->asked = 0;
    uint64_t now = uv_now(s->loop);
    if (!s->fail_since) s->fail_since = now;
    if (!s->warned && now - s->fail_since >= 1000) {
        log_warn("redis: cannot connect to %s: %s (retrying)", s->url, why);
        s->warned = 1;
    } else {
        log_debug("redis: cannot connect to %s: %s", s->url, why);
    }
    store_backoff(s);
}

/* Something made the current link unusable: free it; on_disconnect does the rest. */
static void store_drop_link(store *s, redisAsyncContext *ac)
{
    if (ac == s->ac) redisAsyncFree(ac);
}

static void on_ready(redisAsyncContext *ac, void *r, void *priv);

/* SELECT succeeds while a restarted Redis still loads its append-only file; data commands do
 * not. A data command is the probe, so the link is ready only once the data is there. */
static void on_selected(redisAsyncContext *ac, void *r, void *priv)
{
    store *s = ac->data;
    redisReply *reply = r;
    if (s->state != ST_CONNECTING || ac != s->ac || !reply) return;
    if (reply->type == REDIS_REPLY_ERROR) {
        log_err("redis: SELECT %d on %s failed: %s%s", s->db, s->url, reply->str,
                !strncmp(reply->str, "NOAUTH", 6)
                    ? (s->sentinel ? " (it wants a password: set password in redis)"
                                   : " (it wants a password: redis://:PASSWORD@HOST:PORT/DB)")
                    : "");
        store_drop_link(s, ac);
        return;
    }
    if (s->sentinel) redisAsyncCommand(ac, on_role, priv, "ROLE");
    else redisAsyncCommand(ac, on_ready, priv, "EXISTS %s", s->key_seq);
}


static void on_ready(redisAsyncContext *ac, void *r, void *priv)
{
    store *s = ac->data;
    redisReply *reply = r;
    if (s->state != ST_CONNECTING || ac != s->ac || !reply) return;
    if (reply->type == REDIS_REPLY_ERROR) {
        if (!strncmp(reply->str, "LOADING", 7)) {
            /* it is up and will be ready soon: ask again shortly instead of backing off, or a
             * restart waits up to a whole backoff step after Redis has loaded (docs/performance.md) */
            log_info("redis: %s is loading its data; waiting", s->url);
            s->backoff_ms = STORE_LOADING_RETRY_MS;
        } else {
            log_err("redis: %s is not usable: %s", s->url, reply->str);
        }
        store_drop_link(s, ac);
        return;
    }
    s->state = ST_READY;
    s->ever_up = 1;
    s->asked = 0;
    s->probe_port = 0;
    s->backoff_ms = STORE_BACKOFF_MIN_MS;
    s->fail_since = 0;
    s->warned = 0;
    log_notice("redis: link up (%s)", s->url);
    if (s->sentinel) {
        /* a replica of the old master is not necessarily one of this one: start counting afresh */
        s->wait_inflight = 0;
        s->sent_seq = 0;
        retained_requeue(s);
    }
    if (s->link_cb) s->link_cb(s->link_arg, 1);
    if (s->state != ST_READY) return;
    /* appends first: a restore must see every event written before it was asked for */
    store_flush(s);
    if (s->rs.active && !s->rs.inflight) restore_send(s);
}

static void on_auth(redisAsyncContext *ac, void *r, void *priv)
{
    store *s = ac->data;
    redisReply *reply = r;
    if (s->state != ST_CONNECTING || ac != s->ac || !reply) return;
    if (reply->type == REDIS_REPLY_ERROR) {
        log_err("redis: AUTH on %s failed (check the password%s): %s", s->url,
                s->sentinel ? " and username in redis" : " in redis.url", reply->str);
        store_drop_link(s, ac);
    }
}

static void on_connect(const redisAsyncContext *cac, int status)
{
    redisAsyncContext *ac = (redisAsyncContext *)cac;
    store *s = ac->data;
    if (s->state == ST_STOPPED || ac != s->ac) return;
    if (status != REDIS_OK) {
        s->ac = NULL;           /* hiredis frees it after this callback */
        connect_failed(s, ac->errstr);
        return;
    }
    /* not ready before AUTH and SELECT: appends must not land in the wrong database */
    if (s->password) {
        if (s->user)
            redisAsyncCommand(ac, on_auth, NULL, "AUTH %s %s", s->user, s->password);
        else
            redisAsyncCommand(ac, on_auth, NULL, "AUTH %s", s->password);
    }
    redisAsyncCommand(ac, on_selected, NULL, "SELECT %d", s->db);
}

static void on_disconnect(const redisAsyncContext *cac, int status)
{
    redisAsyncContext *ac = (redisAsyncContext *)cac;
    store *s = ac->data;
    if (s->state == ST_STOPPED || ac != s->ac) return;
    s->ac = NULL;
    int was_ready = s->state == ST_READY;
    /* everything not yet confirmed goes again, in order, on the next link */
    for (store_op *op = s->head; op; op = op->next) op->state = OP_UNSENT;
    s->unsent = s->head;
    s->rs.inflight = 0;
    if (was_ready) {
        log_warn("redis: link to %s lost: %s (%zu appends pending)", s->url,
                 ac->errstr[0] ? ac->errstr : "closed", s->pending);
        store_backoff(s);
        if (s->link_cb) s->link_cb(s->link_arg, 0);
    } else {
        connect_failed(s, ac->errstr[0] ? ac->errstr : "closed during handshake");
    }
}

static void store_connect_master(store *s)
{
    s->state = ST_CONNECTING;
    redisAsyncContext *ac = s->is_unix ? redisAsyncConnectUnix(s->path)
                                       : redisAsyncConnect(s->host, s->port);
    if (!ac) {
        connect_failed(s, "out of memory");
        return;
    }
    if (ac->err) {
        char why[sizeof ac->c.errstr];
        snprintf(why, sizeof why, "%s", ac->errstr);
        redisAsyncFree(ac);
        connect_failed(s, why);
        return;
    }
    if (redis_uv_attach(ac, s->loop, STORE_CONNECT_MS, STORE_REPLY_MS, on_adapter_closed, s) != 0) {
        redisAsyncFree(ac);
        connect_failed(s, "cannot watch the socket");
        return;
    }
    s->open_handles++;
    if (!s->is_unix) redisEnableKeepAlive(&ac->c);
    ac->data = s;
    s->ac = ac;
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    redisAsyncSetConnectCallback(ac, on_connect);   /* arms the first write event */
}

/* ---- Redis Sentinel ----------------------------------------------------------------------- */

static void sentinel_ask(store *s);
static void probe_failed(store *s, const char *why);

/* The sentinel being asked failed: ask the next one at once; when every sentinel of this round
 * failed, back off like any failed connect and start a new round. */
static void sentinel_failed(store *s, const char *why)
{
    size_t i = s->sent_next;
    /* loud in the first round of an outage; later rounds are summed up by connect_failed */
    hk_log(s->warned ? HK_LOG_DEBUG : HK_LOG_WARN, "redis: sentinel %s:%d did not tell where master %s is: %s",
           s->sents[i].host, s->sents[i].port, s->master_name, why);
    snprintf(s->sent_why, sizeof s->sent_why, "%s", why);
    s->sent_next = (i + 1) % s->nsents;
    if (++s->sent_tried < s->nsents) {
        sentinel_ask(s);
        return;
    }
    s->sent_tried = 0;
    char msg[200];
    snprintf(msg, sizeof msg, "no sentinel named the master (last: %s)", s->sent_why);
    connect_failed(s, msg);
}

static void sentinel_drop(store *s, redisAsyncContext *ac)
{
    if (ac != s->sac) return;
    s->sac = NULL;          /* its disconnect callback then sees a stranger and does nothing */
    redisAsyncFree(ac);     /* deferred by hiredis when called from one of its callbacks */
}

static void on_sentinel_reply(redisAsyncContext *ac, void *r, void *priv)
{
    (void)priv;
    store *s = ac->data;
    redisReply *reply = r;
    if (s->state == ST_STOPPED || ac != s->sac || !reply) return;   /* NULL: the disconnect says why */
    size_t i = s->sent_next;
    if (s->probing) {
        s->probing = 0;
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 || reply->element[0]->type != REDIS_REPLY_STRING ||
            reply->element[1]->type != REDIS_REPLY_STRING) {
            sentinel_drop(s, ac);
            probe_failed(s, reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
            return;
        }
        const char *h = reply->element[0]->str;
        int p = atoi(reply->element[1]->str);
        if (!strcmp(h, s->host) && p == s->port) {      /* still ours */
            s->probe_port = 0;
            sentinel_drop(s, ac);
            return;
        }
        /* One sentinel may be cut off from the others and stale: with more than one configured,
         * a second sentinel must name the same new master before the link is left. */
        if (s->nsents > 1 && !(s->probe_port == p && !strcmp(s->probe_host, h))) {
            log_info("redis: sentinel %s:%d says master %s is at %s:%d, not %s; asking another sentinel",
                     s->sents[i].host, s->sents[i].port, s->master_name, h, p, s->url);
            int first = s->probe_port == 0;
            snprintf(s->probe_host, sizeof s->probe_host, "%s", h);
            s->probe_port = p;
            s->sent_next = (i + 1) % s->nsents;
            sentinel_drop(s, ac);
            if (first && s->state == ST_READY) sentinel_probe(s);   /* else at the next keepalive */
            return;
        }
        log_warn("redis: failover: sentinel %s:%d says master %s is now at %s:%d while our link to %s still "
                 "works: leaving it", s->sents[i].host, s->sents[i].port, s->master_name, h, p, s->url);
        s->probe_port = 0;
        sentinel_drop(s, ac);
        if (s->state == ST_READY && s->ac) store_drop_link(s, s->ac);   /* on_disconnect asks again */
        return;
    }
    char host[INET6_ADDRSTRLEN];
    int port = 0;
    unsigned char buf[sizeof(struct in6_addr)];
    if (reply->type == REDIS_REPLY_ERROR || reply->type == REDIS_REPLY_NIL ||
        reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[0]->type != REDIS_REPLY_STRING || reply->element[1]->type != REDIS_REPLY_STRING) {
        char why[160];
        if (reply->type == REDIS_REPLY_ERROR)
            snprintf(why, sizeof why, "%s%s", reply->str,
                     !strncmp(reply->str, "NOAUTH", 6) ? " (the sentinels want a password: set sentinel_password in redis)" : "");
        else if (reply->type == REDIS_REPLY_NIL) snprintf(why, sizeof why, "it does not monitor a master of that name");
        else snprintf(why, sizeof why, "unexpected reply");
        sentinel_drop(s, ac);
        sentinel_failed(s, why);
        return;
    }
    snprintf(host, sizeof host, "%s", reply->element[0]->str);
    port = atoi(reply->element[1]->str);
    if ((inet_pton(AF_INET, host, buf) != 1 && inet_pton(AF_INET6, host, buf) != 1) || port < 1 || port > 65535) {
        /* a sentinel with announce-hostnames gives names: resolving them would block the loop */
        char why[200];
        snprintf(why, sizeof why, "it named %s:%s, which is not an IP address and port (set "
                 "'sentinel announce-hostnames no' on the sentinels)", reply->element[0]->str, reply->element[1]->str);
        sentinel_drop(s, ac);
        sentinel_failed(s, why);
        return;
    }
    int moved = s->have_master && (strcmp(host, s->host) != 0 || port != s->port);
    if (moved)
        log_warn("redis: failover: sentinel %s:%d says master %s moved from %s:%d to %s:%d", s->sents[i].host,
                 s->sents[i].port, s->master_name, s->host, s->port, host, port);
    else if (!s->have_master)
        log_notice("redis: sentinel %s:%d says master %s is at %s:%d", s->sents[i].host, s->sents[i].port,
                   s->master_name, host, port);
    else
        hk_log(s->warned ? HK_LOG_DEBUG : HK_LOG_INFO, "redis: sentinel %s:%d says master %s is still at %s:%d",
               s->sents[i].host, s->sents[i].port, s->master_name, host, port);
    snprintf(s->host, sizeof s->host, "%s", host);
    s->port = port;
    s->have_master = 1;
    s->sent_tried = 0;      /* the next round starts with this sentinel again */
    char desc[INET6_ADDRSTRLEN + 200];
    snprintf(desc, sizeof desc, "%s%s%s:%d (master %s)", strchr(host, ':') ? "[" : "", host,
             strchr(host, ':') ? "]" : "", port, s->master_name);
    char *d = strdup(desc);
    if (d) {
        free(s->url);
        s->url = d;
    }
    sentinel_drop(s, ac);
    s->asked = 1;
    store_connect_master(s);
}

/* A sentinel refused our AUTH (wrong sentinel_password, or none set on it): it cannot be asked. */
static void on_sentinel_auth(redisAsyncContext *ac, void *r, void *priv)
{
    (void)priv;
    store *s = ac->data;
    redisReply *reply = r;
    if (s->state == ST_STOPPED || ac != s->sac || !reply || reply->type != REDIS_REPLY_ERROR) return;
    char why[200];
    snprintf(why, sizeof why, "AUTH refused (check sentinel_password): %s", reply->str);
    sentinel_drop(s, ac);   /* the SENTINEL command queued behind it then gets NULL and is ignored */
    if (s->probing) probe_failed(s, why);
    else sentinel_failed(s, why);
}

static void on_sentinel_connect(const redisAsyncContext *cac, int status)
{
    redisAsyncContext *ac = (redisAsyncContext *)cac;
    store *s = ac->data;
    if (s->state == ST_STOPPED || ac != s->sac) return;
    if (status != REDIS_OK) {
        s->sac = NULL;          /* hiredis frees it after this callback */
        if (s->probing) probe_failed(s, ac->errstr[0] ? ac->errstr : "cannot connect");
        else sentinel_failed(s, ac->errstr[0] ? ac->errstr : "cannot connect");
        return;
    }
    if (s->sent_password) redisAsyncCommand(ac, on_sentinel_auth, NULL, "AUTH %s", s->sent_password);
    redisAsyncCommand(ac, on_sentinel_reply, NULL, "SENTINEL get-master-addr-by-name %s", s->master_name);
}

static void on_sentinel_disconnect(const redisAsyncContext *cac, int status)
{
    (void)status;
    redisAsyncContext *ac = (redisAsyncContext *)cac;
    store *s = ac->data;
    if (s->state == ST_STOPPED || ac != s->sac) return;
    s->sac = NULL;
    if (s->probing) probe_failed(s, ac->errstr[0] ? ac->errstr : "closed before answering");
    else sentinel_failed(s, ac->errstr[0] ? ac->errstr : "closed before answering");
}

/* Opens the connection to the sentinel at sent_next, bounded by STORE_SENTINEL_MS for the
 * connect and the reply. 0, or -1 with why filled in. */
static int sentinel_open(store *s, char *why, size_t whylen)
{
    size_t i = s->sent_next;
    redisAsyncContext *ac = redisAsyncConnect(s->sents[i].host, s->sents[i].port);
    if (!ac) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    if (ac->err) {
        snprintf(why, whylen, "%s", ac->errstr);
        redisAsyncFree(ac);
        return -1;
    }
    if (redis_uv_attach(ac, s->loop, STORE_SENTINEL_MS, STORE_SENTINEL_MS, on_adapter_closed, s) != 0) {
        redisAsyncFree(ac);
        snprintf(why, whylen, "cannot watch the socket");
        return -1;
    }
    s->open_handles++;
    ac->data = s;
    s->sac = ac;
    redisAsyncSetDisconnectCallback(ac, on_sentinel_disconnect);
    redisAsyncSetConnectCallback(ac, on_sentinel_connect);
    return 0;
}

/* Asks the sentinel at sent_next where the master is, on a connection of its own (the answer
 * decides where the data link goes). */
static void sentinel_ask(store *s)
{
    s->state = ST_CONNECTING;
    if (s->sac) sentinel_drop(s, s->sac);     /* a probe still under way */
    s->probing = 0;
    size_t i = s->sent_next;
    log_debug("redis: asking sentinel %s:%d for master %s", s->sents[i].host, s->sents[i].port, s->master_name);
    char why[128];
    if (sentinel_open(s, why, sizeof why) != 0) sentinel_failed(s, why);
}

/* A probe that got no answer: no harm done, the next one asks the next sentinel. */
static void probe_failed(store *s, const char *why)
{
    size_t i = s->sent_next;
    log_debug("redis: sentinel %s:%d did not answer a check: %s", s->sents[i].host, s->sents[i].port, why);
    s->probing = 0;
    s->sent_next = (i + 1) % s->nsents;
}

static void sentinel_probe(store *s)
{
    char why[128];
    s->probing = 1;
    if (sentinel_open(s, why, sizeof why) != 0) probe_failed(s, why);
}

/* ROLE: a sentinel's answer may be stale (a failover in progress), and a demoted master keeps
 * serving reads. Only a server that says "master" gets the hall's writes. */
static void on_role(redisAsyncContext *ac, void *r, void *priv)
{
    store *s = ac->data;
    redisReply *reply = r;
    if (s->state != ST_CONNECTING || ac != s->ac || !reply) return;
    const char *role = "unknown";
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 &&
        (reply->element[0]->type == REDIS_REPLY_STRING || reply->element[0]->type == REDIS_REPLY_STATUS))
        role = reply->element[0]->str;
    else if (reply->type == REDIS_REPLY_ERROR)
        role = reply->str;
    if (strcmp(role, "master") != 0) {
        log_warn("redis: %s is not the master (ROLE says %s); asking the sentinels again", s->url, role);
        store_drop_link(s, ac);
        return;
    }
    redisAsyncCommand(ac, on_ready, priv, "EXISTS %s", s->key_seq);
}

/* Sentinel mode: the confirmed ops kept for a failover go first on a new link, in order, ahead
 * of everything unconfirmed (they have lower seqs: a later event written first would make the
 * master refuse them). Their done() was called already, so it is not called again. */
static void retained_requeue(store *s)
{
    if (!s->rhead) return;
    log_info("redis: sending %zu confirmed events that no replica was known to have to %s again (a new master "
             "may lack them; events it has are kept as they are)", s->nretained, s->url);
    for (store_op *op = s->rhead; op; op = op->next) {
        op->state = OP_UNSENT;
        op->done = NULL;
        op->arg = NULL;
        s->pending++;
    }
    s->rtail->next = s->head;
    if (!s->head) s->tail = s->rtail;
    s->head = s->rhead;
    s->unsent = s->head;
    s->rhead = s->rtail = NULL;
    s->nretained = 0;
}

static void retained_prune(store *s)
{
    if (s->nretained > STORE_RETAIN_MAX && !s->retain_warned) {
        log_warn("redis: more than %d confirmed events are not on a replica yet: the oldest are no longer kept "
                 "to be sent again after a failover (is a replica connected to %s?)", STORE_RETAIN_MAX, s->url);
        s->retain_warned = 1;
    }
    while (s->rhead && (s->nretained > STORE_RETAIN_MAX || s->rhead->seq <= s->replicated)) {
        store_op *op = s->rhead;
        s->rhead = op->next;
        if (!s->rhead) s->rtail = NULL;
        s->nretained--;
        op_free(op);
    }
    if (!s->rhead) s->retain_warned = 0;
}

static void on_wait(redisAsyncContext *ac, void *r, void *priv)
{
    (void)priv;
    store *s = ac->data;
    redisReply *reply = r;
    if (s->state == ST_STOPPED || ac != s->ac || !reply) return;
    s->wait_inflight = 0;
    if (reply->type == REDIS_REPLY_INTEGER && reply->integer >= 1) {
        if (s->wait_mark > s->replicated) s->replicated = s->wait_mark;
        s->wait_warned = 0;
        retained_prune(s);
    } else if (!s->wait_warned) {
        log_warn("redis: no replica of %s has confirmed events up to seq %" PRIu64 " yet (%s); they are kept to be "
                 "sent again after a failover", s->url, s->wait_mark,
                 reply->type == REDIS_REPLY_ERROR ? reply->str : "WAIT timed out");
        s->wait_warned = 1;
    }
}

/* WAIT blocks this connection (up to STORE_WAIT_MS when no replica answers), so one at a time. */
static void replica_wait(store *s)
{
    if (s->state != ST_READY || !s->ac || !s->rhead || s->wait_inflight || s->sent_seq <= s->replicated) return;
    s->wait_mark = s->sent_seq;
    s->wait_inflight = 1;
    redisAsyncCommand(s->ac, on_wait, NULL, "WAIT 1 %d", STORE_WAIT_MS);
}

/* Every connect in sentinel mode asks the sentinels first: after a failover the old address may
 * answer (a demoted master, or a new server on the same port) but must not get the writes. */
static void store_connect(store *s)
{
    if (s->sentinel) sentinel_ask(s);
    else store_connect_master(s);
}

/* ---- appends ------------------------------------------------------------------------------ */

/* Delivers the confirmed appends at the head of the FIFO: completions keep append order. */
static void store_complete(store *s)
{
    while (s->state != ST_STOPPED && s->head && s->head->state == OP_DONE) {
        store_op *op = s->head;
        s->head = op->next;
        if (!s->head) s->tail = NULL;
        if (s->unsent == op) s->unsent = op->next;
        s->pending--;
        if (op->seq > s->confirmed) s->confirmed = op->seq;
        if (op->done) op->done(op->arg, op->status);
        if (s->sentinel && op->status == 0 && s->state != ST_STOPPED && op->seq > s->replicated) {
            op->next = NULL;
            op->done = NULL;
            if (s->rtail) s->rtail->next = op;
            else s->rhead = op;
            s->rtail = op;
            s->nretained++;
            retained_prune(s);
            if (s->nretained % STORE_WAIT_EVERY == 0) replica_wait(s);
        } else {
            op_free(op);
        }
    }
}

static void on_verify(redisAsyncContext *ac, void *r, void *priv)
{
    store *s = ac->data;
    redisReply *reply = r;
    store_op *op = priv;
    if (s->state == ST_STOPPED || ac != s->ac || !reply) return;
    if (reply->type != REDIS_REPLY_ARRAY) {
        log_err("redis: checking event %" PRIu64 " failed: %s", op->seq,
                reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
        store_drop_link(s, ac);
        return;
    }
    if (reply->elements == 1) {
        op->status = 0;
    } else {
        /* a later event is stored but this one is not: an explicit ID below the top can never
         * be written, so report it instead of claiming it durable */
        log_err("redis: event %" PRIu64 " cannot be stored: %s already holds later events",
                op->seq, s->key_events);
        op->status = -ERANGE;
    }
    op->state = OP_DONE;
    store_complete(s);
}

static void on_exec(redisAsyncContext *ac, void *r, void *priv)
{
    store *s = ac->data;
    redisReply *reply = r;
    store_op *op = priv;
    if (s->state == ST_STOPPED || ac != s->ac || !reply) return;   /* NULL: link lost, resent later */
    const char *why = "unexpected reply";
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {
        redisReply *x = reply->element[0], *set = reply->element[1];
        if (set->type == REDIS_REPLY_ERROR) {
            why = set->str;
        } else if (x->type == REDIS_REPLY_STRING || x->type == REDIS_REPLY_STATUS) {
            op->status = 0;
            op->state = OP_DONE;
            store_complete(s);
            return;
        } else if (x->type == REDIS_REPLY_ERROR &&
                   !strncmp(x->str, XADD_ID_TOO_SMALL, strlen(XADD_ID_TOO_SMALL))) {
            /* Usually our own resend of an event that made it before the link broke. Check the
             * entry really exists: the top may also be past it because this event failed
             * earlier while a later one succeeded. */
            char id[32];
            snprintf(id, sizeof id, "0-%" PRIu64, op->seq);
            log_debug("redis: event %" PRIu64 " already in the stream? checking", op->seq);
            op->state = OP_VERIFY;
            redisAsyncCommand(ac, on_verify, op, "XRANGE %s %s %s", s->key_events, id, id);
            return;
        } else if (x->type == REDIS_REPLY_ERROR) {
            why = x->str;
        }
    } else if (reply->type == REDIS_REPLY_ERROR) {
        why = reply->str;
    }
    /* A refusal (OOM, READONLY, MISCONF, ...) may pass: keep the event, reconnect with backoff
     * and send it again, so the hall sees the link as down meanwhile. */
    log_err("redis: append of event %" PRIu64 " refused: %s", op->seq, why);
    store_drop_link(s, ac);
}

static int op_send(store *s, store_op *op)
{
    redisAsyncContext *ac = s->ac;
    if (redisAsyncCommand(ac, NULL, NULL, "MULTI") != REDIS_OK ||
        redisAsyncFormattedCommand(ac, NULL, NULL, op->xadd, (size_t)op->xadd_len) != REDIS_OK ||
        redisAsyncFormattedCommand(ac, NULL, NULL, op->set, (size_t)op->set_len) != REDIS_OK ||
        redisAsyncCommand(ac, on_exec, op, "EXEC") != REDIS_OK)
        return -EIO;    /* the context is going away; on_disconnect resets the FIFO */
    op->state = OP_SENT;
    if (op->seq > s->sent_seq) s->sent_seq = op->seq;
    return 0;
}

/* Pipelines every unsent append: no waiting for one before sending the next. */
static void store_flush(store *s)
{
    while (s->state == ST_READY && !s->held && s->unsent) {
        if (op_send(s, s->unsent) != 0) return;
        s->unsent = s->unsent->next;
    }
}

/* hall:{ID}:checkpoint (malloc'd), beside hall:{ID}:seq */
static char *checkpoint_key(const store *s)
{
    size_t n = strlen(s->key_seq) + 16;
    char *k = hk_malloc(n);
    snprintf(k, n, "%.*scheckpoint", (int)(strlen(s->key_seq) - 3), s->key_seq);
    return k;
}

int store_append(store *s, uint64_t seq, const char *ev, int64_t at_ms,
                 const uint8_t *data, size_t len, store_done_cb done, void *arg)
{
    if (s->state == ST_STOPPED) return -ESHUTDOWN;
    if (seq == 0 || !ev) return -EINVAL;   /* 0-0 is not a valid stream ID */
    store_op *op = calloc(1, sizeof *op);
    if (!op) return -ENOMEM;
    char id[32], sseq[24], sat[24];
    snprintf(id, sizeof id, "0-%" PRIu64, seq);
    snprintf(sseq, sizeof sseq, "%" PRIu64, seq);
    snprintf(sat, sizeof sat, "%" PRId64, at_ms);
    const char *xargv[] = {"XADD", s->key_events, id, "ev", ev, "seq", sseq, "at", sat, "data",
                           (const char *)data};
    size_t xlen[] = {4, strlen(s->key_events), strlen(id), 2, strlen(ev), 3, strlen(sseq), 2,
                     strlen(sat), 4, len};
    if (!data) {
        xargv[10] = "";
        xlen[10] = 0;
    }
    /* a day.checkpoint also moves hall:{ID}:checkpoint, in the same transaction (one MSET, so the
     * EXEC reply keeps its shape), to the first of the day.checkpoint.part events right before it:
     * a restore reads from there (docs/streams.md). Only a complete checkpoint moves the key. */
    uint64_t cp = 0;
    if (!strcmp(ev, "day.checkpoint.part")) {
        if (!s->cp_first || seq != s->cp_next) s->cp_first = seq;
        s->cp_next = seq + 1;
    } else {
        if (!strcmp(ev, "day.checkpoint")) cp = s->cp_first && seq == s->cp_next ? s->cp_first : seq;
        s->cp_first = s->cp_next = 0;
    }
    char scp[24], *kcp = cp ? checkpoint_key(s) : NULL;
    snprintf(scp, sizeof scp, "%" PRIu64, cp);
    const char *sargv[] = {cp ? "MSET" : "SET", s->key_seq, sseq, kcp, scp};
    size_t slen[] = {cp ? 4 : 3, strlen(s->key_seq), strlen(sseq), kcp ? strlen(kcp) : 0, strlen(scp)};
    op->xadd_len = redisFormatCommandArgv(&op->xadd, 11, xargv, xlen);
    op->set_len = redisFormatCommandArgv(&op->set, cp ? 5 : 3, sargv, slen);
    free(kcp);
    if (op->xadd_len < 0 || op->set_len < 0) {
        op_free(op);
        return -ENOMEM;
    }
    op->seq = seq;
    op->done = done;
    op->arg = arg;
    if (s->tail) s->tail->next = op;
    else s->head = op;
    s->tail = op;
    if (!s->unsent) s->unsent = op;
    s->pending++;
    store_flush(s);
    return 0;
}

/* ---- a hall started from its local copy ---------------------------------------------------- */

void store_hold(store *s) { s->held = 1; }

int store_release(store *s, uint64_t upto)
{
    if (s->state == ST_STOPPED) return -ESHUTDOWN;
    /* held, nothing was sent: the head is unsent, and Redis already has every seq up to upto */
    while (s->held && s->head && s->head->seq <= upto && s->head->state == OP_UNSENT) {
        store_op *op = s->head;
        s->head = op->next;
        if (!s->head) s->tail = NULL;
        if (s->unsent == op) s->unsent = op->next;
        s->pending--;
        if (op->done) op->done(op->arg, 0);
        op_free(op);
    }
    if (upto > s->confirmed) s->confirmed = upto;
    s->held = 0;
    store_flush(s);
    return 0;
}

typedef struct {
    store *s;
    store_top_cb cb;
    void *arg;
} top_req;

static void on_top(redisAsyncContext *ac, void *r, void *priv)
{
    store *s = ac->data;
    redisReply *reply = r;
    top_req *q = priv;
    if (s->state == ST_STOPPED) { free(q); return; }
    if (!reply || ac != s->ac || reply->type != REDIS_REPLY_ARRAY) {
        if (reply && reply->type == REDIS_REPLY_ERROR) log_err("redis: XREVRANGE %s failed: %s", s->key_events, reply->str);
        q->cb(q->arg, -EIO, 0, NULL, 0);
        free(q);
        return;
    }
    uint64_t ms = 0, seq = 0;
    const uint8_t *data = NULL;
    size_t len = 0;
    if (reply->elements >= 1) {
        redisReply *e = reply->element[0];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING ||
            parse_id(e->element[0]->str, &ms, &seq) != 0 || ms != 0) {
            /* not an ID this hall writes (0-SEQ): someone else's stream */
            q->cb(q->arg, -EPROTO, UINT64_MAX, NULL, 0);
            free(q);
            return;
        }
        redisReply *f = e->element[1];
        for (size_t k = 0; f->type == REDIS_REPLY_ARRAY && k + 1 < f->elements; k += 2)
            if (f->element[k]->type == REDIS_REPLY_STRING && !strcmp(f->element[k]->str, "data") &&
                f->element[k + 1]->type == REDIS_REPLY_STRING) {
                data = (const uint8_t *)f->element[k + 1]->str;
                len = f->element[k + 1]->len;
            }
    }
    q->cb(q->arg, 0, seq, data, len);
    free(q);
}

int store_top(store *s, store_top_cb cb, void *arg)
{
    if (s->state != ST_READY || !s->ac) return -EAGAIN;
    top_req *q = malloc(sizeof *q);
    if (!q) return -ENOMEM;
    *q = (top_req){s, cb, arg};
    if (redisAsyncCommand(s->ac, on_top, q, "XREVRANGE %s + - COUNT 1", s->key_events) != REDIS_OK) {
        free(q);
        return -EIO;
    }
    return 0;
}

/* ---- restore ------------------------------------------------------------------------------ */

static void restore_finish(store *s, int status)
{
    s->rs.active = 0;
    s->rs.inflight = 0;
    uint64_t last = s->rs.seq_key > s->rs.max_seq ? s->rs.seq_key : s->rs.max_seq;
    if (status != 0) last = 0;
    if (s->rs.done) s->rs.done(s->rs.arg, status, last);
}

static int parse_id(const char *id, uint64_t *ms, uint64_t *n)
{
    char *e;
    errno = 0;
    *ms = strtoull(id, &e, 10);
    if (e == id || *e != '-' || errno) return -1;
    const char *p = e + 1;
    *n = strtoull(p, &e, 10);
    if (e == p || *e || errno) return -1;
    return 0;
}

/* hall:{ID}:checkpoint names an entry the stream does not have (trimmed past it, or deleted):
 * starting from what is left would give a hall without its earlier state, so the restore fails. */
static void restore_missing_checkpoint(store *s)
{
    char *k = checkpoint_key(s);
    log_err("redis: %s says the hall restores from entry 0-%" PRIu64 ", which %s does not hold: refusing "
            "to start from a partial state (restore that entry from an archive, or DEL %s to read the "
            "stream from its first entry; docs/redis.md)", k, s->rs.checkpoint, s->key_events, k);
    free(k);
    restore_finish(s, -ENOENT);
}

static void on_restore_page(redisAsyncContext *ac, void *r, void *priv)
{
    store *s = ac->data;
    redisReply *reply = r;
    if (s->state == ST_STOPPED || ac != s->ac || !reply || !s->rs.active ||
        (uintptr_t)priv != s->rs_gen)
        return;
    if (reply->type != REDIS_REPLY_ARRAY) {
        log_err("redis: XRANGE %s failed: %s", s->key_events,
                reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
        restore_finish(s, -EIO);
        return;
    }
    for (size_t i = 0; i < reply->elements; i++) {
        redisReply *e = reply->element[i];
        uint64_t ms, n;
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            e->element[0]->type != REDIS_REPLY_STRING || parse_id(e->element[0]->str, &ms, &n) != 0) {
            log_warn("redis: %s: skipping a malformed entry", s->key_events);
            continue;
        }
        if (s->rs.checkpoint && !s->rs.have_cursor && (ms != 0 || n != s->rs.checkpoint)) {
            restore_missing_checkpoint(s);
            return;
        }
        s->rs.have_cursor = 1;
        s->rs.cur_ms = ms;
        s->rs.cur_n = n;
        redisReply *f = e->element[1];
        const uint8_t *data = NULL;
        size_t len = 0;
        uint64_t seq = ms == 0 ? n : 0;     /* our IDs are 0-SEQ; otherwise trust the field */
        if (f->type == REDIS_REPLY_ARRAY) {
            for (size_t k = 0; k + 1 < f->elements; k += 2) {
                redisReply *key = f->element[k], *val = f->element[k + 1];
                if (key->type != REDIS_REPLY_STRING || val->type != REDIS_REPLY_STRING) continue;
                if (!strcmp(key->str, "data")) {
                    data = (const uint8_t *)val->str;
                    len = val->len;
                } else if (!strcmp(key->str, "seq") && seq == 0) {
                    seq = strtoull(val->str, NULL, 10);
                }
            }
        }
        if (seq == 0) {
            log_warn("redis: %s: entry %s has no seq, skipped", s->key_events, e->element[0]->str);
            continue;
        }
        if (seq > s->rs.max_seq) s->rs.max_seq = seq;
        if (s->rs.each) s->rs.each(s->rs.arg, seq, data ? data : (const uint8_t *)"", len);
        if (s->state == ST_STOPPED || !s->rs.active) return;    /* stopped from each() */
    }
    if (reply->elements < STORE_PAGE) {
        if (s->rs.checkpoint && !s->rs.have_cursor) restore_missing_checkpoint(s);
        else restore_finish(s, 0);
        return;
    }
    char start[48];
    snprintf(start, sizeof start, "(%" PRIu64 "-%" PRIu64, s->rs.cur_ms, s->rs.cur_n);
    redisAsyncCommand(ac, on_restore_page, priv, "XRANGE %s %s + COUNT %d", s->key_events, start,
                      STORE_PAGE);
}

static void on_restore_seq(redisAsyncContext *ac, void *r, void *priv)
{
    store *s = ac->data;
    redisReply *reply = r;
    if (s->state == ST_STOPPED || ac != s->ac || !reply || !s->rs.active ||
        (uintptr_t)priv != s->rs_gen)
        return;
    if (reply->type == REDIS_REPLY_STRING) {
        s->rs.seq_key = strtoull(reply->str, NULL, 10);
    } else if (reply->type == REDIS_REPLY_ERROR) {
        log_err("redis: GET %s failed: %s", s->key_seq, reply->str);
        restore_finish(s, -EIO);    /* the XRANGE reply that follows is then ignored */
    }
}

/* hall:{ID}:checkpoint: the seq of the latest complete day.checkpoint (its first part), where
 * the first page starts; without it, the stream is read from its first entry. */
static void on_restore_checkpoint(redisAsyncContext *ac, void *r, void *priv)
{
    store *s = ac->data;
    redisReply *reply = r;
    if (s->state == ST_STOPPED || ac != s->ac || !reply || !s->rs.active ||
        (uintptr_t)priv != s->rs_gen)
        return;
    char start[48] = "-";
    s->rs.checkpoint = 0;
    if (reply->type == REDIS_REPLY_STRING) {
        char *e;
        errno = 0;
        uint64_t cp = strtoull(reply->str, &e, 10);
        if (e == reply->str || *e || errno || cp == 0) {
            log_err("redis: the checkpoint key of %s holds \"%s\", not a seq", s->key_events, reply->str);
            restore_finish(s, -EINVAL);
            return;
        }
        s->rs.checkpoint = cp;
        snprintf(start, sizeof start, "0-%" PRIu64, cp);
        log_notice("redis: restoring from the checkpoint at seq %" PRIu64 " (earlier events are not read)", cp);
    } else if (reply->type == REDIS_REPLY_ERROR) {
        log_err("redis: GET of the checkpoint key failed: %s", reply->str);
        restore_finish(s, -EIO);
        return;
    } else {
        log_info("redis: no checkpoint yet: restoring %s from its first entry", s->key_events);
    }
    redisAsyncCommand(ac, on_restore_page, priv, "XRANGE %s %s + COUNT %d", s->key_events, start, STORE_PAGE);
}

/* Asks for the seq key and the next page; after a reconnect it resumes after the last entry
 * already delivered, so each() never sees an event twice. */
static void restore_send(store *s)
{
    char start[48];
    if (s->rs.have_cursor)
        snprintf(start, sizeof start, "(%" PRIu64 "-%" PRIu64, s->rs.cur_ms, s->rs.cur_n);
    else
        snprintf(start, sizeof start, "-");
    s->rs.inflight = 1;
    void *tag = (void *)s->rs_gen;
    redisAsyncCommand(s->ac, on_restore_seq, tag, "GET %s", s->key_seq);
    if (!s->rs.have_cursor && !s->rs.whole) {
        /* the first page starts at the latest checkpoint, once its key is read */
        char *k = checkpoint_key(s);
        redisAsyncCommand(s->ac, on_restore_checkpoint, tag, "GET %s", k);
        free(k);
        return;
    }
    redisAsyncCommand(s->ac, on_restore_page, tag, "XRANGE %s %s + COUNT %d", s->key_events, start,
                      STORE_PAGE);
}

static int restore_start(store *s, store_event_cb each, store_restored_cb done, void *arg, int whole)
{
    if (s->state == ST_STOPPED) return -ESHUTDOWN;
    if (s->rs.active) return -EBUSY;
    memset(&s->rs, 0, sizeof s->rs);
    s->rs_gen++;
    s->rs.active = 1;
    s->rs.whole = whole;
    s->rs.each = each;
    s->rs.done = done;
    s->rs.arg = arg;
    if (s->state == ST_READY) restore_send(s);
    return 0;
}

int store_restore(store *s, store_event_cb each, store_restored_cb done, void *arg)
{
    return restore_start(s, each, done, arg, 0);
}

int store_read_all(store *s, store_event_cb each, store_restored_cb done, void *arg)
{
    return restore_start(s, each, done, arg, 1);
}
