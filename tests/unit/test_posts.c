/* test_posts.c: AB posts, check-in, the work alerts (late check-in, A away, empty window, load and
 * its suggestion), the business day with a configured rollover, and that replaying the emitted
 * events rebuilds the same posts and alerts. Time is passed in: a Monday, 2025-11-24. */
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
    "hall: { id: posts, name: 测试中心 }\n"
    "hours:\n"
    "  - { days: [mon, tue, wed, thu, fri], open: [\"09:00-12:00\", \"13:00-17:00\"] }\n"
    "tokens:\n"
    "  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk }\n"
    "  - { token: d.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: display }\n"
    "  - { token: s1.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: staff, staff: \"0001\" }\n"
    "  - { token: s2.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: staff, staff: \"0002\" }\n"
    "  - { token: s3.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: staff, staff: \"0003\" }\n"
    "  - { token: s4.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: staff, staff: \"0004\" }\n"
    "  - { token: sec.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: security }\n"
    "  - { token: adm.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: admin }\n"
    "staff:\n"
    "  - { id: \"0001\", name: 张三, title: 综合受理员, photo: /photos/0001.jpg }\n"
    "  - { id: \"0002\", name: 李四 }\n"
    "  - { id: \"0003\", name: 王五 }\n"
    "  - { id: \"0004\", name: 赵六 }\n"
    "categories:\n"
    "  - { id: A, name: 社保, alert_length: 5 }\n"
    "  - { id: B, name: 不动产, alert_wait_min: 10 }\n"
    "  - { id: C, name: 其他 }\n"
    "windows:\n"
    "  - { id: 1, name: 1号窗口, categories: [B, C], posts: { a: \"0001\", b: \"0002\" } }\n"
    "  - { id: 2, name: 2号窗口, categories: [A], posts: { a: \"0002\", b: \"0001\" } }\n"
    "  - { id: 3, name: 3号窗口, categories: [B, A], posts: { a: \"0003\" } }\n"
    "  - { id: 4, name: 4号窗口, categories: [A, C] }\n"
    "  - { id: 5, name: 5号窗口, categories: [C], posts: { b: \"0004\" } }\n"
    "work: { checkin_before_min: 10, away_alert_min: 10, empty_alert_min: 5 }\n";

#define DAY0 1763942400000LL        /* 2025-11-24 00:00, a Monday (local = UTC in these tests) */

static hk_time at_day(int32_t day, int wday, int64_t base, int hh, int mm, int ss)
{
    hk_time t = {base + ((int64_t)hh * 3600 + mm * 60 + ss) * 1000, day, hh * 60 + mm, wday};
    return t;
}
static hk_time at(int hh, int mm, int ss) { return at_day(20251124, 0, DAY0, hh, mm, ss); }

static int setup(void **state)
{
    (void)state;
    return fixture_setup(yaml, "test");
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

static void err(hv *r, const char *code)
{
    assert_string_equal(hv_get_str(r, "t"), "err");
    assert_string_equal(hv_get_str(r, "code"), code);
    assert_non_null(hv_get_str(r, "msg"));
    hv_free(r);
}

static void tick(hk_time t)
{
    hk_out out;
    hk_out_init(&out);
    hall_tick(hall, t, &out);
    fixture_keep(&out);
    hk_out_clear(&out);
}

static hk_session login(const char *token)
{
    hk_session s = {0};
    ok(run(&s, at(8, 0, 0), "hello", "token", "s", token, NULL));
    return s;
}

/* the n-th event of the last step named name (with kind, when given), or NULL */
static const hv *last_ev(const char *name, const char *kind)
{
    for (size_t i = 0; i < last_events->u.a.n; i++) {
        const hv *e = last_events->u.a.v[i];
        if (strcmp(hv_get_str(e, "ev"), name) != 0) continue;
        if (kind && (!hv_get_str(e, "kind") || strcmp(hv_get_str(e, "kind"), kind) != 0)) continue;
        return e;
    }
    return NULL;
}

static int64_t iget(const hv *m, const char *k)
{
    int64_t v = -1;
    assert_int_equal(hv_get_int(m, k, &v), 0);
    return v;
}

/* the active alert of kind for window (0: any) / category (NULL: any), from alerts.list */
static int64_t active_alert(const char *kind, int window, const char *cat)
{
    hk_session adm = login("adm.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa");
    hv *r = run(&adm, at(8, 0, 0), "alerts.list", NULL);
    const hv *list = hv_get(r, "alerts");
    int64_t found = 0;
    for (size_t i = 0; list && i < list->u.a.n; i++) {
        const hv *a = list->u.a.v[i];
        int64_t w = 0;
        hv_get_int(a, "window", &w);
        if (strcmp(hv_get_str(a, "kind"), kind) != 0) continue;
        if (window && w != window) continue;
        if (cat && (!hv_get_str(a, "category") || strcmp(hv_get_str(a, "category"), cat) != 0)) continue;
        found = iget(a, "id");
    }
    hv_free(r);
    return found;
}

static void test_checkin(void **state)
{
    (void)state;
    hk_session s1 = login("s1.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), s2 = login("s2.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), s3 = login("s3.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), kiosk = login("k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), adm = login("adm.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa");
    hv *r = run(&s1, at(8, 45, 0), "staff.checkin", "window", "i", 1, NULL);
    assert_string_equal(hv_get_str(r, "post"), "a");
    hv_free(r);
    const hv *e = last_ev("staff.checked_in", NULL);
    assert_non_null(e);
    assert_string_equal(hv_get_str(e, "staff"), "0001");
    assert_string_equal(hv_get_str(e, "post"), "a");
    bool late = true;
    assert_int_equal(hv_get_bool(e, "late", &late), 0);
    assert_false(late);
    /* 08:51 is after 09:00 minus 10 minutes: late; 0002 is post a of window 2 */
    r = run(&s2, at(8, 51, 0), "staff.checkin", "window", "i", 2, NULL);
    assert_true(hv_get_bool(r, "late", &late) == 0 && late);
    hv_free(r);
    e = last_ev("staff.checked_in", NULL);
    assert_true(hv_get_bool(e, "late", &late) == 0 && late);
    /* 08:50 exactly is still on time */
    r = run(&s3, at(8, 50, 59), "staff.checkin", "window", "i", 3, NULL);
    assert_true(hv_get_bool(r, "late", &late) == 0 && !late);
    hv_free(r);
    err(run(&s3, at(8, 52, 0), "staff.checkin", "window", "i", 3, NULL), "conflict");     /* already in */
    err(run(&s3, at(8, 52, 0), "staff.checkin", "window", "i", 1, NULL), "forbidden");    /* no post there */
    err(run(&s3, at(8, 52, 0), "window.open", "window", "i", 1, NULL), "forbidden");      /* nor may it serve */
    assert_null(last_ev("window.changed", NULL));
    err(run(&s3, at(8, 52, 0), "staff.checkin", "window", "i", 9, NULL), "not_found");
    hv *big = hv_map();
    hv_set(big, "t", hv_str("staff.checkin"));
    hv_set(big, "id", hv_int(next_id++));
    hv_set(big, "window", hv_int(((int64_t)1 << 32) + 1));    /* not window 1 in disguise */
    hk_out bo;
    hk_out_init(&bo);
    hall_cmd(hall, &s3, big, at(8, 52, 0), &bo);
    assert_string_equal(hv_get_str(bo.reply, "code"), "not_found");
    hk_out_clear(&bo);
    hv_free(big);
    err(run(&s3, at(8, 52, 0), "staff.checkin", "window", "s", "1", NULL), "bad_request");
    err(run(&kiosk, at(8, 52, 0), "staff.checkin", "window", "i", 1, NULL), "forbidden");
    err(run(&adm, at(8, 52, 0), "staff.checkout", NULL), "forbidden");
    /* checking out, then in again as B elsewhere */
    r = run(&s1, at(9, 30, 0), "staff.checkout", NULL);
    assert_int_equal(iget(r, "window"), 1);
    hv_free(r);
    e = last_ev("staff.checked_out", NULL);
    assert_string_equal(hv_get_str(e, "reason"), "checkout");
    err(run(&s1, at(9, 31, 0), "staff.checkout", NULL), "conflict");
    r = run(&s1, at(9, 31, 0), "staff.checkin", "window", "i", 2, NULL);     /* 0001 is post b there */
    assert_string_equal(hv_get_str(r, "post"), "b");
    hv_free(r);
}

static void test_duty_board(void **state)
{
    (void)state;
    hk_session s1 = login("s1.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), disp = login("d.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa");
    ok(run(&s1, at(8, 45, 0), "staff.checkin", "window", "i", 1, NULL));
    hv *r = run(&disp, at(8, 46, 0), "duty.get", NULL);
    const hv *wins = hv_get(r, "windows");
    assert_int_equal(wins->u.a.n, 5);
    const hv *w1 = wins->u.a.v[0];
    assert_int_equal(iget(w1, "id"), 1);
    assert_string_equal(hv_get_str(w1, "name"), "1号窗口");
    const hv *a = hv_get(hv_get(w1, "posts"), "a"), *b = hv_get(hv_get(w1, "posts"), "b");
    assert_string_equal(hv_get_str(a, "name"), "张三");
    assert_string_equal(hv_get_str(a, "title"), "综合受理员");
    assert_string_equal(hv_get_str(a, "photo"), "/photos/0001.jpg");
    bool in = false;
    assert_true(hv_get_bool(a, "checked_in", &in) == 0 && in);
    assert_true(hv_get_bool(b, "checked_in", &in) == 0 && !in);
    assert_string_equal(hv_get_str(w1, "on_duty"), "0001");
    const hv *w4 = wins->u.a.v[3];
    assert_int_equal(hv_get(hv_get(w4, "posts"), "a")->t, HV_NIL);
    hv_free(r);
    /* alerts are in the snapshot of staff and admin, never of a display */
    hv *st = hall_state(hall, HK_ROLE_DISPLAY, at(9, 0, 0));
    assert_false(hv_has(st, "alerts"));
    hv_free(st);
    st = hall_state(hall, HK_ROLE_STAFF, at(9, 0, 0));
    assert_true(hv_has(st, "alerts"));
    hv_free(st);
    hv *ev = hall_event("alert.raised");
    assert_int_equal(hall_event_audience(ev) & (HK_ROLE_DISPLAY | HK_ROLE_KIOSK), 0);
    hv_free(ev);
    ev = hall_event("staff.checked_in");
    assert_int_equal(hall_event_audience(ev) & (HK_ROLE_DISPLAY | HK_ROLE_KIOSK), 0);
    hv_free(ev);
}

static void test_late_checkin_alert(void **state)
{
    (void)state;
    hk_session s1 = login("s1.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), s3 = login("s3.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa");
    tick(at(8, 0, 0));
    ok(run(&s3, at(8, 40, 0), "staff.checkin", "window", "i", 3, NULL));
    tick(at(8, 50, 59));
    assert_null(last_ev("alert.raised", "late_checkin"));
    tick(at(8, 51, 0));
    /* posts a of windows 1 and 2 are missing; window 3's is here; window 5 has only a B post */
    assert_int_equal(last_events->u.a.n, 2);
    const hv *e = last_ev("alert.raised", "late_checkin");
    assert_non_null(e);
    assert_int_equal(iget(e, "window"), 1);
    assert_string_equal(hv_get_str(e, "staff"), "0001");
    assert_non_null(hv_get_str(e, "msg"));
    int64_t id = active_alert("late_checkin", 1, NULL);
    assert_true(id > 0);
    assert_true(active_alert("late_checkin", 2, NULL) > 0);
    tick(at(8, 52, 0));
    assert_int_equal(last_events->u.a.n, 0);          /* raised once */
    /* the late one arrives: flagged, and the alert clears itself */
    hv *r = run(&s1, at(8, 55, 0), "staff.checkin", "window", "i", 1, NULL);
    bool late = false;
    assert_true(hv_get_bool(r, "late", &late) == 0 && late);
    hv_free(r);
    tick(at(8, 55, 1));
    e = last_ev("alert.cleared", NULL);
    assert_non_null(e);
    assert_int_equal(iget(e, "id"), id);
    assert_string_equal(hv_get_str(e, "reason"), "resolved");
    assert_int_equal(active_alert("late_checkin", 1, NULL), 0);
    assert_true(active_alert("late_checkin", 2, NULL) > 0);
    /* at noon the morning is over: the open alert clears; it comes back before the afternoon */
    tick(at(12, 0, 0));
    assert_int_equal(active_alert("late_checkin", 2, NULL), 0);
    tick(at(12, 51, 0));
    assert_true(active_alert("late_checkin", 2, NULL) > 0);
}

static void test_ab_away(void **state)
{
    (void)state;
    hk_session s1 = login("s1.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), s2 = login("s2.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), s3 = login("s3.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), adm = login("adm.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa");
    ok(run(&s1, at(8, 40, 0), "staff.checkin", "window", "i", 1, NULL));
    ok(run(&s2, at(8, 40, 0), "staff.checkin", "window", "i", 2, NULL));
    ok(run(&s3, at(8, 40, 0), "staff.checkin", "window", "i", 3, NULL));
    ok(run(&s1, at(9, 0, 0), "window.open", "window", "i", 1, NULL));
    tick(at(9, 0, 1));
    ok(run(&s1, at(9, 10, 0), "window.pause", "reason", "s", "离开", NULL));
    tick(at(9, 10, 0));
    tick(at(9, 19, 59));
    assert_null(last_ev("alert.raised", "ab_away"));
    tick(at(9, 20, 0));
    const hv *e = last_ev("alert.raised", "ab_away");
    assert_non_null(e);
    assert_int_equal(iget(e, "window"), 1);
    assert_string_equal(hv_get_str(e, "staff"), "0001");
    assert_string_equal(hv_get_str(e, "notify"), "0002");   /* B takes over */
    int64_t id = iget(e, "id");
    /* only the B post (or a manager) acknowledges it */
    err(run(&s3, at(9, 21, 0), "alert.ack", "alert", "i", (int)id, NULL), "forbidden");
    err(run(&s2, at(9, 21, 0), "alert.ack", NULL), "bad_request");
    err(run(&s2, at(9, 21, 0), "alert.ack", "alert", "i", 999, NULL), "not_found");
    hv *r = run(&s2, at(9, 21, 0), "alert.ack", "alert", "i", (int)id, NULL);
    assert_int_equal(iget(hv_get(r, "alert"), "id"), id);
    hv_free(r);
    e = last_ev("alert.cleared", NULL);
    assert_string_equal(hv_get_str(e, "reason"), "ack");
    assert_string_equal(hv_get_str(e, "by"), "0002");
    assert_int_equal(active_alert("ab_away", 1, NULL), 0);
    err(run(&adm, at(9, 21, 0), "alert.ack", "alert", "i", (int)id, NULL), "not_found");
    tick(at(9, 22, 0));
    assert_null(last_ev("alert.raised", "ab_away"));        /* acknowledged: not raised again */
    ok(run(&s1, at(9, 25, 0), "window.resume", NULL));
    tick(at(9, 25, 0));
    /* A checks out and leaves the window open: away from the check-out */
    ok(run(&s1, at(10, 0, 0), "staff.checkout", NULL));
    tick(at(10, 0, 0));
    tick(at(10, 9, 59));
    assert_null(last_ev("alert.raised", "ab_away"));
    tick(at(10, 10, 0));
    e = last_ev("alert.raised", "ab_away");
    assert_non_null(e);
    id = iget(e, "id");
    /* A is back: the alert clears itself */
    ok(run(&s1, at(10, 12, 0), "staff.checkin", "window", "i", 1, NULL));
    tick(at(10, 12, 0));
    e = last_ev("alert.cleared", NULL);
    assert_non_null(e);
    assert_int_equal(iget(e, "id"), id);
    /* A checks out, B takes the window over (it is open under B's name): no alert */
    ok(run(&s1, at(10, 20, 0), "window.close", NULL));
    ok(run(&s1, at(10, 20, 0), "staff.checkout", NULL));
    ok(run(&s2, at(10, 21, 0), "staff.checkout", NULL));
    ok(run(&s2, at(10, 21, 0), "staff.checkin", "window", "i", 1, NULL));
    ok(run(&s2, at(10, 21, 0), "window.open", "window", "i", 1, NULL));
    tick(at(10, 21, 0));
    tick(at(10, 40, 0));
    assert_int_equal(active_alert("ab_away", 1, NULL), 0);
    /* admin acknowledges anything */
    assert_true(active_alert("window_empty", 2, NULL) > 0);
    ok(run(&adm, at(10, 41, 0), "alert.ack", "alert", "i", (int)active_alert("window_empty", 2, NULL), NULL));
    /* B pausing the window B runs tells no one */
    ok(run(&s2, at(10, 42, 0), "window.pause", NULL));
    tick(at(10, 42, 0));
    tick(at(10, 55, 0));
    assert_int_equal(active_alert("ab_away", 1, NULL), 0);
}

static void test_window_empty(void **state)
{
    (void)state;
    hk_session s3 = login("s3.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), s1 = login("s1.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), s2 = login("s2.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa");
    ok(run(&s1, at(8, 30, 0), "staff.checkin", "window", "i", 1, NULL));
    ok(run(&s2, at(8, 30, 0), "staff.checkin", "window", "i", 2, NULL));
    ok(run(&s1, at(8, 30, 0), "window.open", "window", "i", 1, NULL));
    ok(run(&s2, at(8, 30, 0), "window.open", "window", "i", 2, NULL));
    tick(at(8, 30, 1));
    tick(at(9, 4, 59));
    assert_null(last_ev("alert.raised", "window_empty"));
    tick(at(9, 5, 0));
    /* window 3 (closed, post a missing) and window 5 (only a B post, no one here) */
    const hv *e = last_ev("alert.raised", "window_empty");
    assert_non_null(e);
    assert_true(active_alert("window_empty", 3, NULL) > 0);
    assert_true(active_alert("window_empty", 5, NULL) > 0);
    assert_int_equal(active_alert("window_empty", 1, NULL), 0);
    assert_int_equal(active_alert("window_empty", 4, NULL), 0);   /* no posts: not expected open */
    /* opened without a check-in, the window still counts as empty */
    ok(run(&s3, at(9, 10, 0), "window.open", "window", "i", 3, NULL));
    tick(at(9, 10, 0));
    assert_true(active_alert("window_empty", 3, NULL) > 0);
    ok(run(&s3, at(9, 11, 0), "staff.checkin", "window", "i", 3, NULL));
    tick(at(9, 11, 0));
    assert_int_equal(active_alert("window_empty", 3, NULL), 0);
    /* closing it restarts the count from the moment it closed */
    ok(run(&s3, at(10, 0, 0), "window.close", NULL));
    tick(at(10, 0, 0));
    tick(at(10, 4, 59));
    assert_int_equal(active_alert("window_empty", 3, NULL), 0);
    tick(at(10, 5, 0));
    assert_true(active_alert("window_empty", 3, NULL) > 0);
    /* lunch: the hall is closed, nothing is expected open */
    tick(at(12, 0, 0));
    assert_int_equal(active_alert("window_empty", 3, NULL), 0);
    assert_int_equal(active_alert("window_empty", 5, NULL), 0);
    tick(at(13, 4, 59));
    assert_int_equal(active_alert("window_empty", 3, NULL), 0);
    tick(at(13, 5, 0));
    assert_true(active_alert("window_empty", 3, NULL) > 0);
}

static int64_t waiting_of(const char *cat)
{
    hv *st = hall_state(hall, HK_ROLE_ADMIN, at(9, 0, 0));
    int64_t n = iget(hv_get(hv_get(st, "queues"), cat), "waiting");
    hv_free(st);
    return n;
}

static void test_load_alert(void **state)
{
    (void)state;
    hk_session k = login("k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), s2 = login("s2.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), s1 = login("s1.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), s3 = login("s3.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa");
    ok(run(&s2, at(8, 30, 0), "staff.checkin", "window", "i", 2, NULL));
    ok(run(&s2, at(8, 30, 0), "window.open", "window", "i", 2, NULL));    /* serves A */
    for (int i = 0; i < 4; i++) ok(run(&k, at(9, 0, i), "ticket.issue", "category", "s", "A", NULL));
    tick(at(9, 0, 10));
    assert_null(last_ev("alert.raised", "load"));
    ok(run(&k, at(9, 0, 11), "ticket.issue", "category", "s", "A", NULL));
    tick(at(9, 0, 12));
    const hv *e = last_ev("alert.raised", "load");
    assert_non_null(e);
    assert_string_equal(hv_get_str(e, "category"), "A");
    /* closed windows serving A: 3 ([B, A]) and 4 ([A, C]); 4 lists A first */
    assert_int_equal(iget(e, "suggest_window"), 4);
    assert_non_null(strstr(hv_get_str(e, "msg"), "4号窗口"));
    /* 4 of 5 waiting is 80 %: the alert holds; 3 clears it */
    ok(run(&s2, at(9, 1, 0), "call.next", NULL));
    assert_int_equal(waiting_of("A"), 4);
    tick(at(9, 1, 1));
    assert_true(active_alert("load", 0, "A") > 0);
    ok(run(&s2, at(9, 2, 0), "ticket.noshow", NULL));
    ok(run(&s2, at(9, 2, 0), "call.next", NULL));
    tick(at(9, 2, 1));
    e = last_ev("alert.cleared", NULL);
    assert_non_null(e);
    assert_string_equal(hv_get_str(e, "kind"), "load");
    assert_int_equal(active_alert("load", 0, "A"), 0);
    /* with post a of window 3 checked in, window 3 can open at once: it is suggested */
    ok(run(&s3, at(9, 3, 0), "staff.checkin", "window", "i", 3, NULL));
    for (int i = 0; i < 2; i++) ok(run(&k, at(9, 3, i), "ticket.issue", "category", "s", "A", NULL));
    tick(at(9, 3, 10));
    e = last_ev("alert.raised", "load");
    assert_non_null(e);
    assert_int_equal(iget(e, "suggest_window"), 3);
    /* the estimated wait: B is served by window 1 only (closed: one window assumed), 5 min each */
    ok(run(&k, at(9, 4, 0), "ticket.issue", "category", "s", "B", NULL));
    tick(at(9, 4, 1));
    assert_null(last_ev("alert.raised", "load"));
    ok(run(&k, at(9, 4, 2), "ticket.issue", "category", "s", "B", NULL));
    tick(at(9, 4, 3));
    e = last_ev("alert.raised", "load");
    assert_non_null(e);
    assert_string_equal(hv_get_str(e, "category"), "B");
    assert_true(iget(e, "suggest_window") == 1 || iget(e, "suggest_window") == 3);
    /* every window serving B open: no window to suggest (and C, with no thresholds, never alerts) */
    ok(run(&s1, at(9, 5, 0), "staff.checkin", "window", "i", 1, NULL));
    ok(run(&s1, at(9, 5, 0), "window.open", "window", "i", 1, NULL));
    ok(run(&s3, at(9, 5, 0), "window.open", "window", "i", 3, NULL));
    for (int i = 0; i < 10; i++) ok(run(&k, at(9, 6, i), "ticket.issue", "category", "s", "C", NULL));
    tick(at(9, 6, 30));
    assert_int_equal(active_alert("load", 0, "C"), 0);
}

static void replay_equal(hk_time t)
{
    hk_hall *copy = hall_new(&cfg);
    for (size_t i = 0; i < log_events->u.a.n; i++) assert_int_equal(hall_replay(copy, log_events->u.a.v[i]), 0);
    hv *a = hall_state(hall, HK_ROLE_ADMIN, t), *b = hall_state(copy, HK_ROLE_ADMIN, t);
    assert_true(hv_equal(a, b));
    hv_free(a);
    hv_free(b);
    /* the duty board too */
    hk_session sa = {.role = HK_ROLE_DISPLAY}, sb = {.role = HK_ROLE_DISPLAY};
    hv *req = hv_map();
    hv_set(req, "t", hv_str("duty.get"));
    hv_set(req, "id", hv_int(1));
    hk_out oa, ob;
    hk_out_init(&oa);
    hk_out_init(&ob);
    hall_cmd(hall, &sa, req, t, &oa);
    hall_cmd(copy, &sb, req, t, &ob);
    assert_true(hv_equal(oa.reply, ob.reply));
    /* and both go on alike: the next tick raises and clears the same */
    hk_out_clear(&oa);
    hk_out_clear(&ob);
    hall_tick(hall, t, &oa);
    hall_tick(copy, t, &ob);
    /* (a queue.changed the live hall still owes is a snapshot, not state: left out) */
    size_t ia = 0, ib = 0;
    for (;; ia++, ib++) {
        while (ia < oa.nevents && !strcmp(hv_get_str(oa.events[ia], "ev"), "queue.changed")) ia++;
        while (ib < ob.nevents && !strcmp(hv_get_str(ob.events[ib], "ev"), "queue.changed")) ib++;
        if (ia == oa.nevents || ib == ob.nevents) break;
        assert_true(hv_equal(oa.events[ia], ob.events[ib]));
    }
    assert_true(ia == oa.nevents && ib == ob.nevents);
    hk_out_clear(&oa);
    hk_out_clear(&ob);
    hv_free(req);
    hall_free(copy);
}

static void test_replay(void **state)
{
    (void)state;
    hk_session s1 = login("s1.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), s2 = login("s2.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), k = login("k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa");
    tick(at(8, 0, 0));
    ok(run(&s1, at(8, 55, 0), "staff.checkin", "window", "i", 1, NULL));     /* late */
    ok(run(&s2, at(8, 40, 0), "staff.checkin", "window", "i", 2, NULL));
    ok(run(&s2, at(9, 0, 0), "window.open", "window", "i", 2, NULL));
    for (int i = 0; i < 6; i++) ok(run(&k, at(9, 1, i), "ticket.issue", "category", "s", "A", NULL));
    tick(at(9, 2, 0));
    ok(run(&s2, at(9, 3, 0), "window.pause", NULL));
    tick(at(9, 3, 0));
    tick(at(9, 13, 0));                   /* ab_away on window 2, empty windows 3 and 5, load A */
    assert_true(active_alert("ab_away", 2, NULL) > 0);
    assert_true(active_alert("load", 0, "A") > 0);
    ok(run(&s1, at(9, 14, 0), "alert.ack", "alert", "i", (int)active_alert("ab_away", 2, NULL), NULL));
    replay_equal(at(9, 14, 30));
}

/* The config changes across a restart (window 1 loses its posts): its alerts are cleared. */
static void test_orphan_cleared(void **state)
{
    (void)state;
    tick(at(8, 0, 0));
    tick(at(8, 51, 0));
    int64_t id = active_alert("late_checkin", 1, NULL);
    assert_true(id > 0);
    char text[4096];
    const char *from = ", posts: { a: \"0001\", b: \"0002\" } }";
    const char *p = strstr(yaml, from);
    assert_non_null(p);
    snprintf(text, sizeof text, "%.*s }%s", (int)(p - yaml), yaml, p + strlen(from));
    hk_config c2;
    char e[256];
    assert_int_equal(config_load_string(text, strlen(text), "changed", &c2, e, sizeof e), 0);
    hk_hall *h2 = hall_new(&c2);
    for (size_t i = 0; i < log_events->u.a.n; i++) assert_int_equal(hall_replay(h2, log_events->u.a.v[i]), 0);
    hk_out out;
    hk_out_init(&out);
    hall_tick(h2, at(8, 52, 0), &out);
    bool cleared = false, window2 = false;
    for (size_t i = 0; i < out.nevents; i++) {
        int64_t x = 0;
        if (!strcmp(hv_get_str(out.events[i], "ev"), "alert.cleared") && hv_get_int(out.events[i], "id", &x) == 0)
            cleared |= x == id, window2 |= x == active_alert("late_checkin", 2, NULL);
    }
    assert_true(cleared);
    assert_false(window2);        /* window 2's alert still has its cause */
    hv *alerts = posts_view_alerts(h2);
    assert_int_equal(alerts->u.a.n, 2);       /* windows 2 and 3: their posts a are missing */
    hv_free(alerts);
    hk_out_clear(&out);
    hall_free(h2);
    hk_config_free(&c2);
}

static void test_business_day(void **state)
{
    (void)state;
    hk_config c;
    memset(&c, 0, sizeof c);
    hk_time t = at(2, 59, 0);
    assert_int_equal(posts_business_day(&c, t), 20251124);
    c.work.rollover_min = 3 * 60;
    assert_int_equal(posts_business_day(&c, t), 20251123);
    assert_int_equal(posts_business_day(&c, at(3, 0, 0)), 20251124);
    c.work.rollover_min = 20 * 60;
    assert_int_equal(posts_business_day(&c, at(19, 59, 59)), 20251124);
    assert_int_equal(posts_business_day(&c, at(20, 0, 0)), 20251125);
    /* across months, years and a leap day */
    hk_time nye = {0, 20251231, 21 * 60, 2};
    assert_int_equal(posts_business_day(&c, nye), 20260101);
    c.work.rollover_min = 6 * 60;
    hk_time mar1 = {0, 20240301, 60, 4};
    assert_int_equal(posts_business_day(&c, mar1), 20240229);
    hk_time jan1 = {0, 20260101, 60, 3};
    assert_int_equal(posts_business_day(&c, jan1), 20251231);
}

static const hv *day_closed_of(void)
{
    return last_ev("day.closed", NULL);
}

static void test_rollover_time(void **state)
{
    (void)state;
    /* the same hall with the day starting at 03:00 */
    fixture_teardown();
    char text[4096];
    snprintf(text, sizeof text, "%s", yaml);
    char *w = strstr(text, "work: {");
    assert_non_null(w);
    snprintf(w, sizeof text - (size_t)(w - text), "work: { rollover: \"03:00\" }\n");
    fixture_setup(text, "test");
    hk_session k = login("k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), s2 = login("s2.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa");
    ok(run(&s2, at(8, 40, 0), "staff.checkin", "window", "i", 2, NULL));
    ok(run(&s2, at(9, 0, 0), "window.open", "window", "i", 2, NULL));
    for (int i = 0; i < 3; i++) ok(run(&k, at(9, 0, i), "ticket.issue", "category", "s", "A", NULL));
    ok(run(&k, at(9, 0, 5), "ticket.issue", "category", "s", "B", NULL));
    ok(run(&s2, at(9, 2, 0), "call.next", NULL));                 /* A001 waited 2 min */
    ok(run(&s2, at(9, 3, 0), "ticket.start", NULL));
    ok(run(&s2, at(9, 7, 0), "ticket.finish", "outcome", "s", "即办件", NULL));   /* 4 min service */
    ok(run(&s2, at(9, 10, 1), "call.next", NULL));                /* A002 waited 10 min */
    ok(run(&s2, at(9, 11, 0), "ticket.noshow", NULL));
    ok(run(&s2, at(9, 12, 0), "call.next", NULL));                /* A003 at the window, carried */
    int64_t d1 = DAY0 + 86400000LL;
    /* midnight is not the end of the day any more; 03:00 is */
    hk_out out;
    hk_out_init(&out);
    posts_roll_day(hall, &out, at_day(20251125, 1, d1, 0, 0, 1));
    assert_int_equal(out.nevents, 0);
    posts_roll_day(hall, &out, at_day(20251125, 1, d1, 2, 59, 59));
    assert_int_equal(out.nevents, 0);
    posts_roll_day(hall, &out, at_day(20251125, 1, d1, 3, 0, 0));
    fixture_keep(&out);
    hk_out_clear(&out);
    const hv *e = day_closed_of();
    assert_non_null(e);
    assert_int_equal(iget(e, "closed"), 20251124);
    assert_int_equal(iget(e, "opened"), 20251125);
    assert_int_equal(iget(e, "issued"), 4);
    assert_int_equal(iget(e, "served"), 1);
    assert_int_equal(iget(e, "noshow"), 1);
    assert_int_equal(iget(e, "carried_over"), 2);
    assert_string_equal(hv_get_str(e, "rollover"), "03:00");
    const hv *a = hv_get(hv_get(e, "categories"), "A"), *b = hv_get(hv_get(e, "categories"), "B");
    assert_int_equal(iget(a, "issued"), 3);
    assert_int_equal(iget(a, "served"), 1);
    assert_int_equal(iget(a, "noshow"), 1);
    assert_int_equal(iget(a, "avg_service_s"), 240);
    assert_int_equal(iget(a, "max_wait_s"), 718);                /* A003: 09:00:02 to 09:12 */
    assert_int_equal(iget(a, "avg_wait_s"), (120 + 600 + 718) / 3);
    assert_int_equal(iget(b, "issued"), 1);
    assert_int_equal(iget(b, "served"), 0);
    assert_int_equal(iget(e, "avg_service_s"), 240);
    /* the tick of the new business day checks out yesterday's staff */
    tick(at_day(20251125, 1, d1, 3, 0, 1));
    e = last_ev("staff.checked_out", NULL);
    assert_non_null(e);
    assert_string_equal(hv_get_str(e, "reason"), "day_end");
    replay_equal(at_day(20251125, 1, d1, 3, 0, 2));
}

/* The hall itself rolls at work.rollover: the tick closes the day at 03:00, not at midnight, and
 * ticket codes restart with the business day (hall_roll_day and ticket.issue use posts.c). */
static void test_rollover_live(void **state)
{
    (void)state;
    fixture_teardown();
    char text[4096];
    snprintf(text, sizeof text, "%s", yaml);
    char *w = strstr(text, "work: {");
    snprintf(w, sizeof text - (size_t)(w - text), "work: { rollover: \"03:00\" }\n");
    char *hr = strstr(text, "[mon, tue, wed, thu, fri], open: [\"09:00-12:00\", \"13:00-17:00\"]");
    assert_non_null(hr);
    memcpy(hr, "[mon, tue, wed, thu, fri], open: [\"00:00-12:00\", \"13:00-24:00\"]", 60);
    fixture_setup(text, "test");
    hk_session k = login("k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa");
    int64_t d1 = DAY0 + 86400000LL;
    hv *r;
    for (int i = 0; i < 2; i++) ok(run(&k, at(9, 0, i), "ticket.issue", "category", "s", "A", NULL));
    tick(at_day(20251125, 1, d1, 0, 0, 1));
    assert_null(last_ev("day.closed", NULL));                     /* midnight: still the 24th */
    r = run(&k, at_day(20251125, 1, d1, 1, 0, 0), "ticket.issue", "category", "s", "A", NULL);
    assert_string_equal(hv_get_str(hv_get(r, "ticket"), "code"), "A003");
    hv_free(r);
    assert_int_equal(iget(last_ev("ticket.issued", NULL), "day"), 20251124);
    tick(at_day(20251125, 1, d1, 2, 59, 59));
    assert_null(last_ev("day.closed", NULL));
    tick(at_day(20251125, 1, d1, 3, 0, 0));
    const hv *e = last_ev("day.closed", NULL);
    assert_non_null(e);
    assert_int_equal(iget(e, "closed"), 20251124);
    assert_int_equal(iget(e, "opened"), 20251125);
    assert_int_equal(iget(e, "issued"), 3);
    assert_int_equal(iget(e, "carried_over"), 3);
    assert_int_equal(iget(hv_get(hv_get(e, "categories"), "A"), "issued"), 3);
    r = run(&k, at_day(20251125, 1, d1, 3, 1, 0), "ticket.issue", "category", "s", "A", NULL);
    /* codes restart at 001 but step over the three carried over (A001-A003): no two tickets in
     * the hall share a code (events and phone links name a ticket by its code) */
    assert_string_equal(hv_get_str(hv_get(r, "ticket"), "code"), "A004");
    hv_free(r);
    assert_int_equal(waiting_of("A"), 4);                                   /* nothing lost */
    replay_equal(at_day(20251125, 1, d1, 3, 2, 0));
}

static void test_config_errors(void **state)
{
    (void)state;
    static const struct { const char *from, *to, *want; } cases[] = {
        {"posts: { a: \"0003\" }", "posts: { a: \"0009\" }", "unknown staff id '0009'"},
        {"posts: { a: \"0003\" }", "posts: { a: \"0001\" }", "already post a of window 1"},
        {"posts: { a: \"0003\" }", "posts: { a: \"0003\", b: \"0003\" }", "both post a and post b"},
        {"posts: { a: \"0003\" }", "posts: { c: \"0003\" }", "unknown key 'c' in posts of window 3"},
        {"posts: { a: \"0003\" }", "posts: {}", "must name post a, post b or both"},
        {"work: { checkin_before_min: 10,", "work: { rollover: \"25:00\", checkin_before_min: 10,", "'rollover' in work"},
        {"work: { checkin_before_min: 10,", "work: { rollover: 3, checkin_before_min: 10,", "'rollover' in work"},
        {"away_alert_min: 10", "away_alert_min: 0", "'away_alert_min' in work must be an integer from 1"},
        {"work: { checkin_before_min: 10,", "work: { shift: 1, checkin_before_min: 10,", "unknown key 'shift' in work"},
        {"alert_length: 5", "alert_length: -1", "'alert_length' in category"},
        {"alert_wait_min: 10", "alert_wait_min: ten", "'alert_wait_min' in category"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[4096], err_[256];
        const char *p = strstr(yaml, cases[i].from);
        assert_non_null(p);
        snprintf(text, sizeof text, "%.*s%s%s", (int)(p - yaml), yaml, cases[i].to, p + strlen(cases[i].from));
        hk_config c;
        int rc = config_load_string(text, strlen(text), "hall.yaml", &c, err_, sizeof err_);
        if (rc == 0 || !strstr(err_, cases[i].want)) fprintf(stderr, "case %zu: rc %d, '%s'\n", i, rc, err_);
        assert_int_not_equal(rc, 0);
        assert_non_null(strstr(err_, cases[i].want));
        assert_non_null(strstr(err_, "hall.yaml:"));
    }
    /* the defaults: 00:00, 10, 10, 5; no load alerts */
    const char *plain = "hall: { id: x }\ntokens: [ { token: a.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: admin } ]\ncategories: [ { id: A, name: A } ]\n"
                        "windows: [ { id: 1, name: w, categories: [A] } ]\n";
    hk_config c;
    char err_[256];
    assert_int_equal(config_load_string(plain, strlen(plain), "plain", &c, err_, sizeof err_), 0);
    assert_int_equal(c.work.rollover_min, 0);
    assert_int_equal(c.work.checkin_before_min, 10);
    assert_int_equal(c.work.away_alert_min, 10);
    assert_int_equal(c.work.empty_alert_min, 5);
    assert_int_equal(c.work.cat_alerts[0].alert_length, 0);
    assert_null(c.work.posts[0].a);
    hk_config_free(&c);
    /* the demo hall gives windows 1 to 3 posts */
    assert_int_equal(config_load_string(config_demo_yaml, strlen(config_demo_yaml), "demo", &c, err_, sizeof err_), 0);
    assert_string_equal(c.work.posts[0].a, "0001");
    assert_string_equal(c.work.posts[0].b, "0002");
    assert_string_equal(c.work.posts[2].a, "0003");
    hk_config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_checkin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duty_board, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_checkin_alert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ab_away, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_alert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orphan_cleared, setup, teardown),
        cmocka_unit_test(test_business_day),
        cmocka_unit_test_setup_teardown(test_rollover_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollover_live, setup, teardown),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
