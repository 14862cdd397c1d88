/* main.c: the daemon's entry point. Reads the command line, runs the start-up steps of startup.c
 * in order (configuration, hall and outputs, emergency, store), lets restore.c bring the day back
 * (from Redis or the local copy) before a client is accepted, runs the loop, and stops cleanly
 * on SIGTERM/SIGINT. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <uv.h>

#include "core/alloc.h"
#include "core/log.h"
#include "daemon.h"
#include "printing.h"

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

/* The command line: -1 to go on, or the exit code (help, version, a bad option). */
static int parse_args(daemon_t *d, int argc, char **argv)
{
    d->pages = getenv("HALL_PAGES") ? getenv("HALL_PAGES") : HK_PAGES_DIR;
    snprintf(d->data_dir, sizeof d->data_dir, "%s", getenv("HALL_DATA") ? getenv("HALL_DATA") : "data");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        if (!strcmp(a, "--version")) { printf("hallkeeper %s\n", HK_VERSION); return 0; }
        if (!strcmp(a, "--test-clock")) { d->test_clock = 1; continue; }
        if (i + 1 >= argc) { fprintf(stderr, "hallkeeper: unknown or incomplete option '%s'\n", a); usage(stderr); return 2; }
        if (!strcmp(a, "--config")) d->config_path = argv[++i];
        else if (!strcmp(a, "--data")) snprintf(d->data_dir, sizeof d->data_dir, "%s", argv[++i]);
        else if (!strcmp(a, "--listen")) d->listen = argv[++i];
        else if (!strcmp(a, "--pages")) d->pages = argv[++i];
        else { fprintf(stderr, "hallkeeper: unknown option '%s'\n", a); usage(stderr); return 2; }
    }
    return -1;
}

/* In the order stack.md gives: our subsystems, our handles, then lws. */
static int shutdown_all(daemon_t *d)
{
    sd_notify(0, "STOPPING=1");
    if (d->watchdog_on) uv_close((uv_handle_t *)&d->watchdog, NULL);
    uv_close((uv_handle_t *)&d->local_timer, NULL);
    lines_close(d->lines);
    incidents_close(d->incidents);   /* freed once its last fdatasync is done, in the runs below */
    if (d->speakers) audio_close(d->speakers, NULL, NULL);
    daemon_mobile_close(d);
    if (d->hb) hub_stop(d->hb);
    store_stop(d->st, on_closed_noop, NULL);
    if (d->rc) redis_child_stop(d->rc, on_closed_noop, NULL);
    uv_close((uv_handle_t *)&d->sigterm, NULL);
    uv_close((uv_handle_t *)&d->sigint, NULL);
    if (d->srv) uv_close((uv_handle_t *)&d->tick, NULL);
    if (d->srv) server_free(d->srv, &d->loop);
    uv_run(&d->loop, UV_RUN_DEFAULT);
    hub_free(d->hb);
    em_journal_close(d->journal);
    journal_close(d->events);
    hv_free(d->journal_ev);
    store_free(d->st);
    if (d->rc) redis_child_free(d->rc);
    hall_free(d->hall);
    if (uv_loop_close(&d->loop) != 0) {
        uv_walk(&d->loop, close_walk, NULL);
        log_err("the event loop did not close cleanly");
        if (!d->exit_code) d->exit_code = 1;
    }
    hk_config_free(&d->cfg);
    log_notice("stopped");
    return d->exit_code;
}

/* Out of memory is not survivable (core/alloc.h aborts next): say so where the operator looks. */
static void on_oom(size_t size) { log_err("out of memory (asked for %zu bytes): aborting", size); }

int main(int argc, char **argv)
{
    static daemon_t d;
    redis_child_exec_main(argc, argv);   /* returns unless we are the redis-server launcher */
    hk_log_init();
    hk_alloc_set_oom(on_oom);
    int rc = parse_args(&d, argc, argv);
    if (rc >= 0) return rc;
    if ((rc = startup_config(&d)) != 0) return rc;
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&d.loop);
    d.started_ms = uv_now(&d.loop);
    if ((rc = startup_hall(&d)) != 0 || (rc = startup_emergency(&d)) != 0 || (rc = startup_store(&d)) != 0)
        return rc;
    restore_begin(&d);   /* from Redis or the local copy; then daemon_start_serving */

    uv_signal_init(&d.loop, &d.sigterm);
    uv_signal_init(&d.loop, &d.sigint);
    d.sigterm.data = d.sigint.data = &d;
    uv_signal_start(&d.sigterm, on_signal, SIGTERM);
    uv_signal_start(&d.sigint, on_signal, SIGINT);

    uv_run(&d.loop, UV_RUN_DEFAULT);
    return shutdown_all(&d);
}
