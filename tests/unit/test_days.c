/* test_days.c: rules that span business days across modules (posts, queue, appointments,
 * cases, ratings): no ticket code is reused while a ticket of the same code carries over,
 * acknowledged alerts replay as they ran live, a rating keeps its staff member across a month
 * end. Each failed before its fix. Time is passed in: Monday 2025-11-24 (local = UTC here). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/hall_int.h"
#include "fixture.h"

static const char yaml[] =
    "hall: { id: review, name: 测试中心 }\n"
    "tokens:\n"
    "  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk }\n"
    "  - { token: d.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: display }\n"
    "  - { token: s1.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: staff, staff: \"0001\" }\n"
    "  - { token: adm.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: admin }\n"
    "staff:\n"
    "  - { id: \"0001\", name: 张三 }\n"
    "categories:\n"
    "  - { id: A, name: 社保, alert_length: 2 }\n"
    "  - { id: B, name: 不动产 }\n"
    "windows:\n"
    "  - { id: 1, name: 1号窗口, categories: [A, B] }\n";

#define DAY0 1763942400000LL        /* 2025-11-24 00:00, a Monday */
#define DAY_MS 86400000LL

/* day 0 = 2025-11-24 (Monday); day 1 = 2025-11-25, ... (no month end crossed in these tests) */
static hk_time at_d(int d, int hh, int mm)
{
    hk_time t = {DAY0 + d * DAY_MS + ((int64_t)hh * 3600 + mm * 60) * 1000, 20251124 + d, hh * 60 + mm, d % 7};
    return t;
}
static hk_time at(int hh, int mm) { return at_d(0, hh, mm); }

static int setup(void **state)
{
    (void)state;
    return fixture_setup(yaml, "test");
}

/* the same hall with a business day that ends at 03:00 */
static int setup_rollover(void **state)
{
    (void)state;
    static char text[sizeof yaml + 64];
    snprintf(text, sizeof text, "%swork: { rollover: \"03:00\" }\n", yaml);
    return fixture_setup(text, "test");
}

static int teardown(void **state)
{
    (void)state;
    return fixture_teardown();
}

/* Runs a command at t with string ("s") or integer ("i") arguments; returns the reply. */
static hv *run(hk_session *s, hk_time t, const char *cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    hv *r = fixture_vrun(hall, s, t, false, cmd, ap);
    va_end(ap);
    return r;
}

static void ok(hv *r)
{
    if (strcmp(hv_get_str(r, "t"), "ok") != 0) fprintf(stderr, "not ok: %s\n", hv_get_str(r, "msg"));
    assert_string_equal(hv_get_str(r, "t"), "ok");
    hv_free(r);
}

static void tick_hall(hk_hall *h, hk_time t, bool logged)
{
    hk_out out;
    hk_out_init(&out);
    hall_tick(h, t, &out);
    if (logged) fixture_keep(&out);
    hk_out_clear(&out);
}
static void tick(hk_time t) { tick_hall(hall, t, true); }

static hk_session login(const char *token)
{
    hk_session s = {0};
    ok(run(&s, at(8, 0), "hello", "token", "s", token, NULL));
    return s;
}

/* the code of a ticket.issue reply (copied), the reply freed */
static void issued_code(hv *r, char *code, size_t len)
{
    if (strcmp(hv_get_str(r, "t"), "ok") != 0) fprintf(stderr, "not ok: %s\n", hv_get_str(r, "msg"));
    assert_string_equal(hv_get_str(r, "t"), "ok");
    snprintf(code, len, "%s", hv_get_str(hv_get(r, "ticket"), "code"));
    hv_free(r);
}

/* A second hall rebuilt from every event logged so far (the caller frees it). */
static hk_hall *replayed(void)
{
    hk_hall *h = hall_new(&cfg);
    assert_non_null(h);
    for (size_t i = 0; i < log_events->u.a.n; i++) assert_int_equal(hall_replay(h, log_events->u.a.v[i]), 0);
    return h;
}

/* ---- a ticket code is never given twice while a ticket of that code is in the hall ------------- */

static void test_code_not_reused_while_carried_over(void **state)
{
    (void)state;
    hk_session kiosk = login("k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), s1 = login("s1.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa");
    char c1[16], c2[16];
    issued_code(run(&kiosk, at(16, 50), "ticket.issue", "category", "s", "A", NULL), c1, sizeof c1);
    assert_string_equal(c1, "A001");
    /* the day closes with A001 still waiting: it carries over into the next one */
    tick(at_d(1, 0, 1));
    issued_code(run(&kiosk, at_d(1, 8, 30), "ticket.issue", "category", "s", "A", NULL), c2, sizeof c2);
    assert_string_not_equal(c2, c1);      /* was A001 again: two tickets A001 in the hall */
    /* the first call takes the older ticket, and the events say which one unambiguously */
    ok(run(&s1, at_d(1, 9, 0), "window.open", "window", "i", 1, NULL));
    hv *r = run(&s1, at_d(1, 9, 0), "call.next", NULL);
    assert_string_equal(hv_get_str(r, "t"), "ok");
    assert_string_equal(hv_get_str(hv_get(r, "ticket"), "code"), c1);
    assert_string_equal(hv_get_str(hv_get(r, "ticket"), "state"), "called");
    hv_free(r);
    /* the newer ticket still waits, the older one is at the window */
    hk_ticket *t2 = queue_find(&hall->q, c2);
    assert_non_null(t2);
    assert_int_equal(t2->state, TK_WAITING);
    assert_int_equal(queue_waiting(&hall->q, 0, false), 1);
    ok(run(&s1, at_d(1, 9, 5), "ticket.finish", "outcome", "s", "即办件", NULL));
    r = run(&s1, at_d(1, 9, 6), "call.next", NULL);
    assert_string_equal(hv_get_str(hv_get(r, "ticket"), "code"), c2);
    hv_free(r);
    /* and a restart sees the same */
    hk_hall *h2 = replayed();
    assert_int_equal(h2->q.ntickets, hall->q.ntickets);
    for (size_t i = 0; i < hall->q.ntickets; i++) {
        assert_string_equal(h2->q.tickets[i].code, hall->q.tickets[i].code);
        assert_int_equal(h2->q.tickets[i].state, hall->q.tickets[i].state);
    }
    hall_free(h2);
}

/* ---- an acknowledged alert whose cause ended is gone after a restart too ------------------------ */

static size_t visible_alerts(hk_hall *h, int64_t *first_id)
{
    hv *v = posts_view_alerts(h);
    size_t n = v->u.a.n;
    *first_id = 0;
    if (n) hv_get_int(v->u.a.v[0], "id", first_id);
    hv_free(v);
    return n;
}

static void test_acked_alert_replay(void **state)
{
    (void)state;
    hk_session kiosk = login("k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), s1 = login("s1.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), adm = login("adm.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa");
    char code[16];
    ok(run(&s1, at(9, 0), "window.open", "window", "i", 1, NULL));
    issued_code(run(&kiosk, at(9, 1), "ticket.issue", "category", "s", "A", NULL), code, sizeof code);
    issued_code(run(&kiosk, at(9, 1), "ticket.issue", "category", "s", "A", NULL), code, sizeof code);
    tick(at(9, 2));
    int64_t id1 = 0;
    assert_int_equal(visible_alerts(hall, &id1), 1);       /* load: 2 waiting in A */
    ok(run(&adm, at(9, 3), "alert.ack", "alert", "i", (int)id1, NULL));
    tick(at(9, 4));
    /* the cause ends (1 waiting < 80 % of 2), then comes back: a new alert */
    ok(run(&s1, at(9, 5), "call.next", NULL));
    tick(at(9, 6));
    issued_code(run(&kiosk, at(9, 7), "ticket.issue", "category", "s", "A", NULL), code, sizeof code);
    tick(at(9, 8));
    int64_t id2 = 0;
    assert_int_equal(visible_alerts(hall, &id2), 1);
    assert_true(id2 > id1);
    /* a restart: the same alert stands, and the next tick does not clear it */
    hk_hall *h2 = replayed();
    tick_hall(h2, at(9, 9), false);
    tick(at(9, 9));
    int64_t live = 0, again = 0;
    assert_int_equal(visible_alerts(hall, &live), 1);
    assert_int_equal(visible_alerts(h2, &again), 1);       /* was 0: the new alert was cleared */
    assert_int_equal(again, live);
    hall_free(h2);
}


/* ---- a rating keeps who served it across a month's end ---------------------------------------- */

static void test_rating_staff_across_month_end(void **state)
{
    (void)state;
    hk_session kiosk = login("k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), s1 = login("s1.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa");
    char first[16], second[16];
    ok(run(&s1, at_d(6, 23, 0), "window.open", "window", "i", 1, NULL));
    /* 2025-11-30 23:40: served and finished before midnight */
    issued_code(run(&kiosk, at_d(6, 23, 40), "ticket.issue", "category", "s", "A", NULL), first, sizeof first);
    ok(run(&s1, at_d(6, 23, 41), "call.next", NULL));
    ok(run(&s1, at_d(6, 23, 50), "ticket.finish", "outcome", "s", "即办件", NULL));
    /* 2025-12-01 00:05, still the 30th's business day (rollover 03:00): another one finishes */
    hk_time dec1 = {DAY0 + 7 * DAY_MS + 5 * 60000, 20251201, 5, 0};
    issued_code(run(&kiosk, dec1, "ticket.issue", "category", "s", "A", NULL), second, sizeof second);
    ok(run(&s1, dec1, "call.next", NULL));
    ok(run(&s1, dec1, "ticket.finish", "outcome", "s", "即办件", NULL));
    /* the first visitor rates now: the rating is still the staff member's who served */
    ok(run(&kiosk, dec1, "ticket.rate", "code", "s", first, "score", "i", 5, NULL));
    const hv *rec = NULL;
    for (size_t i = log_events->u.a.n; i-- > 0 && !rec;)
        if (!strcmp(hv_get_str(log_events->u.a.v[i], "ev"), "rating.recorded")) rec = log_events->u.a.v[i];
    assert_non_null(rec);
    assert_string_equal(hv_get_str(rec, "code"), first);
    assert_non_null(hv_get_str(rec, "staff"));      /* was nil: 20251130 < 20251201 - 1 as numbers */
    assert_string_equal(hv_get_str(rec, "staff"), "0001");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_code_not_reused_while_carried_over, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acked_alert_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rating_staff_across_month_end, setup_rollover, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
