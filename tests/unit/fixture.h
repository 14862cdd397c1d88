/* fixture.h: the setup the unit suites that drive one hall share: the config loaded from YAML,
 * the hall, every event it emitted (for replay) and those of the last command, and the running
 * of one hall.v1 request. Each suite keeps its own clock, login and assertions. Header-only, as
 * each test is one executable (as req_args.h). */
#ifndef HK_TEST_FIXTURE_H
#define HK_TEST_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/hall.h"
#include "io/config/config_load.h"
#include "req_args.h"

static hk_config cfg;
static hk_hall *hall;
static hv *log_events;     /* every event the hall emitted, in order, for replay */
static hv *last_events;    /* the events of the last command (or of what the suite kept last) */
static int64_t next_id;

/* text as a config into c; a config error fails the test with its message. */
static inline void fixture_config(hk_config *c, const char *text, const char *name)
{
    char err[256];
    if (config_load_string(text, strlen(text), name, c, err, sizeof err) != 0) fail_msg("config: %s", err);
}

/* The hall of cfg (loaded already) with empty event logs. */
static inline void fixture_start(void)
{
    hall = hall_new(&cfg);
    assert_non_null(hall);
    log_events = hv_arr();
    last_events = hv_arr();
    next_id = 1;
}

/* cfg from text and its hall: a suite's setup. */
static inline int fixture_setup(const char *text, const char *name)
{
    fixture_config(&cfg, text, name);
    fixture_start();
    return 0;
}

static inline int fixture_teardown(void)
{
    hall_free(hall);
    hv_free(log_events);
    hv_free(last_events);
    hk_config_free(&cfg);
    hall = NULL;
    log_events = last_events = NULL;
    return 0;
}

/* Keeps what the hall emitted: in log_events, and as last_events. */
static inline void fixture_keep(const hk_out *out)
{
    hv_free(last_events);
    last_events = hv_arr();
    for (size_t i = 0; i < out->nevents; i++) {
        hv_push(log_events, hv_dup(out->events[i]));
        hv_push(last_events, hv_dup(out->events[i]));
    }
}

/* {t: cmd, id: next} with the arguments of req_args.h. */
static inline hv *fixture_vreq(const char *cmd, va_list ap)
{
    hv *req = hv_map();
    hv_set(req, "t", hv_str(cmd));
    hv_set(req, "id", hv_int(next_id++));
    test_req_args(req, ap);
    return req;
}

/* Runs one command on h at t and returns the reply (the caller frees it). What the suite's hall
 * emits is kept; another hall (a replayed copy) must emit nothing when read_only. */
static inline hv *fixture_vrun(hk_hall *h, hk_session *s, hk_time t, bool read_only, const char *cmd, va_list ap)
{
    hv *req = fixture_vreq(cmd, ap);
    hk_out out;
    hk_out_init(&out);
    hall_cmd(h, s, req, t, &out);
    if (h == hall) fixture_keep(&out);
    else if (read_only) assert_int_equal(out.nevents, 0);
    hv *r = out.reply;
    out.reply = NULL;
    hk_out_clear(&out);
    hv_free(req);
    return r;
}

static inline hv *fixture_run(hk_hall *h, hk_session *s, hk_time t, const char *cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    hv *r = fixture_vrun(h, s, t, false, cmd, ap);
    va_end(ap);
    return r;
}

#endif
