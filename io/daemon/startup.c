/* startup.c: the daemon's start-up steps, in the order main() runs them (docs/reliability.md):
 * the configuration and data directory, the hall and its outputs, an emergency re-applied from
 * the local journal, Redis and the events journal; then, once the day is restored (restore.c),
 * serving: the web server, the hall's tick, READY=1. */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>
#include <uv.h>

#include "io/base/clock.h"
#include "core/codec/codec.h"
#include "core/log.h"
#include "demo_tokens.h"
#include "io/base/fs.h"
#include "io/config/config_load.h"
#include "io/config/token.h"
#include "daemon.h"
#include "printing.h"

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
    if (d->conflict[0])
        hall_fault(d->hall, "redis_history", true, (int64_t)d->conflict_since, d->conflict, hk_clock_now(), &out);
    if (d->redis_down_since)
        hall_fault(d->hall, "redis", true, (int64_t)d->redis_down_since,
                   "Redis is unreachable: changes are kept in the local journal", hk_clock_now(), &out);
    else
        hall_fault(d->hall, "redis", false, 0, NULL, hk_clock_now(), &out);
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
        /* the journal holds the hall from its latest checkpoint on: a new day drops what came
         * before yesterday's rollover, once Redis has everything */
        int32_t today = hk_clock_now().day;
        if (today != d->journal_day && d->cp_seq && store_pending(d->st) == 0 &&
            journal_compact(d->events, d->cp_seq) == 0) {
            log_info("journal: a new day (%d): the local journal now starts at the checkpoint of seq %llu", today,
                     (unsigned long long)d->cp_seq);
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
    const hk_config *c = &d->cfg;
    const char *kiosk = demo_token_of(c, HK_ROLE_KIOSK, NULL), *display = demo_token_of(c, HK_ROLE_DISPLAY, NULL);
    const char *staff = demo_token_of(c, HK_ROLE_STAFF, "0001"), *guide = demo_token_of(c, HK_ROLE_STAFF, "0003");
    printf("  kiosk (取号机)        http://%s:%d/kiosk#token=%s\n", host, port, kiosk);
    printf("  staff tablet (窗口)   http://%s:%d/staff#token=%s\n", host, port, staff);
    printf("  hall display (大屏)   http://%s:%d/display#token=%s\n", host, port, display);
    printf("  window 1 screen       http://%s:%d/display/window/1#token=%s\n", host, port, display);
    printf("  security console      http://%s:%d/security#token=%s\n", host, port, demo_token_of(c, HK_ROLE_SECURITY, NULL));
    printf("  guide's tablet (引导)  http://%s:%d/guide#token=%s\n", host, port, guide);
    printf("  manager dashboard     http://%s:%d/admin#token=%s\n", host, port, demo_token_of(c, HK_ROLE_ADMIN, NULL));
    printf("  rating tablet (评价器) http://%s:%d/rate/1#token=%s\n", host, port, kiosk);
    printf("  staff on duty board   http://%s:%d/duty#token=%s\n", host, port, display);
    printf("  case progress board   http://%s:%d/cases#token=%s\n", host, port, display);
    printf("  demo tokens (kept in %s/demo-tokens):", d->data_dir);
    for (size_t i = 0; i < c->ntokens; i++)
        printf(" %s=%s", hk_role_name(c->tokens[i].role), c->tokens[i].token);
    printf("\n  hallctl: ./build/hallctl --token %s --url ws://%s:%d/ws call 1\n\n", staff, host, port);
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
    for (size_t i = 0; i < out->nevents; i++) {
        int64_t seq = 0;
        hv_get_int(out->events[i], "seq", &seq);
        restore_note_event(d, (uint64_t)seq, out->events[i]);
    }
}

/* Once a change is durable and on the screens: a call is spoken, a kiosk's ticket printed. */
static void on_delivered(void *arg, const hv *ev)
{
    daemon_on_delivered(arg, ev);
    daemon_mobile_delivered(arg, ev);
}

void daemon_start_serving(daemon_t *d)
{
    char err[256];
    d->hb = hub_new(&d->loop, d->hall, d->st, d->events);
    hub_set_outputs(d->hb, on_outputs, d);
    if (daemon_cmds_register(d) < 0) {
        d->exit_code = 1;
        uv_stop(&d->loop);
        return;
    }
    static const char *const spoken[] = {"ticket.called", "ticket.issued", NULL};   /* speakers + printer */
    hub_set_delivered(d->hb, spoken, on_delivered, d);
    lines_attach(d->lines, d->hb);
    server_options so = {d->listen, d->pages, d->cfg.tls_cert, d->cfg.tls_key, d->cfg.hosts, d->cfg.nhosts};
    if (!d->cfg.tls_cert && !server_listen_is_loopback(d->listen))
        log_warn("serving without TLS on %s, beyond loopback: tokens cross the network in the clear "
                 "(set http.tls_cert and http.tls_key, docs/security.md)", d->listen);
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

static void on_link(void *arg, int up)
{
    daemon_t *d = arg;
    if (up) {
        if (d->redis_down_since) log_notice("redis: back after %llu ms; the journal is replayed in order",
                                            (unsigned long long)(hk_clock_now().ms - (int64_t)d->redis_down_since));
        d->redis_down_since = 0;
    } else {
        log_warn("redis: connection lost; the hall goes on, changes are kept in the local journal");
        d->redis_down_since = (uint64_t)hk_clock_now().ms;
    }
    daemon_check_redis_fault(d);
    restore_on_link(d, up);
}

/* The configuration (or the demo hall), the data directory, and a port that is free: 0, or the
 * exit code with the reason on stderr. */
int startup_config(daemon_t *d)
{
    char err[512];
    int rc = d->config_path ? config_load_file(d->config_path, &d->cfg, err, sizeof err)
                            : config_load_string(config_demo_yaml, strlen(config_demo_yaml), "demo hall",
                                                 &d->cfg, err, sizeof err);
    if (rc < 0) { fprintf(stderr, "hallkeeper: %s\n", err); return 2; }
    if (!d->listen) d->listen = d->cfg.listen;
    if (hk_mkdirs(d->data_dir, 0700) < 0) {
        fprintf(stderr, "hallkeeper: cannot create data directory %s: %s\n", d->data_dir, strerror(errno));
        return 1;
    }
    if (!d->config_path && demo_tokens_apply(&d->cfg, d->data_dir, err, sizeof err) < 0) {
        fprintf(stderr, "hallkeeper: %s\n", err);
        return 1;
    }
    if (check_port(d->listen, err, sizeof err) < 0) { fprintf(stderr, "hallkeeper: %s\n", err); return 1; }
    return 0;
}

/* The hall, the phone links and the GPIO lines: 0, or the exit code. */
int startup_hall(daemon_t *d)
{
    char err[512];
    d->hall = hall_new(&d->cfg);
    if (!d->hall) { fprintf(stderr, "hallkeeper: out of memory\n"); return 1; }
    if (daemon_mobile_open(d, err, sizeof err) < 0) { fprintf(stderr, "hallkeeper: %s\n", err); return 1; }
    d->lines = lines_open(&d->loop, &d->cfg, d->hall, err, sizeof err);
    if (!d->lines) {
        fprintf(stderr, "hallkeeper: gpio: %s\n", err);
        uv_run(&d->loop, UV_RUN_DEFAULT);
        uv_loop_close(&d->loop);
        return 2;
    }
    return 0;
}

/* An emergency in progress is re-applied from the local journal before anything else: doors
 * stay released even if Redis is slow or gone. 0, or the exit code. */
int startup_emergency(daemon_t *d)
{
    char err[512];
    d->journal = em_journal_open(&d->loop, d->data_dir, err, sizeof err);
    if (!d->journal) { fprintf(stderr, "hallkeeper: %s\n", err); return 1; }
    lines_set_journal(d->lines, d->journal);
    d->incidents = incidents_open(&d->loop, d->data_dir, err, sizeof err);
    if (!d->incidents) { fprintf(stderr, "hallkeeper: %s\n", err); return 1; }
    uint8_t *buf = NULL;
    size_t len = 0;
    if (em_journal_last(d->journal, &buf, &len) == 0 && buf && codec_decode(buf, len, &d->journal_ev) == 0) {
        int64_t seq = 0;
        hv_get_int(d->journal_ev, "seq", &seq);
        d->journal_seq = (uint64_t)seq;
        if (hall_replay(d->hall, d->journal_ev) == 0) {
            lines_apply(d->lines, NULL);
            if (hall_outputs(d->hall)->nactive)
                log_warn("emergency: active in the local journal (seq %lld): outputs re-applied at once", (long long)seq);
        }
    }
    free(buf);
    return 0;
}

/* The embedded redis-server (no redis section) or the external one, the store, the events
 * journal. 0, or the exit code. */
int startup_store(daemon_t *d)
{
    char err[512];
    const char *url = d->cfg.redis_url;
    if (!url && !d->cfg.nredis_sentinels) {
        char self[1024];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n > 0) {
            self[n] = 0;
            redis_child_set_launcher(self);
        }
        d->rc = redis_child_new(&d->loop, d->data_dir, err, sizeof err);
        if (!d->rc || redis_child_start(d->rc) < 0) {
            fprintf(stderr, "hallkeeper: %s\n", err);
            return 1;
        }
        url = redis_child_url(d->rc);
        log_info("embedded redis-server on %s", url);
    }
    d->st = url ? store_new(&d->loop, d->cfg.hall_id, url, err, sizeof err)
                : store_new_sentinel(&d->loop, d->cfg.hall_id, (const char *const *)d->cfg.redis_sentinels,
                                     d->cfg.nredis_sentinels, d->cfg.redis_master, d->cfg.redis_db, err, sizeof err);
    if (!d->st) { fprintf(stderr, "hallkeeper: %s\n", err); return 1; }
    store_set_link_cb(d->st, on_link, d);
    /* Sentinel mode: the passwords of the sentinels and of the master (a URL carries its own) */
    if (!url && store_set_auth(d->st, d->cfg.redis_username, d->cfg.redis_password, d->cfg.redis_sentinel_password) != 0) {
        fprintf(stderr, "hallkeeper: out of memory\n");
        return 1;
    }
    char jpath[1100];
    snprintf(jpath, sizeof jpath, "%s/events.journal", d->data_dir);
    d->events = journal_open(&d->loop, jpath, err, sizeof err);
    if (!d->events) { fprintf(stderr, "hallkeeper: %s\n", err); return 1; }
    return 0;
}
