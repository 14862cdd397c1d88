/* test_audience.c: the audience table (core/audience.c) names every event core/ can emit (found by
 * scanning the sources of core/ for the emit calls), fails closed, keeps personal fields and silent
 * incidents from public roles, and numbers each role's events with `prev` so a lost one shows. */
#include <dirent.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/audience.h"
#include "core/hall.h"
#include "io/config/config_load.h"
#include "req_args.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = 0;
    fclose(f);
    return s;
}

/* Calls every match of re in text; group g of each match is an event name (or a macro). */
static int each_match(const char *text, const char *re, void (*fn)(const char *name, const char *where),
                      const char *where, int ngroups)
{
    regex_t rx;
    assert_int_equal(regcomp(&rx, re, REG_EXTENDED), 0);
    regmatch_t m[4];
    int count = 0;
    for (const char *p = text; regexec(&rx, p, 4, m, p == text ? 0 : REG_NOTBOL) == 0; p += m[0].rm_eo) {
        for (int g = 1; g <= ngroups; g++) {
            char name[96];
            int len = (int)(m[g].rm_eo - m[g].rm_so);
            snprintf(name, sizeof name, "%.*s", len, p + m[g].rm_so);
            fn(name, where);
            count++;
        }
    }
    regfree(&rx);
    return count;
}

static int nfound;
static char macros[8][2][64];
static int nmacros;

static void expect_row(const char *name, const char *where)
{
    for (int i = 0; i < nmacros; i++)
        if (!strcmp(name, macros[i][0])) name = macros[i][1];
    if (!audience_known(name)) fail_msg("event \"%s\" (emitted in %s) has no row in core/audience.c", name, where);
    nfound++;
}

static void unknown_form(const char *arg, const char *where)
{
    fail_msg("%s: hall_event(%s...): an emit form this test cannot read; name the event with a string "
             "literal (or teach tests/unit/test_audience.c the form)", where, arg);
}

static void scan_dir(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 3 || strcmp(e->d_name + n - 2, ".c") != 0) continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        char *text = slurp(path);
        /* hall_event("x"), ticket_event(h, "x", ...), case_event("x", ...): any *_event maker */
        regex_t rx;
        assert_int_equal(regcomp(&rx, "[a-z_]+_event\\((h, )?\"([a-z_.]+)\"", REG_EXTENDED), 0);
        regmatch_t m[3];
        for (const char *p = text; regexec(&rx, p, 3, m, 0) == 0; p += m[0].rm_eo) {
            char name[96];
            snprintf(name, sizeof name, "%.*s", (int)(m[2].rm_eo - m[2].rm_so), p + m[2].rm_so);
            expect_row(name, path);
        }
        regfree(&rx);
        /* hall_event(cond ? "x" : "y") */
        each_match(text, "hall_event\\([^;\"]*\\? \"([a-z_.]+)\" : \"([a-z_.]+)\"\\)", expect_row, path, 2);
        /* hall_event(HK_..._EV): a macro of core/checkpoint.h */
        each_match(text, "hall_event\\((HK_[A-Z_]+_EV)\\)", expect_row, path, 1);
        /* anything else handed to hall_event, other than a maker's own `name` parameter, is a form
         * the scan would miss */
        regex_t known;
        assert_int_equal(regcomp(&known, "^(\"[a-z_.]+\"|HK_[A-Z_]+_EV|name|const char \\*name|[a-z_]+ \\? \"[a-z_.]+\" : \"[a-z_.]+\")$",
                                 REG_EXTENDED | REG_NOSUB), 0);
        for (const char *p = strstr(text, "hall_event("); p; p = strstr(p + 1, "hall_event(")) {
            if (p > text && (p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z'))) continue;   /* another name */
            const char *a = p + strlen("hall_event("), *end = strchr(a, ')');
            char arg[160];
            snprintf(arg, sizeof arg, "%.*s", end ? (int)(end - a) : 40, a);
            if (regexec(&known, arg, 0, NULL, 0) != 0) unknown_form(arg, path);
        }
        regfree(&known);
        free(text);
    }
    closedir(d);
}

static void load_macros(const char *path)
{
    char *text = slurp(path);
    regex_t rx;
    assert_int_equal(regcomp(&rx, "#define (HK_[A-Z_]+_EV) \"([a-z_.]+)\"", REG_EXTENDED), 0);
    regmatch_t m[3];
    for (const char *p = text; nmacros < 8 && regexec(&rx, p, 3, m, 0) == 0; p += m[0].rm_eo) {
        snprintf(macros[nmacros][0], 64, "%.*s", (int)(m[1].rm_eo - m[1].rm_so), p + m[1].rm_so);
        snprintf(macros[nmacros][1], 64, "%.*s", (int)(m[2].rm_eo - m[2].rm_so), p + m[2].rm_so);
        nmacros++;
    }
    regfree(&rx);
    free(text);
}

static void every_emitted_event_has_a_row(void **state)
{
    (void)state;
    load_macros(HK_SRC_DIR "/core/checkpoint.h");
    assert_int_equal(nmacros, 2);
    nfound = 0;
    scan_dir(HK_SRC_DIR "/core");
    /* the scan itself works: it sees at least the events of the contract and the workflows */
    assert_true(nfound >= 30);
}

/* docs/protocol.md "Audience" shows the same table: a row per event, ✓ or — per role. */
static void docs_show_the_table(void **state)
{
    (void)state;
    char *doc = slurp(HK_SRC_DIR "/docs/protocol.md");
    static const int order[] = {HK_ROLE_DISPLAY, HK_ROLE_KIOSK, HK_ROLE_VISITOR, HK_ROLE_STAFF, HK_ROLE_SECURITY,
                                HK_ROLE_ADMIN};
    int roles;
    const char *name;
    for (size_t i = 0; (name = audience_row(i, &roles)); i++) {
        char head[96];
        snprintf(head, sizeof head, "\n| `%s` |", name);
        const char *section = strstr(doc, "### Audience");
        assert_non_null(section);
        const char *line = strstr(section, head);
        if (!line) fail_msg("docs/protocol.md has no audience row for %s", name);
        const char *p = line + strlen(head);
        for (size_t r = 0; r < sizeof order / sizeof *order; r++) {
            while (*p == ' ') p++;
            bool yes = !strncmp(p, "✓", strlen("✓"));
            if (yes != !!(roles & order[r])) fail_msg("docs/protocol.md: %s, column %zu disagrees with core/audience.c", name, r + 1);
            p = strchr(p, '|');
            assert_non_null(p);
            p++;
        }
    }
    free(doc);
}

static hv *event(const char *name, int64_t seq)
{
    hv *ev = hv_map();
    hv_set(ev, "t", hv_str("ev"));
    hv_set(ev, "ev", hv_str(name));
    hv_set(ev, "seq", hv_int(seq));
    return ev;
}

static void unknown_events_reach_people_only(void **state)
{
    (void)state;
    hv *ev = event("something.new", 1);
    assert_int_equal(hall_event_audience(ev), HK_ROLE_STAFF | HK_ROLE_SECURITY | HK_ROLE_ADMIN);
    hv_free(ev);
    ev = event("gpio.changed", 2);
    assert_int_equal(hall_event_audience(ev) & HK_ROLE_PUBLIC, 0);
    hv_free(ev);
    ev = event("fault", 3);
    assert_int_equal(hall_event_audience(ev) & HK_ROLE_PUBLIC, 0);
    hv_free(ev);
    /* a prefix is not a row */
    ev = event("ticket.calledx", 4);
    assert_int_equal(hall_event_audience(ev) & HK_ROLE_PUBLIC, 0);
    hv_free(ev);
    /* every row names a known role mask */
    int roles;
    for (size_t i = 0; audience_row(i, &roles); i++)
        assert_int_equal(roles & ~(HK_ROLE_ANY | HK_ROLE_VISITOR), 0);
}

static void finished_outcome_is_not_public(void **state)
{
    (void)state;
    hv *ev = event("ticket.finished", 5);
    hv_set(ev, "code", hv_str("A001"));
    hv_set(ev, "outcome", hv_str("补正"));
    hv_set(ev, "missing", hv_str("户口本"));
    hv *pub = hall_event_for_role(ev, HK_ROLE_DISPLAY);
    assert_non_null(pub);
    assert_string_equal(hv_get_str(pub, "code"), "A001");
    assert_false(hv_has(pub, "outcome"));
    assert_false(hv_has(pub, "missing"));
    assert_null(hall_event_for_role(ev, HK_ROLE_STAFF));   /* staff get it whole */
    hv_free(pub);
    hv_free(ev);
}

/* prev: per role, the seq of the previous event sent to it; roles sharing a map share a view */
static void numbering_per_role(void **state)
{
    (void)state;
    hk_numbering n = {0};
    hk_view v[HK_NROLES];
    hv *ev = event("ticket.called", 11);        /* everyone */
    size_t nv = audience_views(&n, ev, v);
    assert_int_equal(nv, 1);
    assert_int_equal(v[0].roles, HK_ROLE_ANY | HK_ROLE_VISITOR);
    int64_t prev = -1;
    assert_int_equal(hv_get_int(v[0].ev, "prev", &prev), 0);
    assert_int_equal(prev, 10);                 /* the first event since start: seq - 1 */
    hv_free(v[0].ev);
    hv_free(ev);
    ev = event("case.opened", 12);              /* staff and admin only */
    nv = audience_views(&n, ev, v);
    assert_int_equal(nv, 1);
    assert_int_equal(v[0].roles, HK_ROLE_STAFF | HK_ROLE_ADMIN);
    hv_free(v[0].ev);
    hv_free(ev);
    ev = event("gpio.changed", 13);             /* people: security's prev is now behind staff's */
    nv = audience_views(&n, ev, v);
    assert_int_equal(nv, 2);
    for (size_t i = 0; i < nv; i++) {
        assert_int_equal(hv_get_int(v[i].ev, "prev", &prev), 0);
        if (v[i].roles == HK_ROLE_SECURITY) assert_int_equal(prev, 11);
        else { assert_int_equal(v[i].roles, HK_ROLE_STAFF | HK_ROLE_ADMIN); assert_int_equal(prev, 12); }
        hv_free(v[i].ev);
    }
    hv_free(ev);
    ev = event("ticket.called", 14);            /* a display's prev skips what was not for it */
    nv = audience_views(&n, ev, v);
    for (size_t i = 0; i < nv; i++) {
        hv_get_int(v[i].ev, "prev", &prev);
        if (v[i].roles & HK_ROLE_DISPLAY) assert_int_equal(prev, 11);
        if (v[i].roles & HK_ROLE_STAFF) assert_int_equal(prev, 13);
        hv_free(v[i].ev);
    }
    hv_free(ev);
}

/* ---- a silent incident through the hall ---- */

static hk_time at(int64_t s)
{
    hk_time t = {1763888400000LL + s * 1000, 20251123, 10 * 60, 0};
    return t;
}

static hv *run(hk_hall *h, hk_session *s, hk_out *out, const char *cmd, ...)
{
    static int64_t id = 1;
    hv *req = hv_map();
    hv_set(req, "t", hv_str(cmd));
    hv_set(req, "id", hv_int(id++));
    va_list ap;
    va_start(ap, cmd);
    test_req_args(req, ap);
    va_end(ap);
    hk_out_init(out);
    hall_cmd(h, s, req, at(1), out);
    hv_free(req);
    return out->reply;
}

static void silent_incident_reaches_no_public_role(void **state)
{
    (void)state;
    hk_config cfg;
    char err[256];
    assert_int_equal(config_load_string(config_demo_yaml, strlen(config_demo_yaml), "demo", &cfg, err, sizeof err), 0);
    hk_hall *h = hall_new(&cfg);
    hk_session sec = {0};
    hk_out out;
    run(h, &sec, &out, "hello", "token", "s", "security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u", NULL);
    hk_out_clear(&out);
    hv *before = hall_state(h, HK_ROLE_DISPLAY, at(1));
    struct { const char *cmd, *k1, *v1, *k2, *v2; bool pub; } steps[] = {
        {"emergency.trigger", "playbook", "mass_incident", NULL, NULL, false},
        {"emergency.trigger", "playbook", "fire", NULL, NULL, true},   /* a public one is public */
        {"emergency.clear", "playbook", "fire", "reason", "误报", true},
        {"emergency.clear", "playbook", "mass_incident", "reason", "上访人员已带离", false},
    };
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        if (!strcmp(steps[i].cmd, "emergency.trigger") && !strcmp(steps[i].v1, "fire")) {
            hv *r = run(h, &sec, &out, steps[i].cmd, steps[i].k1, "s", steps[i].v1, "drill", "v", hv_bool(true), NULL);
            assert_string_equal(hv_get_str(r, "t"), "ok");
        } else if (steps[i].k2) {
            hv *r = run(h, &sec, &out, steps[i].cmd, steps[i].k1, "s", steps[i].v1, steps[i].k2, "s", steps[i].v2, NULL);
            assert_string_equal(hv_get_str(r, "t"), "ok");
        } else {
            hv *r = run(h, &sec, &out, steps[i].cmd, steps[i].k1, "s", steps[i].v1, NULL);
            assert_string_equal(hv_get_str(r, "t"), "ok");
        }
        assert_true(out.nevents >= 1);
        for (size_t k = 0; k < out.nevents; k++) {
            int aud = hall_event_audience(out.events[k]);
            if (steps[i].pub) assert_int_equal(aud & HK_ROLE_DISPLAY, HK_ROLE_DISPLAY);
            else assert_int_equal(aud & HK_ROLE_PUBLIC, 0);
            assert_int_equal(aud & HK_ROLE_SECURITY, HK_ROLE_SECURITY);
        }
        hk_out_clear(&out);
    }
    hv *after = hall_state(h, HK_ROLE_DISPLAY, at(1));
    assert_true(hv_equal(hv_get(before, "emergency"), hv_get(after, "emergency")));
    hv_free(before);
    hv_free(after);
    hall_free(h);
    hk_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_emitted_event_has_a_row),
        cmocka_unit_test(unknown_events_reach_people_only),
        cmocka_unit_test(docs_show_the_table),
        cmocka_unit_test(finished_outcome_is_not_public),
        cmocka_unit_test(numbering_per_role),
        cmocka_unit_test(silent_incident_reaches_no_public_role),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
