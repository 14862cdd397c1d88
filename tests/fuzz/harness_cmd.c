/* harness_cmd.c: the command dispatcher (core/hall_cmd.c) on one arbitrary request from an
 * authenticated session, checked by replaying what it emitted into a second hall. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/config_load.h"
#include "web/codec.h"

/* The demo hall's config, loaded once: it is only read, and every input gets a fresh hall. */
static const hk_config *demo_config(void)
{
    static hk_config cfg;
    static bool loaded;
    if (!loaded) {
        char err[256];
        if (config_load_string(config_demo_yaml, strlen(config_demo_yaml), "demo", &cfg, err, sizeof err))
            fuzz_fail("demo config: %s", err);
        loaded = true;
    }
    return &cfg;
}

static hk_time at(int64_t s, int32_t day)
{
    /* Monday 2025-11-24 10:00 local; day+1 is Tuesday */
    hk_time t = {1763949600000LL + s * 1000, day, 600 + (int32_t)(s / 60), day == 20251124 ? 0 : 1};
    return t;
}

static int64_t next_id;

/* A setup step that must succeed: the scenes are fixed, so a failure is a regression. */
static void step(hk_hall *h, hk_session *s, const char *t, const char *k, hv *v, hk_time now, hv *log)
{
    hv *req = hv_map();
    hv_set(req, "t", hv_str(t));
    hv_set(req, "id", hv_int(next_id++));
    if (k) hv_set(req, k, v);
    hk_out out;
    hk_out_init(&out);
    hall_cmd(h, s, req, now, &out);
    const char *rt = out.reply ? hv_get_str(out.reply, "t") : NULL;
    if (!rt || strcmp(rt, "ok")) fuzz_dump("setup reply", out.reply);
    FUZZ_CHECK(rt && !strcmp(rt, "ok"), "setup step %s failed", t);
    fuzz_take(&out, log);
    hv_free(req);
}

static const char *const role_tokens[] = {"admin-secret", "staff-0001-pin", "kiosk-1-secret"};

int fuzz_cmd(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const hk_config *cfg = demo_config();
    int role_i = data[0] % 3, scene = (data[0] / 3) % 4;
    bool next_day = (data[0] / 12) % 2;
    next_id = 1;

    hv *req = NULL;
    int rc = codec_decode(data + 1, size - 1, &req);
    if (rc) {   /* what the hub answers to an undecodable frame */
        hv *r = hall_err_reply(NULL, "bad_request", codec_strerror(rc));
        FUZZ_CHECK(r && !strcmp(hv_get_str(r, "t"), "err"), "hall_err_reply shape");
        hv_free(r);
        return 0;
    }

    hk_hall *h = hall_new(cfg);
    FUZZ_CHECK(h, "hall_new on the demo config");
    hv *log = hv_arr();
    hk_session me = {0}, kiosk = {0}, staff = {0}, security = {0};
    step(h, &me, "hello", "token", hv_str(role_tokens[role_i]), at(0, 20251124), log);
    step(h, &kiosk, "hello", "token", hv_str("kiosk-1-secret"), at(0, 20251124), log);
    hk_session *desk = role_i == 1 ? &me : &staff;   /* the staff session of the scene */
    if (role_i != 1) step(h, desk, "hello", "token", hv_str("staff-0001-pin"), at(0, 20251124), log);
    if (scene >= 1) {
        static const char *const cats[] = {"A", "A", "B", "C", "D", "B"};
        for (size_t i = 0; i < sizeof cats / sizeof *cats; i++)
            step(h, &kiosk, "ticket.issue", "category", hv_str(cats[i]), at(1 + (int64_t)i, 20251124), log);
    }
    if (scene >= 2) {
        step(h, desk, "window.open", "window", hv_int(1), at(10, 20251124), log);
        step(h, desk, "call.next", NULL, NULL, at(11, 20251124), log);
    }
    if (scene >= 3) {
        step(h, &security, "hello", "token", hv_str("security-secret"), at(12, 20251124), log);
        hv *r = hv_map();
        hv_set(r, "t", hv_str("emergency.trigger"));
        hv_set(r, "id", hv_int(next_id++));
        hv_set(r, "playbook", hv_str("fire"));
        hv_set(r, "drill", hv_bool(true));
        hk_out out;
        hk_out_init(&out);
        hall_cmd(h, &security, r, at(12, 20251124), &out);
        FUZZ_CHECK(out.reply && !strcmp(hv_get_str(out.reply, "t"), "ok"), "setup drill failed");
        fuzz_take(&out, log);
        hv_free(r);
    }

    /* the input's request, as the hub runs it */
    hk_out out;
    hk_out_init(&out);
    hall_cmd(h, &me, req, at(20, 20251124), &out);
    /* deferred commands (gpio.*, incidents.list) are answered by the host, not the core */
    FUZZ_CHECK(out.reply || out.deferred, "hall_cmd gave no reply");
    FUZZ_CHECK(!(out.reply && out.deferred), "a deferred command with a reply");
    const hv *id = hv_get(req, "id");
    const hv *rid = hv_get(out.reply, "id");
    if (out.reply && id && id->t == HV_INT && id->u.i >= 0 && hv_get_str(req, "t"))
        FUZZ_CHECK(rid && hv_equal(id, rid), "reply id differs from the request's");
    if (out.deferred) FUZZ_CHECK(!strcmp(out.deferred, hv_get_str(req, "t")), "deferred names another command");
    fuzz_take(&out, log);
    hv_free(req);

    hk_time end = next_day ? at(86400, 20251125) : at(21, 20251124);
    hk_out_init(&out);
    hall_tick(h, end, &out);
    fuzz_take(&out, log);

    fuzz_replay_check(cfg, h, log, end);
    hv_free(log);
    hall_free(h);
    return 0;
}
