/* host_cmds.c: the daemon's handlers for the host rows of the command table (core/hall_cmd.c
 * holds every command with its roles and checks them): the daemon's own health, stats.get and
 * clock.advance here, and the registration of every host handler, the other modules' included. */
#include <stdio.h>
#include <string.h>

#include "io/base/clock.h"
#include "daemon.h"
#include "core/log.h"
#include "report_host.h"

static void cmd_clock_advance(void *arg, const hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    daemon_t *d = arg;
    int64_t ms;
    (void)s;
    (void)now;
    if (!d->test_clock) {
        hall_reply_err(out, req, HK_ERR_FORBIDDEN,
                       "clock.advance needs the daemon started with --test-clock");
    } else if (hv_get_int(req, "ms", &ms) < 0 || ms < 0 || ms > 400LL * 86400 * 1000) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "ms must be 0 .. 400 days");
    } else {
        /* a tick on either side of the jump, as a hall's ticks would see the time pass: what was
         * due before it and what falls due by the new time is published before this reply, so a
         * test that moves the clock can read (or miss) it without waiting */
        hub_tick(d->hb);
        hk_clock_advance(ms);
        hub_tick(d->hb);
        log_warn("test clock moved forward by %lld ms", (long long)ms);
        hall_reply_ok(out, req);
        hv_set(out->reply, "now", hv_int(hk_clock_now().ms));   /* the clock as moved, not `now` */
        daemon_check_redis_fault(d);
    }
}

static void cmd_health(void *arg, const hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    daemon_t *d = arg;
    hv *st = hall_state(d->hall, s->role, now);
    hv *faults = hv_dup(hv_get(st, "faults"));
    bool em = false;
    hv_get_bool(hv_get(st, "emergency"), "active", &em);
    hv_free(st);
    bool up = store_is_up(d->st);
    hv *r = hall_reply_ok(out, req);
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
}

static void cmd_stats_get(void *arg, const hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    daemon_t *d = arg;
    (void)s;
    (void)now;
    hv *r = hall_reply_ok(out, req);
    hv_set(r, "edge_to_outputs", lines_stats(d->lines));
    hv_set(r, "clients", hv_int((int64_t)server_clients(d->srv)));
    hv_set(r, "pending", hv_int((int64_t)hub_pending(d->hb)));
    hv_set(r, "redis_up", hv_bool(store_is_up(d->st)));
    hv_set(r, "seq", hv_int((int64_t)hall_seq(d->hall)));
}

int daemon_cmds_register(daemon_t *d)
{
    const struct { const char *name; hk_host_cmd fn; void *arg; } host[] = {
        {"gpio.list", lines_cmd_list, d->lines},
        {"gpio.sim.set", lines_cmd_sim_set, d->lines},
        {"incidents.list", incidents_cmd_list, d->incidents},
        {"announce", daemon_announce, d},
        {"clock.advance", cmd_clock_advance, d},
        {"health", cmd_health, d},
        {"stats.get", cmd_stats_get, d},
        {"report.day", report_host_day, d},
        {"report.events", report_host_events, d},
    };
    for (size_t i = 0; i < sizeof host / sizeof *host; i++) {
        if (hall_cmd_register(d->hall, host[i].name, host[i].fn, host[i].arg) < 0) {
            log_err("the command table has no host row %s", host[i].name);
            return -1;
        }
    }
    return 0;
}
