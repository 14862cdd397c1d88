/* fanout.c: broadcast latency to N display connections.
 *
 *   fanout --mode hall|floor|emergency --port P [--displays N] [--rounds R] [--warmup W] [--rss-pid PID]
 *
 * hall:  N display connections say hello with display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj; a kiosk connection and a staff
 *        connection (window 1) drive cycles ticket.issue(A) -> call.next -> ticket.finish. A round
 *        measures from the moment call.next is written to the socket until the LAST display has
 *        received the resulting ticket.called push. Between steps the program waits until every
 *        display has caught up with the events of the previous step, so rounds do not overlap.
 * floor: N connections to lws_floor, no hello; a trigger connection sends one binary frame and a
 *        round measures until the last of the N has received the broadcast. --burst K must match
 *        lws_floor --burst K: then the round measures to the first of K frames and waits for all K.
 * emergency: N displays and one admin connection; a round is emergency.trigger {playbook: fire,
 *        drill: true} and measures from writing it until the LAST display has received
 *        emergency.changed with active true; then emergency.clear, and the next round starts once
 *        every display has seen the clear's emergency.changed. "reply" is the trigger's reply.
 * Prints p50/p99/max (ms) and RESULT lines; --samples FILE appends each measured round's
 * "latency_ms reply_ms" so scripts/bench/fanout can pool several runs. With --rss-pid it also prints
 * the VmRSS of that process once all N are connected and again after the rounds.
 * Everything is bounded: a round stalled for 10 s or a run over --deadline seconds fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <uv.h>

#include "wsload.h"

enum { MODE_HALL, MODE_FLOOR, MODE_EMERGENCY };
enum { PH_CONNECT, PH_SETUP, PH_ISSUE, PH_CALL, PH_FINISH, PH_GAP, PH_DONE };

typedef struct {
    wsl_conn c;
    int ready;
    uint64_t maxseq;
    uint64_t nmsg;
    int got_round;       /* last round this display saw its frame in */
} display;

static struct {
    uv_loop_t *loop;
    int mode;
    struct sockaddr_in addr;
    char hostport[64];
    int n, rounds, warmup, burst;
    long rss_pid;
    const char *samples;       /* append "latency_ms reply_ms" per measured round to this file */
    display *d;
    int nstarted, nready, nfailed, inflight;
    wsl_conn kiosk, staff;
    int kiosk_ready, staff_ready;
    int phase, round;
    uint64_t next_id, await_kiosk_id, await_staff_id;
    int kiosk_replied, staff_replied;
    uint64_t target_seq;       /* displays must reach this seq */
    int caught_up;             /* displays with maxseq >= target_seq */
    int got;                   /* displays that received the measured frame this round */
    double t0, t_last, reply_at;
    double *lat, *reply_lat;
    int nlat;
    double round_started;
    uv_timer_t gap, watchdog, deadline;
    int failed;
    char fail_msg[256];
} B;

static void fail(const char *msg)
{
    if (B.failed) return;
    B.failed = 1;
    snprintf(B.fail_msg, sizeof B.fail_msg, "%s", msg);
    uv_stop(B.loop);
}

static long vmrss_kb(long pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) kb = atol(line + 6);
    fclose(f);
    return kb;
}

/* emergency.trigger {playbook: fire, drill: true} or emergency.clear {reason} as admin */
static void send_emergency(int trigger, uint64_t id)
{
    mpw w = {0};
    mpw_map(&w, 4);
    mpw_str(&w, "t"); mpw_str(&w, trigger ? "emergency.trigger" : "emergency.clear");
    mpw_str(&w, "id"); mpw_uint(&w, id);
    mpw_str(&w, "playbook"); mpw_str(&w, "fire");
    if (trigger) { uint8_t t = 0xc3; mpw_str(&w, "drill"); mpw_put(&w, &t, 1); }
    else { mpw_str(&w, "reason"); mpw_str(&w, "scripts/bench/fanout --mode emergency"); }
    if (wsl_send(&B.kiosk, w.p, w.n) < 0) fail("a send failed");
    mpw_free(&w);
}

static void send_req(wsl_conn *c, const char *t, const char *k1, const char *v1, const char *k2, uint64_t v2,
                     uint64_t id)
{
    mpw w = {0};
    mpw_map(&w, 2 + (k1 != NULL) + (k2 != NULL));
    mpw_str(&w, "t"); mpw_str(&w, t);
    mpw_str(&w, "id"); mpw_uint(&w, id);
    if (k1) { mpw_str(&w, k1); mpw_str(&w, v1); }
    if (k2) { mpw_str(&w, k2); mpw_uint(&w, v2); }
    if (wsl_send(c, w.p, w.n) < 0) fail("a send failed");
    mpw_free(&w);
}

/* ---- rounds ------------------------------------------------------------------------------- */

static void start_round(void);

static void set_target(uint64_t seq)
{
    B.target_seq = seq;
    B.caught_up = 0;
    for (int i = 0; i < B.n; i++)
        if (B.d[i].maxseq >= seq) B.caught_up++;
}

static void on_gap(uv_timer_t *t)
{
    (void)t;
    start_round();
}

static void end_round(void)
{
    if (B.round > B.warmup) {
        B.lat[B.nlat] = B.t_last - B.t0;
        B.reply_lat[B.nlat] = B.reply_at - B.t0;
        B.nlat++;
    }
    if (B.round >= B.warmup + B.rounds) {
        B.phase = PH_DONE;
        uv_stop(B.loop);
        return;
    }
    B.phase = PH_GAP;
    uv_timer_start(&B.gap, on_gap, 2, 0);      /* let the server go idle between rounds */
}

static void begin_call(void)
{
    B.phase = PH_CALL;
    B.got = 0;
    if (B.mode == MODE_FLOOR) B.caught_up = 0;
    B.staff_replied = 0;
    B.await_staff_id = ++B.next_id;
    B.t0 = wsl_now_us();
    if (B.mode == MODE_FLOOR) {
        uint8_t one[1] = {0x80};               /* an empty msgpack map */
        if (wsl_send(&B.kiosk, one, 1) < 0) fail("trigger send failed");
        B.staff_replied = 1;
        B.reply_at = B.t0;
        return;
    }
    if (B.mode == MODE_EMERGENCY) { send_emergency(1, B.await_staff_id); return; }
    send_req(&B.staff, "call.next", NULL, NULL, NULL, 0, B.await_staff_id);
}

static void start_round(void)
{
    B.round++;
    B.round_started = wsl_now_us();
    if (B.mode != MODE_HALL) { begin_call(); return; }
    B.phase = PH_ISSUE;
    B.kiosk_replied = 0;
    B.await_kiosk_id = ++B.next_id;
    send_req(&B.kiosk, "ticket.issue", "category", "A", NULL, 0, B.await_kiosk_id);
}

static void check_progress(void)
{
    switch (B.phase) {
    case PH_ISSUE:
        if (B.kiosk_replied && B.caught_up == B.n) begin_call();
        break;
    case PH_CALL:
        if (B.got == B.n && B.staff_replied) {
            if (B.mode == MODE_FLOOR) { end_round(); break; }
            B.phase = PH_FINISH;
            B.staff_replied = 0;
            B.await_staff_id = ++B.next_id;
            if (B.mode == MODE_EMERGENCY) { send_emergency(0, B.await_staff_id); break; }
            send_req(&B.staff, "ticket.finish", "outcome", "即办件", NULL, 0, B.await_staff_id);
        }
        break;
    case PH_FINISH:
        if (B.staff_replied && B.caught_up == B.n) end_round();
        break;
    default:
        break;
    }
}

static void on_watchdog(uv_timer_t *t)
{
    (void)t;
    double now = wsl_now_us();
    if ((B.phase >= PH_ISSUE && B.phase <= PH_FINISH) && now - B.round_started > 10e6) {
        char m[160];
        snprintf(m, sizeof m, "round %d stalled in phase %d: %d/%d displays got the frame, %d caught up",
                 B.round, B.phase, B.got, B.n, B.caught_up);
        fail(m);
    }
}

static void on_deadline(uv_timer_t *t)
{
    (void)t;
    fail("the run passed its --deadline");
}

/* ---- connections ------------------------------------------------------------------------------ */

static void connect_more(void);

static void display_open(wsl_conn *c, int status)
{
    if (status < 0) { B.nfailed++; fail("a display connection failed"); return; }
    if (B.mode == MODE_EMERGENCY) {
        /* as the display pages do (web/pages/js/hall.js SCREEN_EVENTS): only what a screen shows */
        static const char *const subs[] = {"ticket.", "window.changed", "queue.changed", "emergency.changed"};
        mpw w = {0};
        uint8_t arr = 0x90 | 4;
        mpw_map(&w, 4);
        mpw_str(&w, "t"); mpw_str(&w, "hello");
        mpw_str(&w, "id"); mpw_uint(&w, 1);
        mpw_str(&w, "token"); mpw_str(&w, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj");
        mpw_str(&w, "events");
        mpw_put(&w, &arr, 1);
        for (int i = 0; i < 4; i++) mpw_str(&w, subs[i]);
        if (wsl_send(c, w.p, w.n) < 0) fail("a send failed");
        mpw_free(&w);
        return;
    }
    if (B.mode != MODE_FLOOR) {
        send_req(c, "hello", "token", "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj", NULL, 0, 1);
        return;
    }
    display *d = c->user;
    d->ready = 1;
    B.nready++;
    B.inflight--;
    connect_more();
}

/* emergency.changed's `active`: 1, 0, or -1 when absent */
static int ev_active(const uint8_t *p, size_t n)
{
    size_t vl;
    const uint8_t *v = mp_find(p, n, "active", &vl);
    return !v || !vl ? -1 : v[0] == 0xc3;
}

static void display_msg(wsl_conn *c, const uint8_t *p, size_t n)
{
    display *d = c->user;
    d->nmsg++;
    if (B.mode == MODE_FLOOR) {
        /* a round is measured to the first frame of its burst, and ends once all of it arrived */
        uint64_t first = (uint64_t)(B.round - 1) * (uint64_t)B.burst + 1;
        if (B.phase == PH_CALL && d->got_round != B.round && d->nmsg >= first) {
            d->got_round = B.round;
            B.got++;
            B.t_last = wsl_now_us();
        }
        if (d->nmsg == (uint64_t)B.round * (uint64_t)B.burst) B.caught_up++;
        if (B.got == B.n && B.caught_up == B.n) check_progress();
        return;
    }
    char t[8];
    if (mp_get_str(p, n, "t", t, sizeof t) < 0) { fail("a display got a frame without t"); return; }
    if (!d->ready) {
        if (strcmp(t, "ok") != 0) { fail("a display hello was refused"); return; }
        d->ready = 1;
        B.nready++;
        B.inflight--;
        connect_more();
        return;
    }
    if (strcmp(t, "ev") != 0) return;
    uint64_t seq = 0;
    mp_get_uint(p, n, "seq", &seq);
    uint64_t old = d->maxseq;
    if (seq > d->maxseq) d->maxseq = seq;
    if (old < B.target_seq && d->maxseq >= B.target_seq) B.caught_up++;
    if (B.phase == PH_CALL && d->got_round != B.round) {
        char ev[32];
        if (mp_get_str(p, n, "ev", ev, sizeof ev) == 0 &&
            (B.mode == MODE_EMERGENCY ? !strcmp(ev, "emergency.changed") && ev_active(p, n) == 1
                                      : !strcmp(ev, "ticket.called"))) {
            d->got_round = B.round;
            B.got++;
            B.t_last = wsl_now_us();
        }
    }
    check_progress();
}

static void any_close(wsl_conn *c)
{
    (void)c;
    if (B.phase != PH_DONE && !B.failed) fail("a connection closed during the run");
}

static const wsl_handlers display_h = {display_open, display_msg, any_close};

static void control_open(wsl_conn *c, int status)
{
    if (status < 0) { fail("a control connection failed"); return; }
    if (B.mode == MODE_FLOOR) { B.kiosk_ready = 1; connect_more(); return; }
    send_req(c, "hello", "token",
             B.mode == MODE_EMERGENCY ? "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6" : c == &B.kiosk ? "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq" : "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp", NULL, 0,
             ++B.next_id);
}

static void control_msg(wsl_conn *c, const uint8_t *p, size_t n)
{
    if (B.mode == MODE_FLOOR) return;
    char t[8], code[32] = "";
    if (mp_get_str(p, n, "t", t, sizeof t) < 0) { fail("a control frame without t"); return; }
    if (!strcmp(t, "ev")) {
        uint64_t seq = 0;
        mp_get_uint(p, n, "seq", &seq);
        if (c == &B.kiosk && B.phase == PH_ISSUE && seq > B.target_seq) set_target(seq);
        if (c == &B.staff && B.phase == PH_FINISH && seq > B.target_seq) set_target(seq);
        if (B.mode == MODE_EMERGENCY && B.phase == PH_FINISH && seq > B.target_seq) {
            /* only emergency.changed: the displays must see the clear; later announce.* events
             * of the cut evacuation are not waited for */
            char ev[32];
            if (mp_get_str(p, n, "ev", ev, sizeof ev) == 0 && !strcmp(ev, "emergency.changed")) set_target(seq);
        }
        return;
    }
    uint64_t id = 0;
    mp_get_uint(p, n, "id", &id);
    int ok = !strcmp(t, "ok");
    if (!ok) mp_get_str(p, n, "code", code, sizeof code);
    if (c == &B.kiosk && !B.kiosk_ready) {
        if (!ok) { fail("kiosk hello refused"); return; }
        B.kiosk_ready = 1;
        connect_more();
        return;
    }
    if (c == &B.staff && B.staff_ready < 3) {
        /* hello -> window.open 1 -> ticket.finish (clears a ticket a crashed run left; may fail) */
        if (B.staff_ready < 2 && !ok) { fail("staff hello/window.open refused"); return; }
        B.staff_ready++;
        if (B.staff_ready == 1) send_req(c, "window.open", NULL, NULL, "window", 1, ++B.next_id);
        else if (B.staff_ready == 2) send_req(c, "ticket.finish", "outcome", "即办件", NULL, 0, ++B.next_id);
        else connect_more();
        return;
    }
    if (c == &B.kiosk && id == B.await_kiosk_id) {
        if (!ok) { char m[96]; snprintf(m, sizeof m, "ticket.issue failed: %s", code); fail(m); return; }
        B.kiosk_replied = 1;
    }
    if (c == (B.mode == MODE_EMERGENCY ? &B.kiosk : &B.staff) && id == B.await_staff_id) {
        if (!ok) { char m[96]; snprintf(m, sizeof m, "staff command failed: %s", code); fail(m); return; }
        if (B.phase == PH_CALL) B.reply_at = wsl_now_us();
        B.staff_replied = 1;
    }
    check_progress();
}

static const wsl_handlers control_h = {control_open, control_msg, any_close};

static void connect_more(void)
{
    if (!B.kiosk_ready) return;
    if (B.mode == MODE_HALL && B.staff_ready < 3) return;
    while (B.nstarted < B.n && B.inflight < 64) {
        display *d = &B.d[B.nstarted];
        d->c.user = d;
        d->c.idx = B.nstarted;
        B.nstarted++;
        B.inflight++;
        if (wsl_connect(B.loop, &d->c, &B.addr, B.hostport, "/ws", "hall.v1", &display_h) < 0) {
            fail("connect failed");
            return;
        }
    }
    if (B.nready == B.n && B.phase == PH_CONNECT) {
        if (B.rss_pid > 0) {
            uv_sleep(500);
            printf("RESULT rss_connected_kb %ld\n", vmrss_kb(B.rss_pid));
        }
        B.phase = PH_SETUP;
        start_round();
    }
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

int main(int argc, char **argv)
{
    int port = 0;
    long deadline_s = 300;
    B.mode = MODE_HALL;
    B.n = 100;
    B.rounds = 200;
    B.warmup = 10;
    B.burst = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) goto usage;
        if (!strcmp(a, "--mode"))
            B.mode = !strcmp(v, "floor") ? MODE_FLOOR : !strcmp(v, "emergency") ? MODE_EMERGENCY : MODE_HALL;
        else if (!strcmp(a, "--port")) port = atoi(v);
        else if (!strcmp(a, "--displays")) B.n = atoi(v);
        else if (!strcmp(a, "--rounds")) B.rounds = atoi(v);
        else if (!strcmp(a, "--warmup")) B.warmup = atoi(v);
        else if (!strcmp(a, "--burst")) B.burst = atoi(v);
        else if (!strcmp(a, "--samples")) B.samples = v;
        else if (!strcmp(a, "--rss-pid")) B.rss_pid = atol(v);
        else if (!strcmp(a, "--deadline")) deadline_s = atol(v);
        else goto usage;
        i++;
    }
    if (port <= 0 || B.n <= 0 || B.rounds <= 0 || B.burst < 1) goto usage;
    if (wsl_raise_nofile(B.n + 64) < B.n + 16) { fprintf(stderr, "fanout: raise ulimit -n\n"); return 1; }

    B.loop = uv_default_loop();
    uv_ip4_addr("127.0.0.1", port, &B.addr);
    snprintf(B.hostport, sizeof B.hostport, "127.0.0.1:%d", port);
    B.d = calloc((size_t)B.n, sizeof *B.d);
    B.lat = calloc((size_t)B.rounds, sizeof *B.lat);
    B.reply_lat = calloc((size_t)B.rounds, sizeof *B.reply_lat);
    if (!B.d || !B.lat || !B.reply_lat) return 1;
    uv_timer_init(B.loop, &B.gap);
    uv_timer_init(B.loop, &B.watchdog);
    uv_timer_init(B.loop, &B.deadline);
    uv_timer_start(&B.watchdog, on_watchdog, 500, 500);
    uv_timer_start(&B.deadline, on_deadline, (uint64_t)deadline_s * 1000, 0);

    if (wsl_connect(B.loop, &B.kiosk, &B.addr, B.hostport, "/ws", "hall.v1", &control_h) < 0 ||
        (B.mode == MODE_HALL &&
         wsl_connect(B.loop, &B.staff, &B.addr, B.hostport, "/ws", "hall.v1", &control_h) < 0)) {
        fprintf(stderr, "fanout: cannot connect to %s\n", B.hostport);
        return 1;
    }
    double started = wsl_now_us();
    uv_run(B.loop, UV_RUN_DEFAULT);
    double elapsed = (wsl_now_us() - started) / 1e6;

    char m[32];
    if (B.mode == MODE_HALL) snprintf(m, sizeof m, "hall");
    else if (B.mode == MODE_EMERGENCY) snprintf(m, sizeof m, "emergency");
    else if (B.burst > 1) snprintf(m, sizeof m, "floorx%d", B.burst);
    else snprintf(m, sizeof m, "floor");
    if (B.failed) {
        fprintf(stderr, "fanout %s N=%d: FAILED: %s (round %d)\n", m, B.n, B.fail_msg, B.round);
    } else {
        if (B.rss_pid > 0) printf("RESULT rss_after_rounds_kb %ld\n", vmrss_kb(B.rss_pid));
        if (B.samples) {
            FILE *sf = fopen(B.samples, "a");
            if (!sf) { perror(B.samples); return 1; }
            for (int i = 0; i < B.nlat; i++) fprintf(sf, "%.3f %.3f\n", B.lat[i] / 1e3, B.reply_lat[i] / 1e3);
            fclose(sf);
        }
        double p50 = wsl_quantile(B.lat, (size_t)B.nlat, 0.50) / 1e3;
        double p99 = wsl_quantile(B.lat, (size_t)B.nlat, 0.99) / 1e3;
        double mx = wsl_quantile(B.lat, (size_t)B.nlat, 1.0) / 1e3;
        printf("fanout %-7s N=%-5d rounds=%d (+%d warm-up)  last-display latency p50 %.3f ms  p99 %.3f ms  max %.3f ms  (%.1f s)\n",
               m, B.n, B.nlat, B.warmup, p50, p99, mx, elapsed);
        printf("RESULT fanout_%s_%d_p50_ms %.3f\nRESULT fanout_%s_%d_p99_ms %.3f\nRESULT fanout_%s_%d_max_ms %.3f\n",
               m, B.n, p50, m, B.n, p99, m, B.n, mx);
        if (B.mode != MODE_FLOOR) {
            double r50 = wsl_quantile(B.reply_lat, (size_t)B.nlat, 0.50) / 1e3;
            double r99 = wsl_quantile(B.reply_lat, (size_t)B.nlat, 0.99) / 1e3;
            printf("  %s: p50 %.3f ms  p99 %.3f ms\n",
                   B.mode == MODE_HALL ? "call.next reply to the staff connection" : "emergency.trigger reply to admin",
                   r50, r99);
            printf("RESULT fanout_%s_%d_reply_p50_ms %.3f\nRESULT fanout_%s_%d_reply_p99_ms %.3f\n",
                   m, B.n, r50, m, B.n, r99);
        }
    }
    fflush(stdout);
    /* drop every connection and let the loop finish closing them */
    B.phase = PH_DONE;
    uv_walk(B.loop, close_walk, NULL);
    uv_run(B.loop, UV_RUN_DEFAULT);
    return B.failed ? 1 : 0;
usage:
    fprintf(stderr, "usage: fanout --mode hall|floor|emergency --port P [--displays N] [--rounds R] [--warmup W] "
                    "[--rss-pid PID] [--deadline S] [--burst K] [--samples FILE]\n");
    return 2;
}
