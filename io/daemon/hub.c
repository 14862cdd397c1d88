/* hub.c: see hub.h. */
#include "hub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/limits.h"
#include "core/audience.h"
#include "core/codec/codec.h"

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
    uv_timer_t *delay;         /* a held-back answer to a failed hello */
    frame *delayed;
    unsigned refused;          /* requests refused for the rate: past a limit the client is dropped */
} conn;

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
    hub_deferred_fn deferred;
    void *deferred_arg;
    const char *const *delivered_names;
    hub_delivered_fn delivered;
    void *delivered_arg;
    hk_bucket *token_rate;     /* one per configured token */
    hk_bucket *issue_rate;     /* ticket.issue of each token (http.issue_per_min) */
    hk_login_guard logins;
    hk_numbering numbering;    /* each event's `prev` per role, in delivery order */
};

void hub_set_outputs(hub *hb, hub_outputs_fn fn, void *arg) { hb->outputs = fn; hb->outputs_arg = arg; }
void hub_set_deferred(hub *hb, hub_deferred_fn fn, void *arg) { hb->deferred = fn; hb->deferred_arg = arg; }

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

static int64_t hub_clock_offset_ms;   /* only ever moved by clock.advance under --test-clock */

void hub_clock_advance(int64_t ms) { hub_clock_offset_ms += ms; }

int32_t hub_day_of(int64_t ms)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&secs, &tm);
    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

hk_time hub_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    hk_time t;
    t.ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + hub_clock_offset_ms;
    time_t secs = (time_t)(t.ms / 1000);
    struct tm tm;
    localtime_r(&secs, &tm);
    t.day = (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
    t.min = tm.tm_hour * 60 + tm.tm_min;
    t.wday = (tm.tm_wday + 6) % 7;
    return t;
}

static void flush(hub *hb);

static void on_timer(uv_timer_t *t) { flush(t->data); }
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
    hb->issue_rate = calloc(hall_config(hall)->ntokens + 1, sizeof *hb->issue_rate);
    if (!hb->token_rate || !hb->issue_rate) { free(hb->token_rate); free(hb->issue_rate); free(hb); return NULL; }
    uv_timer_init(loop, &hb->timer);
    hb->timer.data = hb;
    if (jr) journal_on_synced(jr, on_synced, hb);
    return hb;
}

void hub_stop(hub *hb)
{
    if (hb->jr) journal_on_synced(hb->jr, NULL, NULL);
    uv_close((uv_handle_t *)&hb->timer, NULL);
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
        if (p->close_status) client_close_after(p->to, p->close_status, "unauthenticated");
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
    pending *p = calloc(1, sizeof *p);
    if (!p) abort();
    p->to = to;
    p->submitted = uv_now(hb->loop);
    p->auth_role = out->auth_role;
    p->close_status = out->close_after ? 1008 : 0;
    if (out->reply) p->reply = frame_encode(out->reply);
    if (out->nevents) {
        p->events = calloc(out->nevents, sizeof *p->events);
        p->views = calloc(out->nevents, sizeof *p->views);
        p->watched = calloc(out->nevents, sizeof *p->watched);
        p->names = calloc(out->nevents, sizeof *p->names);
        if (!p->events || !p->views || !p->watched || !p->names) abort();
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

/* An err reply to a request the hall does not run (id NULL: one that could not be decoded). */
static void reply_err_now(hub *hb, client *c, const hv *id, const char *code, const char *msg)
{
    hk_out out;
    hk_out_init(&out);
    out.reply = hall_err_reply(id, code, msg);
    submit(hb, c, &out);
    hk_out_clear(&out);
}

static void on_open(void *arg, client *c)
{
    (void)arg;
    conn *cn = calloc(1, sizeof *cn);
    if (!cn) abort();
    client_set_data(c, cn);
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

static void on_delay_closed(uv_handle_t *h) { free(h); }

static void on_delay(uv_timer_t *t)
{
    client *c = t->data;
    conn *cn = client_data(c);
    client_send(c, cn->delayed);
    frame_unref(cn->delayed);
    cn->delayed = NULL;
    client_close_after(c, 1008, "unauthenticated");
    uv_close((uv_handle_t *)t, on_delay_closed);
    cn->delay = NULL;
}

static void delay_reply(hub *hb, client *c, hk_out *out, int64_t ms)
{
    conn *cn = client_data(c);
    if (cn->delay) return;           /* one held-back answer is enough: the rest are dropped */
    cn->delay = malloc(sizeof *cn->delay);
    if (!cn->delay) abort();
    cn->delayed = frame_encode(out->reply);
    uv_timer_init(hb->loop, cn->delay);
    cn->delay->data = c;
    uv_timer_start(cn->delay, on_delay, (uint64_t)ms, 0);
}

static void on_message(void *arg, client *c, const uint8_t *data, size_t len, int binary)
{
    hub *hb = arg;
    conn *cn = client_data(c);
    if (!binary) {
        reply_err_now(hb, c, NULL, "bad_request", "text frames are not accepted: send one msgpack map in a binary frame");
        return;
    }
    hv *req = NULL;
    int rc = codec_decode(data, len, &req);
    if (rc < 0) {
        char msg[96];
        snprintf(msg, sizeof msg, "cannot decode frame: %s", codec_strerror(rc));
        reply_err_now(hb, c, NULL, "bad_request", msg);
        return;
    }
    hk_time now = hub_now();
    const char *t = hv_get_str(req, "t");
    const hk_config *cfg = hall_config(hb->hall);
    double crate = cfg->rate_per_connection, trate = cfg->rate_per_token;
    if (!bucket_take(&cn->rate, crate, 2 * crate, now.ms) ||
        (cn->s.token && !bucket_take(&hb->token_rate[cn->s.token], trate, 2 * trate, now.ms))) {
        if (++cn->refused == HUB_REFUSED_DROP) {
            log_warn("client %s dropped: it kept sending past its rate limit", client_peer(c));
            client_close_after(c, 1008, "rate limit");
        }
        reply_err_now(hb, c, hv_get(req, "id"), "unavailable", "rate limit: too many requests, slow down");
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
        reply_err_now(hb, c, hv_get(req, "id"), "unavailable", msg);
        hv_free(req);
        return;
    }
    hk_out out;
    hk_out_init(&out);
    hall_cmd(hb->hall, &cn->s, req, now, &out);
    if (t && !strcmp(t, "hello") && !out.close_after) {
        login_succeeded(&hb->logins, client_peer(c));
        conn_subscribe(cn, hv_get(req, "events"));
    }
    if (t && !strcmp(t, "hello") && out.close_after) {
        int64_t penalty = login_failed(&hb->logins, client_peer(c), now.ms);
        log_notice("client %s: failed hello (%s)%s", client_peer(c), hv_get_str(out.reply, "msg"),
                   penalty ? ", answered slowly: too many failures from this address" : "");
        if (penalty) {
            /* an unauthenticated connection gets no broadcasts, so its answer may leave out of
             * order, after the penalty, without holding up anyone else's */
            delay_reply(hb, c, &out, penalty);
            hk_out_clear(&out);
            hv_free(req);
            return;
        }
    }
    if (out.deferred) {
        if (hb->deferred) hb->deferred(hb->deferred_arg, &cn->s, req, &out);
        else out.reply = hall_err_reply(hv_get(req, "id"), "unavailable", "not available in this build");
    }
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
    if (cn) conn_unsubscribe(cn);
    if (cn && cn->delay) {
        uv_close((uv_handle_t *)cn->delay, on_delay_closed);
        frame_unref(cn->delayed);
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
    hall_tick(hb->hall, hub_now(), &out);
    if (out.nevents) hub_publish(hb, &out);
    hk_out_clear(&out);
}

void hub_free(hub *hb)
{
    if (!hb) return;
    free(hb->token_rate);
    free(hb->issue_rate);
    while (hb->head) {
        pending *p = hb->head;
        hb->head = p->next;
        pending_free(p);
    }
    free(hb);
}
