/* lws_floor.c: the floor for the fan-out benchmark. A bare libwebsockets 4.1 broadcast server on
 * a foreign libuv loop, with the same sending technique as the daemon (web/server.c): one
 * refcounted, LWS_PRE-headroomed buffer shared by every receiver, a bounded per-client queue,
 * lws_callback_on_writable per client and one lws_write per WRITEABLE callback. Any binary
 * frame from any client makes it broadcast one fixed ~150-byte binary message to all clients.
 * No msgpack decoding, no hall logic, no Redis: what is left is the cost of lws itself.
 *
 *   lws_floor --listen 127.0.0.1:PORT [--seconds N] [--burst K]
 * --burst K broadcasts K messages per trigger (default 1); 3 matches what hallkeeper sends to every
 * display for one call.next (ticket.called, window.changed, queue.changed).
 * Prints "ready on port N" on stderr once it accepts clients; stops on SIGINT/SIGTERM or after
 * --seconds (default 600), so a forgotten floor cannot outlive the benchmark for long. */
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define FLOOR_QUEUE 512
#define FLOOR_MSG 150

typedef struct {
    int refs;
    size_t len;
    uint8_t buf[LWS_PRE + FLOOR_MSG];
} frame;

typedef struct fclient {
    struct lws *wsi;
    struct fclient *prev, *next;
    frame *q[FLOOR_QUEUE];
    size_t qhead, qlen;
    int linked;
} fclient;

static fclient *clients;
static size_t nclients;
static uint64_t nbroadcasts;
static int burst = 1;          /* messages per trigger (hallkeeper sends 3 for a call.next) */
static uv_loop_t loop;
static struct lws_context *ctx;
static uv_signal_t sigint_h, sigterm_h;
static uv_timer_t deadline;

static void frame_unref(frame *f)
{
    if (--f->refs == 0) free(f);
}

/* A fixed message shaped like a hall.v1 push: a msgpack map padded to FLOOR_MSG bytes. */
static frame *frame_make(uint64_t n)
{
    frame *f = calloc(1, sizeof *f);
    if (!f) abort();
    f->refs = 1;
    f->len = FLOOR_MSG;
    uint8_t *p = f->buf + LWS_PRE;
    size_t o = 0;
    p[o++] = 0x82;                       /* {t:"ev", pad:"xxx..."} */
    p[o++] = 0xa1; p[o++] = 't';
    p[o++] = 0xa2; p[o++] = 'e'; p[o++] = 'v';
    p[o++] = 0xa3; p[o++] = 'p'; p[o++] = 'a'; p[o++] = 'd';
    p[o++] = 0xd9; p[o] = (uint8_t)(FLOOR_MSG - o - 1); o++;
    memset(p + o, 'x', FLOOR_MSG - o);
    memcpy(p + o, &n, sizeof n);         /* make each broadcast distinct, like a real seq */
    return f;
}

static void broadcast(void)
{
    frame *f = frame_make(++nbroadcasts);
    for (fclient *c = clients; c; c = c->next) {
        if (c->qlen == FLOOR_QUEUE) {
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            continue;
        }
        f->refs++;
        c->q[(c->qhead + c->qlen) % FLOOR_QUEUE] = f;
        c->qlen++;
        lws_callback_on_writable(c->wsi);
    }
    frame_unref(f);
}

static int floor_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                          size_t len)
{
    fclient *c = user;
    (void)in;
    (void)len;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        memset(c, 0, sizeof *c);
        c->wsi = wsi;
        c->linked = 1;
        c->next = clients;
        if (clients) clients->prev = c;
        clients = c;
        nclients++;
        return 0;
    case LWS_CALLBACK_RECEIVE:
        if (lws_frame_is_binary(wsi) && lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi))
            for (int i = 0; i < burst; i++) broadcast();
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (c->qlen) {
            frame *f = c->q[c->qhead];
            c->qhead = (c->qhead + 1) % FLOOR_QUEUE;
            c->qlen--;
            int m = lws_write(wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_BINARY);
            frame_unref(f);
            if (m < 0) return -1;
            if (c->qlen) lws_callback_on_writable(wsi);
        }
        return 0;
    case LWS_CALLBACK_CLOSED:
        if (c && c->linked) {
            c->linked = 0;
            if (c->prev) c->prev->next = c->next;
            else clients = c->next;
            if (c->next) c->next->prev = c->prev;
            nclients--;
            while (c->qlen) {
                frame_unref(c->q[c->qhead]);
                c->qhead = (c->qhead + 1) % FLOOR_QUEUE;
                c->qlen--;
            }
        }
        return 0;
    default:
        return 0;
    }
}

static struct lws_protocols protocols[] = {
    {"hall.v1", floor_callback, sizeof(fclient), 16384, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void stop_all(void)
{
    uv_signal_stop(&sigint_h);
    uv_signal_stop(&sigterm_h);
    uv_timer_stop(&deadline);
    uv_close((uv_handle_t *)&sigint_h, NULL);
    uv_close((uv_handle_t *)&sigterm_h, NULL);
    uv_close((uv_handle_t *)&deadline, NULL);
    lws_context_destroy(ctx);
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)s;
    (void)signum;
    stop_all();
}

static void on_deadline(uv_timer_t *t)
{
    (void)t;
    fprintf(stderr, "lws_floor: --seconds elapsed, stopping\n");
    stop_all();
}

int main(int argc, char **argv)
{
    const char *listen = "127.0.0.1:0";
    long seconds = 600;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--listen") && i + 1 < argc) listen = argv[++i];
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atol(argv[++i]);
        else if (!strcmp(argv[i], "--burst") && i + 1 < argc) burst = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: lws_floor --listen HOST:PORT [--seconds N] [--burst K]\n");
            return 2;
        }
    }
    char host[64];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon - listen >= (long)sizeof host) { fprintf(stderr, "lws_floor: bad --listen\n"); return 2; }
    snprintf(host, sizeof host, "%.*s", (int)(colon - listen), listen);
    int port = atoi(colon + 1);
    signal(SIGPIPE, SIG_IGN);

    uv_loop_init(&loop);
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    void *loops[1] = {&loop};
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
                   LWS_SERVER_OPTION_DISABLE_IPV6;
    info.foreign_loops = loops;
    info.port = CONTEXT_PORT_NO_LISTEN;
    ctx = lws_create_context(&info);
    if (!ctx) { fprintf(stderr, "lws_floor: cannot create the lws context\n"); return 1; }
    memset(&info, 0, sizeof info);
    info.port = port;
    info.iface = host;
    info.protocols = protocols;
    info.vhost_name = "floor";
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    struct lws_vhost *vh = lws_create_vhost(ctx, &info);
    if (!vh) {
        fprintf(stderr, "lws_floor: cannot listen on %s\n", listen);
        lws_context_destroy(ctx);
        uv_run(&loop, UV_RUN_DEFAULT);
        lws_context_destroy(ctx);
        return 1;
    }
    uv_signal_init(&loop, &sigint_h);
    uv_signal_init(&loop, &sigterm_h);
    uv_signal_start(&sigint_h, on_signal, SIGINT);
    uv_signal_start(&sigterm_h, on_signal, SIGTERM);
    uv_timer_init(&loop, &deadline);
    uv_timer_start(&deadline, on_deadline, (uint64_t)seconds * 1000, 0);
    fprintf(stderr, "lws_floor ready on port %d\n", lws_get_vhost_listen_port(vh));

    uv_run(&loop, UV_RUN_DEFAULT);
    lws_context_destroy(ctx);
    int rc = uv_loop_close(&loop);
    fprintf(stderr, "lws_floor: stopped after %llu broadcasts (loop close %d)\n",
            (unsigned long long)nbroadcasts, rc);
    return 0;
}
