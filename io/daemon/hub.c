/* hub.c: see hub.h. */
#include "hub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/limits.h"
#include "core/audience.h"
#include "core/codec/codec.h"
#include "io/base/clock.h"
#include "io/config/token.h"

/* One command's outcome waiting for its events to become durable. */
typedef struct pending {
    struct pending *next;
    client *to;                /* NULL: the client left, or nobody asked (published events) */
    frame *reply;
    frame **events;            /* as persisted */
    frame *(*views)[HK_NROLES];  /* per role slot (core/audience.h): what its connections get, NULL = none */
    size_t nevents;
    char **names;              /* each event's name, for the clients' subscriptions */
    hv **watched;              /* copies of the events the delivered hook asked for */
    size_t nwatched;
    uint64_t max_seq;          /* the last event's seq, 0 = no event */
    uint64_t submitted;        /* uv_now when submitted */
    int auth_role;
    int close_status;
} pending;

#define HUB_MAX_SUBS 16

typedef struct {
    hk_session s;
    int authed_role;           /* role used for broadcasts; set when the hello reply leaves */
    size_t pending;            /* entries in the FIFO that reply to this client */
    hk_bucket rate;            /* requests of this connection */
    bool subscribed;           /* hello's `events`: false = no events, or a list (subs) */
    char *subs[HUB_MAX_SUBS];
    int nsubs;
    unsigned refused;          /* requests refused for the rate: past a limit the client is dropped */
    int hello;                 /* HELLO_*: one hello per connection */
    bool unsigned_counted;     /* counted in hub.unsigned_in (not signed in yet) */
    struct hello_job *job;     /* the hash of its hello on the thread pool, or waiting for it */
    struct held *held, **held_tail;   /* frames that came while its hello was checked */
    unsigned nheld;
} conn;

enum { HELLO_NONE, HELLO_CHECKING, HELLO_DONE, HELLO_FAILED };

/* A frame held while the hello before it is checked: read once the hello succeeds, dropped if
 * it fails (nothing after a failed hello is read). */
typedef struct held {
    struct held *next;
    size_t len;
    int binary;
    uint8_t data[];
} held;

#define HUB_HELD_MAX 16          /* frames a client may send before its hello is answered */
#define HUB_HASHES_MAX 2         /* Argon2id hashes on the thread pool at once: the rest wait, and
                                  * the pool keeps threads for the printer's file writes */

/* One hello's Argon2id check (docs/security.md): the hash runs on the thread pool, the hello is
 * answered on the loop when it is done. c is NULL once the client has gone. */
typedef struct hello_job {
    uv_work_t work;
    struct hello_job *next;    /* in the hub's queue of hashes waiting for a thread */
    struct hub *hb;
    client *c;
    hv *req;
    const char *stored;        /* the configured hash the token's id selected */
    bool ok;
} hello_job;

/* A hall's clients ask a few times a second; the configured rates (http.rate_per_connection,
 * http.rate_per_token; bursts of twice the rate) stop one client, or one stolen token, from taking
 * the loop from the others. A client that keeps going past its limit is dropped. */
#define HUB_REFUSED_DROP 5000

struct hub {
    uv_loop_t *loop;
    hk_hall *hall;
    store *st;
    journal *jr;
    server *srv;
    uv_timer_t timer;          /* re-checks durability while Redis is slow */
    int timer_on;
    pending *head, *tail;
    size_t npending;
    hub_outputs_fn outputs;
    void *outputs_arg;
    const char *const *delivered_names;
    hub_delivered_fn delivered;
    void *delivered_arg;
    hk_bucket *token_rate;     /* one per configured token */
    hk_bucket *issue_rate;     /* ticket.issue of each token (http.issue_per_min) */
    hk_login_guard logins;
    uv_timer_t login_timer;    /* the aggregated failed-hello log lines */
    const char *verified;      /* during a hello's hall_cmd: the hash its job found matching */
    hello_job *jobs_head, *jobs_tail;   /* hashes waiting for a thread */
    int hashing;               /* hashes on the thread pool */
    size_t unsigned_in;        /* connections not signed in yet */
    /* per configured token: a keyed digest of the last token its hash accepted, so the many
     * displays sharing one token cost one Argon2id run after a restart, not one each */
    uint8_t (*accepted)[crypto_generichash_BYTES];
    uint8_t accept_key[crypto_generichash_KEYBYTES];
    unsigned over_cap;         /* connections refused for max_unauthenticated, not logged yet */
    hk_numbering numbering;    /* each event's `prev` per role, in delivery order */
};

void hub_set_outputs(hub *hb, hub_outputs_fn fn, void *arg) { hb->outputs = fn; hb->outputs_arg = arg; }

void hub_set_delivered(hub *hb, const char *const *names, hub_delivered_fn fn, void *arg)
{
    hb->delivered_names = names;
    hb->delivered = fn;
    hb->delivered_arg = arg;
}

static bool hub_watches(const hub *hb, const char *name)
{
    for (const char *const *n = hb->delivered_names; n && *n && name; n++)
        if (!strcmp(*n, name)) return true;
    return false;
}

static void flush(hub *hb);

static void on_timer(uv_timer_t *t) { flush(t->data); }
static void on_login_timer(uv_timer_t *t);
static bool hub_verify_token(void *arg, const char *stored, const uint8_t *p, size_t n);
static void on_synced(void *arg) { flush(arg); }

hub *hub_new(uv_loop_t *loop, hk_hall *hall, store *st, journal *jr)
{
    hub *hb = calloc(1, sizeof *hb);
    if (!hb) return NULL;
    hb->loop = loop;
    hb->hall = hall;
    hb->st = st;
    hb->jr = jr;
    hb->token_rate = calloc(hall_config(hall)->ntokens + 1, sizeof *hb->token_rate);
    hb->accepted = calloc(hall_config(hall)->ntokens + 1, sizeof *hb->accepted);
    hb->issue_rate = calloc(hall_config(hall)->ntokens + 1, sizeof *hb->issue_rate);
    if (!hb->token_rate || !hb->accepted || !hb->issue_rate || sodium_init() < 0) {
        free(hb->token_rate);
        free(hb->accepted);
        free(hb->issue_rate);
        free(hb);
        return NULL;
    }
    randombytes_buf(hb->accept_key, sizeof hb->accept_key);
    uv_timer_init(loop, &hb->timer);
    hb->timer.data = hb;
    uv_timer_init(loop, &hb->login_timer);
    hb->login_timer.data = hb;
    uv_timer_start(&hb->login_timer, on_login_timer, LOGIN_LOG_MS / 2, LOGIN_LOG_MS / 2);
    hall_set_token_verifier(hall, hub_verify_token, hb);
    if (jr) journal_on_synced(jr, on_synced, hb);
    return hb;
}

void hub_stop(hub *hb)
{
    if (hb->jr) journal_on_synced(hb->jr, NULL, NULL);
    uv_close((uv_handle_t *)&hb->timer, NULL);
    uv_close((uv_handle_t *)&hb->login_timer, NULL);
}

void hub_set_server(hub *hb, server *srv) { hb->srv = srv; }
size_t hub_pending(const hub *hb) { return hb->npending; }

/* ---- delivery -------------------------------------------------------------------------- */

typedef struct { frame *const *views; const char *name; } bcast;

/* hello {events: [...]}: a name matches exactly, or a prefix ending in "." ("ticket.") */
static bool conn_wants(const conn *cn, const char *name)
{
    if (!cn->subscribed) return true;
    for (int i = 0; i < cn->nsubs; i++) {
        size_t n = strlen(cn->subs[i]);
        if (n && cn->subs[i][n - 1] == '.' ? !strncmp(name, cn->subs[i], n) : !strcmp(name, cn->subs[i]))
            return true;
    }
    return false;
}

static void bcast_one(client *c, void *arg)
{
    bcast *b = arg;
    conn *cn = client_data(c);
    int slot = cn ? audience_role_slot(cn->authed_role) : -1;
    if (slot < 0 || !b->views[slot] || !conn_wants(cn, b->name)) return;
    client_send(c, b->views[slot]);
}

/* One command's events to every client that takes them, then its reply. In one server batch:
 * each client's frames of the command leave in one send, written at the end (server.h), the
 * reply's client first. */
static void deliver(hub *hb, pending *p)
{
    if (hb->srv) server_batch_begin(hb->srv);
    for (size_t i = 0; i < p->nevents; i++) {
        bcast b = {p->views[i], p->names[i]};
        if (hb->srv) server_each(hb->srv, bcast_one, &b);
    }
    if (p->to) {
        conn *cn = client_data(p->to);
        if (p->auth_role) cn->authed_role = p->auth_role;
        cn->pending--;
        if (p->reply) client_send(p->to, p->reply);
        if (p->close_status) client_close_after(p->to, p->close_status, hk_err_word(HK_ERR_UNAUTHENTICATED));
    }
    if (hb->srv) server_batch_end(hb->srv, p->to);
    for (size_t i = 0; i < p->nwatched; i++) hb->delivered(hb->delivered_arg, p->watched[i]);
}

static void pending_free(pending *p)
{
    frame_unref(p->reply);
    for (size_t i = 0; i < p->nevents; i++) {
        frame_unref(p->events[i]);
        for (int k = 0; k < HK_NROLES; k++)
            if (p->views[i][k]) frame_unref(p->views[i][k]);
        free(p->names[i]);
    }
    free(p->names);
    free(p->events);
    free(p->views);
    for (size_t i = 0; i < p->nwatched; i++) hv_free(p->watched[i]);
    free(p->watched);
    free(p);
}

/* Confirmed by Redis, or safe in the local journal while Redis is away or slow. */
static int durable(hub *hb, const pending *p)
{
    if (p->max_seq <= store_confirmed(hb->st)) return 1;
    if (!hb->jr || p->max_seq > journal_synced(hb->jr)) return 0;
    return !store_is_up(hb->st) || uv_now(hb->loop) - p->submitted >= HUB_REDIS_GRACE_MS;
}

static void flush(hub *hb)
{
    while (hb->head && durable(hb, hb->head)) {
        pending *p = hb->head;
        hb->head = p->next;
        if (!hb->head) hb->tail = NULL;
        hb->npending--;
        deliver(hb, p);
        pending_free(p);
    }
    if (hb->head && !hb->timer_on) {
        uv_timer_start(&hb->timer, on_timer, 50, 50);
        hb->timer_on = 1;
    } else if (!hb->head && hb->timer_on) {
        uv_timer_stop(&hb->timer);
        hb->timer_on = 0;
    }
}

static void on_confirmed(void *arg, int status)
{
    (void)status;      /* the store only completes an append once it is in Redis */
    flush(arg);
}

/* Queues a command's reply and events: persisted first, delivered in command order. */
static void submit(hub *hb, client *to, hk_out *out)
{
    pending *p = hk_calloc(1, sizeof *p);
    p->to = to;
    p->submitted = uv_now(hb->loop);
    p->auth_role = out->auth_role;
    p->close_status = out->close_after ? 1008 : 0;
    if (out->reply) p->reply = frame_encode(out->reply);
    if (out->nevents) {
        p->events = hk_calloc(out->nevents, sizeof *p->events);
        p->views = hk_calloc(out->nevents, sizeof *p->views);
        p->watched = hk_calloc(out->nevents, sizeof *p->watched);
        p->names = hk_calloc(out->nevents, sizeof *p->names);
    }
    if (to) ((conn *)client_data(to))->pending++;
    hb->npending++;
    if (hb->tail) hb->tail->next = p;
    else hb->head = p;
    hb->tail = p;
    for (size_t i = 0; i < out->nevents; i++) {
        hv *ev = out->events[i];
        frame *f = frame_encode(ev);
        if (!f) { log_err("cannot encode event"); continue; }
        p->events[p->nevents] = f;
        p->names[p->nevents] = strdup(hv_get_str(ev, "ev") ? hv_get_str(ev, "ev") : "");
        /* one encoding per group of roles that see the same map (core/audience.c) */
        hk_view views[HK_NROLES];
        size_t nv = audience_views(&hb->numbering, ev, views);
        for (size_t k = 0; k < nv; k++) {
            frame *vf = frame_encode(views[k].ev);
            hv_free(views[k].ev);
            for (int r = 0; vf && r < HK_NROLES; r++)
                if (views[k].roles & hk_roles[r]) p->views[p->nevents][r] = frame_ref(vf);
            if (vf) frame_unref(vf);
        }
        p->nevents++;
        int64_t seq = 0, at = 0;
        hv_get_int(ev, "seq", &seq);
        hv_get_int(ev, "at", &at);
        p->max_seq = (uint64_t)seq;
        if (hb->delivered && hub_watches(hb, hv_get_str(ev, "ev"))) p->watched[p->nwatched++] = hv_dup(ev);
        if (hb->jr && journal_append(hb->jr, (uint64_t)seq, frame_payload(f), f->len) < 0)
            log_err("journal: cannot write event seq %lld", (long long)seq);
        if (store_append(hb->st, (uint64_t)seq, hv_get_str(ev, "ev"), at, frame_payload(f), f->len,
                         on_confirmed, hb) < 0)
            log_err("store refused event seq %lld", (long long)seq);
    }
    flush(hb);
}

/* A change of the hall: the outputs first (nothing below may delay a door release or a siren),
 * then persistence and delivery. */
static void commit(hub *hb, client *to, hk_out *out)
{
    if (hb->outputs) hb->outputs(hb->outputs_arg, out);
    submit(hb, to, out);
}

void hub_publish(hub *hb, hk_out *out) { commit(hb, NULL, out); }

/* ---- requests ---------------------------------------------------------------------------- */

/* An error reply to c (id: the request's, or NULL); close: a failed sign-in, closed after it. */
static void reply_err_now(hub *hb, client *c, const hv *id, int code, const char *msg, bool close)
{
    hk_out out;
    hk_out_init(&out);
    out.reply = hall_err_reply(id, code, msg);
    out.close_after = close;
    submit(hb, c, &out);
    hk_out_clear(&out);
}

static void conn_unsubscribe(conn *cn)
{
    for (int i = 0; i < cn->nsubs; i++) free(cn->subs[i]);
    cn->nsubs = 0;
    cn->subscribed = false;
}

/* hello's optional `events`: true or absent = every event, false = none (a kiosk that only
 * issues tickets), a list = those names or "prefix." groups. */
static void conn_subscribe(conn *cn, const hv *ev)
{
    conn_unsubscribe(cn);
    if (!ev || (ev->t == HV_BOOL && ev->u.b)) return;
    cn->subscribed = true;
    if (ev->t != HV_ARR) return;
    for (size_t i = 0; i < ev->u.a.n && cn->nsubs < HUB_MAX_SUBS; i++)
        if (ev->u.a.v[i]->t == HV_STR) cn->subs[cn->nsubs++] = strdup(ev->u.a.v[i]->u.s.p);
}

/* ---- sign-in (docs/security.md "Sign-in") -------------------------------------------------
 * One hello per connection. While an address is penalised for failed hellos every hello from it
 * is refused without looking at the token; a failed hello closes the connection and nothing
 * after it is read. A hashed token costs one Argon2id run, on the thread pool. */

static void on_message(void *arg, client *c, const uint8_t *data, size_t len, int binary);

/* The hash check for the hello running now: a hashed token matches only if its job said so;
 * plain tokens are compared here, whole and byte for byte. */
static bool hub_verify_token(void *arg, const char *stored, const uint8_t *p, size_t n)
{
    hub *hb = arg;
    if (token_is_hashed(stored)) return hb->verified == stored;
    return token_plain_equal(stored, p, n);
}

static void held_drop(conn *cn)
{
    while (cn->held) {
        held *h = cn->held;
        cn->held = h->next;
        free(h);
    }
    cn->held_tail = &cn->held;
    cn->nheld = 0;
}

static void report_login(void *arg, const char *addr, unsigned failed, unsigned refused, int64_t penalty)
{
    (void)arg;
    char left[64] = "";
    if (penalty) snprintf(left, sizeof left, " (hellos refused for another %lld s)", (long long)(penalty + 999) / 1000);
    log_notice("client %s: %u more failed hellos and %u refused while penalised in the last %d s%s", addr, failed,
               refused, LOGIN_LOG_MS / 1000, left);
}

static void on_login_timer(uv_timer_t *t)
{
    hub *hb = t->data;
    login_report(&hb->logins, hk_clock_now().ms, report_login, hb);
    if (hb->over_cap) {
        log_warn("refused %u connections: %zu were already waiting to sign in (http.max_unauthenticated)",
                 hb->over_cap, hb->unsigned_in);
        hb->over_cap = 0;
    }
}

static void signin_refuse(hub *hb, client *c, const hv *req, const char *msg)
{
    conn *cn = client_data(c);
    cn->hello = HELLO_FAILED;
    held_drop(cn);
    reply_err_now(hb, c, hv_get(req, "id"), HK_ERR_UNAUTHENTICATED, msg, true);
}

/* Runs the hello through the hall, with the hash's verdict (verified: the configured hash that
 * matched, or NULL), then the frames that waited for it. Takes req. */
static void signin_finish(hub *hb, client *c, hv *req, const char *verified)
{
    conn *cn = client_data(c);
    hk_time now = hk_clock_now();
    hk_out out;
    hk_out_init(&out);
    hb->verified = verified;
    hall_cmd(hb->hall, &cn->s, req, now, &out);
    hb->verified = NULL;
    if (out.close_after) {
        cn->hello = HELLO_FAILED;
        held_drop(cn);
        /* a hello without a token string is refused and closed too, but guesses nothing */
        const hv *tv = hv_get(req, "token");
        bool log_now = true;
        int64_t penalty = tv && tv->t == HV_STR ? login_failed(&hb->logins, client_peer(c), now.ms, &log_now) : 0;
        if (log_now)
            log_notice("client %s: failed hello (%s)%s", client_peer(c), hv_get_str(out.reply, "msg"),
                       penalty ? ": too many failures, every hello from this address is refused for a while" : "");
    } else if (out.auth_role) {
        cn->hello = HELLO_DONE;
        if (cn->unsigned_counted) hb->unsigned_in--;
        cn->unsigned_counted = false;
        client_set_timeout(c, 0);
        conn_subscribe(cn, hv_get(req, "events"));
    } else {
        cn->hello = HELLO_NONE;   /* a malformed hello (bad events): not a sign-in attempt */
    }
    commit(hb, c, &out);
    hk_out_clear(&out);
    hv_free(req);
    while (cn->hello != HELLO_CHECKING && cn->held) {
        held *h = cn->held;
        cn->held = h->next;
        if (!cn->held) cn->held_tail = &cn->held;
        cn->nheld--;
        if (cn->hello == HELLO_DONE || cn->hello == HELLO_NONE) on_message(hb, c, h->data, h->len, h->binary);
        free(h);
    }
}

/* The keyed digest of a presented token, for hub.accepted (all zero = nothing accepted yet). */
static void accept_digest(const hub *hb, const hv *tv, uint8_t out[crypto_generichash_BYTES])
{
    crypto_generichash(out, crypto_generichash_BYTES, (const uint8_t *)tv->u.s.p, tv->u.s.n, hb->accept_key,
                       sizeof hb->accept_key);
}

static size_t token_index(const hub *hb, const char *stored)
{
    const hk_config *cfg = hall_config(hb->hall);
    for (size_t i = 0; i < cfg->ntokens; i++)
        if (cfg->tokens[i].token == stored) return i;
    return cfg->ntokens;
}

static void hash_work(uv_work_t *w)
{
    hello_job *j = w->data;
    const hv *tv = hv_get(j->req, "token");
    j->ok = token_hash_verify(j->stored, (const uint8_t *)tv->u.s.p, tv->u.s.n);
}

static void hash_start_next(hub *hb);

static void hash_done(uv_work_t *w, int status)
{
    hello_job *j = w->data;
    hub *hb = j->hb;
    hb->hashing--;
    if (status == 0 && j->ok) accept_digest(hb, hv_get(j->req, "token"), hb->accepted[token_index(hb, j->stored)]);
    if (j->c) {
        ((conn *)client_data(j->c))->job = NULL;
        signin_finish(hb, j->c, j->req, status == 0 && j->ok ? j->stored : NULL);
    } else {
        hv_free(j->req);
    }
    free(j);
    hash_start_next(hb);
}

static void hash_start_next(hub *hb)
{
    while (hb->jobs_head && hb->hashing < HUB_HASHES_MAX) {
        hello_job *j = hb->jobs_head;
        hb->jobs_head = j->next;
        if (!hb->jobs_head) hb->jobs_tail = NULL;
        j->next = NULL;
        if (!j->c) {   /* its client left while it waited */
            hv_free(j->req);
            free(j);
            continue;
        }
        j->work.data = j;
        if (uv_queue_work(hb->loop, &j->work, hash_work, hash_done) == 0) {
            hb->hashing++;
            continue;
        }
        if (j->c) ((conn *)client_data(j->c))->job = NULL;
        if (j->c) signin_finish(hb, j->c, j->req, NULL);
        else hv_free(j->req);
        free(j);
    }
}

/* A hello: refused at once while the address is penalised; a hashed token selected by its id
 * goes to the thread pool; anything else is answered now. Takes req. */
static void signin_begin(hub *hb, client *c, hv *req, hk_time now)
{
    conn *cn = client_data(c);
    if (cn->hello == HELLO_DONE) {
        reply_err_now(hb, c, hv_get(req, "id"), HK_ERR_BAD_REQUEST, "one hello per connection: this one is signed in already",
                      false);
        hv_free(req);
        return;
    }
    int64_t penalty = login_penalty(&hb->logins, client_peer(c), now.ms);
    if (penalty) {
        char msg[160];
        snprintf(msg, sizeof msg, "too many failed sign-ins from this address: every hello is refused for "
                 "another %lld s", (long long)(penalty + 999) / 1000);
        signin_refuse(hb, c, req, msg);
        hv_free(req);
        return;
    }
    const hk_config *cfg = hall_config(hb->hall);
    const hv *tv = hv_get(req, "token");
    const char *stored = NULL;
    for (size_t i = 0; tv && tv->t == HV_STR && i < cfg->ntokens && !stored; i++)
        if (token_id_matches(cfg->tokens[i].token, (const uint8_t *)tv->u.s.p, tv->u.s.n))
            stored = cfg->tokens[i].token;
    if (!stored) {
        signin_finish(hb, c, req, NULL);
        return;
    }
    uint8_t d[crypto_generichash_BYTES];
    accept_digest(hb, tv, d);
    if (sodium_memcmp(d, hb->accepted[token_index(hb, stored)], sizeof d) == 0) {
        signin_finish(hb, c, req, stored);   /* the token its hash accepted last time */
        return;
    }
    hello_job *j = hk_calloc(1, sizeof *j);
    j->hb = hb;
    j->c = c;
    j->req = req;
    j->stored = stored;
    cn->job = j;
    cn->hello = HELLO_CHECKING;
    if (hb->jobs_tail) hb->jobs_tail->next = j;
    else hb->jobs_head = j;
    hb->jobs_tail = j;
    hash_start_next(hb);
}

static void on_open(void *arg, client *c)
{
    hub *hb = arg;
    conn *cn = hk_calloc(1, sizeof *cn);
    cn->held_tail = &cn->held;
    client_set_data(c, cn);
    const hk_config *cfg = hall_config(hb->hall);
    if (hb->unsigned_in >= (size_t)cfg->max_unauthenticated) {
        /* a flood of connections that never sign in must not crowd out the hall's devices */
        cn->hello = HELLO_FAILED;
        hb->over_cap++;
        client_close_after(c, 1013, "too many connections signing in: try again later");
        return;
    }
    hb->unsigned_in++;
    cn->unsigned_counted = true;
    client_set_timeout(c, cfg->hello_timeout_s);
}

static void on_message(void *arg, client *c, const uint8_t *data, size_t len, int binary)
{
    hub *hb = arg;
    conn *cn = client_data(c);
    if (cn->hello == HELLO_FAILED) return;   /* closing: nothing after a failed hello is read */
    if (cn->hello == HELLO_CHECKING) {
        held *h = cn->nheld < HUB_HELD_MAX ? malloc(sizeof *h + len) : NULL;
        if (!h) {
            cn->hello = HELLO_FAILED;
            held_drop(cn);
            client_close_after(c, 1008, "too many requests before the hello was answered");
            return;
        }
        h->next = NULL;
        h->len = len;
        h->binary = binary;
        memcpy(h->data, data, len);
        *cn->held_tail = h;
        cn->held_tail = &h->next;
        cn->nheld++;
        return;
    }
    if (!binary) {
        reply_err_now(hb, c, NULL, HK_ERR_BAD_REQUEST, "text frames are not accepted: send one msgpack map in a binary frame", false);
        return;
    }
    hv *req = NULL;
    int rc = codec_decode(data, len, &req);
    if (rc < 0) {
        char msg[96];
        snprintf(msg, sizeof msg, "cannot decode frame: %s", codec_strerror(rc));
        reply_err_now(hb, c, NULL, HK_ERR_BAD_REQUEST, msg, false);
        return;
    }
    hk_time now = hk_clock_now();
    const char *t = hv_get_str(req, "t");
    const hk_config *cfg = hall_config(hb->hall);
    double crate = cfg->rate_per_connection, trate = cfg->rate_per_token;
    if (!bucket_take(&cn->rate, crate, 2 * crate, now.ms) ||
        (cn->s.token && !bucket_take(&hb->token_rate[cn->s.token], trate, 2 * trate, now.ms))) {
        if (++cn->refused == HUB_REFUSED_DROP) {
            log_warn("client %s dropped: it kept sending past its rate limit", client_peer(c));
            client_close_after(c, 1008, "rate limit");
        }
        reply_err_now(hb, c, hv_get(req, "id"), HK_ERR_UNAVAILABLE, "rate limit: too many requests, slow down", false);
        hv_free(req);
        return;
    }
    /* a device (token) issuing tickets faster than people take them is a script or a stuck
     * button: its tickets would push everyone else's back */
    double ipm = cfg->issue_per_min;
    if (t && !strcmp(t, "ticket.issue") && cn->s.token && ipm > 0 &&
        !bucket_take(&hb->issue_rate[cn->s.token], ipm / 60.0, ipm / 3 >= 1 ? ipm / 3 : 1, now.ms)) {
        char msg[160];
        snprintf(msg, sizeof msg, "too many tickets from this device: at most %.0f a minute (http.issue_per_min)", ipm);
        reply_err_now(hb, c, hv_get(req, "id"), HK_ERR_UNAVAILABLE, msg, false);
        hv_free(req);
        return;
    }
    if (t && !strcmp(t, "hello")) {
        signin_begin(hb, c, req, now);
        return;
    }
    hk_out out;
    hk_out_init(&out);
    hall_cmd(hb->hall, &cn->s, req, now, &out);
    commit(hb, c, &out);
    hk_out_clear(&out);
    hv_free(req);
}

static void on_close(void *arg, client *c)
{
    hub *hb = arg;
    conn *cn = client_data(c);
    if (cn && cn->pending) {
        for (pending *p = hb->head; p; p = p->next)
            if (p->to == c) p->to = NULL;
    }
    if (cn) {
        conn_unsubscribe(cn);
        held_drop(cn);
        if (cn->unsigned_counted) hb->unsigned_in--;
        if (cn->job) cn->job->c = NULL;   /* its hash finishes on the pool, the answer is dropped */
    }
    free(cn);
    client_set_data(c, NULL);
}

static const server_handlers handlers = {on_open, on_message, on_close};
const server_handlers *hub_handlers(void) { return &handlers; }

void hub_tick(hub *hb)
{
    hk_out out;
    hk_out_init(&out);
    hall_tick(hb->hall, hk_clock_now(), &out);
    if (out.nevents) hub_publish(hb, &out);
    hk_out_clear(&out);
}

void hub_free(hub *hb)
{
    if (!hb) return;
    free(hb->token_rate);
    free(hb->accepted);
    while (hb->jobs_head) {
        hello_job *j = hb->jobs_head;
        hb->jobs_head = j->next;
        hv_free(j->req);
        free(j);
    }
    free(hb->issue_rate);
    while (hb->head) {
        pending *p = hb->head;
        hb->head = p->next;
        pending_free(p);
    }
    free(hb);
}
