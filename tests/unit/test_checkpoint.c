/* test_checkpoint.c: the daily checkpoint (core/hall_checkpoint.c, docs/streams.md). A hall runs
 * through three simulated days with every kind of state that crosses a day (carried tickets, a
 * ticket being served at a window, open, warned and overdue cases, follow-ups, future appointments,
 * an emergency latched on after its input dropped, a fault, alerts); then the live hall, a fresh
 * hall fed only the events from the last checkpoint on, a fresh hall fed every event, and a fresh
 * hall fed every event except the checkpoints (the plain event history) must all show the same
 * state, module lists and statistics. Also: a checkpoint too big for one frame is split into
 * parts that each fit, a malformed one is refused without touching the hall, no client gets it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/checkpoint.h"
#include "core/codec/codec.h"
#include "fixture.h"

static const char yaml[] =
    "hall: { id: cp, name: 检查点大厅 }\n"
    "hours:\n"
    "  - { days: [mon, tue, wed, thu, fri], open: [\"09:00-12:00\", \"13:00-17:00\"] }\n"
    "tokens:\n"
    "  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk }\n"
    "  - { token: s1.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: staff, staff: \"0001\" }\n"
    "  - { token: s2.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: staff, staff: \"0002\" }\n"
    "  - { token: sec.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: security }\n"
    "  - { token: adm.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: admin }\n"
    "staff:\n"
    "  - { id: \"0001\", name: 张三 }\n"
    "  - { id: \"0002\", name: 李四 }\n"
    "categories:\n"
    "  - { id: A, name: 社保医保, alert_length: 3 }\n"
    "  - { id: B, name: 不动产登记 }\n"
    "windows:\n"
    "  - { id: 1, name: 1号窗口, categories: [A, B], posts: { a: \"0001\" } }\n"
    "  - { id: 2, name: 2号窗口, categories: [B, A], posts: { a: \"0002\" } }\n"
    "  - { id: 3, name: 3号窗口, categories: [A] }\n"
    "matters:\n"
    "  - { id: M1, name: 不动产转移登记, category: B, promised_days: 1, legal_days: 5 }\n"
    "  - { id: M2, name: 医保关系转移, category: A, promised_days: 3 }\n"
    "supervision: { warn_fraction: 0.5 }\n"
    "rating: { reasons: [态度不好, 效率低, 其他] }\n"
    "work: { checkin_before_min: 10, empty_alert_min: 5 }\n"
    "gpio:\n"
    "  backend: sim\n"
    "  lines:\n"
    "    - { name: fire_panel, chip: gpiochip0, offset: 17, dir: in }\n"
    "    - { name: door_main,  chip: gpiochip0, offset: 22, dir: out, normal: 0, safe: 1 }\n"
    "    - { name: siren,      chip: gpiochip0, offset: 25, dir: out, normal: 0, safe: 0 }\n";

static hk_time now;

static int64_t civil_days(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return (int64_t)era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* a local time; local = UTC in this test */
static hk_time at(int y, int mo, int d, int hh, int mm)
{
    int64_t days = civil_days(y, mo, d);
    hk_time t;
    t.ms = days * 86400000LL + (int64_t)(hh * 60 + mm) * 60000;
    t.day = y * 10000 + mo * 100 + d;
    t.min = hh * 60 + mm;
    t.wday = (int)(((days % 7) + 7 + 3) % 7);
    return t;
}

static hk_time next_minute(hk_time t)
{
    int64_t days = (t.ms + 60000) / 86400000LL;
    int64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1), m = (int)(mp < 10 ? mp + 3 : mp - 9);
    int y = (int)(yoe + era * 400 + (m <= 2));
    int mins = (int)((t.ms + 60000) % 86400000LL / 60000);
    return at(y, m, d, mins / 60, mins % 60);
}

static int setup(void **state)
{
    (void)state;
    return fixture_setup(yaml, "checkpoint");
}

static int teardown(void **state)
{
    (void)state;
    return fixture_teardown();
}

/* Runs a command on h at `now` (events of the live hall are kept); returns the reply. */
static hv *cmd_on(hk_hall *h, hk_session *s, const char *cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    hv *r = fixture_vrun(h, s, now, true, cmd, ap);   /* the comparisons only read */
    va_end(ap);
    return r;
}

static void ok(hv *r)
{
    if (strcmp(hv_get_str(r, "t"), "ok") != 0) fail_msg("expected ok, got %s: %s", hv_get_str(r, "code"), hv_get_str(r, "msg"));
    hv_free(r);
}

#define OK(s, ...) ok(cmd_on(hall, s, __VA_ARGS__, NULL))

static hk_session login(const char *token)
{
    hk_session s = {0};
    OK(&s, "hello", "token", "s", token);
    return s;
}

static char last_code[16];

static void issue(hk_session *kiosk, const char *cat, const char *prio)
{
    hv *r = prio ? cmd_on(hall, kiosk, "ticket.issue", "category", "s", cat, "priority", "s", prio, NULL)
                 : cmd_on(hall, kiosk, "ticket.issue", "category", "s", cat, NULL);
    if (strcmp(hv_get_str(r, "t"), "ok") != 0) fail_msg("issue: %s", hv_get_str(r, "msg"));
    snprintf(last_code, sizeof last_code, "%s", hv_get_str(hv_get(r, "ticket"), "code"));
    hv_free(r);
}

/* Calls the next ticket at the staff member's window; returns its code in last_code. */
static void call_next(hk_session *staff)
{
    hv *r = cmd_on(hall, staff, "call.next", NULL);
    if (strcmp(hv_get_str(r, "t"), "ok") != 0) fail_msg("call.next: %s", hv_get_str(r, "msg"));
    snprintf(last_code, sizeof last_code, "%s", hv_get_str(hv_get(r, "ticket"), "code"));
    hv_free(r);
}

static void tick_to(hk_time until)
{
    while (now.ms < until.ms) {
        now = next_minute(now);
        hk_out out;
        hk_out_init(&out);
        hall_tick(hall, now, &out);
        fixture_keep(&out);
        hk_out_clear(&out);
    }
}

static void input(const char *line, int value)
{
    hk_out out;
    hk_out_init(&out);
    hall_input(hall, line, value, now, &out);
    fixture_keep(&out);
    hk_out_clear(&out);
}

static void fault(bool active)
{
    hk_out out;
    hk_out_init(&out);
    hall_fault(hall, "redis", active, now.ms - 30 * 60000, "connection refused", now, &out);
    fixture_keep(&out);
    hk_out_clear(&out);
}

/* ---- what is compared -------------------------------------------------------------------- */

static hv *query(hk_hall *h, const char *cmd, const char *key, const char *arg, const char *val)
{
    hk_session admin = {.role = HK_ROLE_ADMIN};
    hv *r = arg ? cmd_on(h, &admin, cmd, arg, "s", val, NULL) : cmd_on(h, &admin, cmd, NULL);
    if (strcmp(hv_get_str(r, "t"), "ok") != 0) fail_msg("%s: %s", cmd, hv_get_str(r, "msg"));
    hv *v = hv_dup(hv_get(r, key));
    hv_free(r);
    return v;
}

/* Everything a client can ask the hall about its durable state. */
static hv *snapshot(hk_hall *h)
{
    hv *m = hv_map();
    hv_set(m, "state", hall_state(h, HK_ROLE_ADMIN, now));
    hv_set(m, "cases", query(h, "cases.list", "cases", "status", "all"));
    hv_set(m, "followups", query(h, "followups.list", "followups", "status", "all"));
    hv_set(m, "appointments", query(h, "appointments.list", "appointments", "date", "all"));
    hv_set(m, "alerts", query(h, "alerts.list", "alerts", NULL, NULL));
    hv_set(m, "duty", query(h, "duty.get", "windows", NULL, NULL));
    hv_set(m, "case_stats", query(h, "cases.stats", "stats", NULL, NULL));
    hv_set(m, "ratings_staff", query(h, "ratings.stats", "stats", "by", "staff"));
    hv_set(m, "ratings_day", query(h, "ratings.stats", "stats", "by", "day"));
    return m;
}

static void print_diff(const char *what, const hv *a, const hv *b)
{
    for (size_t i = 0; a->t == HV_MAP && i < a->u.m.n; i++)
        if (!hv_equal(a->u.m.v[i].val, hv_get(b, a->u.m.v[i].key)))
            print_message("%s: '%s' differs\n", what, a->u.m.v[i].key);
}

static void assert_same(const char *what, const hv *a, const hv *b)
{
    if (!hv_equal(a, b)) {
        print_diff(what, a, b);
        fail_msg("%s: not the same state", what);
    }
}

/* A fresh hall fed events[from..], skipping checkpoints if asked; every event must apply. */
static hk_hall *replayed(size_t from, bool skip_checkpoints)
{
    hk_hall *h = hall_new(&cfg);
    for (size_t i = from; i < log_events->u.a.n; i++) {
        const hv *ev = log_events->u.a.v[i];
        const char *name = hv_get_str(ev, "ev");
        if (skip_checkpoints && !strncmp(name, "day.checkpoint", 14)) continue;
        /* through the codec, as the daemon reads the stream */
        uint8_t *buf;
        size_t len;
        hv *back = NULL;
        assert_int_equal(codec_encode(ev, 0, &buf, &len), 0);
        assert_int_equal(codec_decode(buf, len, &back), CODEC_OK);
        free(buf);
        if (hall_replay(h, back) < 0) fail_msg("event %zu (%s) does not apply", i, name);
        hv_free(back);
    }
    return h;
}

/* The index of the first event of the last checkpoint (its first part), and how many it had. */
static size_t last_checkpoint(size_t *ncheckpoints, int64_t *parts)
{
    size_t found = (size_t)-1, n = 0;
    for (size_t i = 0; i < log_events->u.a.n; i++) {
        const hv *ev = log_events->u.a.v[i];
        if (strcmp(hv_get_str(ev, "ev"), "day.checkpoint") != 0) continue;
        int64_t p = -1;
        assert_int_equal(hv_get_int(ev, "parts", &p), 0);
        found = i - (size_t)p;
        if (parts) *parts = p;
        n++;
    }
    if (ncheckpoints) *ncheckpoints = n;
    assert_true(found != (size_t)-1);
    return found;
}

static size_t count_events(const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < log_events->u.a.n; i++) n += !strcmp(hv_get_str(log_events->u.a.v[i], "ev"), name);
    return n;
}

static void check_all_agree(void)
{
    size_t ncp = 0;
    size_t from = last_checkpoint(&ncp, NULL);
    hv *live = snapshot(hall);
    hk_hall *h1 = replayed(from, false), *h2 = replayed(0, false), *h3 = replayed(0, true);
    hv *s1 = snapshot(h1), *s2 = snapshot(h2), *s3 = snapshot(h3);
    assert_same("from the last checkpoint", live, s1);
    assert_same("every event", live, s2);
    assert_same("every event but the checkpoints", live, s3);
    assert_int_equal(hall_seq(h1), hall_seq(hall));
    /* and inside: the durable state itself, field by field (fairness counters, service times,
     * ticket order, ...), which the views above only partly show */
    hv *d0 = hall_checkpoint_state(hall), *d1 = hall_checkpoint_state(h1), *d2 = hall_checkpoint_state(h2);
    hv *d3 = hall_checkpoint_state(h3);
    assert_same("durable state from the last checkpoint", d0, d1);
    assert_same("durable state from every event", d0, d2);
    assert_same("durable state from every event but the checkpoints", d0, d3);
    hv_free(d0); hv_free(d1); hv_free(d2); hv_free(d3);
    hv_free(s1); hv_free(s2); hv_free(s3);
    hall_free(h1); hall_free(h2); hall_free(h3);
    hv_free(live);
}

/* ---- the days ------------------------------------------------------------------------------ */

static void test_three_days(void **state)
{
    (void)state;
    now = at(2025, 11, 24, 8, 40);   /* a Monday */
    hk_session kiosk = login("k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), s1 = login("s1.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), s2 = login("s2.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), sec = login("sec.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), adm = login("adm.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa");

    /* Monday: check-ins, appointments for later days, cases, ratings, a fault */
    OK(&s1, "staff.checkin", "window", "i", 1);
    OK(&adm, "appointment.add", "number", "s", "YY-3", "name", "s", "王五", "category", "s", "B",
       "slot_start", "s", "2025-11-26 10:00", "slot_end", "s", "2025-11-26 10:30");
    OK(&adm, "appointment.add", "number", "s", "YY-2", "name", "s", "赵六", "category", "s", "A",
       "slot_start", "s", "2025-11-25 09:00", "slot_end", "s", "2025-11-25 09:30");
    OK(&adm, "appointment.add", "number", "s", "YY-1", "name", "s", "钱七", "category", "s", "A",
       "slot_start", "s", "10:00", "slot_end", "s", "10:30");   /* never comes: released */
    tick_to(at(2025, 11, 24, 9, 30));   /* 0002 is late: alerts */
    OK(&s1, "window.open", "window", "i", 1);
    OK(&s2, "window.open", "window", "i", 2);
    issue(&kiosk, "A", NULL);
    call_next(&s1);
    OK(&s1, "ticket.start");
    OK(&s1, "ticket.finish", "outcome", "s", "承诺件", "matter", "s", "M2");           /* case 1, 3 days */
    char c1[16];
    snprintf(c1, sizeof c1, "%s", last_code);
    OK(&kiosk, "ticket.rate", "code", "s", c1, "score", "i", 1, "reason", "s", "效率低", "text", "s", "太慢");
    issue(&kiosk, "B", NULL);
    call_next(&s2);
    OK(&s2, "ticket.finish", "outcome", "s", "联办件", "matter", "s", "M1", "partners", "v",
       hv_push(hv_push(hv_arr(), hv_str("税务局")), hv_str("自然资源局")));           /* case 2, 1 day */
    OK(&kiosk, "ticket.rate", "code", "s", last_code, "score", "i", 5);
    issue(&kiosk, "A", NULL);
    call_next(&s1);
    OK(&s1, "ticket.finish", "outcome", "s", "即办件");
    OK(&kiosk, "ticket.rate", "code", "s", last_code, "score", "i", 2, "reason", "s", "其他");
    for (int i = 0; i < 4; i++) issue(&kiosk, "A", NULL);            /* a load alert; carried over */
    issue(&s2, "B", "priority");                                     /* a guide (staff) issues priority */
    tick_to(at(2025, 11, 24, 16, 0));
    call_next(&s1);
    OK(&s1, "ticket.start");                                         /* served across midnight */
    call_next(&s2);                                                  /* called across midnight */
    OK(&s2, "window.pause", "reason", "s", "午休");
    fault(true);
    tick_to(at(2025, 11, 25, 9, 0));                                 /* rollover: checkpoint 1 */
    assert_int_equal(count_events("day.checkpoint"), 1);

    /* Tuesday: the served ticket ends, an appointment checks in, case 1 closes, a follow-up
     * closes, then the fire panel trips and drops: the incident stays, latched */
    OK(&s1, "ticket.finish", "outcome", "s", "上报件", "matter", "s", "M1", "sent_to", "s", "市局");   /* case 3 */
    hv *r = cmd_on(hall, &kiosk, "ticket.issue", "appointment", "s", "YY-2", NULL);
    ok(r);
    OK(&adm, "case.close", "case", "i", 1, "result", "s", "已办结");
    OK(&adm, "followup.close", "followup", "i", 1, "resolution", "s", "已回访致歉");
    call_next(&s1);
    OK(&s1, "ticket.start");                                         /* served across this night too */
    tick_to(at(2025, 11, 25, 15, 0));
    input("fire_panel", 1);
    tick_to(at(2025, 11, 25, 15, 2));
    input("fire_panel", 0);
    tick_to(at(2025, 11, 26, 9, 30));                                /* rollover: checkpoint 2 */
    assert_int_equal(count_events("day.checkpoint"), 2);
    hv *st = hall_state(hall, HK_ROLE_ADMIN, now);
    const hv *em = hv_get(st, "emergency");
    bool active = false, latched = false;
    assert_int_equal(hv_get_bool(em, "active", &active), 0);
    assert_int_equal(hv_get_bool(em, "latched", &latched), 0);
    assert_true(active && latched);
    hv_free(st);
    /* the checkpoint really carries the cross-day state (not an empty hall that happens to agree) */
    const hv *cp = log_events->u.a.v[last_checkpoint(NULL, NULL)];
    const hv *cst = hv_get(cp, "state");
    const hv *tickets = hv_get(hv_get(cst, "queue"), "tickets");
    int held[5] = {0};
    for (size_t i = 0; i < tickets->u.a.n; i++) {
        const char *tst = hv_get_str(tickets->u.a.v[i], "state");
        static const char *const names[] = {"waiting", "called", "serving", "done", "noshow"};
        for (int k = 0; k < 5; k++) held[k] += !strcmp(tst, names[k]);
    }
    print_message("held at checkpoint 2: %d waiting, %d called, %d serving, %d done\n", held[0], held[1], held[2], held[3]);
    assert_true(held[0] == 3 && held[1] == 1 && held[2] == 1);
    assert_true(hv_get(hv_get(cst, "cases"), "list")->u.a.n == 3);
    assert_true(hv_get(hv_get(cst, "ratings"), "followups")->u.a.n == 2);
    assert_true(hv_get(hv_get(cst, "appointments"), "list")->u.a.n >= 1);
    bool em_active = false;
    assert_int_equal(hv_get_bool(hv_get(cst, "emergency"), "active", &em_active), 0);
    assert_true(em_active);
    assert_true(hv_get(hv_get(cst, "hall"), "faults")->u.a.n == 1);
    assert_true(count_events("case.overdue") >= 1);
    assert_true(count_events("alert.raised") >= 1);
    assert_true(count_events("appointment.released") >= 1);
    check_all_agree();

    /* Wednesday: the incident is cleared, the day goes on after the checkpoint */
    OK(&sec, "emergency.clear", "reason", "s", "消防确认为误报");
    fault(false);
    OK(&s1, "ticket.finish", "outcome", "s", "承诺件");
    OK(&s2, "window.resume");
    OK(&s2, "ticket.finish", "outcome", "s", "补正");
    issue(&kiosk, "B", NULL);
    call_next(&s2);
    OK(&s2, "ticket.transfer", "category", "s", "A", "window", "i", 1);
    tick_to(at(2025, 11, 26, 11, 0));
    check_all_agree();
}

/* A hall with thousands of cases: the checkpoint is split into parts that each fit a frame. */
static void test_big_checkpoint_parts(void **state)
{
    (void)state;
    now = at(2025, 11, 24, 9, 0);
    hk_session kiosk = login("k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), s1 = login("s1.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa");
    OK(&s1, "window.open", "window", "i", 1);
    issue(&kiosk, "A", NULL);
    call_next(&s1);
    /* cases opened as the events a long-running hall has, written straight to the live hall */
    for (int i = 1; i <= 3000; i++) {
        hv *ev = hall_event("case.opened");
        hv_set(ev, "case", hv_int(100 + i));
        hv_set(ev, "code", hv_str(last_code));
        hv_set(ev, "kind", hv_str("联办件"));
        hv_set(ev, "matter", hv_str("M1"));
        hv_set(ev, "matter_name", hv_str("不动产转移登记"));
        hv_set(ev, "category", hv_str("B"));
        hv_set(ev, "deadline", hv_int(now.ms + (int64_t)i * 3600000));
        hv_set(ev, "warn_at", hv_int(now.ms + (int64_t)i * 1800000));
        hv_set(ev, "window", hv_int(1));
        hv_set(ev, "day", hv_int(now.day));
        hv_set(ev, "partners", hv_push(hv_arr(), hv_str("一个很长的协办部门名称：某某市某某区某某局")));
        hk_out out;
        hk_out_init(&out);
        hall_emit(hall, &out, ev, now.ms);
        fixture_keep(&out);
        hk_out_clear(&out);
    }
    tick_to(at(2025, 11, 25, 0, 5));
    int64_t parts = 0;
    size_t from = last_checkpoint(NULL, &parts);
    assert_true(parts >= 10);   /* 3000 cases of ~600 bytes */
    size_t total = 0;
    for (size_t i = from; i <= from + (size_t)parts; i++) {
        uint8_t *buf;
        size_t len;
        assert_int_equal(codec_encode(log_events->u.a.v[i], 0, &buf, &len), 0);
        assert_true(len <= CODEC_MAX_FRAME);
        total += len;
        free(buf);
    }
    print_message("checkpoint of 3000 cases: %lld parts, %zu bytes\n", (long long)parts, total);
    check_all_agree();
}

/* A malformed checkpoint is refused and leaves the hall as it was; so does a missing part. */
static void test_malformed(void **state)
{
    (void)state;
    now = at(2025, 11, 24, 9, 0);
    hk_session kiosk = login("k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa");
    for (int i = 0; i < 3; i++) issue(&kiosk, "A", NULL);
    tick_to(at(2025, 11, 25, 0, 1));
    size_t from = last_checkpoint(NULL, NULL);
    const hv *good = log_events->u.a.v[from];

    hk_hall *h = replayed(0, true);
    hv *before = snapshot(h);
    /* a ticket without its code */
    hv *bad = hv_dup(good);
    hv *t0 = hv_get(hv_get(hv_get(bad, "state"), "queue"), "tickets")->u.a.v[0];
    hv_set(t0, "code", hv_int(7));
    assert_int_equal(hall_replay(h, bad), -1);
    hv_free(bad);
    /* a module missing */
    bad = hv_dup(good);
    hv *st = hv_get(bad, "state");
    hv_set(st, "cases", hv_str("gone"));
    assert_int_equal(hall_replay(h, bad), -1);
    hv_free(bad);
    /* a part announced but not there */
    bad = hv_dup(good);
    hv_set(bad, "parts", hv_int(2));
    assert_int_equal(hall_replay(h, bad), -1);
    hv_free(bad);
    hv *after = snapshot(h);
    assert_same("after refused checkpoints", before, after);
    hv_free(after);
    hv_free(before);
    /* the good one applies, and changes nothing of an equal hall */
    assert_int_equal(hall_replay(h, good), 0);
    hv *live = snapshot(hall), *again = snapshot(h);
    assert_same("after the good checkpoint", live, again);
    hv_free(live);
    hv_free(again);
    hall_free(h);
}

/* No connection receives a checkpoint: it is for the stream only. */
static void test_audience(void **state)
{
    (void)state;
    hv *ev = hall_event("day.checkpoint");
    assert_int_equal(hall_event_audience(ev), 0);
    hv_free(ev);
    ev = hall_event("day.checkpoint.part");
    assert_int_equal(hall_event_audience(ev), 0);
    hv_free(ev);
    ev = hall_event("day.closed");
    assert_int_not_equal(hall_event_audience(ev), 0);
    hv_free(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_three_days, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_checkpoint_parts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audience, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
