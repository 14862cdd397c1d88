/* test_hall.c: the queue and the hall.v1 commands as pure logic: the whole flow, the call
 * policy, errors and roles, and that replaying the emitted events rebuilds the same hall. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"

static hk_time at(int64_t s)
{
    hk_time t = {1763888400000LL + s * 1000, 20251123, 10 * 60 + (int)(s / 60), 0};
    return t;
}

static int setup(void **state)
{
    (void)state;
    return fixture_setup(config_demo_yaml, "demo");
}

static int teardown(void **state)
{
    (void)state;
    return fixture_teardown();
}

/* Runs one command; returns the reply (caller frees); keeps the events. */
static hv *run(hk_session *s, int64_t t, const char *cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    hv *r = fixture_vrun(hall, s, at(t), false, cmd, ap);
    va_end(ap);
    return r;
}

static void expect_ok(hv *r) { assert_string_equal(hv_get_str(r, "t"), "ok"); }
static void expect_err(hv *r, const char *code)
{
    assert_string_equal(hv_get_str(r, "t"), "err");
    assert_string_equal(hv_get_str(r, "code"), code);
    assert_non_null(hv_get_str(r, "msg"));
}

static hk_session login(const char *token)
{
    hk_session s = {0};
    hv *r = run(&s, 0, "hello", "token", "s", token, NULL);
    expect_ok(r);
    hv_free(r);
    return s;
}

static const char *ticket_code(hv *r)
{
    static char code[16];
    snprintf(code, sizeof code, "%s", hv_get_str(hv_get(r, "ticket"), "code"));
    return code;
}

static void test_hello(void **state)
{
    (void)state;
    hk_session s = {0};
    hv *r = run(&s, 0, "hello", "token", "s", "nope", NULL);
    expect_err(r, "unauthenticated");
    hv_free(r);
    r = run(&s, 0, "state.get", NULL);
    expect_err(r, "unauthenticated");
    hv_free(r);
    r = run(&s, 0, "hello", "token", "s", "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj", NULL);
    expect_ok(r);
    assert_string_equal(hv_get_str(r, "role"), "display");
    assert_non_null(hv_get(hv_get(r, "state"), "windows"));
    assert_non_null(hv_get(hv_get(r, "state"), "queues"));
    assert_non_null(hv_get(hv_get(r, "state"), "recent_calls"));
    assert_non_null(hv_get(hv_get(r, "state"), "emergency"));
    hv_free(r);
    r = run(&s, 0, "ticket.issue", "category", "s", "A", NULL);
    expect_err(r, "forbidden");
    hv_free(r);
    r = run(&s, 0, "no.such", NULL);
    expect_err(r, "bad_request");
    hv_free(r);
}

static void test_flow(void **state)
{
    (void)state;
    hk_session kiosk = login("kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq"), staff = login("staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp");
    hv *r = run(&kiosk, 0, "ticket.issue", "category", "s", "A", NULL);
    expect_ok(r);
    assert_string_equal(ticket_code(r), "A001");
    hv_free(r);
    r = run(&kiosk, 1, "ticket.issue", "category", "s", "A", NULL);
    assert_string_equal(ticket_code(r), "A002");
    int64_t ahead;
    assert_int_equal(hv_get_int(hv_get(r, "ticket"), "ahead", &ahead), 0);
    assert_int_equal(ahead, 1);
    hv_free(r);

    r = run(&staff, 2, "call.next", NULL);
    expect_err(r, "conflict");      /* no window open yet */
    hv_free(r);
    /* a window id beyond 32 bits is not window 1 cut down (2^32 + 1) */
    r = run(&staff, 2, "window.open", "window", "I", (int64_t)4294967297LL, NULL);
    expect_err(r, "not_found");
    hv_free(r);
    r = run(&staff, 2, "window.open", "window", "i", 1, NULL);
    expect_ok(r);
    hv_free(r);
    r = run(&staff, 3, "call.next", NULL);
    expect_ok(r);
    assert_string_equal(ticket_code(r), "A001");
    hv_free(r);
    r = run(&staff, 4, "call.next", NULL);
    expect_err(r, "conflict");      /* A001 still at the window */
    hv_free(r);
    r = run(&staff, 5, "call.recall", NULL);
    expect_ok(r);
    hv_free(r);
    r = run(&staff, 6, "ticket.start", NULL);
    expect_ok(r);
    hv_free(r);
    r = run(&staff, 7, "ticket.finish", "outcome", "s", "办完了", NULL);
    expect_err(r, "bad_request");
    hv_free(r);
    r = run(&staff, 306, "ticket.finish", "outcome", "s", "即办件", NULL);
    expect_ok(r);
    hv_free(r);
    r = run(&kiosk, 310, "ticket.rate", "code", "s", "A001", "score", "i", 5, NULL);
    expect_ok(r);
    hv_free(r);
    r = run(&kiosk, 311, "ticket.rate", "code", "s", "A001", "score", "i", 4, NULL);
    expect_err(r, "conflict");
    hv_free(r);
    r = run(&kiosk, 311, "ticket.rate", "code", "s", "A002", "score", "i", 9, NULL);
    expect_err(r, "bad_request");
    hv_free(r);
    r = run(&staff, 320, "call.next", NULL);
    assert_string_equal(ticket_code(r), "A002");
    hv_free(r);
    r = run(&staff, 330, "ticket.noshow", NULL);
    expect_ok(r);
    hv_free(r);
    r = run(&staff, 340, "call.next", NULL);
    expect_err(r, "queue_empty");
    hv_free(r);

    /* seq rises by one per event */
    for (size_t i = 0; i < log_events->u.a.n; i++) {
        int64_t seq;
        assert_int_equal(hv_get_int(log_events->u.a.v[i], "seq", &seq), 0);
        assert_int_equal(seq, (int64_t)i + 1);
    }
    assert_int_equal(hall_seq(hall), log_events->u.a.n);
}

static void test_policy(void **state)
{
    (void)state;
    hk_session kiosk = login("kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq"), staff = login("staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez");
    hv *r;
    /* window 2 serves [C, A]: it prefers C, but an A ticket that has waited long enough wins */
    r = run(&kiosk, 0, "ticket.issue", "category", "s", "A", NULL); hv_free(r);
    r = run(&kiosk, 100, "ticket.issue", "category", "s", "C", NULL); hv_free(r);
    r = run(&staff, 100, "window.open", "window", "i", 2, NULL); hv_free(r);
    /* at t=100: A waited 100 s -> 1.0*(100+60)/2 = 80; C waited 0 s -> 2.0*(0+60)/1 = 120 */
    r = run(&staff, 100, "call.next", NULL);
    assert_string_equal(ticket_code(r), "C001");
    hv_free(r);
    r = run(&staff, 101, "ticket.finish", "outcome", "s", "即办件", NULL); hv_free(r);
    r = run(&kiosk, 400, "ticket.issue", "category", "s", "C", NULL); hv_free(r);
    /* at t=400: A waited 400 s -> 230; C002 waited 0 s -> 120 */
    r = run(&staff, 400, "call.next", NULL);
    assert_string_equal(ticket_code(r), "A001");
    hv_free(r);
    r = run(&staff, 401, "ticket.finish", "outcome", "s", "承诺件", NULL); hv_free(r);
    /* a priority ticket goes first */
    r = run(&staff, 402, "ticket.issue", "category", "s", "A", "priority", "s", "priority", NULL);
    expect_ok(r);
    hv_free(r);
    r = run(&staff, 402, "call.next", NULL);
    assert_string_equal(ticket_code(r), "A002");
    hv_free(r);
    /* transfer to window 1: window 1 calls it before anything else */
    r = run(&staff, 403, "ticket.transfer", "window", "i", 1, NULL);
    expect_ok(r);
    hv_free(r);
    hk_session s1 = login("staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp");
    r = run(&s1, 404, "ticket.issue", "category", "s", "A", "priority", "s", "priority", NULL);   /* a guide */
    expect_ok(r);
    hv_free(r);
    r = run(&kiosk, 404, "ticket.issue", "category", "s", "A", "priority", "s", "urgent", NULL);
    expect_err(r, "bad_request");
    hv_free(r);
    r = run(&s1, 405, "window.open", "window", "i", 1, NULL); hv_free(r);
    r = run(&s1, 406, "call.next", NULL);
    assert_string_equal(ticket_code(r), "A002");
    hv_free(r);
    r = run(&s1, 407, "window.close", NULL);
    expect_err(r, "conflict");       /* A002 is still at the window */
    hv_free(r);
}

static void test_replay(void **state)
{
    (void)state;
    hk_session kiosk = login("kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq"), staff = login("staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD");
    hv *r;
    for (int i = 0; i < 30; i++) {
        r = run(&kiosk, i, "ticket.issue", "category", "s", i % 2 ? "B" : "D", NULL);
        hv_free(r);
    }
    r = run(&staff, 40, "window.open", "window", "i", 3, NULL); hv_free(r);
    for (int i = 0; i < 5; i++) {
        r = run(&staff, 50 + i * 10, "call.next", NULL); hv_free(r);
        r = run(&staff, 55 + i * 10, "ticket.finish", "outcome", "s", "补正", NULL); hv_free(r);
    }
    r = run(&staff, 120, "call.next", NULL); hv_free(r);
    r = run(&staff, 121, "ticket.transfer", "category", "s", "A", NULL); hv_free(r);
    r = run(&staff, 122, "window.pause", "reason", "s", "午休", NULL); hv_free(r);

    hk_hall *copy = hall_new(&cfg);
    for (size_t i = 0; i < log_events->u.a.n; i++) assert_int_equal(hall_replay(copy, log_events->u.a.v[i]), 0);
    hv *a = hall_state(hall, HK_ROLE_ADMIN, at(200)), *b = hall_state(copy, HK_ROLE_ADMIN, at(200));
    assert_true(hv_equal(a, b));
    assert_int_equal(hall_seq(copy), hall_seq(hall));
    hv_free(a);
    hv_free(b);
    /* the next code continues after a restart */
    hk_session k2 = {0};
    hk_hall *saved = hall;
    hall = copy;
    k2 = login("kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq");
    r = run(&k2, 300, "ticket.issue", "category", "s", "B", NULL);
    assert_string_equal(ticket_code(r), "B016");
    hv_free(r);
    hall = saved;
    hall_free(copy);
}

static void test_hours(void **state)
{
    (void)state;
    hk_config c2;
    char err[256];
    const char *yaml =
        "hall: {id: h, name: H}\n"
        "hours:\n  - { days: [mon, tue, wed, thu, fri], open: [\"09:00-12:00\", \"13:00-17:00\"] }\n"
        "tokens:\n  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk }\n"
        "categories:\n  - { id: A, name: a }\n"
        "windows:\n  - { id: 1, name: w, categories: [A] }\n";
    assert_int_equal(config_load_string(yaml, strlen(yaml), "t", &c2, err, sizeof err), 0);
    hk_hall *h2 = hall_new(&c2);
    hk_session s = {0};
    hk_out out;
    hv *req = hv_map();
    hv_set(req, "t", hv_str("hello")); hv_set(req, "id", hv_int(1)); hv_set(req, "token", hv_str("k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"));
    hk_out_init(&out);
    hall_cmd(h2, &s, req, at(0), &out);
    hk_out_clear(&out);
    hv_free(req);
    req = hv_map();
    hv_set(req, "t", hv_str("ticket.issue")); hv_set(req, "id", hv_int(2)); hv_set(req, "category", hv_str("A"));
    hk_time lunch = {0, 20251124, 12 * 60 + 30, 0}, morning = {0, 20251124, 9 * 60 + 1, 0},
            sunday = {0, 20251123, 10 * 60, 6};
    hk_out_init(&out);
    hall_cmd(h2, &s, req, lunch, &out);
    assert_string_equal(hv_get_str(out.reply, "code"), "closed");
    assert_non_null(strstr(hv_get_str(out.reply, "msg"), "13:00"));
    hk_out_clear(&out);
    hk_out_init(&out);
    hall_cmd(h2, &s, req, sunday, &out);
    assert_string_equal(hv_get_str(out.reply, "code"), "closed");
    assert_non_null(strstr(hv_get_str(out.reply, "msg"), "mon 09:00"));
    hk_out_clear(&out);
    hk_out_init(&out);
    hall_cmd(h2, &s, req, morning, &out);
    assert_string_equal(hv_get_str(out.reply, "t"), "ok");
    hk_out_clear(&out);
    hv_free(req);
    hall_free(h2);
    hk_config_free(&c2);
}

static void test_day_codes(void **state)
{
    (void)state;
    hk_session kiosk = login("kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq");
    hv *r = run(&kiosk, 0, "ticket.issue", "category", "s", "A", NULL);
    assert_string_equal(ticket_code(r), "A001");
    hv_free(r);
    /* the next day restarts the numbers */
    hv *req = hv_map();
    hv_set(req, "t", hv_str("ticket.issue")); hv_set(req, "id", hv_int(99)); hv_set(req, "category", hv_str("A"));
    hk_out out;
    hk_out_init(&out);
    hk_time tomorrow = {1763974800000LL, 20251124, 9 * 60, 1};
    hall_cmd(hall, &kiosk, req, tomorrow, &out);
    /* the numbers restart, stepping over A001, which still waits (carried over): no two tickets
     * in the hall share a code */
    assert_string_equal(hv_get_str(hv_get(out.reply, "ticket"), "code"), "A002");
    hk_out_clear(&out);
    hv_free(req);
}

static hk_time day_time(int32_t day, int wday, int64_t base_ms, int64_t s)
{
    hk_time t = {base_ms + s * 1000, day, 9 * 60 + (int)(s / 60), wday};
    return t;
}

static hv *run_at(hk_session *ses, hk_time t, const char *cmd, const char *k, const char *v)
{
    return fixture_run(hall, ses, t, cmd, k, "s", v, NULL);
}

static void test_day_rollover(void **state)
{
    (void)state;
    hk_session kiosk = login("kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq"), staff = login("staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp");
    int64_t d1 = 1763888400000LL, d2 = d1 + 86400000LL;
    hv *r;
    for (int i = 0; i < 3; i++) { r = run_at(&kiosk, day_time(20251123, 6, d1, i), "ticket.issue", "category", "A"); hv_free(r); }
    r = run(&staff, 10, "window.open", "window", "i", 1, NULL); hv_free(r);
    r = run_at(&staff, day_time(20251123, 6, d1, 20), "call.next", NULL, NULL); hv_free(r);
    r = run_at(&staff, day_time(20251123, 6, d1, 30), "ticket.finish", "outcome", "即办件"); hv_free(r);
    r = run_at(&staff, day_time(20251123, 6, d1, 40), "call.next", NULL, NULL); hv_free(r);    /* A002 at the window */
    /* the next day: the tick closes the day */
    hk_out out;
    hk_out_init(&out);
    hall_tick(hall, day_time(20251124, 0, d2, 0), &out);
    bool closed = false;
    for (size_t i = 0; i < out.nevents; i++) {
        hv_push(log_events, hv_dup(out.events[i]));
        if (!strcmp(hv_get_str(out.events[i], "ev"), "day.closed")) {
            int64_t served = -1, carried = -1;
            hv_get_int(out.events[i], "served", &served);
            hv_get_int(out.events[i], "carried_over", &carried);
            assert_int_equal(served, 1);
            assert_int_equal(carried, 2);     /* A002 at the window, A003 waiting */
            closed = true;
        }
    }
    hk_out_clear(&out);
    assert_true(closed);
    /* yesterday's finished ticket is forgotten; the carried ones are served */
    hv *req = hv_map();
    hv_set(req, "t", hv_str("ticket.rate")); hv_set(req, "id", hv_int(next_id++));
    hv_set(req, "code", hv_str("A001")); hv_set(req, "score", hv_int(5));
    hk_out_init(&out);
    hall_cmd(hall, &kiosk, req, day_time(20251124, 0, d2, 6), &out);
    assert_string_equal(hv_get_str(out.reply, "code"), "not_found");
    hk_out_clear(&out);
    hv_free(req);
    r = run_at(&staff, day_time(20251124, 0, d2, 7), "ticket.noshow", NULL, NULL);
    assert_string_equal(ticket_code(r), "A002");
    hv_free(r);
    r = run_at(&staff, day_time(20251124, 0, d2, 8), "call.next", NULL, NULL);
    assert_string_equal(ticket_code(r), "A003");
    hv_free(r);
    r = run_at(&kiosk, day_time(20251124, 0, d2, 9), "ticket.issue", "category", "A");
    assert_string_equal(ticket_code(r), "A001");      /* codes restart */
    hv_free(r);
    /* and a replay gives the same hall */
    hk_hall *copy = hall_new(&cfg);
    for (size_t i = 0; i < log_events->u.a.n; i++) assert_int_equal(hall_replay(copy, log_events->u.a.v[i]), 0);
    hv *a = hall_state(hall, HK_ROLE_ADMIN, day_time(20251124, 0, d2, 20));
    hv *b = hall_state(copy, HK_ROLE_ADMIN, day_time(20251124, 0, d2, 20));
    assert_true(hv_equal(a, b));
    hv_free(a);
    hv_free(b);
    hall_free(copy);
}

/* @guide: priority tickets (docs/queue.md): a reason from a fixed list, only with priority
 * "priority", recorded in ticket.issued; queue.priority_roles says who may issue them. */
static const hv *last_issued(void)
{
    for (size_t i = log_events->u.a.n; i-- > 0;)
        if (!strcmp(hv_get_str(log_events->u.a.v[i], "ev"), "ticket.issued")) return log_events->u.a.v[i];
    return NULL;
}

static void expect_err_msg(hv *r, const char *code, const char *part)
{
    expect_err(r, code);
    if (!strstr(hv_get_str(r, "msg"), part)) fail_msg("message '%s' lacks '%s'", hv_get_str(r, "msg"), part);
    hv_free(r);
}

static void test_priority_rules(void **state)
{
    (void)state;
    hk_session kiosk = login("kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq"), guide = login("staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD"), admin = login("admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6");
    size_t before = log_events->u.a.n;
    /* the default (demo: no priority_roles): staff and admin yes, a kiosk no, normal still fine */
    expect_err_msg(run(&kiosk, 1, "ticket.issue", "category", "s", "A", "priority", "s", "priority", NULL),
                   "forbidden", "queue.priority_roles allows staff, admin");
    expect_err_msg(run(&kiosk, 1, "ticket.issue", "category", "s", "A", "priority", "s", "priority",
                       "priority_reason", "s", "elderly", NULL), "forbidden", "role kiosk may not issue priority tickets");
    assert_int_equal(log_events->u.a.n, before);   /* a refused request changes nothing */
    hv *r = run(&kiosk, 2, "ticket.issue", "category", "s", "A", "priority", "s", "normal", NULL);
    expect_ok(r);
    hv_free(r);
    assert_null(hv_get(last_issued(), "priority_reason"));
    r = run(&guide, 3, "ticket.issue", "category", "s", "A", "priority", "s", "priority", "priority_reason", "s",
            "elderly", NULL);
    expect_ok(r);
    const hv *t = hv_get(r, "ticket");
    assert_string_equal(hv_get_str(t, "priority"), "priority");
    assert_string_equal(hv_get_str(t, "priority_reason"), "elderly");
    int64_t ahead = -1;
    assert_int_equal(hv_get_int(t, "ahead", &ahead), 0);
    assert_int_equal(ahead, 0);   /* the normal A001 waits, but a priority ticket goes before it */
    hv_free(r);
    const hv *ev = last_issued();
    assert_string_equal(hv_get_str(ev, "priority_reason"), "elderly");
    assert_string_equal(hv_get_str(ev, "by"), "staff");
    const char *const ok_reasons[] = {"disabled", "pregnant", "other"};
    for (int i = 0; i < 3; i++) {
        r = run(i == 2 ? &admin : &guide, 4 + i, "ticket.issue", "category", "s", "B", "priority", "s", "priority",
                "priority_reason", "s", ok_reasons[i], NULL);
        expect_ok(r);
        hv_free(r);
        assert_string_equal(hv_get_str(last_issued(), "priority_reason"), ok_reasons[i]);
    }
    /* a priority ticket without a reason is still fine (the reason is for the report) */
    r = run(&guide, 8, "ticket.issue", "category", "s", "B", "priority", "s", "priority", NULL);
    expect_ok(r);
    hv_free(r);
    assert_null(hv_get(last_issued(), "priority_reason"));
    /* bad reasons: not in the list, not a string, without priority "priority" */
    before = log_events->u.a.n;
    expect_err_msg(run(&guide, 9, "ticket.issue", "category", "s", "A", "priority", "s", "priority",
                       "priority_reason", "s", "vip", NULL), "bad_request",
                   "priority_reason must be \"elderly\", \"disabled\", \"pregnant\" or \"other\"");
    expect_err_msg(run(&guide, 9, "ticket.issue", "category", "s", "A", "priority", "s", "priority",
                       "priority_reason", "i", 1, NULL), "bad_request", "priority_reason must be");
    expect_err_msg(run(&guide, 9, "ticket.issue", "category", "s", "A", "priority_reason", "s", "elderly", NULL),
                   "bad_request", "priority_reason is only for priority \"priority\"");
    expect_err_msg(run(&guide, 9, "ticket.issue", "category", "s", "A", "priority", "s", "normal",
                       "priority_reason", "s", "pregnant", NULL), "bad_request", "only for priority");
    assert_int_equal(log_events->u.a.n, before);
    /* the reason changes nothing at replay: the same hall */
    hk_hall *copy = hall_new(&cfg);
    for (size_t i = 0; i < log_events->u.a.n; i++) assert_int_equal(hall_replay(copy, log_events->u.a.v[i]), 0);
    hv *a = hall_state(hall, HK_ROLE_ADMIN, at(10)), *b = hall_state(copy, HK_ROLE_ADMIN, at(10));
    assert_true(hv_equal(a, b));
    hv_free(a);
    hv_free(b);
    hall_free(copy);
}

/* The demo hall with queue.priority_roles given (a hall with a self-service priority button). */
static const char *roles_yaml;
static int setup_roles(void **state)
{
    (void)state;
    char yaml[8192];
    snprintf(yaml, sizeof yaml, "%squeue: { priority_roles: %s }\n", config_demo_yaml, roles_yaml);
    return fixture_setup(yaml, "roles.yaml");
}
static int setup_roles_kiosk(void **state) { roles_yaml = "[kiosk, staff, admin]"; return setup_roles(state); }
static int setup_roles_none(void **state) { roles_yaml = "[]"; return setup_roles(state); }

static void test_priority_roles_kiosk(void **state)
{
    (void)state;
    hk_session kiosk = login("kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq");
    hv *r = run(&kiosk, 1, "ticket.issue", "category", "s", "A", "priority", "s", "priority",
                "priority_reason", "s", "disabled", NULL);
    expect_ok(r);
    assert_string_equal(hv_get_str(hv_get(r, "ticket"), "priority"), "priority");
    hv_free(r);
    assert_string_equal(hv_get_str(last_issued(), "by"), "kiosk");
    assert_string_equal(hv_get_str(last_issued(), "priority_reason"), "disabled");
}

static void test_priority_roles_none(void **state)
{
    (void)state;
    hk_session guide = login("staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD"), admin = login("admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6");
    expect_err_msg(run(&guide, 1, "ticket.issue", "category", "s", "A", "priority", "s", "priority", NULL),
                   "forbidden", "allows no role (appointments only)");
    expect_err_msg(run(&admin, 1, "ticket.issue", "category", "s", "A", "priority", "s", "priority", NULL),
                   "forbidden", "role admin may not");
    hv *r = run(&guide, 2, "ticket.issue", "category", "s", "A", NULL);
    expect_ok(r);
    hv_free(r);
}

/* queue.priority_roles in the config: roles that issue tickets only, FILE:LINE on a bad one. */
static void test_priority_roles_config(void **state)
{
    (void)state;
    hk_config c;
    char yaml[8192], err[512];
    snprintf(yaml, sizeof yaml, "%squeue: { priority_max_in_row: 2 }\n", config_demo_yaml);
    assert_int_equal(config_load_string(yaml, strlen(yaml), "q.yaml", &c, err, sizeof err), 0);
    assert_int_equal(c.queue.priority_roles, HK_ROLE_STAFF | HK_ROLE_ADMIN);   /* the default */
    hk_config_free(&c);
    snprintf(yaml, sizeof yaml, "%squeue: { priority_roles: [kiosk, staff] }\n", config_demo_yaml);
    assert_int_equal(config_load_string(yaml, strlen(yaml), "q.yaml", &c, err, sizeof err), 0);
    assert_int_equal(c.queue.priority_roles, HK_ROLE_KIOSK | HK_ROLE_STAFF);
    hk_config_free(&c);
    const char *bad[] = {"[display]", "[staff, bogus]", "staff", "[security]"};
    const char *want[] = {"'display' is not a role that issues tickets (expected kiosk, staff, admin)",
                          "'bogus' is not a role that issues tickets", "'priority_roles' in queue must be",
                          "'security' is not a role"};
    int line = 1;
    for (const char *p = config_demo_yaml; *p; p++) line += *p == '\n';
    for (int i = 0; i < 4; i++) {
        snprintf(yaml, sizeof yaml, "%squeue: { priority_roles: %s }\n", config_demo_yaml, bad[i]);
        assert_int_not_equal(config_load_string(yaml, strlen(yaml), "q.yaml", &c, err, sizeof err), 0);
        if (!strstr(err, want[i])) fail_msg("%s: error '%s' lacks '%s'", bad[i], err, want[i]);
        char at_line[32];
        snprintf(at_line, sizeof at_line, "q.yaml:%d:", line);
        if (!strstr(err, at_line)) fail_msg("%s: error '%s' lacks '%s'", bad[i], err, at_line);
    }
}

/* categories[].daily_cap: the numbers of a day run out for that category only */
static void test_daily_cap(void **state)
{
    (void)state;
    hall_free(hall);
    hk_config_free(&cfg);
    char yaml[8192], err[256];
    const char *cat = "  - { id: B, name: 不动产登记, weight: 1.0 }";
    const char *at_b = strstr(config_demo_yaml, cat);
    assert_non_null(at_b);
    snprintf(yaml, sizeof yaml, "%.*s  - { id: B, name: 不动产登记, weight: 1.0, daily_cap: 2 }%s",
             (int)(at_b - config_demo_yaml), config_demo_yaml, at_b + strlen(cat));
    assert_int_equal(config_load_string(yaml, strlen(yaml), "cap", &cfg, err, sizeof err), 0);
    assert_int_equal(cfg.categories[1].daily_cap, 2);
    hall = hall_new(&cfg);
    hk_session kiosk = login("kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq");
    for (int i = 0; i < 2; i++) {
        hv *r = run(&kiosk, 1, "ticket.issue", "category", "s", "B", NULL);
        expect_ok(r);
        hv_free(r);
    }
    hv *r = run(&kiosk, 2, "ticket.issue", "category", "s", "B", NULL);
    expect_err(r, "unavailable");
    assert_non_null(strstr(hv_get_str(r, "msg"), "daily_cap"));
    hv_free(r);
    r = run(&kiosk, 2, "ticket.issue", "category", "s", "A", NULL);   /* other categories go on */
    expect_ok(r);
    hv_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hello, setup, teardown),
        cmocka_unit_test_setup_teardown(test_daily_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hours, setup, teardown),
        cmocka_unit_test_setup_teardown(test_day_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_day_rollover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_priority_rules, setup, teardown),   /* @guide */
        cmocka_unit_test_setup_teardown(test_priority_roles_kiosk, setup_roles_kiosk, teardown),
        cmocka_unit_test_setup_teardown(test_priority_roles_none, setup_roles_none, teardown),
        cmocka_unit_test(test_priority_roles_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
