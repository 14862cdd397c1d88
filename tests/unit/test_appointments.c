/* test_appointments.c: appointments (预约) as pure logic: add, import with per-line errors (all or
 * nothing), check-in at the kiosk (too early, missed, twice), release after the grace time by the
 * tick, cancel, names kept from display and kiosk, the queue: config, the fairness cap and the
 * max-wait rule of the call policy, and that replaying the events rebuilds the same hall. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"

#define DAY0 20251124        /* a Monday */
#define DAY0_MS 1763913600000LL   /* 2025-11-24 00:00 in UTC+8, as ms since the epoch */

/* The local time d days after DAY0 at hh:mm:ss (days stay inside one month here). */
static hk_time T(int d, int hh, int mm, int ss)
{
    hk_time t = {DAY0_MS + (int64_t)d * 86400000LL + ((int64_t)hh * 3600 + mm * 60 + ss) * 1000, DAY0 + d,
                 hh * 60 + mm, d % 7};
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

/* Runs one command at t with arguments given as KEY, "s"|"i", VALUE, ..., NULL. */
static hv *run(hk_session *s, hk_time t, const char *cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    hv *r = fixture_vrun(hall, s, t, false, cmd, ap);
    va_end(ap);
    return r;
}

static void tick(hk_time t)
{
    hk_out out;
    hk_out_init(&out);
    hall_tick(hall, t, &out);
    fixture_keep(&out);
    hk_out_clear(&out);
}

static const hv *last_event(const char *name)
{
    for (size_t i = 0; last_events && i < last_events->u.a.n; i++)
        if (!strcmp(hv_get_str(last_events->u.a.v[i], "ev"), name)) return last_events->u.a.v[i];
    return NULL;
}

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

static bool msg_has(const hv *r, const char *text) { return strstr(hv_get_str(r, "msg"), text) != NULL; }

static hk_session login(const char *token)
{
    hk_session s = {0};
    hv *r = run(&s, T(0, 8, 0, 0), "hello", "token", "s", token, NULL);
    expect_ok(r);
    hv_free(r);
    return s;
}

static const char *ticket_code(const hv *r)
{
    static char code[16];
    snprintf(code, sizeof code, "%s", hv_get_str(hv_get(r, "ticket"), "code"));
    return code;
}

/* Does the text occur anywhere in the tree (keys or strings)? */
static bool tree_has(const hv *v, const char *text)
{
    if (!v) return false;
    switch (v->t) {
    case HV_STR: return strstr(v->u.s.p, text) != NULL;
    case HV_ARR:
        for (size_t i = 0; i < v->u.a.n; i++) if (tree_has(v->u.a.v[i], text)) return true;
        return false;
    case HV_MAP:
        for (size_t i = 0; i < v->u.m.n; i++) if (tree_has(v->u.m.v[i].val, text)) return true;
        return false;
    default: return false;
    }
}

static int64_t list_total(hk_session *s, hk_time t, const char *date)
{
    hv *r = date ? run(s, t, "appointments.list", "date", "s", date, NULL) : run(s, t, "appointments.list", NULL);
    expect_ok(r);
    int64_t n = -1;
    hv_get_int(r, "total", &n);
    hv_free(r);
    return n;
}

static void test_add(void **state)
{
    (void)state;
    hk_session admin = login("admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6"), staff = login("staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp"), kiosk = login("kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq");
    hv *r = run(&admin, T(0, 8, 0, 0), "appointment.add", "number", "s", "YY-0001", "name", "s", "张三丰",
                "category", "s", "B", "slot_start", "s", "10:00", "slot_end", "s", "10:30", "matter", "s", "不动产登记",
                NULL);
    expect_ok(r);
    const hv *a = hv_get(r, "appointment");
    assert_string_equal(hv_get_str(a, "date"), "2025-11-24");
    assert_string_equal(hv_get_str(a, "state"), "booked");
    hv_free(r);
    const hv *ev = last_event("appointment.added");
    assert_non_null(ev);
    assert_string_equal(hv_get_str(ev, "name"), "张三丰");
    /* appointment events never reach displays and kiosks */
    assert_int_equal(hall_event_audience(ev) & (HK_ROLE_DISPLAY | HK_ROLE_KIOSK), 0);
    assert_true(hall_event_audience(ev) & HK_ROLE_STAFF);

    /* a day and time */
    r = run(&admin, T(0, 8, 0, 0), "appointment.add", "number", "s", "YY-0002", "name", "s", "李四", "category", "s",
            "A", "slot_start", "s", "2025-11-25 09:00", "slot_end", "s", "09:30", NULL);
    expect_ok(r);
    hv_free(r);
    assert_int_equal(list_total(&staff, T(0, 8, 1, 0), NULL), 1);
    assert_int_equal(list_total(&staff, T(0, 8, 1, 0), "2025-11-25"), 1);
    assert_int_equal(list_total(&admin, T(0, 8, 1, 0), "all"), 2);
    r = run(&staff, T(0, 8, 1, 0), "appointments.list", NULL);
    assert_string_equal(hv_get_str(hv_get(r, "appointments")->u.a.v[0], "name"), "张三丰");
    hv_free(r);

    /* roles */
    r = run(&kiosk, T(0, 8, 2, 0), "appointments.list", NULL);
    expect_err(r, "forbidden");
    hv_free(r);
    r = run(&staff, T(0, 8, 2, 0), "appointment.add", "number", "s", "X1", "name", "s", "x", "category", "s", "A",
            "slot_start", "s", "10:00", "slot_end", "s", "10:30", NULL);
    expect_err(r, "forbidden");
    hv_free(r);

    /* bad input, each with its own message */
    struct { const char *number, *cat, *start, *end, *code, *msg; } bad[] = {
        {"YY-0001", "B", "11:00", "11:30", "conflict", "already exists"},
        {"has space", "B", "11:00", "11:30", "bad_request", "number must be"},
        {"\xff\xfe张", "B", "11:00", "11:30", "bad_request", "got '??张'"},   /* echoed as valid text */
        {"YY-0003", "Z", "11:00", "11:30", "not_found", "no category 'Z'"},
        {"YY-0003", "B", "11:30", "11:00", "bad_request", "start before it ends"},
        {"YY-0003", "B", "25:00", "25:30", "bad_request", "slot_start must be HH:MM"},
        {"YY-0003", "B", "2025-11-25 09:00", "2025-11-26 09:30", "bad_request", "same day"},
        {"YY-0003", "B", "07:00", "07:40", "bad_request", "already over"},   /* closed at 07:55 < 08:00 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        r = run(&admin, T(0, 8, 3, 0), "appointment.add", "number", "s", bad[i].number, "name", "s", "王五",
                "category", "s", bad[i].cat, "slot_start", "s", bad[i].start, "slot_end", "s", bad[i].end, NULL);
        expect_err(r, bad[i].code);
        if (!msg_has(r, bad[i].msg)) fail_msg("case %zu: '%s' lacks '%s'", i, hv_get_str(r, "msg"), bad[i].msg);
        hv_free(r);
    }
    r = run(&admin, T(0, 8, 3, 0), "appointment.add", "number", "s", "YY-0003", NULL);
    expect_err(r, "bad_request");
    hv_free(r);

    /* cancel: then the number may be booked again */
    r = run(&admin, T(0, 8, 4, 0), "appointment.cancel", "number", "s", "YY-0002", NULL);
    expect_ok(r);
    assert_non_null(last_event("appointment.cancelled"));
    hv_free(r);
    r = run(&admin, T(0, 8, 4, 0), "appointment.cancel", "number", "s", "YY-0002", NULL);
    expect_err(r, "conflict");
    hv_free(r);
    r = run(&admin, T(0, 8, 4, 0), "appointment.cancel", "number", "s", "nope", NULL);
    expect_err(r, "not_found");
    hv_free(r);
    r = run(&admin, T(0, 8, 5, 0), "appointment.add", "number", "s", "YY-0002", "name", "s", "李四", "category", "s",
            "A", "slot_start", "s", "2025-11-25 10:00", "slot_end", "s", "10:30", NULL);
    expect_ok(r);
    hv_free(r);
}

static void test_import_errors(void **state)
{
    (void)state;
    hk_session admin = login("admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6");
    const char *bad =
        "number,name,category,date,start,end,matter\n"
        "P-1,赵六,A,2025-11-24,10:00,10:30,社保\n"
        "P-2,钱七,Q,2025-11-24,10:00,10:30,\n"          /* line 3: unknown category */
        "P-3,孙八,A,2025-11-31,10:00,10:30,\n"          /* line 4: no such day */
        "\n"
        "P-4,\"周, 九\",A,2025-11-24,10:45,10:15,\n"    /* line 6: end before start */
        "P-1,吴十,A,2025-11-24,11:00,11:30,\n"          /* line 7: number also on line 2 */
        "P-5,郑一,A,2025-11-24,11:00\n";                /* line 8: too few fields */
    hv *r = run(&admin, T(0, 8, 0, 0), "appointment.import", "csv", "s", bad, NULL);
    expect_err(r, "bad_request");
    const hv *errs = hv_get(r, "errors");
    assert_non_null(errs);
    int64_t want[] = {3, 4, 6, 7, 8};
    assert_int_equal(errs->u.a.n, 5);
    for (size_t i = 0; i < 5; i++) {
        int64_t line = 0;
        hv_get_int(errs->u.a.v[i], "line", &line);
        assert_int_equal(line, want[i]);
    }
    assert_true(msg_has(r, "5 errors, nothing imported"));
    assert_true(msg_has(r, "line 3: no category 'Q'"));
    assert_true(msg_has(r, "line 4: date must be YYYY-MM-DD"));
    assert_true(msg_has(r, "line 7: number P-1 is also on line 2"));
    assert_true(msg_has(r, "line 8: expected 7 fields"));
    hv_free(r);
    assert_int_equal(last_events->u.a.n, 0);     /* all or nothing: no event, nothing booked */
    assert_int_equal(list_total(&admin, T(0, 8, 0, 0), "all"), 0);

    r = run(&admin, T(0, 8, 0, 0), "appointment.import", "csv", "s", "num,name\nP-1,x\n", NULL);
    expect_err(r, "bad_request");
    assert_true(msg_has(r, "line 1: the first line must be the header"));
    hv_free(r);
    r = run(&admin, T(0, 8, 0, 0), "appointment.import", "csv", "s", "number,name,category,date,start,end,matter\n", NULL);
    expect_err(r, "bad_request");
    assert_true(msg_has(r, "only its header"));
    hv_free(r);
    r = run(&admin, T(0, 8, 0, 0), "appointment.import", "csv", "s", "number,name,category,date,start,end,matter\n"
            "P-1,\"unclosed,A,2025-11-24,10:00,10:30,\n", NULL);
    expect_err(r, "bad_request");
    assert_true(msg_has(r, "line 2: a quoted field is not closed"));
    hv_free(r);
    r = run(&admin, T(0, 8, 0, 0), "appointment.import", NULL);
    expect_err(r, "bad_request");
    hv_free(r);

    /* a good file (BOM and CRLF as spreadsheets write them, a quoted comma, no matter) */
    const char *good =
        "\xEF\xBB\xBFnumber,name,category,date,start,end,matter\r\n"
        "P-1,赵六,A,2025-11-24,10:00,10:30,社保\r\n"
        "P-2,\"周, 九\",B,2025-11-24,10:45,11:15,\r\n"
        "P-3,孙八,C,2025-11-25,09:00,09:30,\"帮办 \"\"代办\"\"\"\r\n";
    r = run(&admin, T(0, 8, 0, 0), "appointment.import", "csv", "s", good, NULL);
    expect_ok(r);
    int64_t n = 0;
    hv_get_int(r, "imported", &n);
    assert_int_equal(n, 3);
    hv_free(r);
    assert_int_equal(last_events->u.a.n, 3);
    r = run(&admin, T(0, 8, 0, 0), "appointments.list", "date", "s", "all", NULL);
    const hv *list = hv_get(r, "appointments");
    assert_int_equal(list->u.a.n, 3);
    assert_string_equal(hv_get_str(list->u.a.v[1], "name"), "周, 九");
    assert_string_equal(hv_get_str(list->u.a.v[2], "matter"), "帮办 \"代办\"");
    hv_free(r);
    /* importing the same numbers again: every row is a conflict, nothing changes */
    r = run(&admin, T(0, 8, 0, 0), "appointment.import", "csv", "s", good, NULL);
    expect_err(r, "bad_request");
    assert_true(msg_has(r, "line 2: appointment P-1 already exists"));
    hv_free(r);
}

static void test_check_in(void **state)
{
    (void)state;
    hk_session admin = login("admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6"), kiosk = login("kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq"), disp = login("display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj");
    hv *r = run(&admin, T(0, 8, 0, 0), "appointment.add", "number", "s", "YY-0100", "name", "s", "欧阳娜娜",
                "category", "s", "B", "slot_start", "s", "10:00", "slot_end", "s", "10:30", NULL);
    expect_ok(r);
    hv_free(r);
    /* 09:29 is too early (check-in opens 30 min before) */
    r = run(&kiosk, T(0, 9, 29, 0), "ticket.issue", "appointment", "s", "YY-0100", NULL);
    expect_err(r, "conflict");
    assert_true(msg_has(r, "too early"));
    assert_true(msg_has(r, "check in from 09:30"));
    hv_free(r);
    r = run(&kiosk, T(0, 9, 30, 0), "ticket.issue", "appointment", "s", "NOPE", NULL);
    expect_err(r, "not_found");
    hv_free(r);
    r = run(&kiosk, T(0, 9, 30, 0), "ticket.issue", "appointment", "s", "YY-0100", "category", "s", "A", NULL);
    expect_err(r, "bad_request");        /* the booking says B */
    hv_free(r);
    r = run(&kiosk, T(0, 9, 30, 0), "ticket.issue", "appointment", "s", "YY-0100", NULL);
    expect_ok(r);
    assert_string_equal(ticket_code(r), "B001");
    assert_string_equal(hv_get_str(hv_get(r, "ticket"), "priority"), "priority");
    assert_false(tree_has(r, "欧阳娜娜"));
    hv_free(r);
    const hv *issued = last_event("ticket.issued"), *ci = last_event("appointment.checked_in");
    assert_non_null(issued);
    assert_non_null(ci);
    assert_false(tree_has(issued, "欧阳娜娜"));
    bool booked = false;   /* the public event says it was booked, never the number */
    assert_int_equal(hv_get_bool(issued, "appointment", &booked), 0);
    assert_true(booked);
    assert_false(tree_has(issued, "YY-0100"));
    assert_string_equal(hv_get_str(ci, "number"), "YY-0100");
    assert_string_equal(hv_get_str(ci, "code"), "B001");
    assert_int_equal(hall_event_audience(ci) & (HK_ROLE_DISPLAY | HK_ROLE_KIOSK), 0);
    /* twice is refused */
    r = run(&kiosk, T(0, 9, 31, 0), "ticket.issue", "appointment", "s", "YY-0100", NULL);
    expect_err(r, "conflict");
    assert_true(msg_has(r, "already checked in: ticket B001"));
    hv_free(r);
    /* nothing a display or kiosk sees carries the name */
    r = run(&disp, T(0, 9, 32, 0), "state.get", NULL);
    assert_false(tree_has(r, "欧阳娜娜"));
    int64_t ci_n = -1;
    hv_get_int(hv_get(hv_get(r, "state"), "appointments"), "checked_in", &ci_n);
    assert_int_equal(ci_n, 1);
    hv_free(r);
    r = run(&kiosk, T(0, 9, 32, 0), "state.get", NULL);
    assert_false(tree_has(r, "欧阳娜娜"));
    hv_free(r);
    /* a checked-in appointment cannot be cancelled: its ticket is in the queue */
    r = run(&admin, T(0, 9, 33, 0), "appointment.cancel", "number", "s", "YY-0100", NULL);
    expect_err(r, "conflict");
    hv_free(r);

    /* a normal B ticket issued before the appointment's is called after it */
    hk_session staff = login("staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp");
    r = run(&kiosk, T(0, 9, 20, 0), "ticket.issue", "category", "s", "B", NULL);
    hv_free(r);
    r = run(&staff, T(0, 9, 40, 0), "window.open", "window", "i", 3, NULL);
    hv_free(r);
    r = run(&staff, T(0, 9, 40, 0), "call.next", NULL);
    assert_string_equal(ticket_code(r), "B001");
    hv_free(r);
}

static void test_release(void **state)
{
    (void)state;
    hk_session admin = login("admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6"), kiosk = login("kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq");
    hv *r = run(&admin, T(0, 8, 0, 0), "appointment.add", "number", "s", "R-1", "name", "s", "甲", "category", "s",
                "A", "slot_start", "s", "10:00", "slot_end", "s", "10:30", NULL);
    hv_free(r);
    r = run(&admin, T(0, 8, 0, 0), "appointment.add", "number", "s", "R-2", "name", "s", "乙", "category", "s",
            "A", "slot_start", "s", "10:00", "slot_end", "s", "10:30", NULL);
    hv_free(r);
    tick(T(0, 10, 44, 59));
    assert_null(last_event("appointment.released"));
    /* still inside the grace time: accepted */
    r = run(&kiosk, T(0, 10, 44, 59), "ticket.issue", "appointment", "s", "R-2", NULL);
    expect_ok(r);
    hv_free(r);
    tick(T(0, 10, 45, 0));
    const hv *rel = last_event("appointment.released");
    assert_non_null(rel);
    assert_string_equal(hv_get_str(rel, "number"), "R-1");
    int released = 0;
    for (size_t i = 0; i < last_events->u.a.n; i++)
        released += !strcmp(hv_get_str(last_events->u.a.v[i], "ev"), "appointment.released");
    assert_int_equal(released, 1);                /* R-2 checked in: not released */
    tick(T(0, 10, 46, 0));
    assert_null(last_event("appointment.released"));   /* once only */
    r = run(&kiosk, T(0, 10, 46, 0), "ticket.issue", "appointment", "s", "R-1", NULL);
    expect_err(r, "conflict");
    assert_true(msg_has(r, "released"));
    hv_free(r);
    r = run(&admin, T(0, 10, 46, 0), "appointments.list", NULL);
    const hv *list = hv_get(r, "appointments");
    assert_string_equal(hv_get_str(list->u.a.v[0], "state"), "released");
    assert_string_equal(hv_get_str(list->u.a.v[1], "state"), "checked_in");
    hv_free(r);
    /* an appointment of a later day: too early, with the day in the message; released the day after */
    r = run(&admin, T(0, 11, 0, 0), "appointment.add", "number", "s", "R-3", "name", "s", "丙", "category", "s",
            "A", "slot_start", "s", "2025-11-25 23:30", "slot_end", "s", "24:00", NULL);
    expect_ok(r);
    hv_free(r);
    r = run(&kiosk, T(0, 11, 0, 0), "ticket.issue", "appointment", "s", "R-3", NULL);
    expect_err(r, "conflict");
    assert_true(msg_has(r, "on 2025-11-25"));
    hv_free(r);
    tick(T(1, 23, 59, 0));
    assert_null(last_event("appointment.released"));
    tick(T(2, 0, 14, 0));     /* 24:00 + 15 min grace = 00:15 the next day */
    assert_null(last_event("appointment.released"));
    tick(T(2, 0, 15, 0));
    assert_non_null(last_event("appointment.released"));
}

static void test_replay(void **state)
{
    (void)state;
    test_add(state);
    test_check_in(state);
    tick(T(0, 12, 0, 0));       /* releases what is left of the morning */
    hk_hall *copy = hall_new(&cfg);
    for (size_t i = 0; i < log_events->u.a.n; i++) assert_int_equal(hall_replay(copy, log_events->u.a.v[i]), 0);
    hv *a = hall_state(hall, HK_ROLE_ADMIN, T(0, 12, 0, 0)), *b = hall_state(copy, HK_ROLE_ADMIN, T(0, 12, 0, 0));
    assert_true(hv_equal(a, b));
    hv_free(a);
    hv_free(b);
    hk_session admin = login("admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6");
    hv *la = run(&admin, T(0, 12, 0, 0), "appointments.list", "date", "s", "all", NULL);
    hk_hall *saved = hall;
    hall = copy;
    hv *lb = run(&admin, T(0, 12, 0, 0), "appointments.list", "date", "s", "all", NULL);
    hall = saved;
    hv_set(la, "id", hv_int(0));
    hv_set(lb, "id", hv_int(0));
    assert_true(hv_equal(la, lb));
    hv_free(la);
    hv_free(lb);
    hall_free(copy);
    /* the policy's counters are rebuilt too: three priority calls overtook D001, so the next call
     * is D001 in the live hall and in a replayed one alike */
    hk_session kiosk = login("kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq"), s3 = login("staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD");
    hv *r = run(&kiosk, T(0, 12, 1, 0), "ticket.issue", "category", "s", "D", NULL);
    hv_free(r);
    for (int i = 0; i < 5; i++) {
        r = run(&s3, T(0, 12, 1, 1 + i), "ticket.issue", "category", "s", "D", "priority", "s", "priority", NULL);
        hv_free(r);
    }
    r = run(&s3, T(0, 12, 2, 0), "window.open", "window", "i", 4, NULL);
    hv_free(r);
    for (int i = 0; i < 3; i++) {
        r = run(&s3, T(0, 12, 3 + i, 0), "call.next", NULL);
        assert_string_not_equal(ticket_code(r), "D001");
        hv_free(r);
        r = run(&s3, T(0, 12, 3 + i, 30), "ticket.finish", "outcome", "s", "即办件", NULL);
        hv_free(r);
    }
    copy = hall_new(&cfg);
    for (size_t i = 0; i < log_events->u.a.n; i++) assert_int_equal(hall_replay(copy, log_events->u.a.v[i]), 0);
    r = run(&s3, T(0, 12, 7, 0), "call.next", NULL);
    assert_string_equal(ticket_code(r), "D001");
    hv_free(r);
    saved = hall;
    hall = copy;
    hk_session c3 = login("staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD");
    r = run(&c3, T(0, 12, 7, 0), "window.open", "window", "i", 4, NULL);
    expect_ok(r);
    hv_free(r);
    r = run(&c3, T(0, 12, 7, 0), "call.next", NULL);
    assert_string_equal(ticket_code(r), "D001");
    hv_free(r);
    hall = saved;
    hall_free(copy);
}

/* The fairness cap: three priority calls in a row while a normal ticket waits, then the normal. */
static void test_fairness_cap(void **state)
{
    (void)state;
    hk_session kiosk = login("kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq"), staff = login("staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD");
    hv *r;
    for (int i = 0; i < 2; i++) { r = run(&kiosk, T(0, 9, 0, i), "ticket.issue", "category", "s", "D", NULL); hv_free(r); }
    for (int i = 0; i < 5; i++) {
        r = run(&staff, T(0, 9, 1, i), "ticket.issue", "category", "s", "D", "priority", "s", "priority", NULL);
        hv_free(r);
    }
    r = run(&staff, T(0, 9, 2, 0), "window.open", "window", "i", 4, NULL);
    hv_free(r);
    const char *want[] = {"D003", "D004", "D005", "D001", "D006", "D007", "D002"};
    for (int i = 0; i < 7; i++) {
        r = run(&staff, T(0, 9, 3 + i, 0), "call.next", NULL);
        expect_ok(r);
        if (strcmp(ticket_code(r), want[i]) != 0) fail_msg("call %d: got %s, want %s", i, ticket_code(r), want[i]);
        hv_free(r);
        r = run(&staff, T(0, 9, 3 + i, 30), "ticket.finish", "outcome", "s", "即办件", NULL);
        expect_ok(r);
        hv_free(r);
    }
}

/* A normal ticket that has waited normal_max_wait_min (40) is called before priority tickets. */
static void test_max_wait(void **state)
{
    (void)state;
    hk_session kiosk = login("kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq"), staff = login("staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD");
    hv *r = run(&kiosk, T(0, 9, 0, 0), "ticket.issue", "category", "s", "D", NULL);
    hv_free(r);
    r = run(&kiosk, T(0, 9, 0, 1), "ticket.issue", "category", "s", "D", NULL);
    hv_free(r);
    r = run(&staff, T(0, 9, 39, 0), "ticket.issue", "category", "s", "D", "priority", "s", "priority", NULL);
    hv_free(r);
    r = run(&staff, T(0, 9, 39, 1), "ticket.issue", "category", "s", "D", "priority", "s", "priority", NULL);
    hv_free(r);
    r = run(&staff, T(0, 9, 39, 30), "window.open", "window", "i", 4, NULL);
    hv_free(r);
    r = run(&staff, T(0, 9, 39, 59), "call.next", NULL);     /* D001 waited 39:59: priority first */
    assert_string_equal(ticket_code(r), "D003");
    hv_free(r);
    r = run(&staff, T(0, 9, 40, 0), "ticket.finish", "outcome", "s", "即办件", NULL);
    hv_free(r);
    r = run(&staff, T(0, 9, 40, 0), "call.next", NULL);      /* D001 waited 40:00 */
    assert_string_equal(ticket_code(r), "D001");
    hv_free(r);
    r = run(&staff, T(0, 9, 40, 1), "ticket.finish", "outcome", "s", "即办件", NULL);
    hv_free(r);
    r = run(&staff, T(0, 9, 40, 2), "call.next", NULL);      /* D002 waited 40:01 */
    assert_string_equal(ticket_code(r), "D002");
    hv_free(r);
    r = run(&staff, T(0, 9, 40, 3), "ticket.finish", "outcome", "s", "即办件", NULL);
    hv_free(r);
    r = run(&staff, T(0, 9, 40, 4), "call.next", NULL);
    assert_string_equal(ticket_code(r), "D004");
    hv_free(r);
}

static void test_config(void **state)
{
    (void)state;
    char err[256];
    hk_config c;
    size_t base = strlen(config_demo_yaml);
    char yaml[8192];
    snprintf(yaml, sizeof yaml, "%squeue: { priority_max_in_row: 2, normal_max_wait_min: 25, appointment_grace_min: 0 }\n",
             config_demo_yaml);
    assert_int_equal(config_load_string(yaml, strlen(yaml), "q.yaml", &c, err, sizeof err), 0);
    assert_true(c.queue.set);
    assert_int_equal(c.queue.priority_max_in_row, 2);
    assert_int_equal(c.queue.normal_max_wait_min, 25);
    assert_int_equal(c.queue.appointment_early_min, 30);
    assert_int_equal(c.queue.appointment_grace_min, 0);
    hk_config_free(&c);
    snprintf(yaml, sizeof yaml, "%squeue:\n  priority_max_in_row: 0\n", config_demo_yaml);
    assert_int_not_equal(config_load_string(yaml, strlen(yaml), "q.yaml", &c, err, sizeof err), 0);
    assert_non_null(strstr(err, "'priority_max_in_row' in queue must be an integer from 1 to 100"));
    int line = 0;
    for (size_t i = 0; i < base; i++) line += config_demo_yaml[i] == '\n';
    char want[64];
    snprintf(want, sizeof want, "q.yaml:%d:", line + 2);
    assert_non_null(strstr(err, want));
    snprintf(yaml, sizeof yaml, "%squeue: { max_wait: 5 }\n", config_demo_yaml);
    assert_int_not_equal(config_load_string(yaml, strlen(yaml), "q.yaml", &c, err, sizeof err), 0);
    assert_non_null(strstr(err, "unknown key 'max_wait' in queue"));
}

/* The check code: the last 4 of the phone, asked of a kiosk; an unknown number and a wrong code
 * answer alike; 5 failures of one device in 10 minutes and it is refused; replay keeps the code. */
static void test_check_code(void **state)
{
    (void)state;
    hk_session admin = login("admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6"), kiosk = login("kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq");
    hv *r = run(&admin, T(0, 8, 0, 0), "appointment.add", "number", "s", "YY-0100", "name", "s", "张三丰",
                "category", "s", "B", "slot_start", "s", "10:00", "slot_end", "s", "10:30", "phone", "s",
                "138-0013-4567", NULL);
    expect_ok(r);
    hv_free(r);
    hv *unknown = run(&kiosk, T(0, 9, 40, 0), "ticket.issue", "appointment", "s", "YY-0999", "check", "s", "4567", NULL);
    hv *wrong = run(&kiosk, T(0, 9, 40, 0), "ticket.issue", "appointment", "s", "YY-0100", "check", "s", "4568", NULL);
    expect_err(unknown, "not_found");
    expect_err(wrong, "not_found");
    assert_string_equal(hv_get_str(unknown, "msg"), hv_get_str(wrong, "msg"));
    hv_free(unknown);
    hv_free(wrong);
    for (int i = 0; i < 3; i++) {
        r = run(&kiosk, T(0, 9, 41, i), "ticket.issue", "appointment", "s", "YY-0100", NULL);
        expect_err(r, "not_found");
        hv_free(r);
    }
    r = run(&kiosk, T(0, 9, 42, 0), "ticket.issue", "appointment", "s", "YY-0100", "check", "s", "4567", NULL);
    expect_err(r, "unavailable");   /* five failures: even the right code waits */
    hv_free(r);
    r = run(&kiosk, T(0, 9, 51, 0), "ticket.issue", "appointment", "s", "YY-0100", "check", "s", "4567", NULL);
    expect_ok(r);                   /* ten minutes after the first failure */
    hv_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_in, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fairness_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
