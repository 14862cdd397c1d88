/* hallkeeper_cmds.c: the commands the hall's table leaves to the host (roles are already
 * checked in core/hall_cmd.c), routed by their module: gpio.*, incidents.*, announce, health,
 * stats.get, clock.advance, report.*. */
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "core/log.h"
#include "report_host.h"

/* Commands the hall leaves to the host, by their module. */
void daemon_run_deferred(void *arg, const hk_session *s, const hv *req, hk_out *out)
{
    daemon_t *d = arg;
    if (!strncmp(out->deferred, "gpio.", 5)) {
        lines_command(d->lines, s, req, out);
        return;
    }
    if (!strncmp(out->deferred, "incidents.", 10)) {
        incidents_command(d->incidents, s, req, out);
        return;
    }
    if (!strcmp(out->deferred, "announce")) {
        daemon_announce(d, req, out);
        return;
    }
    if (!strcmp(out->deferred, "clock.advance")) {
        int64_t ms;
        if (!d->test_clock) {
            out->reply = hall_err_reply(hv_get(req, "id"), "forbidden",
                                        "clock.advance needs the daemon started with --test-clock");
        } else if (hv_get_int(req, "ms", &ms) < 0 || ms < 0 || ms > 400LL * 86400 * 1000) {
            out->reply = hall_err_reply(hv_get(req, "id"), "bad_request", "ms must be 0 .. 400 days");
        } else {
            /* a tick on either side of the jump, as a hall's ticks would see the time pass: what
             * was due before it and what falls due by the new time is published before this
             * reply, so a test that moves the clock can read (or miss) it without waiting */
            hub_tick(d->hb);
            hub_clock_advance(ms);
            hub_tick(d->hb);
            log_warn("test clock moved forward by %lld ms", (long long)ms);
            out->reply = hv_map();
            hv_set(out->reply, "t", hv_str("ok"));
            hv_set(out->reply, "id", hv_dup(hv_get(req, "id")));
            hv_set(out->reply, "now", hv_int(hub_now().ms));
            daemon_check_redis_fault(d);
        }
        return;
    }
    if (!strcmp(out->deferred, "health")) {
        hv *st = hall_state(d->hall, s->role, hub_now());
        hv *faults = hv_dup(hv_get(st, "faults"));
        bool em = false;
        hv_get_bool(hv_get(st, "emergency"), "active", &em);
        hv_free(st);
        bool up = store_is_up(d->st);
        hv *r = hv_map();
        hv_set(r, "t", hv_str("ok"));
        hv_set(r, "id", hv_dup(hv_get(req, "id")));
        hv_set(r, "status", hv_str(up && faults->u.a.n == 0 ? "ok" : "degraded"));
        hv_set(r, "redis_up", hv_bool(up));
        hv_set(r, "pending", hv_int((int64_t)hub_pending(d->hb)));
        hv_set(r, "journal_bytes", hv_int((int64_t)journal_bytes(d->events)));
        hv_set(r, "faults", faults);
        hv_set(r, "emergency_active", hv_bool(em));
        hv_set(r, "clients", hv_int((int64_t)server_clients(d->srv)));
        hv_set(r, "seq", hv_int((int64_t)hall_seq(d->hall)));
        hv_set(r, "uptime_s", hv_int((int64_t)((uv_now(&d->loop) - d->started_ms) / 1000)));
        hv_set(r, "version", hv_str(HK_VERSION));
        out->reply = r;
        return;
    }
    if (!strcmp(out->deferred, "stats.get")) {
        hv *r = hv_map();
        hv_set(r, "t", hv_str("ok"));
        hv_set(r, "id", hv_dup(hv_get(req, "id")));
        hv_set(r, "edge_to_outputs", lines_stats(d->lines));
        hv_set(r, "clients", hv_int((int64_t)server_clients(d->srv)));
        hv_set(r, "pending", hv_int((int64_t)hub_pending(d->hb)));
        hv_set(r, "redis_up", hv_bool(store_is_up(d->st)));
        hv_set(r, "seq", hv_int((int64_t)hall_seq(d->hall)));
        out->reply = r;
        return;
    }
    if (!strncmp(out->deferred, "report.", 7)) {   /* the daily report (io/report_host.c) */
        report_host_command(&d->cfg, d->events, d->st, d->journal_day, hub_now().day, out->deferred, req, out);
        return;
    }
    out->reply = hall_err_reply(hv_get(req, "id"), "unavailable", "this command is not available yet");
}

