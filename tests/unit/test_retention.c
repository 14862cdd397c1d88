/* test_retention.c: bounded retention (core/retention.h, docs/config.md "retention"). A hall runs
 * through 200 simulated days with cases, follow-ups, ratings and appointments every day, some cases
 * and follow-ups left open for good. What the hall holds must stay bounded (open items plus the
 * kept days), open items must never be released, the statistics of the kept days must equal those
 * of a hall that keeps everything, replies must say what they cover, the lists must page, and the
 * live hall, a replay from the last checkpoint, a replay of every event and a replay without the
 * checkpoints must agree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/checkpoint.h"
#include "core/retention.h"
#include "core/codec/codec.h"
#include "core/days.h"
#include "fixture.h"

#define KEEP 31
#define DAYS 200

/* open at all hours, so every day of the run is a working day */
static const char yaml_head[] =
    "hall: { id: ret, name: 保留大厅 }\n"
    "tokens:\n"
    "  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk }\n"
    "  - { token: s1.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: staff, staff: \"0001\" }\n"
    "  - { token: adm.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: admin }\n"
    "staff:\n"
    "  - { id: \"0001\", name: 张三 }\n"
    "categories:\n"
    "  - { id: A, name: 社保医保 }\n"
    "windows:\n"
    "  - { id: 1, name: 1号窗口, categories: [A] }\n"
    "matters:\n"
    "  - { id: M2, name: 医保关系转移, category: A, promised_days: 1 }\n"
    "rating: { reasons: [态度不好, 效率低, 其他] }\n";

static hk_config cfg_all;     /* retention.days: the most (a hall that keeps all); cfg has KEEP */
static hk_time now;

static void load(hk_config *c, int days)
{
    char text[2048];
    snprintf(text, sizeof text, "%sretention: { days: %d }\n", yaml_head, days);
    fixture_config(c, text, "retention");
}

static int setup(void **state)
{
    (void)state;
    load(&cfg, KEEP);
    load(&cfg_all, HK_MAX_RETENTION_DAYS);
    fixture_start();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hk_config_free(&cfg_all);
    return fixture_teardown();
}

/* a local time (local = UTC here) of day number `dn` (days since 1970-01-01) */
static hk_time at_day(int64_t dn, int hh, int mm)
{
    hk_time t;
    t.ms = dn * 86400000LL + (int64_t)(hh * 60 + mm) * 60000;
    t.day = hk_day_of(dn);
    t.min = hh * 60 + mm;
    t.wday = (int)(((dn % 7) + 7 + 3) % 7);
    return t;
}

static hv *cmd_on(hk_hall *h, hk_session *s, const char *cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    hv *r = fixture_vrun(h, s, now, true, cmd, ap);   /* the comparisons only read */
    va_end(ap);
    return r;
}

static bool is_ok(const hv *r) { return !strcmp(hv_get_str(r, "t"), "ok"); }

static void ok(hv *r)
{
    if (!is_ok(r)) fail_msg("expected ok, got %s: %s", hv_get_str(r, "code"), hv_get_str(r, "msg"));
    hv_free(r);
}

#define OK(s, ...) ok(cmd_on(hall, s, __VA_ARGS__, NULL))

static hk_session login(const char *token)
{
    hk_session s = {0};
    OK(&s, "hello", "token", "s", token);
    return s;
}

static void tick_at(hk_time t)
{
    now = t;
    hk_out out;
    hk_out_init(&out);
    hall_tick(hall, now, &out);
    fixture_keep(&out);
    hk_out_clear(&out);
}

static hv *admin_query(hk_hall *h, const char *cmd, const char *k1, const char *v1, const char *k2, int v2)
{
    hk_session admin = {.role = HK_ROLE_ADMIN};
    hv *r = k2 ? cmd_on(h, &admin, cmd, k1, "s", v1, k2, "i", v2, NULL)
               : k1 ? cmd_on(h, &admin, cmd, k1, "s", v1, NULL) : cmd_on(h, &admin, cmd, NULL);
    if (!is_ok(r)) fail_msg("%s: %s", cmd, hv_get_str(r, "msg"));
    return r;
}

/* ---- the run -------------------------------------------------------------------------------- */

static int64_t first_day;
static int open_cases_left, open_followups_left;   /* left open for good: never to be released */

/* One day: an appointment today (checked in every other day, else released), one for tomorrow
 * (every third cancelled), three walk-ins and the appointment served, each rated; a 承诺件 case a
 * day and a bad rating (follow-up) a day; cases of two days ago and yesterday's follow-ups closed,
 * except every tenth, which stay open. */
static void run_day(int d, hk_session *kiosk, hk_session *s1, hk_session *adm)
{
    int64_t dn = first_day + d;
    char num[32], tom[32];
    tick_at(at_day(dn, 0, 1));                 /* the rollover: day.closed, then the checkpoint */
    tick_at(at_day(dn, 9, 0));
    hv *r = cmd_on(hall, s1, "window.open", "window", "i", 1, NULL);
    hv_free(r);                                /* already open from yesterday: conflict is fine */
    snprintf(num, sizeof num, "D%d", d);
    snprintf(tom, sizeof tom, "T%d", d);
    char date[16], slot_a[32], slot_b[32];
    int32_t today = hk_day_of(dn), tomorrow = hk_day_of(dn + 1);
    snprintf(date, sizeof date, "%04d-%02d-%02d", today / 10000, today / 100 % 100, today % 100);
    snprintf(slot_a, sizeof slot_a, "%s 10:00", date);
    snprintf(slot_b, sizeof slot_b, "%s 10:30", date);
    OK(adm, "appointment.add", "number", "s", num, "name", "s", "王五", "category", "s", "A", "slot_start", "s",
       slot_a, "slot_end", "s", slot_b);
    snprintf(date, sizeof date, "%04d-%02d-%02d", tomorrow / 10000, tomorrow / 100 % 100, tomorrow % 100);
    snprintf(slot_a, sizeof slot_a, "%s 11:00", date);
    snprintf(slot_b, sizeof slot_b, "%s 11:30", date);
    OK(adm, "appointment.add", "number", "s", tom, "name", "s", "赵六", "category", "s", "A", "slot_start", "s",
       slot_a, "slot_end", "s", slot_b);
    if (d % 3 == 0) OK(adm, "appointment.cancel", "number", "s", tom);
    tick_at(at_day(dn, 10, 0));
    int n = 3;
    if (d % 2 == 0) {
        OK(kiosk, "ticket.issue", "appointment", "s", num);
        n++;
    }
    for (int i = 0; i < 3; i++) OK(kiosk, "ticket.issue", "category", "s", "A");
    for (int i = 0; i < n; i++) {
        r = cmd_on(hall, s1, "call.next", NULL);
        if (!is_ok(r)) fail_msg("call.next: %s", hv_get_str(r, "msg"));
        char code[16];
        snprintf(code, sizeof code, "%s", hv_get_str(hv_get(r, "ticket"), "code"));
        hv_free(r);
        if (i == 0) {
            OK(s1, "ticket.finish", "outcome", "s", "承诺件", "matter", "s", "M2");
            OK(kiosk, "ticket.rate", "code", "s", code, "score", "i", 1, "reason", "s", "效率低");
        } else {
            OK(s1, "ticket.finish", "outcome", "s", "即办件");
            OK(kiosk, "ticket.rate", "code", "s", code, "score", "i", 3 + (i + d) % 3);
        }
    }
    tick_at(at_day(dn, 11, 0));
    /* close what is due, leaving every tenth open for good */
    r = admin_query(hall, "cases.list", "status", "active", "limit", RETENTION_PAGE_MAX);
    const hv *list = hv_get(r, "cases");
    for (size_t i = 0; i < list->u.a.n; i++) {
        int64_t id = 0, day = 0;
        hv_get_int(list->u.a.v[i], "case", &id);
        hv_get_int(list->u.a.v[i], "day", &day);
        if (id % 10 == 0 || hk_day_number((int32_t)day) > dn - 2) continue;
        OK(adm, "case.close", "case", "i", (int)id, "result", "s", "准予许可");
    }
    hv_free(r);
    r = admin_query(hall, "followups.list", "status", "open", "limit", RETENTION_PAGE_MAX);
    list = hv_get(r, "followups");
    for (size_t i = 0; i < list->u.a.n; i++) {
        int64_t id = 0, day = 0;
        hv_get_int(list->u.a.v[i], "id", &id);
        hv_get_int(list->u.a.v[i], "day", &day);
        if (id % 10 == 0 || hk_day_number((int32_t)day) > dn - 1) continue;
        OK(adm, "followup.close", "followup", "i", (int)id, "resolution", "s", "已回访");
    }
    hv_free(r);
    tick_at(at_day(dn, 17, 0));                /* the unchecked appointment is released */
}

/* ---- comparisons (as tests/unit/test_checkpoint.c) ------------------------------------------ */

static hv *field(hv *reply, const char *key)
{
    hv *v = hv_dup(hv_get(reply, key));
    hv_free(reply);
    return v;
}

static hv *snapshot(hk_hall *h)
{
    hv *m = hv_map();
    hv_set(m, "state", hall_state(h, HK_ROLE_ADMIN, now));
    hv_set(m, "cases", field(admin_query(h, "cases.list", "status", "all", "limit", RETENTION_PAGE_MAX), "cases"));
    hv_set(m, "followups", field(admin_query(h, "followups.list", "status", "all", "limit", RETENTION_PAGE_MAX), "followups"));
    hv_set(m, "appointments", field(admin_query(h, "appointments.list", "date", "all", NULL, 0), "appointments"));
    hv_set(m, "case_stats", field(admin_query(h, "cases.stats", NULL, NULL, NULL, 0), "stats"));
    hv_set(m, "ratings_day", field(admin_query(h, "ratings.stats", "by", "day", NULL, 0), "stats"));
    return m;
}

static void assert_same(const char *what, const hv *a, const hv *b)
{
    if (hv_equal(a, b)) return;
    for (size_t i = 0; a->t == HV_MAP && i < a->u.m.n; i++)
        if (!hv_equal(a->u.m.v[i].val, hv_get(b, a->u.m.v[i].key)))
            print_message("%s: '%s' differs\n", what, a->u.m.v[i].key);
    fail_msg("%s: not the same state", what);
}

static hk_hall *replayed(const hk_config *c, size_t from, bool skip_checkpoints)
{
    hk_hall *h = hall_new(c);
    for (size_t i = from; i < log_events->u.a.n; i++) {
        const hv *ev = log_events->u.a.v[i];
        const char *name = hv_get_str(ev, "ev");
        if (skip_checkpoints && !strncmp(name, "day.checkpoint", 14)) continue;
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

static size_t last_checkpoint(void)
{
    size_t found = (size_t)-1;
    for (size_t i = 0; i < log_events->u.a.n; i++) {
        const hv *ev = log_events->u.a.v[i];
        if (strcmp(hv_get_str(ev, "ev"), "day.checkpoint") != 0) continue;
        int64_t p = -1;
        assert_int_equal(hv_get_int(ev, "parts", &p), 0);
        found = i - (size_t)p;
    }
    assert_true(found != (size_t)-1);
    return found;
}

/* What the hall holds, from its durable state. */
typedef struct { size_t cases, open_cases, followups, open_followups, rating_rows, appts; int64_t ratings; } held;

static held held_of(const hk_hall *h)
{
    held n = {0};
    hv *st = hall_checkpoint_state(h);
    const hv *cases = hv_get(hv_get(st, "cases"), "list");
    n.cases = cases->u.a.n;
    for (size_t i = 0; i < cases->u.a.n; i++) {
        bool closed = true;
        hv_get_bool(cases->u.a.v[i], "closed", &closed);
        n.open_cases += !closed;
    }
    const hv *fus = hv_get(hv_get(st, "ratings"), "followups");
    n.followups = fus->u.a.n;
    for (size_t i = 0; i < fus->u.a.n; i++) {
        bool closed = true;
        hv_get_bool(fus->u.a.v[i], "closed", &closed);
        n.open_followups += !closed;
    }
    const hv *rows = hv_get(hv_get(st, "ratings"), "records");
    n.rating_rows = rows->u.a.n;
    for (size_t i = 0; i < rows->u.a.n; i++) n.ratings += rows->u.a.v[i]->u.a.v[5]->u.i;
    n.appts = hv_get(hv_get(st, "appointments"), "list")->u.a.n;
    hv_free(st);
    return n;
}

/* the stats without the coverage fields, which differ by design between the two halls */
static hv *stats_core(hv *stats)
{
    static const char *const drop[] = {"kept_from", "partial", "note"};
    hv *m = hv_map();
    for (size_t i = 0; i < stats->u.m.n; i++) {
        bool skip = false;
        for (size_t j = 0; j < 3; j++) skip |= !strcmp(stats->u.m.v[i].key, drop[j]);
        if (!skip) hv_set(m, stats->u.m.v[i].key, hv_dup(stats->u.m.v[i].val));
    }
    hv_free(stats);
    return m;
}

static void test_two_hundred_days(void **state)
{
    (void)state;
    first_day = hk_day_number(20250106);   /* a Monday */
    now = at_day(first_day, 8, 0);
    hk_session kiosk = login("k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), s1 = login("s1.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), adm = login("adm.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa");
    size_t max_cases = 0, max_fus = 0, max_rows = 0, max_appts = 0;
    for (int d = 0; d < DAYS; d++) {
        run_day(d, &kiosk, &s1, &adm);
        held n = held_of(hall);
        /* a case a day, closed two days later: at most KEEP + 3 days of closed ones, plus the open */
        assert_true(n.cases <= n.open_cases + (KEEP + 4));
        assert_true(n.followups <= n.open_followups + (KEEP + 4));
        /* ratings: 3 or 4 a day, over at most KEEP + 1 days */
        assert_true(n.ratings <= 5 * (KEEP + 1));
        /* appointments: today's, tomorrow's and the finished ones of the kept days */
        assert_true(n.appts <= 2 * (KEEP + 2));
        if (n.cases > max_cases) max_cases = n.cases;
        if (n.followups > max_fus) max_fus = n.followups;
        if (n.rating_rows > max_rows) max_rows = n.rating_rows;
        if (n.appts > max_appts) max_appts = n.appts;
    }
    held n = held_of(hall);
    print_message("after %d days: %zu cases (%zu open), %zu follow-ups (%zu open), %lld ratings in %zu rows, "
                  "%zu appointments; at most %zu cases, %zu follow-ups, %zu rows, %zu appointments\n",
                  DAYS, n.cases, n.open_cases, n.followups, n.open_followups, (long long)n.ratings, n.rating_rows,
                  n.appts, max_cases, max_fus, max_rows, max_appts);
    /* every tenth case and follow-up is open for good: none of them was released */
    open_cases_left = DAYS / 10;
    open_followups_left = DAYS / 10;
    assert_int_equal(n.open_cases, open_cases_left + 1);   /* and yesterday's, due to close tomorrow */
    assert_true(n.open_followups >= (size_t)open_followups_left);
    hv *fl = admin_query(hall, "followups.list", "status", "open", "limit", RETENTION_PAGE_MAX);
    int open_tenth = 0;
    for (size_t i = 0; i < hv_get(fl, "followups")->u.a.n; i++) {
        int64_t id = 0;
        hv_get_int(hv_get(fl, "followups")->u.a.v[i], "id", &id);
        open_tenth += id % 10 == 0;
    }
    assert_int_equal(open_tenth, open_followups_left);
    hv_free(fl);
    hv *cl = admin_query(hall, "cases.list", "status", "active", "limit", RETENTION_PAGE_MAX);
    int found = 0;
    for (size_t i = 0; i < hv_get(cl, "cases")->u.a.n; i++) {
        int64_t id = 0;
        hv_get_int(hv_get(cl, "cases")->u.a.v[i], "case", &id);
        found += id % 10 == 0;
    }
    assert_int_equal(found, open_cases_left);
    hv_free(cl);

    /* a hall that keeps everything, fed the same events: the kept days' statistics are the same */
    hk_hall *all = replayed(&cfg_all, 0, true);
    held na = held_of(all);
    assert_true(na.cases == (size_t)DAYS && na.ratings > n.ratings);
    int32_t kept_from = cases_kept_from(hall);
    int32_t expect_from = hk_day_of(first_day + DAYS - 1 - KEEP);
    assert_int_equal(kept_from, expect_from);
    assert_int_equal(ratings_kept_from(hall), expect_from);
    hk_session admin = {.role = HK_ROLE_ADMIN};
    hv *a = cmd_on(hall, &admin, "ratings.stats", "by", "s", "day", "from", "i", (int)kept_from, NULL);
    hv *b = cmd_on(all, &admin, "ratings.stats", "by", "s", "day", "from", "i", (int)kept_from, NULL);
    bool partial = true;
    assert_int_equal(hv_get_bool(hv_get(a, "stats"), "partial", &partial), 0);
    assert_false(partial);
    hv *ca = stats_core(field(a, "stats")), *cb = stats_core(field(b, "stats"));
    assert_same("ratings of the kept days", ca, cb);
    assert_int_equal(hv_get(ca, "groups")->u.a.n, KEEP + 1);
    hv_free(ca);
    hv_free(cb);
    /* a range older than the kept days says so instead of answering smaller numbers quietly */
    a = field(cmd_on(hall, &admin, "ratings.stats", "from", "i", 20250101, NULL), "stats");
    assert_int_equal(hv_get_bool(a, "partial", &partial), 0);
    assert_true(partial);
    int64_t kf = 0;
    assert_int_equal(hv_get_int(a, "kept_from", &kf), 0);
    assert_int_equal(kf, kept_from);
    assert_non_null(strstr(hv_get_str(a, "note"), "hallctl archive"));
    hv_free(a);
    a = field(cmd_on(hall, &admin, "cases.stats", NULL), "stats");
    assert_int_equal(hv_get_int(a, "kept_from", &kf), 0);
    assert_int_equal(kf, kept_from);
    hv_free(a);
    a = field(cmd_on(all, &admin, "cases.stats", NULL), "stats");
    assert_true(hv_get(a, "kept_from")->t == HV_NIL);   /* nothing released there */
    hv_free(a);
    hall_free(all);

    /* replay == live: from the last checkpoint, from every event, from every event but checkpoints */
    size_t from = last_checkpoint();
    hv *live = snapshot(hall);
    hk_hall *h1 = replayed(&cfg, from, false), *h2 = replayed(&cfg, 0, false), *h3 = replayed(&cfg, 0, true);
    hv *s1s = snapshot(h1), *s2s = snapshot(h2), *s3s = snapshot(h3);
    assert_same("from the last checkpoint", live, s1s);
    assert_same("every event", live, s2s);
    assert_same("every event but the checkpoints", live, s3s);
    hv *d0 = hall_checkpoint_state(hall), *d1 = hall_checkpoint_state(h1), *d2 = hall_checkpoint_state(h2);
    hv *d3 = hall_checkpoint_state(h3);
    assert_same("durable state from the last checkpoint", d0, d1);
    assert_same("durable state from every event", d0, d2);
    assert_same("durable state from every event but the checkpoints", d0, d3);
    hv_free(d0); hv_free(d1); hv_free(d2); hv_free(d3);
    hv_free(s1s); hv_free(s2s); hv_free(s3s);
    hall_free(h1); hall_free(h2); hall_free(h3);
    hv_free(live);
}

/* cases.list and followups.list page with limit and after; next is nil on the last page */
static void test_paging(void **state)
{
    (void)state;
    first_day = hk_day_number(20250106);
    now = at_day(first_day, 8, 0);
    hk_session kiosk = login("k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), s1 = login("s1.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), adm = login("adm.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa");
    for (int d = 0; d < 3; d++) run_day(d, &kiosk, &s1, &adm);
    hk_session admin = {.role = HK_ROLE_ADMIN};
    int seen = 0;
    int64_t after = 0, total = -1;
    for (int page = 0; page < 10; page++) {
        hv *r = after ? cmd_on(hall, &admin, "cases.list", "status", "s", "all", "limit", "i", 1, "after", "i", (int)after, NULL)
                      : cmd_on(hall, &admin, "cases.list", "status", "s", "all", "limit", "i", 1, NULL);
        ok(hv_dup(r));
        assert_int_equal(hv_get_int(r, "count", &total), 0);
        seen += (int)hv_get(r, "cases")->u.a.n;
        const hv *next = hv_get(r, "next");
        if (next->t == HV_NIL) { hv_free(r); break; }
        after = next->u.i;
        hv_free(r);
    }
    assert_int_equal(seen, 3);
    assert_int_equal(total, 3);
    hv *r = cmd_on(hall, &admin, "cases.list", "limit", "i", RETENTION_PAGE_MAX + 1, NULL);
    assert_string_equal(hv_get_str(r, "code"), "bad_request");
    hv_free(r);
    r = cmd_on(hall, &admin, "cases.list", "status", "s", "all", "after", "i", 999, NULL);
    assert_string_equal(hv_get_str(r, "code"), "not_found");
    hv_free(r);
    r = cmd_on(hall, &admin, "followups.list", "status", "s", "all", "limit", "i", 2, NULL);
    assert_int_equal(hv_get(r, "followups")->u.a.n, 2);
    assert_int_equal(hv_get(r, "next")->u.i, 2);
    hv_free(r);
    r = cmd_on(hall, &admin, "followups.list", "status", "s", "all", "limit", "i", 2, "after", "i", 2, NULL);
    assert_int_equal(hv_get(r, "followups")->u.a.n, 1);
    assert_int_equal(hv_get(hv_get(r, "followups")->u.a.v[0], "id")->u.i, 3);
    assert_true(hv_get(r, "next")->t == HV_NIL);
    assert_true(hv_get(r, "kept_from")->t == HV_NIL);
    hv_free(r);
    r = cmd_on(hall, &admin, "followups.list", "limit", "i", 0, NULL);
    assert_string_equal(hv_get_str(r, "code"), "bad_request");
    hv_free(r);
}

/* a page stops before the 64 KiB frame even when every row is large */
static void test_page_bytes(void **state)
{
    (void)state;
    first_day = hk_day_number(20250106);
    now = at_day(first_day, 9, 0);
    hk_session kiosk = login("k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), s1 = login("s1.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa");
    OK(&s1, "window.open", "window", "i", 1);
    char text[RATING_TEXT_MAX + 1];
    memset(text, 'x', RATING_TEXT_MAX);
    text[RATING_TEXT_MAX] = 0;
    for (int i = 0; i < 200; i++) {
        OK(&kiosk, "ticket.issue", "category", "s", "A");
        hv *r = cmd_on(hall, &s1, "call.next", NULL);
        char code[16];
        snprintf(code, sizeof code, "%s", hv_get_str(hv_get(r, "ticket"), "code"));
        hv_free(r);
        OK(&s1, "ticket.finish", "outcome", "s", "即办件");
        OK(&kiosk, "ticket.rate", "code", "s", code, "score", "i", 1, "reason", "s", "其他", "text", "s", text);
    }
    hk_session admin = {.role = HK_ROLE_ADMIN};
    hv *r = cmd_on(hall, &admin, "followups.list", "status", "s", "all", "limit", "i", RETENTION_PAGE_MAX, NULL);
    uint8_t *buf;
    size_t len;
    assert_int_equal(codec_encode(r, 0, &buf, &len), 0);
    free(buf);
    size_t n = hv_get(r, "followups")->u.a.n;
    print_message("a page of %zu large follow-ups: %zu bytes\n", n, len);
    assert_true(len < 48 * 1024 && n > 10 && n < 200);
    assert_int_equal(hv_get(r, "next")->u.i, (int64_t)n);
    int64_t count = 0;
    assert_int_equal(hv_get_int(r, "count", &count), 0);
    assert_int_equal(count, 200);
    hv_free(r);
}

/* A hall that stops adding appointments still releases the finished ones at the rollover. */
static void test_appointments_released(void **state)
{
    (void)state;
    first_day = hk_day_number(20250106);
    now = at_day(first_day, 9, 0);
    hk_session kiosk = login("k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa"), adm = login("adm.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa");
    OK(&adm, "appointment.add", "number", "s", "C1", "name", "s", "王五", "category", "s", "A", "slot_start", "s",
       "2025-01-06 10:00", "slot_end", "s", "2025-01-06 10:30");
    OK(&adm, "appointment.add", "number", "s", "C2", "name", "s", "赵六", "category", "s", "A", "slot_start", "s",
       "2025-01-06 11:00", "slot_end", "s", "2025-01-06 11:30");
    OK(&adm, "appointment.add", "number", "s", "F1", "name", "s", "钱七", "category", "s", "A", "slot_start", "s",
       "2025-12-01 11:00", "slot_end", "s", "2025-12-01 11:30");   /* far ahead: booked, stays */
    OK(&adm, "appointment.cancel", "number", "s", "C1");
    OK(&kiosk, "ticket.issue", "category", "s", "A");
    for (int d = 0; d <= KEEP + 1; d++) {
        tick_at(at_day(first_day + d, 0, 1));
        tick_at(at_day(first_day + d, 12, 0));   /* C2 is released the first day */
        held n = held_of(hall);
        if (d <= KEEP) assert_int_equal(n.appts, 3);
        else assert_int_equal(n.appts, 1);           /* C1 (cancelled) and C2 (released) are gone */
    }
    assert_non_null(appt_find(hall->appts, "F1"));
    assert_null(appt_find(hall->appts, "C1"));
    hk_hall *h = replayed(&cfg, 0, true);
    hv *a = hall_checkpoint_state(hall), *b = hall_checkpoint_state(h);
    assert_same("appointments replayed", a, b);
    hv_free(a);
    hv_free(b);
    hall_free(h);
}

static void test_config(void **state)
{
    (void)state;
    hk_config c;
    char err[256];
    char text[2048];
    snprintf(text, sizeof text, "%sretention: { days: 10 }\n", yaml_head);
    assert_int_not_equal(config_load_string(text, strlen(text), "r", &c, err, sizeof err), 0);
    assert_non_null(strstr(err, "days"));
    assert_non_null(strstr(err, "31"));
    snprintf(text, sizeof text, "%sretention: { keep: 40 }\n", yaml_head);
    assert_int_not_equal(config_load_string(text, strlen(text), "r", &c, err, sizeof err), 0);
    assert_non_null(strstr(err, "keep"));
    snprintf(text, sizeof text, "%s", yaml_head);
    assert_int_equal(config_load_string(text, strlen(text), "r", &c, err, sizeof err), 0);
    assert_int_equal(retention_days(&c), HK_DEFAULT_RETENTION_DAYS);
    assert_int_equal(retention_cutoff(&c, 20250401), 20250101);
    hk_config_free(&c);
    hk_config bare = {0};
    assert_int_equal(retention_days(&bare), HK_DEFAULT_RETENTION_DAYS);
    assert_int_equal(retention_cutoff(&bare, 20240301), 20231202);   /* across a leap February */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_hundred_days, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_page_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_appointments_released, setup, teardown),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
