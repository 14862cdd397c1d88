/* tickets.c: durable ticket.issue throughput and reply latency.
 *
 *   tickets --port P [--conns 100] [--depth 1] [--seconds 10] [--warmup 1] [--total N]
 *
 * --total N fills a hall instead of measuring it: exactly N tickets, as fast as the connections
 * go (no time window), then prints how long it took (scripts/bench/restart uses it).
 * Opens --conns kiosk connections (hello kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq). Each keeps --depth ticket.issue
 * requests outstanding: depth 1 is strict request/reply (send the next one when the reply
 * arrives), depth > 1 pipelines. Categories rotate A, B, C, D. The daemon replies only once the
 * ticket's events are in Redis, so every counted reply is a durable ticket. Counts the replies
 * that arrive inside the --seconds window after --warmup, and the latency (write of the request
 * -> arrival of its reply) of the requests sent inside it. Every kiosk also receives every
 * ticket.issued and queue.changed push (the contract sends events to every connection): they are
 * read and counted as "pushes". A kiosk the daemon closes (it drops clients it deems too slow)
 * is counted and reported; the run goes on with the others.
 * Prints tickets/s, p50/p99/max and RESULT lines for scripts/bench/run. Bounded in time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <uv.h>

#include "wsload.h"

#define MAX_DEPTH 64

typedef struct {
    wsl_conn c;
    int ready;
    uint64_t next_id;
    double sent_at[MAX_DEPTH];  /* ring of outstanding requests, in order */
    uint64_t ids[MAX_DEPTH];
    int head, nout;
} kiosk;

static struct {
    uv_loop_t *loop;
    struct sockaddr_in addr;
    char hostport[64];
    int n, depth, nstarted, nready, inflight;
    double seconds, warmup;
    kiosk *k;
    int running, stopping;
    double t_start, t_win0, t_win1;
    uint64_t replies_in_window, pushes_in_window, total_replies, outstanding;
    double *lat;
    size_t nlat, caplat;
    uv_timer_t tick, deadline;
    int failed, dropped;
    char fail_msg[256];
    int cat;
    uint64_t total, sent;       /* --total: stop after this many tickets (0 = run by time) */
} T;

static void fail(const char *msg)
{
    if (T.failed) return;
    T.failed = 1;
    snprintf(T.fail_msg, sizeof T.fail_msg, "%s", msg);
    uv_stop(T.loop);
}

static void send_issue(kiosk *k)
{
    static const char *cats[] = {"A", "B", "C", "D"};
    uint64_t id = ++k->next_id;
    mpw w = {0};
    mpw_map(&w, 3);
    mpw_str(&w, "t"); mpw_str(&w, "ticket.issue");
    mpw_str(&w, "id"); mpw_uint(&w, id);
    mpw_str(&w, "category"); mpw_str(&w, cats[T.cat++ & 3]);
    int slot = (k->head + k->nout) % MAX_DEPTH;
    k->ids[slot] = id;
    k->sent_at[slot] = wsl_now_us();
    k->nout++;
    T.outstanding++;
    T.sent++;
    if (wsl_send(&k->c, w.p, w.n) < 0) fail("a send failed");
    mpw_free(&w);
}

static void record(double us)
{
    if (T.nlat == T.caplat) {
        T.caplat = T.caplat ? T.caplat * 2 : 1 << 16;
        T.lat = realloc(T.lat, T.caplat * sizeof *T.lat);
        if (!T.lat) { fputs("tickets: out of memory\n", stderr); exit(1); }
    }
    T.lat[T.nlat++] = us;
}

static void connect_more(void);

static void k_open(wsl_conn *c, int status)
{
    if (status < 0) { fail("a kiosk connection failed"); return; }
    kiosk *k = c->user;
    mpw w = {0};
    mpw_map(&w, 4);
    mpw_str(&w, "t"); mpw_str(&w, "hello");
    mpw_str(&w, "id"); mpw_uint(&w, ++k->next_id);
    mpw_str(&w, "token"); mpw_str(&w, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq");
    /* a kiosk shows the queues; it has no use for every other ticket's event */
    static const uint8_t sub[] = {0x91, 0xad, 'q', 'u', 'e', 'u', 'e', '.', 'c', 'h', 'a', 'n', 'g', 'e', 'd'};
    mpw_str(&w, "events");
    mpw_put(&w, sub, sizeof sub);
    wsl_send(c, w.p, w.n);
    mpw_free(&w);
}

static void k_msg(wsl_conn *c, const uint8_t *p, size_t n)
{
    kiosk *k = c->user;
    char t[8];
    if (mp_get_str(p, n, "t", t, sizeof t) < 0) { fail("a frame without t"); return; }
    double now = wsl_now_us();
    if (!strcmp(t, "ev")) {
        if (now >= T.t_win0 && now < T.t_win1) T.pushes_in_window++;
        return;
    }
    if (strcmp(t, "ok") != 0) {
        char code[32] = "", msg[128] = "", m[200];
        mp_get_str(p, n, "code", code, sizeof code);
        mp_get_str(p, n, "msg", msg, sizeof msg);
        snprintf(m, sizeof m, "err reply: %s: %s", code, msg);
        fail(m);
        return;
    }
    if (!k->ready) {
        k->ready = 1;
        T.nready++;
        T.inflight--;
        connect_more();
        return;
    }
    uint64_t id = 0;
    mp_get_uint(p, n, "id", &id);
    if (!k->nout || k->ids[k->head] != id) { fail("a reply out of order or unexpected"); return; }
    double sent = k->sent_at[k->head];
    k->head = (k->head + 1) % MAX_DEPTH;
    k->nout--;
    T.outstanding--;
    T.total_replies++;
    if (now >= T.t_win0 && now < T.t_win1) T.replies_in_window++;
    if (sent >= T.t_win0 && sent < T.t_win1) record(now - sent);
    if (now < T.t_win1 && (!T.total || T.sent < T.total)) send_issue(k);
    else if (T.outstanding == 0) uv_stop(T.loop);
}

/* The daemon drops a kiosk it deems too slow: counted and reported, the others go on. */
static void k_close(wsl_conn *c)
{
    kiosk *k = c->user;
    if (T.stopping || T.failed) return;
    if (!k->ready || !T.running) { fail("a kiosk connection closed before the load started"); return; }
    T.dropped++;
    T.outstanding -= (uint64_t)k->nout;
    k->nout = 0;
    if (T.dropped == T.n) fail("the daemon closed every kiosk connection");
    else if (wsl_now_us() >= T.t_win1 && T.outstanding == 0) uv_stop(T.loop);
}

static const wsl_handlers kiosk_h = {k_open, k_msg, k_close};

static void on_tick(uv_timer_t *t)
{
    (void)t;
    /* replies stop new requests after t_win1; this ends a run whose last replies never come */
    if (T.running && wsl_now_us() > T.t_win1 + 5e6) fail("replies still missing 5 s after the window");
}

static void on_deadline(uv_timer_t *t)
{
    (void)t;
    fail("the run passed its deadline");
}

static void start_load(void)
{
    T.running = 1;
    T.t_start = wsl_now_us();
    T.t_win0 = T.t_start + T.warmup * 1e6;
    T.t_win1 = T.t_win0 + T.seconds * 1e6;
    for (int i = 0; i < T.n; i++)
        for (int d = 0; d < T.depth && (!T.total || T.sent < T.total); d++) send_issue(&T.k[i]);
}

static void connect_more(void)
{
    while (T.nstarted < T.n && T.inflight < 64) {
        kiosk *k = &T.k[T.nstarted];
        k->c.user = k;
        T.nstarted++;
        T.inflight++;
        if (wsl_connect(T.loop, &k->c, &T.addr, T.hostport, "/ws", "hall.v1", &kiosk_h) < 0) {
            fail("connect failed");
            return;
        }
    }
    if (T.nready == T.n && !T.running) start_load();
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

int main(int argc, char **argv)
{
    int port = 0;
    T.n = 100;
    T.depth = 1;
    T.seconds = 10;
    T.warmup = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) goto usage;
        if (!strcmp(a, "--port")) port = atoi(v);
        else if (!strcmp(a, "--conns")) T.n = atoi(v);
        else if (!strcmp(a, "--depth")) T.depth = atoi(v);
        else if (!strcmp(a, "--seconds")) T.seconds = atof(v);
        else if (!strcmp(a, "--warmup")) T.warmup = atof(v);
        else if (!strcmp(a, "--total")) T.total = strtoull(v, NULL, 10);
        else goto usage;
        i++;
    }
    if (port <= 0 || T.n <= 0 || T.depth < 1 || T.depth > MAX_DEPTH || T.seconds <= 0) goto usage;
    if (wsl_raise_nofile(T.n + 64) < T.n + 16) { fprintf(stderr, "tickets: raise ulimit -n\n"); return 1; }
    T.loop = uv_default_loop();
    uv_ip4_addr("127.0.0.1", port, &T.addr);
    snprintf(T.hostport, sizeof T.hostport, "127.0.0.1:%d", port);
    T.k = calloc((size_t)T.n, sizeof *T.k);
    if (!T.k) return 1;
    uv_timer_init(T.loop, &T.tick);
    uv_timer_init(T.loop, &T.deadline);
    uv_timer_start(&T.tick, on_tick, 200, 200);
    uv_timer_start(&T.deadline, on_deadline, (uint64_t)((T.seconds + T.warmup) * 1000) + 60000, 0);
    connect_more();
    uv_run(T.loop, UV_RUN_DEFAULT);

    if (!T.failed && T.total) {
        /* a fill, not a measurement: how many durable tickets, in how long */
        double secs = (wsl_now_us() - T.t_start) / 1e6;
        printf("tickets: %llu durable tickets issued in %.2f s (%.0f/s)\n", (unsigned long long)T.total_replies,
               secs, (double)T.total_replies / secs);
        if (T.total_replies != T.total) { fprintf(stderr, "tickets: FAILED: %llu of %llu tickets replied\n",
                                                  (unsigned long long)T.total_replies, (unsigned long long)T.total); T.failed = 1; }
    } else if (T.failed) {
        fprintf(stderr, "tickets: FAILED: %s (%llu replies so far)\n", T.fail_msg,
                (unsigned long long)T.total_replies);
    } else {
        double rate = (double)T.replies_in_window / T.seconds;
        double pushes = (double)T.pushes_in_window / T.seconds;
        size_t nl = T.nlat;
        double p50 = wsl_quantile(T.lat, nl, 0.50) / 1e3, p99 = wsl_quantile(T.lat, nl, 0.99) / 1e3;
        double mx = wsl_quantile(T.lat, nl, 1.0) / 1e3;
        printf("tickets conns=%d depth=%d (%s) %.0f s: %.0f tickets/s, reply p50 %.3f ms p99 %.3f ms max %.3f ms; "
               "%.0f pushes/s received by the kiosks\n",
               T.n, T.depth, T.depth == 1 ? "strict request/reply" : "pipelined", T.seconds, rate, p50, p99, mx,
               pushes);
        if (T.dropped) printf("  WARNING: the daemon closed %d of the %d kiosk connections during the run\n", T.dropped, T.n);
        printf("RESULT tickets_c%d_d%d_dropped %d\n", T.n, T.depth, T.dropped);
        printf("RESULT tickets_c%d_d%d_per_s %.0f\nRESULT tickets_c%d_d%d_p50_ms %.3f\n"
               "RESULT tickets_c%d_d%d_p99_ms %.3f\nRESULT tickets_c%d_d%d_pushes_per_s %.0f\n",
               T.n, T.depth, rate, T.n, T.depth, p50, T.n, T.depth, p99, T.n, T.depth, pushes);
    }
    fflush(stdout);
    T.stopping = 1;
    uv_walk(T.loop, close_walk, NULL);
    uv_run(T.loop, UV_RUN_DEFAULT);
    return T.failed ? 1 : 0;
usage:
    fprintf(stderr, "usage: tickets --port P [--conns N] [--depth D] [--seconds S] [--warmup S] [--total N]\n");
    return 2;
}
