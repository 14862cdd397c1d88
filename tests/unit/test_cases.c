/* test_cases.c: 四件管理 and 好差评 as pure logic: case deadlines in working days, the warning at
 * a part of the limit, overdue, closing and the on-time rate; rating reasons, follow-ups and the
 * satisfaction statistics; the codes-only board; and that replaying the events rebuilds it all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/hall_int.h"
#include "core/checkpoint.h"
#include "core/retention.h"
#include "fixture.h"

/* Mon-Fri 09:00-12:00 and 13:00-17:00; window 2 serves C and A. */
static const char yaml[] =
    "hall: { id: t, name: 测试大厅 }\n"
    "hours:\n"
    "  - { days: [mon, tue, wed, thu, fri], open: [\"09:00-12:00\", \"13:00-17:00\"] }\n"
    "tokens:\n"
    "  - { token: kiosk-2.Ht6Vb1Nq9Wx3Lz7Pk5Rm8Jc2Dg4Fs0Ya, role: kiosk }\n"
    "  - { token: display-1.Fq7LkP2vT9sWm4RbX8nC3yHd6JzG5aVe, role: display }\n"
    "  - { token: staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp, role: staff, staff: \"0001\" }\n"
    "  - { token: staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez, role: staff, staff: \"0002\" }\n"
    "  - { token: admin-1.Nw4Pz8Qk2Tr6Yx1Lm5Bv9Hc3Jd7Gf0Sb, role: admin }\n"
    "staff:\n"
    "  - { id: \"0001\", name: 张三 }\n"
    "  - { id: \"0002\", name: 李四 }\n"
    "categories:\n"
    "  - { id: A, name: 社保医保 }\n"
    "  - { id: B, name: 不动产登记 }\n"
    "windows:\n"
    "  - { id: 1, name: 1号窗口, categories: [A, B] }\n"
    "  - { id: 2, name: 2号窗口, categories: [B, A] }\n"
    "matters:\n"
    "  - { id: M1, name: 不动产转移登记, category: B, promised_days: 3, legal_days: 5 }\n"
    "  - { id: M2, name: 医保关系转移, category: A, promised_days: 1 }\n"
    "supervision: { warn_fraction: 0.8 }\n"
    "rating: { reasons: [态度不好, 效率低, 其他], target: 0.95 }\n";

static hk_time clock_now;

static int64_t civil_days(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return (int64_t)era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* A local time in UTC+8 (the hall's time zone here). */
static hk_time local(int y, int mo, int d, int hh, int mm)
{
    int64_t days = civil_days(y, mo, d);
    hk_time t;
    t.ms = days * 86400000LL + (int64_t)(hh * 60 + mm) * 60000 - 8 * 3600000LL;
    t.day = y * 10000 + mo * 100 + d;
    t.min = hh * 60 + mm;
    t.wday = (int)(((days % 7) + 7 + 3) % 7);
    return t;
}

static hk_time plus_ms(hk_time t, int64_t ms)
{
    int64_t local_ms = t.ms + 8 * 3600000LL + ms;
    int64_t days = local_ms / 86400000LL;
    int64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1), m = (int)(mp < 10 ? mp + 3 : mp - 9);
    int y = (int)(yoe + era * 400 + (m <= 2));
    int mins = (int)(local_ms % 86400000LL / 60000);
    hk_time r = local(y, m, d, mins / 60, mins % 60);
    r.ms = t.ms + ms;
    return r;
}

static int setup(void **state)
{
    (void)state;
    fixture_setup(yaml, "cases");
    clock_now = local(2025, 11, 24, 10, 0);   /* a Monday */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return fixture_teardown();
}

/* Runs one command at clock_now; args are key, kind ("s", "i" or "v" for an hv * taken), value. */
static hv *run(hk_hall *hh, hk_session *s, const char *cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    hv *r = fixture_vrun(hh, s, clock_now, false, cmd, ap);
    va_end(ap);
    return r;
}

#define RUN(s, ...) run(hall, s, __VA_ARGS__, NULL)

static void expect_ok(hv *r)
{
    if (strcmp(hv_get_str(r, "t"), "ok") != 0) fail_msg("expected ok, got %s: %s", hv_get_str(r, "code"), hv_get_str(r, "msg"));
}

static void expect_err(hv *r, const char *code)
{
    assert_string_equal(hv_get_str(r, "t"), "err");
    assert_string_equal(hv_get_str(r, "code"), code);
    assert_non_null(hv_get_str(r, "msg"));
}

static hk_session login(const char *token)
{
    hk_session s = {0};
    hv *r = RUN(&s, "hello", "token", "s", token);
    expect_ok(r);
    hv_free(r);
    return s;
}

/* Events emitted by hall_tick at `t`, in a fresh array (caller frees); also logged. */
static hv *tick_at(hk_time t)
{
    clock_now = t;
    hk_out out;
    hk_out_init(&out);
    hall_tick(hall, t, &out);
    fixture_keep(&out);
    hv *evs = hv_arr();
    for (size_t i = 0; i < out.nevents; i++) hv_push(evs, hv_dup(out.events[i]));
    hk_out_clear(&out);
    return evs;
}

static const hv *find_event(const hv *evs, const char *name)
{
    for (size_t i = 0; i < evs->u.a.n; i++)
        if (!strcmp(hv_get_str(evs->u.a.v[i], "ev"), name)) return evs->u.a.v[i];
    return NULL;
}

static size_t case_events(const hv *evs)
{
    size_t n = 0;
    for (size_t i = 0; i < evs->u.a.n; i++) n += !strncmp(hv_get_str(evs->u.a.v[i], "ev"), "case.", 5);
    return n;
}

static const hv *last_logged(const char *name)
{
    for (size_t i = log_events->u.a.n; i-- > 0;)
        if (!strcmp(hv_get_str(log_events->u.a.v[i], "ev"), name)) return log_events->u.a.v[i];
    return NULL;
}

static char issued_code[16];

/* Issues a ticket of cat, and has staff at window w call, start and finish it with outcome
 * (extra: key, kind, value ... NULL after the outcome). Returns the finish reply. */
static hv *serve(hk_session *kiosk, hk_session *staff, int w, const char *cat, const char *outcome, ...)
{
    hv *r = RUN(kiosk, "ticket.issue", "category", "s", cat);
    expect_ok(r);
    snprintf(issued_code, sizeof issued_code, "%s", hv_get_str(hv_get(r, "ticket"), "code"));
    hv_free(r);
    if (!staff->window) { r = RUN(staff, "window.open", "window", "i", w); expect_ok(r); hv_free(r); }
    r = RUN(staff, "call.next"); expect_ok(r);
    assert_string_equal(hv_get_str(hv_get(r, "ticket"), "code"), issued_code);
    hv_free(r);
    r = RUN(staff, "ticket.start"); expect_ok(r); hv_free(r);
    hv *req = hv_map();
    hv_set(req, "t", hv_str("ticket.finish"));
    hv_set(req, "id", hv_int(next_id++));
    hv_set(req, "outcome", hv_str(outcome));
    va_list ap;
    va_start(ap, outcome);
    test_req_args(req, ap);
    va_end(ap);
    hk_out out;
    hk_out_init(&out);
    hall_cmd(hall, staff, req, clock_now, &out);
    fixture_keep(&out);
    r = out.reply;
    out.reply = NULL;
    hk_out_clear(&out);
    hv_free(req);
    return r;
}

static int64_t get_i(const hv *m, const char *k)
{
    int64_t v = -999;
    if (hv_get_int(m, k, &v) < 0) fail_msg("no integer '%s'", k);
    return v;
}

/* ---- deadlines ------------------------------------------------------------------------------ */

static void test_deadline_working_days(void **state)
{
    (void)state;
    /* Monday 10:00 + 3 working days: Thursday at closing (17:00) */
    assert_int_equal(cases_deadline(&cfg, local(2025, 11, 24, 10, 0), 3), local(2025, 11, 27, 17, 0).ms);
    /* Friday + 1: the weekend does not count, Monday 17:00 */
    assert_int_equal(cases_deadline(&cfg, local(2025, 11, 28, 16, 0), 1), local(2025, 12, 1, 17, 0).ms);
    /* finished on a Saturday (extended service): Monday is the first working day */
    assert_int_equal(cases_deadline(&cfg, local(2025, 11, 29, 9, 30), 1), local(2025, 12, 1, 17, 0).ms);
    /* 10 working days span two weekends */
    assert_int_equal(cases_deadline(&cfg, local(2025, 11, 24, 10, 0), 10), local(2025, 12, 8, 17, 0).ms);
    /* across a year's end */
    assert_int_equal(cases_deadline(&cfg, local(2025, 12, 31, 11, 0), 2), local(2026, 1, 2, 17, 0).ms);
    /* a hall without hours: calendar days, to midnight */
    hk_config open_all = cfg;
    open_all.hours_set = false;
    assert_int_equal(cases_deadline(&open_all, local(2025, 11, 28, 16, 0), 2), local(2025, 12, 1, 0, 0).ms);
}

/* ---- cases ------------------------------------------------------------------------------- */

static void test_case_lifecycle(void **state)
{
    (void)state;
    hk_session kiosk = login("kiosk-2.Ht6Vb1Nq9Wx3Lz7Pk5Rm8Jc2Dg4Fs0Ya"), staff = login("staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp"), admin = login("admin-1.Nw4Pz8Qk2Tr6Yx1Lm5Bv9Hc3Jd7Gf0Sb");
    hv *r = serve(&kiosk, &staff, 1, "B", "承诺件", "matter", "s", "M1", NULL);
    expect_ok(r);
    assert_int_equal(get_i(r, "case"), 1);
    hv_free(r);
    const hv *opened = last_logged("case.opened");
    assert_non_null(opened);
    assert_int_equal(get_i(opened, "case"), 1);
    assert_string_equal(hv_get_str(opened, "code"), issued_code);
    assert_string_equal(hv_get_str(opened, "kind"), "承诺件");
    assert_string_equal(hv_get_str(opened, "matter"), "M1");
    assert_string_equal(hv_get_str(opened, "staff"), "0001");
    assert_int_equal(get_i(opened, "window"), 1);
    int64_t deadline = local(2025, 11, 27, 17, 0).ms;
    assert_int_equal(get_i(opened, "deadline"), deadline);
    assert_int_equal(get_i(opened, "legal_deadline"), local(2025, 12, 1, 17, 0).ms);
    const hv *fin = last_logged("ticket.finished");
    assert_int_equal(get_i(fin, "case"), 1);
    assert_string_equal(hv_get_str(fin, "matter"), "M1");

    /* warn at 80 % of the limit */
    int64_t open_ms = clock_now.ms;
    int64_t warn_at = open_ms + (int64_t)((double)(deadline - open_ms) * 0.8);
    assert_int_equal(get_i(opened, "warn_at"), warn_at);
    hk_time start = clock_now;
    hv *evs = tick_at(plus_ms(start, warn_at - open_ms - 1000));
    assert_int_equal(case_events(evs), 0);
    hv_free(evs);
    evs = tick_at(plus_ms(start, warn_at - open_ms));
    const hv *w = find_event(evs, "case.warning");
    assert_non_null(w);
    assert_int_equal(get_i(w, "case"), 1);
    assert_int_equal(get_i(w, "left_ms"), deadline - warn_at);
    hv_free(evs);
    evs = tick_at(plus_ms(start, warn_at - open_ms + 60000));   /* once only */
    assert_int_equal(case_events(evs), 0);
    hv_free(evs);

    r = RUN(&staff, "cases.list");
    expect_ok(r);
    assert_int_equal(hv_get(r, "cases")->u.a.n, 1);
    assert_string_equal(hv_get_str(hv_get(r, "cases")->u.a.v[0], "status"), "warning");
    hv_free(r);

    /* overdue just after the deadline, once */
    evs = tick_at(plus_ms(start, deadline - open_ms));
    assert_int_equal(case_events(evs), 0);
    hv_free(evs);
    evs = tick_at(plus_ms(start, deadline - open_ms + 1));
    assert_non_null(find_event(evs, "case.overdue"));
    hv_free(evs);
    /* Friday 09:30: nothing new to report; the hall is open again for the next case */
    evs = tick_at(plus_ms(start, deadline - open_ms + 16 * 3600000LL + 30 * 60000));
    assert_int_equal(case_events(evs), 0);
    hv_free(evs);

    /* a second case, closed in time: overdue one listed first */
    r = serve(&kiosk, &staff, 1, "A", "联办件", "matter", "s", "M2", "lead_window", "i", 2, "partners", "v",
              hv_push(hv_push(hv_arr(), hv_str("市场监管局")), hv_str("税务局")), NULL);
    expect_ok(r);
    hv_free(r);
    opened = last_logged("case.opened");
    assert_int_equal(get_i(opened, "case"), 2);
    assert_int_equal(get_i(opened, "lead_window"), 2);
    assert_int_equal(hv_get(opened, "partners")->u.a.n, 2);
    r = RUN(&staff, "cases.list");
    expect_ok(r);
    assert_int_equal(get_i(hv_get(r, "cases")->u.a.v[0], "case"), 1);
    assert_string_equal(hv_get_str(hv_get(r, "cases")->u.a.v[0], "status"), "overdue");
    assert_int_equal(get_i(hv_get(r, "cases")->u.a.v[1], "case"), 2);
    hv_free(r);

    r = RUN(&staff, "case.close", "case", "i", 2, "result", "s", "已办结");
    expect_ok(r);
    hv_free(r);
    const hv *closed = last_logged("case.closed");
    bool on_time = false;
    assert_int_equal(hv_get_bool(closed, "on_time", &on_time), 0);
    assert_true(on_time);
    r = RUN(&staff, "case.close", "case", "i", 2, "result", "s", "again");
    expect_err(r, "conflict");
    hv_free(r);
    r = RUN(&staff, "case.close", "case", "i", 99, "result", "s", "x");
    expect_err(r, "not_found");
    hv_free(r);
    r = RUN(&staff, "case.close", "case", "i", 1);
    expect_err(r, "bad_request");
    hv_free(r);

    /* stats: one on time, one overdue still open -> 50 % */
    r = RUN(&admin, "cases.stats");
    expect_ok(r);
    const hv *st = hv_get(r, "stats");
    assert_int_equal(get_i(st, "total"), 2);
    assert_int_equal(get_i(st, "overdue"), 1);
    assert_int_equal(get_i(st, "on_time"), 1);
    assert_true(hv_get(st, "on_time_rate")->u.f > 0.49 && hv_get(st, "on_time_rate")->u.f < 0.51);
    hv_free(r);
    r = RUN(&staff, "cases.stats");
    expect_err(r, "forbidden");
    hv_free(r);

    /* closing the overdue one: late */
    r = RUN(&admin, "case.close", "case", "i", 1, "result", "s", "准予登记");
    expect_ok(r);
    assert_false(hv_get(hv_get(r, "case"), "on_time")->u.b);
    hv_free(r);
    r = RUN(&admin, "cases.stats");
    st = hv_get(r, "stats");
    assert_int_equal(get_i(st, "closed"), 2);
    assert_int_equal(get_i(st, "late"), 1);
    assert_false(hv_get(st, "meets_target")->u.b);
    hv_free(r);
    r = RUN(&admin, "cases.list", "status", "s", "closed");
    assert_int_equal(get_i(r, "count"), 2);
    hv_free(r);
    r = RUN(&admin, "cases.list", "status", "s", "nope");
    expect_err(r, "bad_request");
    hv_free(r);
}

static void test_finish_args(void **state)
{
    (void)state;
    hk_session kiosk = login("kiosk-2.Ht6Vb1Nq9Wx3Lz7Pk5Rm8Jc2Dg4Fs0Ya"), staff = login("staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp");
    hv *r = serve(&kiosk, &staff, 1, "A", "即办件", "partners", "v", hv_push(hv_arr(), hv_str("税务局")), NULL);
    expect_err(r, "bad_request");
    hv_free(r);
    r = RUN(&staff, "ticket.finish", "outcome", "s", "承诺件", "matter", "s", "M9");
    expect_err(r, "not_found");
    hv_free(r);
    r = RUN(&staff, "ticket.finish", "outcome", "s", "联办件", "lead_window", "i", 7);
    expect_err(r, "not_found");
    hv_free(r);
    r = RUN(&staff, "ticket.finish", "outcome", "s", "补正", "missing", "v", hv_arr());
    expect_err(r, "bad_request");
    hv_free(r);
    r = RUN(&staff, "ticket.finish", "outcome", "s", "上报件", "sent_to", "i", 3);
    expect_err(r, "bad_request");
    hv_free(r);
    /* 补正 with its list: no case */
    r = RUN(&staff, "ticket.finish", "outcome", "s", "补正", "missing", "v", hv_push(hv_arr(), hv_str("身份证复印件")));
    expect_ok(r);
    assert_null(hv_get(r, "case"));
    hv_free(r);
    assert_null(last_logged("case.opened"));
    assert_int_equal(hv_get(last_logged("ticket.finished"), "missing")->u.a.n, 1);
    /* 上报件 without a matter: recorded, not supervised (its limit is not known) */
    r = serve(&kiosk, &staff, 1, "A", "上报件", "sent_to", "s", "省人社厅", NULL);
    expect_ok(r);
    assert_null(hv_get(r, "case"));
    hv_free(r);
    assert_null(last_logged("case.opened"));
    /* 承诺件 without a matter: the hall's default limit (20 working days) */
    r = serve(&kiosk, &staff, 1, "A", "承诺件", NULL);
    expect_ok(r);
    assert_int_equal(get_i(r, "case"), 1);
    hv_free(r);
    const hv *o = last_logged("case.opened");
    assert_int_equal(get_i(o, "limit_days"), 20);
    assert_int_equal(get_i(o, "deadline"), cases_deadline(&cfg, clock_now, 20));
    assert_true(hv_get(o, "matter")->t == HV_NIL);
    /* 上报件 naming its matter: a case, with where it was sent */
    r = serve(&kiosk, &staff, 1, "A", "上报件", "sent_to", "s", "省人社厅", "matter", "s", "M2", NULL);
    expect_ok(r);
    hv_free(r);
    o = last_logged("case.opened");
    assert_string_equal(hv_get_str(o, "sent_to"), "省人社厅");
    assert_int_equal(get_i(o, "limit_days"), 1);
}

/* The board is public: codes, matter names, status, deadlines; never names, staff or windows.
 * case.* events never reach display or kiosk connections. */
static void test_board_privacy(void **state)
{
    (void)state;
    hk_session kiosk = login("kiosk-2.Ht6Vb1Nq9Wx3Lz7Pk5Rm8Jc2Dg4Fs0Ya"), staff = login("staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp"), disp = login("display-1.Fq7LkP2vT9sWm4RbX8nC3yHd6JzG5aVe");
    hv *r = serve(&kiosk, &staff, 1, "B", "承诺件", "matter", "s", "M1", NULL);
    hv_free(r);
    r = RUN(&disp, "cases.board");
    expect_ok(r);
    const hv *list = hv_get(r, "cases");
    assert_int_equal(list->u.a.n, 1);
    const hv *c = list->u.a.v[0];
    assert_string_equal(hv_get_str(c, "code"), issued_code);
    assert_string_equal(hv_get_str(c, "matter"), "不动产转移登记");
    assert_string_equal(hv_get_str(c, "status"), "open");
    assert_non_null(hv_get(c, "deadline"));
    static const char *const allowed[] = {"code", "kind", "matter", "status", "deadline", "day"};
    for (size_t i = 0; i < c->u.m.n; i++) {
        bool ok = false;
        for (size_t j = 0; j < sizeof allowed / sizeof *allowed; j++) ok |= !strcmp(c->u.m.v[i].key, allowed[j]);
        if (!ok) fail_msg("the public board carries '%s'", c->u.m.v[i].key);
    }
    hv_free(r);
    r = RUN(&disp, "cases.list");
    expect_err(r, "forbidden");
    hv_free(r);
    r = RUN(&kiosk, "followups.list");
    expect_err(r, "forbidden");
    hv_free(r);
    static const char *const private_events[] = {"case.opened", "case.warning", "case.overdue", "case.closed",
                                                 "rating.recorded", "followup.opened", "followup.closed"};
    for (size_t i = 0; i < sizeof private_events / sizeof *private_events; i++) {
        hv *ev = hall_event(private_events[i]);
        int roles = hall_event_audience(ev);
        assert_false(roles & (HK_ROLE_DISPLAY | HK_ROLE_KIOSK));
        assert_true(roles & HK_ROLE_ADMIN);
        hv_free(ev);
    }
    hv *inv = hall_event("rating.invited");   /* code, window, staff id: public like window.changed */
    assert_true((hall_event_audience(inv) & (HK_ROLE_DISPLAY | HK_ROLE_KIOSK)) == (HK_ROLE_DISPLAY | HK_ROLE_KIOSK));
    hv_free(inv);
    /* the display's snapshot has no supervision counts; the admin's has */
    r = RUN(&disp, "state.get");
    assert_null(hv_get(hv_get(r, "state"), "supervision"));
    hv_free(r);
}

/* ---- ratings ------------------------------------------------------------------------------- */

static void rate(hk_session *kiosk, const char *code, int score, const char *reason, const char *text, const char *want)
{
    hv *req = hv_map();
    hv_set(req, "t", hv_str("ticket.rate"));
    hv_set(req, "id", hv_int(next_id++));
    hv_set(req, "code", hv_str(code));
    hv_set(req, "score", hv_int(score));
    if (reason) hv_set(req, "reason", hv_str(reason));
    if (text) hv_set(req, "text", hv_str(text));
    hk_out out;
    hk_out_init(&out);
    hall_cmd(hall, kiosk, req, clock_now, &out);
    fixture_keep(&out);
    if (want) expect_err(out.reply, want);
    else expect_ok(out.reply);
    hk_out_clear(&out);
    hv_free(req);
}

static void test_ratings(void **state)
{
    (void)state;
    hk_session kiosk = login("kiosk-2.Ht6Vb1Nq9Wx3Lz7Pk5Rm8Jc2Dg4Fs0Ya"), s1 = login("staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp"), s2 = login("staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez");
    hk_session admin = login("admin-1.Nw4Pz8Qk2Tr6Yx1Lm5Bv9Hc3Jd7Gf0Sb");
    char codes[6][16];
    for (int i = 0; i < 5; i++) {
        hv *r = serve(&kiosk, i < 3 ? &s1 : &s2, i < 3 ? 1 : 2, i % 2 ? "B" : "A", "即办件", NULL);
        expect_ok(r);
        hv_free(r);
        snprintf(codes[i], sizeof codes[i], "%s", issued_code);
        const hv *inv = last_logged("rating.invited");
        assert_string_equal(hv_get_str(inv, "code"), issued_code);
        assert_string_equal(hv_get_str(inv, "staff"), i < 3 ? "0001" : "0002");
    }
    /* reasons: needed for 1-2 and from the list; not for 3-5; text is limited */
    rate(&kiosk, codes[3], 2, NULL, NULL, "bad_request");
    rate(&kiosk, codes[3], 2, "不在列表", NULL, "bad_request");
    rate(&kiosk, codes[0], 5, "效率低", NULL, "bad_request");
    char longtext[400];
    memset(longtext, 'x', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = 0;
    rate(&kiosk, codes[3], 2, "效率低", longtext, "bad_request");
    rate(&kiosk, codes[3], 2, "效率低", "bad\x01text", "bad_request");

    rate(&kiosk, codes[0], 5, NULL, "很好", NULL);
    rate(&kiosk, codes[1], 4, NULL, NULL, NULL);
    rate(&kiosk, codes[2], 3, NULL, NULL, NULL);
    rate(&kiosk, codes[3], 2, "效率低", "等了很久", NULL);
    rate(&kiosk, codes[4], 1, "态度不好", NULL, NULL);
    rate(&kiosk, codes[4], 1, "态度不好", NULL, "conflict");
    const hv *rated = last_logged("ticket.rated");
    assert_string_equal(hv_get_str(rated, "level"), "非常不满意");
    assert_null(hv_get(rated, "text"));   /* the public event has no free text */
    const hv *rec = last_logged("rating.recorded");
    assert_string_equal(hv_get_str(rec, "staff"), "0002");
    assert_string_equal(hv_get_str(rec, "reason"), "态度不好");

    /* follow-ups: two opened, staff see their own only */
    hv *r = RUN(&admin, "followups.list");
    expect_ok(r);
    const hv *fl = hv_get(r, "followups");
    assert_int_equal(fl->u.a.n, 2);
    assert_string_equal(hv_get_str(fl->u.a.v[0], "code"), codes[3]);
    assert_string_equal(hv_get_str(fl->u.a.v[0], "reason"), "效率低");
    assert_string_equal(hv_get_str(fl->u.a.v[0], "text"), "等了很久");
    assert_string_equal(hv_get_str(fl->u.a.v[0], "staff"), "0002");
    int64_t fid = get_i(fl->u.a.v[1], "id");
    hv_free(r);
    r = RUN(&s1, "followups.list");
    assert_int_equal(hv_get(r, "followups")->u.a.n, 0);
    hv_free(r);
    r = RUN(&s2, "followups.list");
    assert_int_equal(hv_get(r, "followups")->u.a.n, 2);
    hv_free(r);
    r = RUN(&s2, "followup.close", "followup", "i", (int)fid, "resolution", "s", "已回访");
    expect_err(r, "forbidden");
    hv_free(r);
    r = RUN(&admin, "followup.close", "followup", "i", (int)fid);
    expect_err(r, "bad_request");
    hv_free(r);
    r = RUN(&admin, "followup.close", "followup", "i", (int)fid, "resolution", "s", "已回访，致歉");
    expect_ok(r);
    hv_free(r);
    assert_int_equal(get_i(last_logged("followup.closed"), "id"), fid);
    r = RUN(&admin, "followup.close", "followup", "i", (int)fid, "resolution", "s", "again");
    expect_err(r, "conflict");
    hv_free(r);
    r = RUN(&admin, "followup.close", "followup", "i", 77, "resolution", "s", "x");
    expect_err(r, "not_found");
    hv_free(r);
    r = RUN(&admin, "followups.list", "status", "s", "all");
    assert_int_equal(hv_get(r, "followups")->u.a.n, 2);
    hv_free(r);
    r = RUN(&admin, "followups.list");
    assert_int_equal(hv_get(r, "followups")->u.a.n, 1);
    hv_free(r);

    /* statistics: 3 of 5 satisfied = 60 % overall */
    r = RUN(&admin, "ratings.stats");
    expect_ok(r);
    const hv *st = hv_get(r, "stats");
    assert_int_equal(get_i(st, "n"), 5);
    assert_true(hv_get(st, "satisfaction_rate")->u.f > 0.59 && hv_get(st, "satisfaction_rate")->u.f < 0.61);
    assert_false(hv_get(st, "meets_target")->u.b);
    assert_int_equal(get_i(hv_get(st, "counts"), "基本满意"), 1);
    hv_free(r);
    r = RUN(&admin, "ratings.stats", "by", "s", "staff");
    const hv *g = hv_get(hv_get(r, "stats"), "groups");
    assert_int_equal(g->u.a.n, 2);
    assert_string_equal(hv_get_str(g->u.a.v[0], "key"), "0001");
    assert_int_equal(get_i(g->u.a.v[0], "n"), 3);
    assert_true(hv_get(g->u.a.v[0], "meets_target")->u.b);   /* 5, 4, 3: all satisfied */
    assert_int_equal(get_i(hv_get(g->u.a.v[1], "counts"), "不满意"), 1);
    assert_int_equal(get_i(hv_get(g->u.a.v[1], "counts"), "非常不满意"), 1);
    assert_true(hv_get(g->u.a.v[1], "satisfaction_rate")->u.f < 0.01);
    hv_free(r);
    r = RUN(&admin, "ratings.stats", "by", "s", "window");
    g = hv_get(hv_get(r, "stats"), "groups");
    assert_int_equal(g->u.a.n, 2);
    assert_int_equal(get_i(g->u.a.v[1], "n"), 2);
    hv_free(r);
    r = RUN(&admin, "ratings.stats", "by", "s", "category");
    g = hv_get(hv_get(r, "stats"), "groups");
    assert_string_equal(hv_get_str(g->u.a.v[0], "key"), "A");
    assert_int_equal(get_i(g->u.a.v[0], "n"), 3);
    hv_free(r);
    r = RUN(&admin, "ratings.stats", "by", "s", "day");
    g = hv_get(hv_get(r, "stats"), "groups");
    assert_int_equal(g->u.a.n, 1);
    char today[16];
    snprintf(today, sizeof today, "%d", (int)clock_now.day);
    assert_string_equal(hv_get_str(g->u.a.v[0], "key"), today);
    hv_free(r);
    r = RUN(&admin, "ratings.stats", "by", "s", "day", "from", "i", (int)clock_now.day + 1);
    assert_int_equal(get_i(hv_get(r, "stats"), "n"), 0);
    hv_free(r);
    r = RUN(&admin, "ratings.stats", "by", "s", "hour");
    expect_err(r, "bad_request");
    hv_free(r);
    r = RUN(&s1, "ratings.stats");
    expect_err(r, "forbidden");
    hv_free(r);
    r = RUN(&kiosk, "matters.list");
    expect_ok(r);
    assert_int_equal(hv_get(r, "matters")->u.a.n, 2);
    assert_int_equal(get_i(hv_get(r, "matters")->u.a.v[0], "promised_days"), 3);
    hv_free(r);
    r = RUN(&kiosk, "ratings.reasons");
    expect_ok(r);
    assert_int_equal(hv_get(r, "reasons")->u.a.n, 3);
    assert_string_equal(hv_get_str(hv_get(r, "levels")->u.a.v[0], "name"), "非常满意");
    hv_free(r);
}

/* ---- replay ------------------------------------------------------------------------------ */

static hv *strip_id(hv *r)
{
    hv_set(r, "id", hv_nil());
    return r;
}

static void test_replay_equal(void **state)
{
    (void)state;
    test_case_lifecycle(state);
    test_ratings(state);
    hk_session kiosk = login("kiosk-2.Ht6Vb1Nq9Wx3Lz7Pk5Rm8Jc2Dg4Fs0Ya"), staff = login("staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez");
    hv *r = serve(&kiosk, &staff, 2, "B", "上报件", NULL);
    expect_ok(r);
    hv_free(r);
    hv *evs = tick_at(plus_ms(clock_now, 40LL * 86400000));
    hv_free(evs);

    hk_hall *b = hall_new(&cfg);
    for (size_t i = 0; i < log_events->u.a.n; i++) assert_int_equal(hall_replay(b, log_events->u.a.v[i]), 0);
    assert_int_equal(hall_seq(b), hall_seq(hall));
    hk_session a1 = {0}, a2 = {0};
    hv *x = run(hall, &a1, "hello", "token", "s", "admin-1.Nw4Pz8Qk2Tr6Yx1Lm5Bv9Hc3Jd7Gf0Sb", NULL);
    hv *y = run(b, &a2, "hello", "token", "s", "admin-1.Nw4Pz8Qk2Tr6Yx1Lm5Bv9Hc3Jd7Gf0Sb", NULL);
    hv_free(x);
    hv_free(y);
    static const char *const cmds[][3] = {
        {"cases.list", "status", "all"}, {"cases.stats", NULL, NULL}, {"cases.board", NULL, NULL},
        {"ratings.stats", "by", "staff"}, {"ratings.stats", "by", "day"}, {"followups.list", "status", "all"},
        {"state.get", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        x = cmds[i][1] ? run(hall, &a1, cmds[i][0], cmds[i][1], "s", cmds[i][2], NULL) : run(hall, &a1, cmds[i][0], NULL);
        y = cmds[i][1] ? run(b, &a2, cmds[i][0], cmds[i][1], "s", cmds[i][2], NULL) : run(b, &a2, cmds[i][0], NULL);
        expect_ok(x);
        if (!hv_equal(strip_id(x), strip_id(y))) fail_msg("%s differs after replay", cmds[i][0]);
        hv_free(x);
        hv_free(y);
    }
    /* the replayed hall goes on where the live one is: no warning is reported twice */
    hk_out o1, o2;
    hk_out_init(&o1);
    hk_out_init(&o2);
    hall_tick(hall, clock_now, &o1);
    hall_tick(b, clock_now, &o2);
    assert_int_equal(o1.nevents, o2.nevents);
    hk_out_clear(&o1);
    hk_out_clear(&o2);
    hall_free(b);
}

/* The loader refuses mistakes in the three sections with the line and a clear reason. */
/* Retention (core/retention.h): closed cases and follow-ups of released days go, open ones stay,
 * and the replies say from which day they cover. */
static void test_forget_before(void **state)
{
    (void)state;
    hk_session kiosk = login("kiosk-2.Ht6Vb1Nq9Wx3Lz7Pk5Rm8Jc2Dg4Fs0Ya"), staff = login("staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp"), admin = login("admin-1.Nw4Pz8Qk2Tr6Yx1Lm5Bv9Hc3Jd7Gf0Sb");
    for (int i = 0; i < 3; i++) {
        hv *r = serve(&kiosk, &staff, 1, "A", "承诺件", "matter", "s", "M2", NULL);
        expect_ok(r);
        hv_free(r);
        r = RUN(&kiosk, "ticket.rate", "code", "s", issued_code, "score", "i", 1, "reason", "s", "其他");
        expect_ok(r);
        hv_free(r);
    }
    for (int id = 1; id <= 2; id++) {
        hv *r = RUN(&admin, "case.close", "case", "i", id, "result", "s", "准予许可");
        expect_ok(r);
        hv_free(r);
        r = RUN(&admin, "followup.close", "followup", "i", id, "resolution", "s", "已回访");
        expect_ok(r);
        hv_free(r);
    }
    hv *r = RUN(&admin, "cases.stats");
    assert_true(hv_get(hv_get(r, "stats"), "kept_from")->t == HV_NIL);
    hv_free(r);
    cases_forget_before(hall, 20251124);       /* closed today: kept */
    ratings_forget_before(hall, 20251124);
    assert_int_equal(cases_kept_from(hall), 0);
    r = RUN(&admin, "cases.list", "status", "s", "all");
    assert_int_equal(hv_get(r, "cases")->u.a.n, 3);
    hv_free(r);
    cases_forget_before(hall, 20251126);       /* two days later: the closed ones go */
    ratings_forget_before(hall, 20251126);
    r = RUN(&admin, "cases.list", "status", "s", "all");
    assert_int_equal(hv_get(r, "cases")->u.a.n, 1);
    assert_int_equal(hv_get(hv_get(r, "cases")->u.a.v[0], "case")->u.i, 3);
    assert_int_equal(hv_get(r, "kept_from")->u.i, 20251126);
    assert_non_null(strstr(hv_get_str(r, "note"), "hallctl archive"));
    hv_free(r);
    r = RUN(&admin, "followups.list", "status", "s", "all");
    assert_int_equal(hv_get(r, "followups")->u.a.n, 1);
    assert_int_equal(hv_get(hv_get(r, "followups")->u.a.v[0], "id")->u.i, 3);
    hv_free(r);
    r = RUN(&admin, "cases.stats");
    int64_t total = 0, open = 0;
    hv_get_int(hv_get(r, "stats"), "total", &total);
    hv_get_int(hv_get(r, "stats"), "open", &open);
    assert_true(total == 1 && open == 1);
    assert_int_equal(hv_get(hv_get(r, "stats"), "kept_from")->u.i, 20251126);
    hv_free(r);
    r = RUN(&admin, "ratings.stats", "from", "i", 20251101);
    bool partial = false;
    assert_int_equal(hv_get_bool(hv_get(r, "stats"), "partial", &partial), 0);
    assert_true(partial);
    assert_int_equal(hv_get(hv_get(r, "stats"), "n")->u.i, 0);
    hv_free(r);
    r = RUN(&admin, "case.close", "case", "i", 1, "result", "s", "x");
    expect_err(r, "not_found");                /* released: gone, not reopened */
    hv_free(r);
    /* the checkpoint carries kept_from, so a restored hall answers the same */
    hv *st = hall_checkpoint_state(hall);
    hk_hall *back = hall_new(&cfg);
    assert_int_equal(hall_checkpoint_restore_state(back, st), 0);
    assert_int_equal(cases_kept_from(back), 20251126);
    assert_int_equal(ratings_kept_from(back), 20251126);
    hv *st2 = hall_checkpoint_state(back);
    assert_true(hv_equal(st, st2));
    hv_free(st);
    hv_free(st2);
    hall_free(back);
}

static void test_config_errors(void **state)
{
    (void)state;
    static const struct { const char *tail, *want; } bad[] = {
        {"matters:\n  - { id: X1, name: 某事项, category: Z, promised_days: 3 }\n", "names unknown category 'Z'"},
        {"matters:\n  - { id: X1, name: 某事项, category: A, promised_days: 5, legal_days: 3 }\n",
         "legal_days (3) must not be shorter than promised_days (5)"},
        {"matters:\n  - { id: X1, name: a, category: A, promised_days: 0 }\n", "'promised_days' in matter must be an integer from 1 to 365"},
        {"matters:\n  - { id: X1, name: a, category: A, promised_days: 1 }\n  - { id: X1, name: b, category: A, promised_days: 1 }\n",
         "duplicate matter id 'X1'"},
        {"matters:\n  - { id: X1, name: a, category: A, promised_days: 1, limit: 2 }\n", "unknown key 'limit' in matter"},
        {"supervision: { warn_fraction: 1.5 }\n", "'warn_fraction' in supervision must be a number greater than 0 and at most 0.99"},
        {"supervision: { warn: 0.5 }\n", "unknown key 'warn' in supervision"},
        {"rating: { reasons: [] }\n", "'reasons' in rating must list at least one reason"},
        {"rating: { reasons: [a, a] }\n", "rating lists the reason 'a' twice"},
        {"rating: { target: 0 }\n", "'target' in rating must be a number greater than 0 and at most 1"},
    };
    const char *base =
        "hall: { id: t }\ntokens:\n  - { token: admin-1.Nw4Pz8Qk2Tr6Yx1Lm5Bv9Hc3Jd7Gf0Sb, role: admin }\n"
        "categories:\n  - { id: A, name: a }\nwindows:\n  - { id: 1, name: w, categories: [A] }\n";
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[1024], err[300];
        snprintf(text, sizeof text, "%s%s", base, bad[i].tail);
        hk_config c;
        int rc = config_load_string(text, strlen(text), "hall.yaml", &c, err, sizeof err);
        if (rc == 0) { hk_config_free(&c); fail_msg("case %zu loaded", i); }
        if (!strstr(err, bad[i].want) || strncmp(err, "hall.yaml:", 10) != 0)
            fail_msg("case %zu: want '...%s', got '%s'", i, bad[i].want, err);
    }
    /* defaults without the sections */
    char err[300];
    hk_config c;
    assert_int_equal(config_load_string(base, strlen(base), "hall.yaml", &c, err, sizeof err), 0);
    assert_int_equal(c.nmatters, 0);
    assert_true(c.warn_fraction > 0.79 && c.warn_fraction < 0.81);
    assert_int_equal(c.default_case_days, 20);
    const char *const *rs;
    assert_int_equal(ratings_reasons(&c, &rs), 7);
    hk_config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_deadline_working_days, setup, teardown),
        cmocka_unit_test_setup_teardown(test_case_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finish_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_board_privacy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ratings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_equal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forget_before, setup, teardown),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
