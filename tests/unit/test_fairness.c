/* test_fairness.c: a whole simulated day through the real hall_cmd / hall_tick functions, time
 * passed in, to check the call policy's fairness rules (docs/queue.md "Fairness"): 09:00-17:00
 * arrivals from a seeded PRNG (normal tickets from the kiosk, priority tickets from a guide,
 * appointments imported in the morning and checked in around their slots, some never coming),
 * three windows serving two categories, random service times. Printed: wait per class (count,
 * mean, p50, p95, max, in minutes). Asserted: a normal ticket never waits longer than
 * normal_max_wait_min plus one longest service; priority and appointment tickets wait less than
 * normal ones; every ticket is called (no starvation); missed appointments are released; and
 * the same day with the fairness rules switched off breaks the normal bound, so the check can
 * fail. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/hall.h"
#include "io/config/config_load.h"

#define DAY0 20251124
#define DAY0_MS 1763913600000LL      /* local midnight of DAY0 (UTC+8) */
#define OPEN_S (9 * 3600)
#define LAST_ARRIVAL_S (17 * 3600)
#define END_S (22 * 3600)            /* the simulation gives up here: anything still waiting starved */
#define SERVICE_MIN_S (3 * 60)
#define SERVICE_MAX_S (7 * 60)
#define WALK_S 30                    /* from the call to the counter */
#define MAX_TICKETS 2000
#ifndef NORMAL_PER_H
#define NORMAL_PER_H 14.0
#endif
#ifndef PRIORITY_PER_H
#define PRIORITY_PER_H 7.0
#endif
#ifndef SEED
#define SEED 20251124
#endif
#ifndef PEAK
#define PEAK 1.4
#endif

static const char hall_yaml[] =
    "hall: { id: sim, name: 模拟大厅 }\n"
    "hours:\n"
    "  - { days: [mon, tue, wed, thu, fri, sat, sun], open: [\"00:00-24:00\"] }\n"
    "tokens:\n"
    "  - { token: kiosk.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk }\n"
    "  - { token: guide.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: staff, staff: \"0009\" }\n"
    "  - { token: s1.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: staff, staff: \"0001\" }\n"
    "  - { token: s2.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: staff, staff: \"0002\" }\n"
    "  - { token: s3.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: staff, staff: \"0003\" }\n"
    "  - { token: admin.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: admin }\n"
    "staff:\n"
    "  - { id: \"0001\", name: 一 }\n"
    "  - { id: \"0002\", name: 二 }\n"
    "  - { id: \"0003\", name: 三 }\n"
    "  - { id: \"0009\", name: 导办 }\n"
    "categories:\n"
    "  - { id: A, name: 综合受理 }\n"
    "  - { id: B, name: 不动产 }\n"
    "windows:\n"
    "  - { id: 1, name: 1号窗口, categories: [A, B] }\n"
    "  - { id: 2, name: 2号窗口, categories: [A, B] }\n"
    "  - { id: 3, name: 3号窗口, categories: [B, A] }\n";

enum { CL_NORMAL, CL_PRIORITY, CL_APPT, NCLASS };
static const char *const class_names[NCLASS] = {"normal", "priority", "appointment"};

/* ---- a seeded PRNG (splitmix64): the same day every run ---- */
static uint64_t rng_state;
static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static double rng_unit(void) { return (double)(rng_next() >> 11) / 9007199254740992.0; }   /* [0, 1) */
static int rng_range(int lo, int hi) { return lo + (int)(rng_unit() * (hi - lo + 1)); }
static int rng_exp_s(double per_hour) { return (int)(-log(1.0 - rng_unit()) * 3600.0 / per_hour) + 1; }

/* ---- the day's visitors ---- */
typedef struct {
    int arrive_s;        /* when the visitor reaches the kiosk (or the guide) */
    int cls;
    char cat[2];
    char appt[16];       /* appointments: the booking number */
    bool no_show;
} visitor;

typedef struct {
    int cls;
    int issued_s, called_s;
    char code[16];
} issued;

typedef struct {
    visitor v[MAX_TICKETS];
    int nv;
    char csv[65536];
} day_plan;

static hk_time at_s(int s)
{
    hk_time t = {DAY0_MS + (int64_t)s * 1000, DAY0, s / 60, 0};
    return t;
}

static void plan_day(day_plan *p, uint64_t seed)
{
    rng_state = seed;
    p->nv = 0;
    /* walk-ins: normal NORMAL_PER_H an hour, priority (elderly, disabled, pregnant) PRIORITY_PER_H,
     * both PEAK times as many from 09:00 to 11:00 (the morning rush of the elderly); 70 % A.
     * A Poisson process thinned to the hour's rate. */
    static const double rates[2] = {NORMAL_PER_H, PRIORITY_PER_H};
    for (int cls = 0; cls < 2; cls++) {
        double top = rates[cls] * PEAK;
        for (int t = OPEN_S + rng_exp_s(top); t < LAST_ARRIVAL_S; t += rng_exp_s(top)) {
            double f = t < 11 * 3600 ? PEAK : 1.0;
            if (rng_unit() * PEAK >= f) continue;
            visitor *v = &p->v[p->nv++];
            memset(v, 0, sizeof *v);
            v->arrive_s = t;
            v->cls = cls;
            v->cat[0] = rng_unit() < 0.7 ? 'A' : 'B';
        }
    }
    /* appointments: two per 20-minute slot from 09:00 to 16:40; they come between 35 minutes early
     * and 20 minutes late; one in ten never comes */
    int n = snprintf(p->csv, sizeof p->csv, "number,name,category,date,start,end,matter\n");
    int k = 0;
    for (int slot = OPEN_S; slot < LAST_ARRIVAL_S; slot += 20 * 60) {
        for (int j = 0; j < 2; j++, k++) {
            visitor *v = &p->v[p->nv++];
            memset(v, 0, sizeof *v);
            v->cls = CL_APPT;
            v->cat[0] = rng_unit() < 0.6 ? 'A' : 'B';
            snprintf(v->appt, sizeof v->appt, "YY%04d", k);
            v->arrive_s = slot + rng_range(-35 * 60, 20 * 60);
            v->no_show = rng_unit() < 0.1;
            n += snprintf(p->csv + n, sizeof p->csv - (size_t)n, "%s,访客%d,%s,2025-11-24,%02d:%02d,%02d:%02d,\n", v->appt,
                          k, v->cat, slot / 3600, slot / 60 % 60, (slot + 20 * 60) / 3600, (slot + 20 * 60) / 60 % 60);
        }
    }
}

/* ---- running it ---- */
static hk_hall *hall;
static int64_t next_id;

static hv *cmd(hk_session *s, int t_s, const char *name, const char *k1, hv *v1, const char *k2, hv *v2)
{
    hv *req = hv_map();
    hv_set(req, "t", hv_str(name));
    hv_set(req, "id", hv_int(next_id++));
    if (k1) hv_set(req, k1, v1);
    if (k2) hv_set(req, k2, v2);
    hk_out out;
    hk_out_init(&out);
    hall_cmd(hall, s, req, at_s(t_s), &out);
    hv *r = out.reply;
    out.reply = NULL;
    hk_out_clear(&out);
    hv_free(req);
    return r;
}

static bool is_ok(const hv *r) { return !strcmp(hv_get_str(r, "t"), "ok"); }

static hk_session login(const char *token)
{
    hk_session s = {0};
    hv *r = cmd(&s, OPEN_S - 600, "hello", "token", hv_str(token), NULL, NULL);
    assert_true(is_ok(r));
    hv_free(r);
    return s;
}

typedef struct {
    int n;
    double mean, p50, p95, max;   /* minutes */
} wait_stats;

typedef struct {
    wait_stats cls[NCLASS];
    int issued, called, released, too_early_retries;
    int max_service_s;
} day_result;

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

static int by_arrival(const void *a, const void *b)
{
    const visitor *x = a, *y = b;
    return x->arrive_s != y->arrive_s ? x->arrive_s - y->arrive_s : strcmp(x->appt, y->appt);
}

static void run_day(const char *extra_yaml, day_plan *p, day_result *res)
{
    static char yaml[4096];
    snprintf(yaml, sizeof yaml, "%s%s", hall_yaml, extra_yaml);
    hk_config cfg;
    char err[256];
    if (config_load_string(yaml, strlen(yaml), "sim.yaml", &cfg, err, sizeof err) != 0) fail_msg("%s", err);
    hall = hall_new(&cfg);
    next_id = 1;
    memset(res, 0, sizeof *res);
    rng_state = 0x5EED5E2F1CE;   /* service times: the same sequence of draws in every run */
    hk_session kiosk = login("kiosk.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), guide = login("guide.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), admin = login("admin.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa");
    hk_session staff[3] = {login("s1.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), login("s2.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), login("s3.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa")};
    hv *r = cmd(&admin, OPEN_S - 300, "appointment.import", "csv", hv_str(p->csv), NULL, NULL);
    if (!is_ok(r)) fail_msg("import: %s", hv_get_str(r, "msg"));
    hv_free(r);
    for (int w = 0; w < 3; w++) {
        r = cmd(&staff[w], OPEN_S - 60, "window.open", "window", hv_int(w + 1), NULL, NULL);
        assert_true(is_ok(r));
        hv_free(r);
    }
    qsort(p->v, (size_t)p->nv, sizeof *p->v, by_arrival);

    static issued tk[MAX_TICKETS];
    int ntk = 0, nextv = 0;
    int busy_until[3] = {0, 0, 0}, at_window[3] = {-1, -1, -1};
    /* visitors told "too early" come back when check-in opens: a small retry list */
    static visitor retry[MAX_TICKETS];
    int nretry = 0;
    for (int t = OPEN_S - 60; t < END_S; t++) {
        hk_out out;
        if (t % 60 == 0) {   /* the tick, once a minute is enough here: releases missed appointments */
            hk_out_init(&out);
            hall_tick(hall, at_s(t), &out);
            for (size_t i = 0; i < out.nevents; i++)
                res->released += !strcmp(hv_get_str(out.events[i], "ev"), "appointment.released");
            hk_out_clear(&out);
        }
        /* arrivals */
        for (;;) {
            visitor vv;
            if (nextv < p->nv && p->v[nextv].arrive_s <= t) {
                vv = p->v[nextv++];
            } else {
                int ri = -1;
                for (int i = 0; i < nretry && ri < 0; i++)
                    if (retry[i].arrive_s <= t) ri = i;
                if (ri < 0) break;
                vv = retry[ri];
                retry[ri] = retry[--nretry];
            }
            if (vv.cls == CL_APPT && vv.no_show) continue;
            if (vv.cls == CL_APPT)
                r = cmd(&kiosk, t, "ticket.issue", "appointment", hv_str(vv.appt), NULL, NULL);
            else
                r = cmd(vv.cls == CL_PRIORITY ? &guide : &kiosk, t, "ticket.issue", "category", hv_str(vv.cat),
                        "priority", hv_str(vv.cls == CL_PRIORITY ? "priority" : "normal"));
            if (!is_ok(r)) {
                /* the only refusal a visitor can meet here: an appointment checked in too early */
                if (vv.cls != CL_APPT || !strstr(hv_get_str(r, "msg"), "too early"))
                    fail_msg("%s at %d: %s", vv.appt[0] ? vv.appt : vv.cat, t, hv_get_str(r, "msg"));
                vv.arrive_s = t + 5 * 60;
                retry[nretry++] = vv;
                res->too_early_retries++;
                hv_free(r);
                continue;
            }
            issued *x = &tk[ntk++];
            x->cls = vv.cls;
            x->issued_s = t;
            x->called_s = -1;
            snprintf(x->code, sizeof x->code, "%s", hv_get_str(hv_get(r, "ticket"), "code"));
            hv_free(r);
        }
        /* windows: finish, then call the next */
        for (int w = 0; w < 3; w++) {
            if (at_window[w] >= 0 && t >= busy_until[w]) {
                r = cmd(&staff[w], t, "ticket.finish", "outcome", hv_str("即办件"), NULL, NULL);
                assert_true(is_ok(r));
                hv_free(r);
                at_window[w] = -1;
            }
            if (at_window[w] >= 0) continue;
            r = cmd(&staff[w], t, "call.next", NULL, NULL, NULL, NULL);
            if (!is_ok(r)) {
                assert_string_equal(hv_get_str(r, "code"), "queue_empty");
                hv_free(r);
                continue;
            }
            const char *code = hv_get_str(hv_get(r, "ticket"), "code");
            int i;
            for (i = ntk - 1; i >= 0 && strcmp(tk[i].code, code) != 0; i--) {}
            assert_true(i >= 0);
            tk[i].called_s = t;
            hv_free(r);
            r = cmd(&staff[w], t + WALK_S, "ticket.start", NULL, NULL, NULL, NULL);
            assert_true(is_ok(r));
            hv_free(r);
            int service = rng_range(SERVICE_MIN_S, SERVICE_MAX_S);
            if (service > res->max_service_s) res->max_service_s = service;
            busy_until[w] = t + WALK_S + service;
            at_window[w] = i;
        }
    }
    /* the statistics */
    res->issued = ntk;
    for (int c = 0; c < NCLASS; c++) {
        static int waits[MAX_TICKETS];
        int n = 0;
        double sum = 0;
        for (int i = 0; i < ntk; i++) {
            if (tk[i].cls != c || tk[i].called_s < 0) continue;
            waits[n++] = tk[i].called_s - tk[i].issued_s;
            sum += tk[i].called_s - tk[i].issued_s;
        }
        res->called += n;
        qsort(waits, (size_t)n, sizeof *waits, cmp_int);
        wait_stats *s = &res->cls[c];
        s->n = n;
        if (n) {
            s->mean = sum / n / 60.0;
            s->p50 = waits[(n - 1) / 2] / 60.0;
            s->p95 = waits[(int)ceil(0.95 * n) - 1] / 60.0;
            s->max = waits[n - 1] / 60.0;
        }
    }
    hall_free(hall);
    hall = NULL;
    hk_config_free(&cfg);
}

static void print_result(const char *title, const day_result *r)
{
    printf("\n%s\n", title);
    printf("| class | tickets | mean wait | p50 | p95 | max |\n|---|---|---|---|---|---|\n");
    for (int c = 0; c < NCLASS; c++)
        printf("| %s | %d | %.1f min | %.1f min | %.1f min | %.1f min |\n", class_names[c], r->cls[c].n,
               r->cls[c].mean, r->cls[c].p50, r->cls[c].p95, r->cls[c].max);
    printf("issued %d, called %d, appointments released %d, told \"too early\" %d\n", r->issued, r->called,
           r->released, r->too_early_retries);
    fflush(stdout);
}

/* The checks every simulated day must pass with the fairness rules on. */
static void check_day(const day_plan *plan, const day_result *on, uint64_t seed)
{
    /* no starvation: every ticket issued was called before the simulation's end */
    assert_int_equal(on->called, on->issued);
    assert_true(on->cls[CL_NORMAL].n > 100 && on->cls[CL_PRIORITY].n > 20 && on->cls[CL_APPT].n > 30);
    /* the normal bound holds: at most one longest service (and the walk) beyond 40 min */
    double bound = 40.0 + (on->max_service_s + WALK_S) / 60.0;
    if (on->cls[CL_NORMAL].max > bound)
        fail_msg("seed %llu: normal max wait %.1f min > bound %.1f min", (unsigned long long)seed,
                 on->cls[CL_NORMAL].max, bound);
    /* priority and appointment tickets wait less */
    if (!(on->cls[CL_PRIORITY].p95 < on->cls[CL_NORMAL].p95 && on->cls[CL_APPT].p95 < on->cls[CL_NORMAL].p95 &&
          on->cls[CL_PRIORITY].mean < on->cls[CL_NORMAL].mean))
        fail_msg("seed %llu: priority or appointment tickets do not wait less than normal ones", (unsigned long long)seed);
    /* the appointments that never came were released, each once */
    int no_shows = 0;
    for (int i = 0; i < plan->nv; i++) no_shows += plan->v[i].cls == CL_APPT && plan->v[i].no_show;
    assert_true(no_shows > 0);
    assert_int_equal(on->released, no_shows);
}

static void test_day(void **state)
{
    (void)state;
    static day_plan plan, plan_off;
    day_result on, off;
    plan_day(&plan, SEED);
    plan_off = plan;
    run_day("", &plan, &on);   /* the defaults: 3 in a row, 40 min, 30 min early, 15 min grace */
    print_result("fairness rules on (priority_max_in_row 3, normal_max_wait_min 40):", &on);
    check_day(&plan, &on, SEED);

    /* the same day without the fairness rules: priority always first, no wait limit */
    run_day("queue: { priority_max_in_row: 100, normal_max_wait_min: 1440 }\n", &plan_off, &off);
    print_result("fairness rules off (priority_max_in_row 100, normal_max_wait_min 1440):", &off);
    assert_int_equal(off.called, off.issued);
    /* this day is hard enough that the bound needs the rules: the check can fail */
    double bound = 40.0 + (off.max_service_s + WALK_S) / 60.0;
    assert_true(off.cls[CL_NORMAL].max > bound);
}

/* Other days of the same load: the rules hold on each, not only on the day shown in docs/queue.md. */
static void test_more_days(void **state)
{
    (void)state;
    static day_plan plan;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        day_result on;
        plan_day(&plan, seed);
        run_day("", &plan, &on);
        printf("seed %llu: normal max %.1f min, p95 %.1f; priority p95 %.1f; appointment p95 %.1f\n",
               (unsigned long long)seed, on.cls[CL_NORMAL].max, on.cls[CL_NORMAL].p95, on.cls[CL_PRIORITY].p95,
               on.cls[CL_APPT].p95);
        check_day(&plan, &on, seed);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_day),
        cmocka_unit_test(test_more_days),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
