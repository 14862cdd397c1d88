/* test_report.c: the daily report (core/report.c) on a synthetic day with known answers (counts,
 * percentiles, satisfaction, cases), its CSV and HTML (escaping of names), and on events that
 * the real hall emitted for a small day, so the report reads the events as the hall writes them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/hall.h"
#include "core/report.h"
#include "io/config/config_load.h"

#define DAY 20261123
#define T0 1795395600000LL      /* 2026-11-23 09:00 in UTC+8 */
#define S(x) ((int64_t)(x) * 1000)

/* The hall's local time in these tests: UTC+8, as in China. */
static void local8(int64_t ms, int32_t *day, int *minute)
{
    int64_t s = ms / 1000 + 8 * 3600;
    int64_t days = s / 86400;
    *minute = (int)(s % 86400 / 60);
    /* 2026-11-22 .. 2026-11-24 are all the tests use */
    int64_t d0 = (T0 / 1000 + 8 * 3600) / 86400;   /* 2026-11-23 */
    *day = (int32_t)(DAY + (days - d0));
}

static hv *ev(const char *name, int64_t at)
{
    hv *e = hv_map();
    hv_set(e, "t", hv_str("ev"));
    hv_set(e, "ev", hv_str(name));
    hv_set(e, "at", hv_int(at));
    return e;
}

static int feed(report *r, hv *e)
{
    int n = report_add(r, e);
    hv_free(e);
    return n;
}

static hv *window_ev(int64_t at, int id, const char *name, const char *status, const char *staff, const char *staff_name)
{
    hv *e = ev("window.changed", at);
    hv *w = hv_map();
    hv_set(w, "id", hv_int(id));
    hv_set(w, "name", hv_str(name));
    hv_set(w, "status", hv_str(status));
    hv_set(w, "staff", staff ? hv_str(staff) : hv_nil());
    hv_set(w, "staff_name", staff_name ? hv_str(staff_name) : hv_nil());
    hv_set(e, "window", w);
    return e;
}

static hv *tk(const char *name, int64_t at, const char *code, const char *cat, int window)
{
    hv *e = ev(name, at);
    hv_set(e, "code", hv_str(code));
    if (cat) hv_set(e, "category", hv_str(cat));
    if (window) hv_set(e, "window", hv_int(window));
    return e;
}

static hv *issued(int64_t at, const char *code, const char *cat)
{
    hv *e = tk("ticket.issued", at, code, cat, 0);
    hv_set(e, "issued_at", hv_int(at));
    hv_set(e, "priority", hv_str("normal"));
    return e;
}

static hv *rated(int64_t at, const char *code, const char *cat, int window, int score)
{
    hv *e = tk("ticket.rated", at, code, cat, window);
    hv_set(e, "score", hv_int(score));
    return e;
}

static hv *case_ev(const char *name, int64_t at, const char *id, int window, const char *staff, const char *cat)
{
    hv *e = ev(name, at);
    hv *c = hv_map();
    hv_set(c, "id", hv_str(id));
    if (window) hv_set(c, "window", hv_int(window));
    if (staff) hv_set(c, "staff", hv_str(staff));
    if (cat) hv_set(c, "category", hv_str(cat));
    hv_set(e, "case", c);
    return e;
}

static const char *const WEIRD = "<b>&\"王'";

/* The synthetic day:
 * window 1 (staff 0001 张三) serves A001..A010: waits 10..100 s, service 30..270 s for
 * A001..A009 (started 5 s after the call), A010 is a no-show. Ratings of A001..A009:
 * 5 5 5 5 4 4 3 2 1. Window 2 (staff 0002, a name full of markup) calls B001 after 200 s and
 * finishes it 100 s after the call (no start), rated 5; calls B002 after 300 s and transfers it
 * to A. Cases C1 (window 1, overdue, closed late) and C2 (window 2, closed on time). */
static report *synthetic_day(void)
{
    report *r = report_new(DAY, local8);
    report_set_hall(r, "demo", "示例中心");
    report_name_category(r, "A", "社保医保");
    report_name_category(r, "B", "不动产登记");
    report_name_category(r, "C", "帮办代办");
    /* the day before: a ticket and a window of yesterday count nothing */
    assert_int_equal(feed(r, issued(T0 - S(86400), "A001", "A")), 0);
    assert_int_equal(feed(r, window_ev(T0 - S(3600), 1, "1号窗口", "open", "0001", "张三")), 1);
    assert_int_equal(feed(r, window_ev(T0 - S(60), 2, "2号窗口", "open", "0002", WEIRD)), 1);
    hv *ci = ev("staff.checked_in", T0 - S(600));
    hv_set(ci, "staff", hv_str("0001"));
    assert_int_equal(feed(r, ci), 1);
    for (int k = 1; k <= 10; k++) {
        char code[8];
        snprintf(code, sizeof code, "A%03d", k);
        int64_t at = T0 + S(60 * (k - 1));
        assert_int_equal(feed(r, issued(at, code, "A")), 1);
        int64_t called = at + S(10 * k);
        hv *c = tk("ticket.called", called, code, "A", 1);
        hv_set(c, "recall", hv_bool(false));
        hv_set(c, "window_name", hv_str("1号窗口"));
        assert_int_equal(feed(r, c), 1);
        hv *rc = tk("ticket.called", called + S(2), code, "A", 1);
        hv_set(rc, "recall", hv_bool(true));
        feed(r, rc);   /* a recall is not a second wait */
        if (k == 10) {
            assert_int_equal(feed(r, tk("ticket.noshow", called + S(60), code, "A", 1)), 1);
            continue;
        }
        feed(r, tk("ticket.started", called + S(5), code, "A", 1));
        int64_t fin = called + S(5) + S(30 * k);
        hv *f = tk("ticket.finished", fin, code, "A", 1);
        hv_set(f, "outcome", hv_str("即办件"));
        feed(r, f);
        static const int scores[] = {5, 5, 5, 5, 4, 4, 3, 2, 1};
        assert_int_equal(feed(r, rated(fin + S(3), code, "A", 1, scores[k - 1])), 1);
    }
    int64_t b1 = T0 + S(3600), b2 = T0 + S(3900);
    feed(r, issued(b1, "B001", "B"));
    feed(r, issued(b2, "B002", "B"));
    feed(r, tk("ticket.called", b1 + S(200), "B001", "B", 2));
    feed(r, tk("ticket.finished", b1 + S(300), "B001", "B", 2));
    feed(r, rated(b1 + S(310), "B001", "B", 0, 5));   /* window nil: taken from the ticket */
    feed(r, tk("ticket.called", b2 + S(300), "B002", "B", 2));
    hv *tr = tk("ticket.transferred", b2 + S(320), "B002", "A", 0);
    hv_set(tr, "from_window", hv_int(2));
    hv_set(tr, "window", hv_nil());
    assert_int_equal(feed(r, tr), 1);
    assert_int_equal(feed(r, case_ev("case.opened", T0 + S(100), "C1", 1, "0001", "A")), 1);
    assert_int_equal(feed(r, case_ev("case.overdue", T0 + S(200), "C1", 1, "0001", "A")), 1);
    assert_int_equal(feed(r, case_ev("case.closed", T0 + S(300), "C1", 1, "0001", "A")), 1);
    /* C2 and the follow-up as the hall writes them: the id at the top ({case: 2}), and the
     * closing event without the category (taken from the opening one) */
    hv *co = ev("case.opened", T0 + S(400));
    hv_set(co, "case", hv_int(2));
    hv_set(co, "window", hv_int(2));
    hv_set(co, "category", hv_str("B"));
    feed(r, co);
    hv *cc = ev("case.closed", T0 + S(500));
    hv_set(cc, "case", hv_int(2));
    hv_set(cc, "window", hv_int(2));
    hv_set(cc, "on_time", hv_bool(true));
    assert_int_equal(feed(r, cc), 1);
    hv *fo = ev("followup.opened", T0 + S(600));
    hv_set(fo, "id", hv_int(7));
    hv_set(fo, "window", hv_int(1));
    hv_set(fo, "staff", hv_str("0001"));
    hv_set(fo, "category", hv_str("A"));
    feed(r, fo);
    hv *fc = ev("followup.closed", T0 + S(700));
    hv_set(fc, "id", hv_int(7));
    feed(r, fc);
    assert_int_equal(feed(r, ev("alert.raised", T0 + S(800))), 1);
    assert_int_equal(feed(r, ev("alert.raised", T0 + S(900))), 1);
    /* ignored: unknown, derived, malformed, and the next day */
    assert_int_equal(feed(r, ev("foo.bar", T0)), 0);
    assert_int_equal(feed(r, ev("queue.changed", T0)), 0);
    hv *bad = hv_map();
    hv_set(bad, "ev", hv_str("ticket.issued"));
    assert_int_equal(feed(r, bad), 0);
    assert_int_equal(feed(r, rated(T0, "A001", "A", 1, 9)), 0);
    assert_int_equal(feed(r, issued(T0 + S(86400), "A001", "A")), 0);
    return r;
}

static int64_t geti(const hv *m, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    const hv *v = m;
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
        if (v->t == HV_ARR) v = v->u.a.v[atoi(k)];
        else v = hv_get(v, k);
        if (!v) fail_msg("no %s", path);
    }
    if (v->t != HV_INT) fail_msg("%s is not an int", path);
    return v->u.i;
}

static const hv *row(const hv *tree, const char *dim, const char *id)
{
    const hv *a = hv_get(tree, dim);
    for (size_t i = 0; a && i < a->u.a.n; i++) {
        const hv *x = hv_get(a->u.a.v[i], "id");
        char b[24];
        const char *s = x->t == HV_STR ? x->u.s.p : (snprintf(b, sizeof b, "%lld", (long long)x->u.i), b);
        if (!strcmp(s, id)) return a->u.a.v[i];
    }
    fail_msg("no %s row %s", dim, id);
    return NULL;
}

static void test_percentile(void **state)
{
    (void)state;
    int64_t v[] = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
    assert_int_equal(report_percentile(v, 10, 50), 50);
    assert_int_equal(report_percentile(v, 10, 95), 100);
    assert_int_equal(report_percentile(v, 10, 90), 90);
    assert_int_equal(report_percentile(v, 10, 0), 10);
    assert_int_equal(report_percentile(v, 1, 95), 10);
    assert_int_equal(report_percentile(v, 0, 50), 0);
}

static void test_tree(void **state)
{
    (void)state;
    report *r = synthetic_day();
    hv *t = report_tree(r);
    assert_int_equal(geti(t, "day"), DAY);
    assert_string_equal(hv_get_str(t, "date"), "2026-11-23");
    const hv *tot = hv_get(t, "totals");
    assert_int_equal(geti(tot, "issued"), 12);
    assert_int_equal(geti(tot, "served"), 10);
    assert_int_equal(geti(tot, "noshow"), 1);
    assert_int_equal(geti(tot, "transferred"), 1);
    /* waits: 10..100 s, 200 s, 300 s */
    assert_int_equal(geti(tot, "wait.count"), 12);
    assert_int_equal(geti(tot, "wait.avg_s"), 88);     /* 1050 / 12 = 87.5 -> 88 */
    assert_int_equal(geti(tot, "wait.p50_s"), 60);
    assert_int_equal(geti(tot, "wait.p95_s"), 300);
    assert_int_equal(geti(tot, "wait.max_s"), 300);
    /* service: 30..270 s (A), 100 s (B001, from the call) */
    assert_int_equal(geti(tot, "service.count"), 10);
    assert_int_equal(geti(tot, "service.avg_s"), 145);  /* (1350 + 100) / 10 */
    assert_int_equal(geti(tot, "service.p95_s"), 270);
    assert_int_equal(geti(tot, "ratings.count"), 10);
    assert_int_equal(geti(tot, "ratings.levels.0"), 1);
    assert_int_equal(geti(tot, "ratings.levels.3"), 2);
    assert_int_equal(geti(tot, "ratings.levels.4"), 5);
    const hv *sat = hv_get(hv_get(tot, "ratings"), "satisfaction");
    assert_true(sat && sat->t == HV_FLOAT);
    assert_true(sat->u.f > 0.7999 && sat->u.f < 0.8001);
    bool meets = true;
    assert_int_equal(hv_get_bool(hv_get(tot, "ratings"), "meets_target", &meets), 0);
    assert_false(meets);
    assert_int_equal(geti(tot, "cases.opened"), 2);
    assert_int_equal(geti(tot, "cases.closed_on_time"), 1);
    assert_int_equal(geti(tot, "cases.closed_late"), 1);
    assert_int_equal(geti(tot, "cases.overdue"), 1);
    assert_int_equal(geti(tot, "followups.opened"), 1);
    assert_int_equal(geti(tot, "followups.closed"), 1);
    assert_int_equal(geti(tot, "alerts_raised"), 2);

    const hv *a = row(t, "categories", "A");
    assert_string_equal(hv_get_str(a, "name"), "社保医保");
    assert_int_equal(geti(a, "issued"), 10);
    assert_int_equal(geti(a, "served"), 9);
    assert_int_equal(geti(a, "noshow"), 1);
    assert_int_equal(geti(a, "wait.avg_s"), 55);
    assert_int_equal(geti(a, "wait.p50_s"), 50);
    assert_int_equal(geti(a, "wait.p95_s"), 100);
    assert_int_equal(geti(a, "service.avg_s"), 150);
    assert_int_equal(geti(a, "service.p95_s"), 270);
    assert_int_equal(geti(a, "ratings.count"), 9);
    assert_int_equal(geti(a, "cases.closed_late"), 1);
    assert_int_equal(geti(a, "followups.closed"), 1);
    const hv *b = row(t, "categories", "B");
    assert_int_equal(geti(b, "issued"), 2);
    assert_int_equal(geti(b, "served"), 1);
    assert_int_equal(geti(b, "transferred"), 1);
    assert_int_equal(geti(b, "cases.closed_on_time"), 1);
    const hv *c = row(t, "categories", "C");   /* named, unused: a row of zeros */
    assert_int_equal(geti(c, "issued"), 0);
    assert_true(hv_get(hv_get(c, "wait"), "avg_s")->t == HV_NIL);

    const hv *w1 = row(t, "windows", "1");
    assert_string_equal(hv_get_str(w1, "name"), "1号窗口");
    assert_int_equal(geti(w1, "served"), 9);
    assert_int_equal(geti(w1, "followups.opened"), 1);
    assert_int_equal(geti(w1, "followups.closed"), 1);

    const hv *w2 = row(t, "windows", "2");
    assert_int_equal(geti(w2, "served"), 1);
    assert_int_equal(geti(w2, "ratings.levels.4"), 1);
    assert_int_equal(geti(w2, "wait.max_s"), 300);
    assert_int_equal(geti(w2, "cases.closed_on_time"), 1);
    const hv *s1 = row(t, "staff", "0001");
    assert_string_equal(hv_get_str(s1, "name"), "张三");
    assert_int_equal(geti(s1, "served"), 9);
    assert_int_equal(geti(s1, "noshow"), 1);
    assert_int_equal(geti(s1, "checked_in_at"), T0 - S(600));
    assert_int_equal(geti(s1, "cases.opened"), 1);
    const hv *s2 = row(t, "staff", "0002");
    assert_string_equal(hv_get_str(s2, "name"), WEIRD);
    assert_int_equal(geti(s2, "ratings.count"), 1);
    assert_int_equal(geti(s2, "transferred"), 1);
    assert_int_equal(geti(s2, "cases.opened"), 1);   /* by the window's staff member */

    assert_int_equal(geti(t, "hourly_arrivals.9"), 10);
    assert_int_equal(geti(t, "hourly_arrivals.10"), 2);
    assert_int_equal(geti(t, "hourly_arrivals.8"), 0);
    hv_free(t);
    report_free(r);
}

static void test_csv(void **state)
{
    (void)state;
    report *r = synthetic_day();
    size_t len = 0;
    char *csv = report_csv(r, &len);
    assert_non_null(csv);
    assert_int_equal(strlen(csv), len);
    assert_memory_equal(csv, "\xEF\xBB\xBF", 3);
    const char *hdr = "day,section,id,name,issued,served,noshow,transferred,waits,wait_avg_s,wait_p50_s,"
                      "wait_p95_s,wait_max_s,services,service_avg_s,service_p95_s,rated,rating_1,rating_2,"
                      "rating_3,rating_4,rating_5,satisfaction_pct,cases_opened,cases_closed_on_time,"
                      "cases_closed_late,cases_overdue,followups_opened,followups_closed,alerts_raised,"
                      "checked_in_at\r\n";
    assert_memory_equal(csv + 3, hdr, strlen(hdr));
    assert_non_null(strstr(csv, "\r\n20261123,hall,demo,示例中心,12,10,1,1,12,88,60,300,300,10,145,270,10,1,1,1,2,5,80.0,2,1,1,1,1,1,2,\r\n"));
    assert_non_null(strstr(csv, "\r\n20261123,category,A,社保医保,10,9,1,0,10,55,50,100,100,9,150,270,9,1,1,1,2,4,77.8,1,0,1,1,1,1,,\r\n"));
    assert_non_null(strstr(csv, "\r\n20261123,category,C,帮办代办,0,0,0,0,0,,,,,0,,,0,0,0,0,0,0,,0,0,0,0,0,0,,\r\n"));
    /* a name with a quote is quoted, its quote doubled */
    assert_non_null(strstr(csv, "\r\n20261123,staff,0002,\"<b>&\"\"王'\",0,1,0,1,"));
    char line[64];
    snprintf(line, sizeof line, ",%lld\r\n", (long long)(T0 - S(600)));
    assert_non_null(strstr(csv, line));
    assert_non_null(strstr(csv, "\r\n20261123,hour,09,09:00-10:00,10,0,"));
    assert_non_null(strstr(csv, "\r\n20261123,hour,23,23:00-24:00,0,"));
    /* one header, then hall + 3 categories + 2 windows + 2 staff + 24 hours */
    int rows = 0;
    for (const char *p = csv; (p = strstr(p, "\r\n")); p += 2) rows++;
    assert_int_equal(rows, 1 + 1 + 3 + 2 + 2 + 24);
    free(csv);
    report_free(r);
}

static void test_csv_formula(void **state)
{
    (void)state;
    report *r = report_new(DAY, local8);
    report_name_category(r, "A", "=cmd|' /C calc'!A0");
    size_t len;
    char *csv = report_csv(r, &len);
    assert_non_null(strstr(csv, ",category,A,'=cmd|' /C calc'!A0,"));
    free(csv);
    report_free(r);
}

static void test_html(void **state)
{
    (void)state;
    report *r = synthetic_day();
    size_t len = 0;
    char *html = report_html(r, &len);
    assert_non_null(html);
    assert_int_equal(strlen(html), len);
    assert_memory_equal(html, "<!doctype html>", 15);
    assert_non_null(strstr(html, "&lt;b&gt;&amp;&quot;王&#39;"));
    assert_null(strstr(html, WEIRD));
    assert_non_null(strstr(html, "2026-11-23"));
    assert_non_null(strstr(html, "80.0%"));
    assert_non_null(strstr(html, "class=below"));   /* under the 95 % target */
    assert_null(strstr(html, "<script"));           /* printable, self-contained */
    assert_null(strstr(html, "http"));
    assert_non_null(strstr(html, "</html>\n"));
    free(html);
    report_free(r);
}

/* The events a real hall emits, folded: the report reads what the hall writes. */
static hv *hall_run(hk_hall *h, hk_session *s, hv *events, int64_t ms, const char *cmd, const char *k, hv *v)
{
    static int64_t id = 1;
    hv *req = hv_map();
    hv_set(req, "t", hv_str(cmd));
    hv_set(req, "id", hv_int(id++));
    if (k) hv_set(req, k, v);
    hk_time now = {ms, 0, 0, 0};
    local8(ms, &now.day, &now.min);
    hk_out out;
    hk_out_init(&out);
    hall_cmd(h, s, req, now, &out);
    hv_free(req);
    for (size_t i = 0; i < out.nevents; i++) hv_push(events, hv_dup(out.events[i]));
    hv *reply = out.reply;
    out.reply = NULL;
    hk_out_clear(&out);
    if (strcmp(hv_get_str(reply, "t"), "ok") != 0) fail_msg("%s: %s", cmd, hv_get_str(reply, "msg"));
    return reply;
}

static void test_hall_events(void **state)
{
    (void)state;
    hk_config cfg;
    char err[256];
    assert_int_equal(config_load_string(config_demo_yaml, strlen(config_demo_yaml), "demo", &cfg, err, sizeof err), 0);
    hk_hall *h = hall_new(&cfg);
    hv *events = hv_arr();
    hk_session kiosk = {0}, staff = {0};
    hv_free(hall_run(h, &kiosk, events, T0, "hello", "token", hv_str("kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")));
    hv_free(hall_run(h, &staff, events, T0, "hello", "token", hv_str("staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")));
    hv_free(hall_run(h, &staff, events, T0, "window.open", "window", hv_int(1)));
    hv_free(hall_run(h, &kiosk, events, T0 + S(10), "ticket.issue", "category", hv_str("A")));
    hv_free(hall_run(h, &kiosk, events, T0 + S(20), "ticket.issue", "category", hv_str("B")));
    hv_free(hall_run(h, &staff, events, T0 + S(70), "call.next", NULL, NULL));       /* A001 waited 60 s */
    hv_free(hall_run(h, &staff, events, T0 + S(80), "ticket.start", NULL, NULL));
    hv_free(hall_run(h, &staff, events, T0 + S(200), "ticket.finish", "outcome", hv_str("即办件")));   /* 120 s */
    hv *rq = hv_set(hv_map(), "code", hv_str("A001"));
    hv_set(rq, "score", hv_int(2));
    hv *reply;
    hv_set(rq, "reason", hv_str("办事效率低"));   /* a bad rating says why */
    {
        hv *req = hv_set(hv_set(rq, "t", hv_str("ticket.rate")), "id", hv_int(999));
        hk_time now = {T0 + S(210), 0, 0, 0};
        local8(now.ms, &now.day, &now.min);
        hk_out out;
        hk_out_init(&out);
        hall_cmd(h, &kiosk, req, now, &out);
        assert_string_equal(hv_get_str(out.reply, "t"), "ok");
        for (size_t i = 0; i < out.nevents; i++) hv_push(events, hv_dup(out.events[i]));
        hk_out_clear(&out);
        hv_free(req);
    }
    reply = hall_run(h, &staff, events, T0 + S(260), "call.next", NULL, NULL);        /* B001 waited 240 s */
    hv_free(reply);
    hv_free(hall_run(h, &staff, events, T0 + S(270), "ticket.noshow", NULL, NULL));

    report *r = report_new(DAY, local8);
    for (size_t c = 0; c < cfg.ncategories; c++) report_name_category(r, cfg.categories[c].id, cfg.categories[c].name);
    int counted = 0;
    for (size_t i = 0; i < events->u.a.n; i++) counted += report_add(r, events->u.a.v[i]);
    assert_true(counted >= 8);
    hv *t = report_tree(r);
    const hv *tot = hv_get(t, "totals");
    assert_int_equal(geti(tot, "issued"), 2);
    assert_int_equal(geti(tot, "served"), 1);
    assert_int_equal(geti(tot, "noshow"), 1);
    assert_int_equal(geti(tot, "wait.count"), 2);
    assert_int_equal(geti(tot, "wait.max_s"), 240);
    assert_int_equal(geti(tot, "wait.p50_s"), 60);
    assert_int_equal(geti(tot, "service.avg_s"), 120);
    assert_int_equal(geti(tot, "ratings.levels.1"), 1);
    const hv *s1 = row(t, "staff", "0001");
    assert_string_equal(hv_get_str(s1, "name"), "张三");
    assert_int_equal(geti(s1, "served"), 1);
    assert_int_equal(geti(s1, "ratings.count"), 1);
    const hv *w1 = row(t, "windows", "1");
    assert_string_equal(hv_get_str(w1, "name"), "1号窗口");
    assert_int_equal(geti(row(t, "categories", "D"), "issued"), 0);
    assert_int_equal(geti(row(t, "categories", "B"), "noshow"), 1);
    hv_free(t);
    report_free(r);
    hv_free(events);
    hall_free(h);
    hk_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentile),
        cmocka_unit_test(test_tree),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_csv_formula),
        cmocka_unit_test(test_html),
        cmocka_unit_test(test_hall_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
