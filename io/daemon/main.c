/* hallkeeper_main.c: the daemon's entry point. Wires config, the embedded or external Redis,
 * the store, the hall and the web server onto one libuv loop, restores the hall from Redis
 * before it accepts a client, and stops cleanly on SIGTERM/SIGINT. */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>
#include <uv.h>

#include "core/codec/codec.h"
#include "io/config/config_load.h"
#include "daemon.h"
#include "printing.h"
#include "core/log.h"
#include "io/config/token.h"

#ifndef HK_PAGES_DIR
#define HK_PAGES_DIR "web/pages"
#endif


static void usage(FILE *to)
{
    fputs("usage: hallkeeper [--config FILE] [--data DIR] [--listen HOST:PORT] [--pages DIR]\n"
          "  --config FILE   the hall's YAML configuration (default: the built-in demo hall)\n"
          "  --data DIR      where the embedded Redis and local files live (default: ./data)\n"
          "  --listen H:P    overrides http.listen of the configuration\n"
          "  --pages DIR     the web pages to serve (default: " HK_PAGES_DIR ")\n"
          "  --test-clock    lets admins move the hall's clock forward (clock.advance): tests only\n",
          to);
}

static int mkdir_p(const char *dir)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0700) < 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(tmp, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

/* Fails fast on a port in use, before Redis is started and the day is restored. */
static int check_port(const char *listen, char *err, size_t errlen)
{
    const char *colon = strrchr(listen, ':');
    if (!colon) { snprintf(err, errlen, "http.listen '%s' is not HOST:PORT", listen); return -1; }
    char host[128];
    snprintf(host, sizeof host, "%.*s", (int)(colon - listen), listen);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)atoi(colon + 1));
    if (!host[0] || !strcmp(host, "*")) strcpy(host, "0.0.0.0");
    if (!strcmp(host, "localhost")) strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        snprintf(err, errlen, "http.listen '%s': the host must be an IPv4 address", listen);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    int e = errno;
    close(fd);
    if (rc < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", listen,
                 e == EADDRINUSE ? "the port is in use (is another hallkeeper running?)" : strerror(e));
        return -1;
    }
    return 0;
}

/* Raises, regrades or ends the "redis" fault as the link comes and goes. */
void daemon_check_redis_fault(daemon_t *d)
{
    if (!d->hb) return;
    hk_out out;
    hk_out_init(&out);
    if (d->redis_down_since)
        hall_fault(d->hall, "redis", true, (int64_t)d->redis_down_since,
                   "Redis is unreachable: changes are kept in the local journal", hub_now(), &out);
    else
        hall_fault(d->hall, "redis", false, 0, NULL, hub_now(), &out);
    if (out.nevents) hub_publish(d->hb, &out);
    hk_out_clear(&out);
}

static void on_tick(uv_timer_t *t)
{
    daemon_t *d = t->data;
    hub_tick(d->hb);
    if (++d->ticks % (1000 / HALL_TICK_MS) == 0) {
        store_keepalive(d->st);
        daemon_check_redis_fault(d);
        /* the journal holds one day: a new day starts it afresh, once Redis has everything */
        int32_t today = hub_now().day;
        if (today != d->journal_day && store_pending(d->st) == 0 && journal_reset(d->events) == 0) {
            log_info("journal: a new day (%d): the local journal starts afresh", today);
            d->journal_day = today;
        }
    }
}

static void on_watchdog(uv_timer_t *t)
{
    (void)t;
    sd_notify(0, "WATCHDOG=1");
}

/* Under systemd (Type=notify) READY=1 says the day is restored and any emergency re-applied;
 * the watchdog is pinged from the loop itself, so a stuck loop gets the daemon restarted. */
static void notify_ready(daemon_t *d)
{
    uint64_t usec = 0;
    sd_notifyf(0, "READY=1\nSTATUS=hall %s ready on port %d", d->cfg.hall_id, server_port(d->srv));
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        uv_timer_init(&d->loop, &d->watchdog);
        uv_timer_start(&d->watchdog, on_watchdog, 0, usec / 1000 / 2 ? usec / 1000 / 2 : 1);
        d->watchdog_on = 1;
    }
}

static void print_banner(daemon_t *d)
{
    int port = server_port(d->srv);
    const char *host = "127.0.0.1";
    log_notice("hall %s (%s) ready on port %d: %zu events restored, seq %llu", d->cfg.hall_id,
               d->cfg.hall_name, port, d->replayed, (unsigned long long)hall_seq(d->hall));
    if (d->config_path) return;
    printf("\nhallkeeper demo hall \"%s\" is running.\n\n", d->cfg.hall_name);
    printf("  kiosk (取号机)        http://%s:%d/kiosk#token=kiosk-1-secret\n", host, port);
    printf("  staff tablet (窗口)   http://%s:%d/staff#token=staff-0001-pin\n", host, port);
    printf("  hall display (大屏)   http://%s:%d/display#token=display-secret\n", host, port);
    printf("  window 1 screen       http://%s:%d/display/window/1#token=display-secret\n", host, port);
    printf("  security console      http://%s:%d/security#token=security-secret\n", host, port);
    printf("  guide's tablet (引导)  http://%s:%d/guide#token=staff-0003-pin\n", host, port);
    printf("  manager dashboard     http://%s:%d/admin#token=admin-secret\n", host, port);
    printf("  rating tablet (评价器) http://%s:%d/rate/1#token=kiosk-1-secret\n", host, port);
    printf("  staff on duty board   http://%s:%d/duty#token=display-secret\n", host, port);
    printf("  case progress board   http://%s:%d/cases#token=display-secret\n", host, port);
    printf("  phone ticket page     the QR code on each kiosk ticket (/t/CODE)\n");
    printf("  all pages             http://%s:%d/\n\n", host, port);
    printf("  demo tokens:");
    for (size_t i = 0; i < d->cfg.ntokens; i++)
        printf(" %s=%s", hk_role_name(d->cfg.tokens[i].role), d->cfg.tokens[i].token);
    printf("\n  hallctl: ./build/hallctl --token staff-0001-pin --url ws://%s:%d/ws call 1\n\n", host, port);
    fflush(stdout);
}

/* Runs before anything of a change is persisted or sent: the outputs first (the path that
 * never waits: doors are released before the first evacuation sample), then the speakers, then
 * the incident log's record of what happened. */
static void on_outputs(void *arg, hk_out *out)
{
    daemon_t *d = arg;
    lines_apply(d->lines, out);
    if (d->speakers) audio_emergency(d->speakers, hall_outputs(d->hall));
    incidents_observe(d->incidents, out);
    daemon_mobile_outputs(d, out);   /* the phone link in ticket.issue replies */
}

static void start_serving(daemon_t *d)
{
    char err[256];
    d->hb = hub_new(&d->loop, d->hall, d->st, d->events);
    hub_set_outputs(d->hb, on_outputs, d);
    hub_set_deferred(d->hb, daemon_run_deferred, d);
    static const char *const spoken[] = {"ticket.called", "ticket.issued", NULL};   /* speakers + printer */
    hub_set_delivered(d->hb, spoken, daemon_mobile_delivered, d);   /* calls go on to daemon_on_delivered */
    lines_attach(d->lines, d->hb);
    server_options so = {d->listen, d->pages, d->cfg.tls_cert, d->cfg.tls_key};
    d->srv = server_new(&d->loop, &so, hub_handlers(), d->hb, err, sizeof err);
    if (!d->srv) {
        fprintf(stderr, "hallkeeper: %s\n", err);
        d->exit_code = 1;
        uv_stop(&d->loop);
        return;
    }
    hub_set_server(d->hb, d->srv);
    uv_timer_init(&d->loop, &d->tick);
    d->tick.data = d;
    uv_timer_start(&d->tick, on_tick, HALL_TICK_MS, HALL_TICK_MS);
    print_banner(d);
    notify_ready(d);
}

static void on_event_restored(void *arg, uint64_t seq, const uint8_t *data, size_t len)
{
    daemon_t *d = arg;
    hv *ev = NULL;
    const char *name = NULL;
    if (codec_decode(data, len, &ev) < 0 || hall_replay(d->hall, ev) < 0) {
        name = ev ? hv_get_str(ev, "ev") : NULL;
        if (name && !strncmp(name, "day.checkpoint", 14)) {
            /* the rest of the stream builds on it: a hall half restored must not start */
            log_err("restore: the checkpoint at seq %llu is malformed: not starting from a partial hall "
                    "(docs/redis.md)", (unsigned long long)seq);
            d->exit_code = 1;
            d->stopping = 1;
            uv_stop(&d->loop);
        } else {
            log_warn("restore: event seq %llu skipped (it does not fit this configuration)",
                     (unsigned long long)seq);
        }
        d->skipped++;
    } else {
        d->replayed++;
        name = hv_get_str(ev, "ev");
        /* a checkpoint holds every emergency change before it, as an emergency.changed does */
        if (name && (!strcmp(name, "emergency.changed") || !strcmp(name, "day.checkpoint"))) d->em_seq = seq;
    }
    hv_free(ev);
}

static void replay_journal_event(void *arg, uint64_t seq, const uint8_t *data, size_t len);

static void on_restored(void *arg, int status, uint64_t last_seq)
{
    daemon_t *d = arg;
    if (d->stopping) return;
    if (status < 0) {
        fprintf(stderr, "hallkeeper: cannot restore the hall from Redis\n");
        d->exit_code = 1;
        uv_stop(&d->loop);
        return;
    }
    hall_set_seq(d->hall, last_seq);
    d->restored_seq = last_seq;
    journal_each(d->events, replay_journal_event, d);
    if (d->journal_replayed)
        log_warn("journal: %zu acknowledged events that Redis did not have were restored from the local "
                 "journal and sent to Redis again", d->journal_replayed);
    if (!d->journal_day) d->journal_day = hub_now().day;
    daemon_speakers_open(d);
    if (d->journal_ev && d->journal_seq > d->em_seq) {
        /* Redis does not have the newest emergency state: the local journal wins, and Redis
         * gets the event back */
        log_warn("emergency: the local journal (seq %llu) is newer than Redis (seq %llu): re-applied",
                 (unsigned long long)d->journal_seq, (unsigned long long)d->em_seq);
        hall_replay(d->hall, d->journal_ev);
        if (d->journal_seq > last_seq) {
            uint8_t *buf;
            size_t len;
            int64_t at = 0;
            hv_get_int(d->journal_ev, "at", &at);
            if (codec_encode(d->journal_ev, 0, &buf, &len) == 0) {
                store_append(d->st, d->journal_seq, "emergency.changed", at, buf, len, NULL, NULL);
                free(buf);
            }
        }
    }
    lines_start(d->lines);   /* a restored emergency is re-applied before any client is accepted */
    start_serving(d);
}

static void on_link(void *arg, int up)
{
    daemon_t *d = arg;
    if (up) {
        if (d->redis_down_since) log_notice("redis: back after %llu ms; the journal is replayed in order",
                                            (unsigned long long)(hub_now().ms - (int64_t)d->redis_down_since));
        d->redis_down_since = 0;
    } else {
        log_warn("redis: connection lost; the hall goes on, changes are kept in the local journal");
        d->redis_down_since = (uint64_t)hub_now().ms;
    }
    daemon_check_redis_fault(d);
}

/* After the restore: events of the local journal that Redis does not have (acknowledged while
 * Redis was away, or lost by it: an emptied Redis has none) go back to Redis and into the hall,
 * in order. The journal holds the whole day, so even an empty Redis gets the day back. */
static void replay_journal_event(void *arg, uint64_t seq, const uint8_t *data, size_t len)
{
    daemon_t *d = arg;
    hv *ev = NULL;
    if (!d->journal_day) {
        int64_t at = 0;
        if (codec_decode(data, len, &ev) == 0 && hv_get_int(ev, "at", &at) == 0) d->journal_day = hub_day_of(at);
        hv_free(ev);
        ev = NULL;
    }
    if (seq <= d->restored_seq) return;
    if (codec_decode(data, len, &ev) == 0) {
        int64_t at = 0;
        hv_get_int(ev, "at", &at);
        const char *name = hv_get_str(ev, "ev");
        if (hall_replay(d->hall, ev) == 0) {
            store_append(d->st, seq, name ? name : "?", at, data, len, NULL, NULL);
            d->journal_replayed++;
            if (name && !strcmp(name, "emergency.changed")) d->em_seq = seq;
        }
    }
    hv_free(ev);
}

static void on_signal(uv_signal_t *s, int signum)
{
    daemon_t *d = s->data;
    log_notice("received %s: stopping", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    d->stopping = 1;
    uv_stop(&d->loop);
}

static void on_closed_noop(void *arg) { (void)arg; }

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) log_warn("handle of type %s left open at exit", uv_handle_type_name(h->type));
}

int main(int argc, char **argv)
{
    static daemon_t d;
    char err[512];
    redis_child_exec_main(argc, argv);   /* returns unless we are the redis-server launcher */
    hk_log_init();
    d.pages = getenv("HALL_PAGES") ? getenv("HALL_PAGES") : HK_PAGES_DIR;
    snprintf(d.data_dir, sizeof d.data_dir, "%s", getenv("HALL_DATA") ? getenv("HALL_DATA") : "data");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        if (!strcmp(a, "--version")) { printf("hallkeeper %s\n", HK_VERSION); return 0; }
        if (!strcmp(a, "--test-clock")) { d.test_clock = 1; continue; }
        if (i + 1 >= argc) { fprintf(stderr, "hallkeeper: unknown or incomplete option '%s'\n", a); usage(stderr); return 2; }
        if (!strcmp(a, "--config")) d.config_path = argv[++i];
        else if (!strcmp(a, "--data")) snprintf(d.data_dir, sizeof d.data_dir, "%s", argv[++i]);
        else if (!strcmp(a, "--listen")) d.listen = argv[++i];
        else if (!strcmp(a, "--pages")) d.pages = argv[++i];
        else { fprintf(stderr, "hallkeeper: unknown option '%s'\n", a); usage(stderr); return 2; }
    }
    int rc = d.config_path ? config_load_file(d.config_path, &d.cfg, err, sizeof err)
                           : config_load_string(config_demo_yaml, strlen(config_demo_yaml), "demo hall",
                                                &d.cfg, err, sizeof err);
    if (rc < 0) { fprintf(stderr, "hallkeeper: %s\n", err); return 2; }
    if (!d.listen) d.listen = d.cfg.listen;
    if (mkdir_p(d.data_dir) < 0) {
        fprintf(stderr, "hallkeeper: cannot create data directory %s: %s\n", d.data_dir, strerror(errno));
        return 1;
    }
    if (check_port(d.listen, err, sizeof err) < 0) { fprintf(stderr, "hallkeeper: %s\n", err); return 1; }
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&d.loop);
    d.started_ms = uv_now(&d.loop);
    d.hall = hall_new(&d.cfg);
    if (!d.hall) { fprintf(stderr, "hallkeeper: out of memory\n"); return 1; }
    hall_set_token_verifier(d.hall, token_verify);
    if (daemon_mobile_open(&d, err, sizeof err) < 0) { fprintf(stderr, "hallkeeper: %s\n", err); return 1; }
    d.lines = lines_open(&d.loop, &d.cfg, d.hall, err, sizeof err);
    if (!d.lines) {
        fprintf(stderr, "hallkeeper: gpio: %s\n", err);
        uv_run(&d.loop, UV_RUN_DEFAULT);
        uv_loop_close(&d.loop);
        return 2;
    }

    /* an emergency in progress is re-applied from the local journal before anything else:
     * doors stay released even if Redis is slow or gone */
    d.journal = em_journal_open(&d.loop, d.data_dir, err, sizeof err);
    if (!d.journal) { fprintf(stderr, "hallkeeper: %s\n", err); return 1; }
    lines_set_journal(d.lines, d.journal);
    d.incidents = incidents_open(&d.loop, d.data_dir, err, sizeof err);
    if (!d.incidents) { fprintf(stderr, "hallkeeper: %s\n", err); return 1; }
    {
        uint8_t *buf = NULL;
        size_t len = 0;
        if (em_journal_last(d.journal, &buf, &len) == 0 && buf && codec_decode(buf, len, &d.journal_ev) == 0) {
            int64_t seq = 0;
            hv_get_int(d.journal_ev, "seq", &seq);
            d.journal_seq = (uint64_t)seq;
            if (hall_replay(d.hall, d.journal_ev) == 0) {
                lines_apply(d.lines, NULL);
                if (hall_outputs(d.hall)->nactive)
                    log_warn("emergency: active in the local journal (seq %lld): outputs re-applied at once", (long long)seq);
            }
        }
        free(buf);
    }

    const char *url = d.cfg.redis_url;
    if (!url && !d.cfg.nredis_sentinels) {
        char self[1024];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n > 0) {
            self[n] = 0;
            redis_child_set_launcher(self);
        }
        d.rc = redis_child_new(&d.loop, d.data_dir, err, sizeof err);
        if (!d.rc || redis_child_start(d.rc) < 0) {
            fprintf(stderr, "hallkeeper: %s\n", err);
            return 1;
        }
        url = redis_child_url(d.rc);
        log_info("embedded redis-server on %s", url);
    }
    d.st = url ? store_new(&d.loop, d.cfg.hall_id, url, err, sizeof err)
               : store_new_sentinel(&d.loop, d.cfg.hall_id, (const char *const *)d.cfg.redis_sentinels,
                                    d.cfg.nredis_sentinels, d.cfg.redis_master, d.cfg.redis_db, err, sizeof err);
    if (!d.st) { fprintf(stderr, "hallkeeper: %s\n", err); return 1; }
    store_set_link_cb(d.st, on_link, &d);
    /* Sentinel mode: the passwords of the sentinels and of the master (a URL carries its own) */
    if (!url && store_set_auth(d.st, d.cfg.redis_username, d.cfg.redis_password, d.cfg.redis_sentinel_password) != 0) {
        fprintf(stderr, "hallkeeper: out of memory\n");
        return 1;
    }
    char jpath[1100];
    snprintf(jpath, sizeof jpath, "%s/events.journal", d.data_dir);
    d.events = journal_open(&d.loop, jpath, err, sizeof err);
    if (!d.events) { fprintf(stderr, "hallkeeper: %s\n", err); return 1; }
    store_start(d.st);
    store_restore(d.st, on_event_restored, on_restored, &d);

    uv_signal_init(&d.loop, &d.sigterm);
    uv_signal_init(&d.loop, &d.sigint);
    d.sigterm.data = d.sigint.data = &d;
    uv_signal_start(&d.sigterm, on_signal, SIGTERM);
    uv_signal_start(&d.sigint, on_signal, SIGINT);

    uv_run(&d.loop, UV_RUN_DEFAULT);

    /* shutdown, in the order stack.md gives: our subsystems, our handles, then lws */
    sd_notify(0, "STOPPING=1");
    if (d.watchdog_on) uv_close((uv_handle_t *)&d.watchdog, NULL);
    lines_close(d.lines);
    incidents_close(d.incidents);   /* freed once its last fdatasync is done, in the runs below */
    if (d.speakers) audio_close(d.speakers, NULL, NULL);
    daemon_mobile_close(&d);
    if (d.hb) hub_stop(d.hb);
    store_stop(d.st, on_closed_noop, NULL);
    if (d.rc) redis_child_stop(d.rc, on_closed_noop, NULL);
    uv_close((uv_handle_t *)&d.sigterm, NULL);
    uv_close((uv_handle_t *)&d.sigint, NULL);
    if (d.srv) uv_close((uv_handle_t *)&d.tick, NULL);
    if (d.srv) server_free(d.srv, &d.loop);
    uv_run(&d.loop, UV_RUN_DEFAULT);
    hub_free(d.hb);
    em_journal_close(d.journal);
    journal_close(d.events);
    hv_free(d.journal_ev);
    store_free(d.st);
    if (d.rc) redis_child_free(d.rc);
    hall_free(d.hall);
    if (uv_loop_close(&d.loop) != 0) {
        uv_walk(&d.loop, close_walk, NULL);
        log_err("the event loop did not close cleanly");
        if (!d.exit_code) d.exit_code = 1;
    }
    hk_config_free(&d.cfg);
    log_notice("stopped");
    return d.exit_code;
}
