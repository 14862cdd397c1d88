/* store.c: see store.h. One hiredis async connection driven by a small state machine; appends
 * wait in a FIFO until Redis confirms them, and the FIFO is sent again after every reconnect. */
#include "store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "log.h"
#include "redis_uv.h"

#define STORE_CONNECT_MS 2000
#define STORE_REPLY_MS 5000
#define STORE_BACKOFF_MIN_MS 100
#define STORE_BACKOFF_MAX_MS 2000
#define STORE_PAGE 5000

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

    int state;
    redisAsyncContext *ac;
    uv_timer_t timer;           /* backoff */
    unsigned backoff_ms;
    uint64_t fail_since;        /* first connect failure of the current streak, 0 = none */
    int warned;                 /* this streak was reported */
    int open_handles;           /* timer + live adapters, for store_stop's close_cb */

    store_op *head, *tail, *unsent;
    size_t pending;
    uint64_t confirmed;         /* highest seq Redis has confirmed */

    struct {
        int active, inflight;
        store_event_cb each;
        store_restored_cb done;
        void *arg;
        int have_cursor;
        uint64_t cur_ms, cur_n; /* last entry delivered */
        uint64_t seq_key, max_seq;
    } rs;
    uintptr_t rs_gen;           /* tags restore replies: a finished restore ignores late ones */

    store_link_cb link_cb;
    void *link_arg;
    void (*close_cb)(void *arg);
    void *close_arg;
};

static void store_connect(store *s);
static void store_flush(store *s);
static void restore_send(store *s);

/* ---- url --------------------------------------------------------------------------------- */

static int parse_url(store *s, const char *url, char *err, size_t errlen)
{
    if (!strncmp(url, "unix://", 7)) {
        if (url[7] != '/') {
            snprintf(err, errlen, "redis url %s: unix:// needs an absolute path", url);
            return -EINVAL;
        }
        s->is_unix = 1;
        s->path = strdup(url + 7);
        return s->path ? 0 : -ENOMEM;
    }
    if (strncmp(url, "redis://", 8) != 0) {
        snprintf(err, errlen, "redis url %s: expected redis://HOST:PORT/DB or unix:///path", url);
        return -EINVAL;
    }
    const char *p = url + 8;
    const char *at = strchr(p, '@');
    const char *slash0 = strchr(p, '/');
    if (at && (!slash0 || at < slash0)) {       /* [user]:password@ */
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (!colon) {
            snprintf(err, errlen, "redis url %s: credentials must be [USER]:PASSWORD@", url);
            return -EINVAL;
        }
        if (colon > p) s->user = strndup(p, (size_t)(colon - p));
        s->password = strndup(colon + 1, (size_t)(at - colon - 1));
        p = at + 1;
    }
    const char *hend;
    if (*p == '[') {
        hend = strchr(p, ']');
        if (!hend) goto bad;
        if ((size_t)(hend - p - 1) >= sizeof s->host) goto bad;
        memcpy(s->host, p + 1, (size_t)(hend - p - 1));
        hend++;
    } else {
        hend = p + strcspn(p, ":/");
        if ((size_t)(hend - p) >= sizeof s->host) goto bad;
        memcpy(s->host, p, (size_t)(hend - p));
    }
    s->port = 6379;
    if (*hend == ':') {
        char *e;
        long port = strtol(hend + 1, &e, 10);
        if (e == hend + 1 || port < 1 || port > 65535) goto bad;
        s->port = (int)port;
        hend = e;
    }
    if (*hend == '/' && hend[1]) {
        char *e;
        long db = strtol(hend + 1, &e, 10);
        if (e == hend + 1 || *e || db < 0 || db > 1000000) goto bad;
        s->db = (int)db;
    } else if (*hend && strcmp(hend, "/") != 0) {
        goto bad;
    }
    /* hiredis would resolve a name with a blocking getaddrinfo on the loop: accept addresses only */
    if (!strcmp(s->host, "localhost")) strcpy(s->host, "127.0.0.1");
    unsigned char buf[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, s->host, buf) != 1 && inet_pton(AF_INET6, s->host, buf) != 1) {
        snprintf(err, errlen, "redis url %s: host must be an IP address or localhost", url);
        return -EINVAL;
    }
    return 0;
bad:
    snprintf(err, errlen, "redis url %s: expected redis://HOST:PORT/DB", url);
    return -EINVAL;
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

store *store_new(uv_loop_t *loop, const char *hall_id, const char *url, char *err, size_t errlen)
{
    if (!hall_id || !*hall_id || !url) {
        snprintf(err, errlen, "store: hall id and redis url are required");
        return NULL;
    }
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
        goto fail;
    }
    /* the braces are a hash tag: every key of a hall lands in one cluster slot */
    snprintf(s->key_events, n, "hall:{%s}:events", hall_id);
    snprintf(s->key_seq, n, "hall:{%s}:seq", hall_id);
    if (parse_url(s, url, err, errlen) != 0) goto fail;
    uv_timer_init(loop, &s->timer);
    s->timer.data = s;
    s->open_handles = 1;
    s->backoff_ms = STORE_BACKOFF_MIN_MS;
    return s;
fail:
    store_free(s);   /* nothing was opened yet */
    return NULL;
}

void store_set_link_cb(store *s, store_link_cb cb, void *arg)
{
    s->link_cb = cb;
    s->link_arg = arg;
}

int store_start(store *s)
{
    if (s->state != ST_IDLE) return -EALREADY;
    store_connect(s);
    return 0;
}

int store_is_up(const store *s) { return s->state == ST_READY; }

static void on_ping(redisAsyncContext *ac, void *r, void *priv)
{
    (void)ac; (void)r; (void)priv;   /* the answer itself does not matter: its absence does */
}

void store_keepalive(store *s)
{
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
    s->rs.active = 0;
    uv_timer_stop(&s->timer);
    uv_close((uv_handle_t *)&s->timer, on_handle_closed);
    if (s->ac) {
        redisAsyncContext *ac = s->ac;
        s->ac = NULL;
        redisAsyncFree(ac);     /* deferred by hiredis if we are inside one of its callbacks */
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
    uv_timer_start(&s->timer, on_backoff, s->backoff_ms, 0);
    s->backoff_ms = s->backoff_ms * 2 > STORE_BACKOFF_MAX_MS ? STORE_BACKOFF_MAX_MS : s->backoff_ms * 2;
}

/* Warns once per streak, and only after a second: an embedded server that is still creating
 * its socket at start-up is not worth a warning. */
static void connect_failed(store *s, const char *why)
{
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
        log_err("redis: SELECT %d on %s failed: %s", s->db, s->url, reply->str);
        store_drop_link(s, ac);
        return;
    }
    redisAsyncCommand(ac, on_ready, priv, "EXISTS %s", s->key_seq);
}

static void on_ready(redisAsyncContext *ac, void *r, void *priv)
{
    store *s = ac->data;
    redisReply *reply = r;
    if (s->state != ST_CONNECTING || ac != s->ac || !reply) return;
    if (reply->type == REDIS_REPLY_ERROR) {
        if (!strncmp(reply->str, "LOADING", 7)) log_info("redis: %s is loading its data; waiting", s->url);
        else log_err("redis: %s is not usable: %s", s->url, reply->str);
        store_drop_link(s, ac);
        return;
    }
    s->state = ST_READY;
    s->backoff_ms = STORE_BACKOFF_MIN_MS;
    s->fail_since = 0;
    s->warned = 0;
    log_notice("redis: link up (%s)", s->url);
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
        log_err("redis: AUTH on %s failed: %s", s->url, reply->str);
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

static void store_connect(store *s)
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
        op_free(op);
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
    return 0;
}

/* Pipelines every unsent append: no waiting for one before sending the next. */
static void store_flush(store *s)
{
    while (s->state == ST_READY && s->unsent) {
        if (op_send(s, s->unsent) != 0) return;
        s->unsent = s->unsent->next;
    }
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
    const char *sargv[] = {"SET", s->key_seq, sseq};
    size_t slen[] = {3, strlen(s->key_seq), strlen(sseq)};
    op->xadd_len = redisFormatCommandArgv(&op->xadd, 11, xargv, xlen);
    op->set_len = redisFormatCommandArgv(&op->set, 3, sargv, slen);
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
        restore_finish(s, 0);
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
    redisAsyncCommand(s->ac, on_restore_page, tag, "XRANGE %s %s + COUNT %d", s->key_events, start,
                      STORE_PAGE);
}

int store_restore(store *s, store_event_cb each, store_restored_cb done, void *arg)
{
    if (s->state == ST_STOPPED) return -ESHUTDOWN;
    if (s->rs.active) return -EBUSY;
    memset(&s->rs, 0, sizeof s->rs);
    s->rs_gen++;
    s->rs.active = 1;
    s->rs.each = each;
    s->rs.done = done;
    s->rs.arg = arg;
    if (s->state == ST_READY) restore_send(s);
    return 0;
}
