/* test_idcard.c: resident ID numbers (core/idcard.c) and the kiosk's ID-card priority in
 * ticket.issue (docs/queue.md): the check digit, the birth date, the age on the birthday and on
 * 29 February, and that the number is in no reply or event. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/codec/codec.h"
#include "core/hall.h"
#include "core/idcard.h"
#include "io/config/config_load.h"
#include "req_args.h"

/* ---- the number ---- */

static void test_check_digit(void **st)
{
    (void)st;
    int32_t b = 0;
    assert_int_equal(idcard_check("11010519491231002X", 20251123, &b), 0);   /* GB 11643's example */
    assert_int_equal(b, 19491231);
    assert_int_equal(idcard_check("11010519491231002x", 20251123, &b), 0);   /* a reader's lower case x */
    assert_int_equal(idcard_check("440304196511231232", 20251123, &b), 0);
    assert_int_equal(b, 19651123);
    /* one digit misread, two digits swapped: the check digit catches both */
    assert_int_equal(idcard_check("110105194912310021", 20251123, &b), IDCARD_ECHECK);
    assert_int_equal(idcard_check("440304196511231233", 20251123, &b), IDCARD_ECHECK);
    assert_int_equal(idcard_check("440304196511321232", 20251123, &b), IDCARD_ECHECK);
    /* length and characters */
    assert_int_equal(idcard_check("", 20251123, &b), IDCARD_ELENGTH);
    assert_int_equal(idcard_check(NULL, 20251123, &b), IDCARD_ELENGTH);
    assert_int_equal(idcard_check("11010519491231002", 20251123, &b), IDCARD_ELENGTH);
    assert_int_equal(idcard_check("11010519491231002X\n", 20251123, &b), IDCARD_ELENGTH);
    assert_int_equal(idcard_check("110105491231002", 20251123, &b), IDCARD_ELENGTH);   /* the old 15 digits */
    assert_int_equal(idcard_check("1101051949123100XX", 20251123, &b), IDCARD_ECHARS);
    assert_int_equal(idcard_check("11010519491231002Y", 20251123, &b), IDCARD_ECHARS);
    assert_int_equal(idcard_check(" 1010519491231002X", 20251123, &b), IDCARD_ECHARS);
    assert_non_null(strstr(idcard_error(IDCARD_ECHECK), "check digit"));
    assert_non_null(strstr(idcard_error(IDCARD_ELENGTH), "18"));
    assert_non_null(strstr(idcard_error(IDCARD_EDATE), "birth date"));
}

static void test_birth_date(void **st)
{
    (void)st;
    int32_t b = 0;
    /* check digits right, dates wrong: 29 February of a common year, month 13, in the future */
    assert_int_equal(idcard_check("110101196502290031", 20251123, &b), IDCARD_EDATE);
    assert_int_equal(idcard_check("110101196513010031", 20251123, &b), IDCARD_EDATE);
    assert_int_equal(idcard_check("110101203011230037", 20251123, &b), IDCARD_EDATE);
    assert_int_equal(idcard_check("320102196402290013", 20251123, &b), 0);    /* 1964 is a leap year */
    assert_int_equal(b, 19640229);
    assert_int_equal(idcard_check("440304196511231232", 19651123, &b), 0);    /* born today */
    assert_int_equal(idcard_check("440304196511231232", 19651122, &b), IDCARD_EDATE);
}

static void test_age(void **st)
{
    (void)st;
    assert_int_equal(idcard_age(19651123, 20251122), 59);    /* the day before the 60th birthday */
    assert_int_equal(idcard_age(19651123, 20251123), 60);    /* on it */
    assert_int_equal(idcard_age(19651123, 20260101), 60);
    assert_int_equal(idcard_age(19651123, 19651123), 0);
    /* born on 29 February: the birthday is 1 March in a common year, 29 February in a leap year */
    assert_int_equal(idcard_age(19640229, 20250228), 60);
    assert_int_equal(idcard_age(19640229, 20250301), 61);
    assert_int_equal(idcard_age(19640229, 20240228), 59);
    assert_int_equal(idcard_age(19640229, 20240229), 60);
}

/* ---- ticket.issue with id_number ---- */

static hk_config cfg;
static hk_hall *hall;
static hv *events;
static int64_t next_id;
static const char *queue_yaml;     /* appended to the demo config, or NULL */

static int setup(void **st)
{
    (void)st;
    char yaml[8192], err[256];
    snprintf(yaml, sizeof yaml, "%s%s", config_demo_yaml, queue_yaml ? queue_yaml : "");
    assert_int_equal(config_load_string(yaml, strlen(yaml), "demo", &cfg, err, sizeof err), 0);
    hall = hall_new(&cfg);
    events = hv_arr();
    next_id = 1;
    return 0;
}

static int setup_age_65(void **st)
{
    queue_yaml = "queue: { elderly_age: 65 }\n";
    return setup(st);
}

static int teardown(void **st)
{
    (void)st;
    hall_free(hall);
    hv_free(events);
    hk_config_free(&cfg);
    queue_yaml = NULL;
    return 0;
}

/* 23 November 2025, 10:00 local: the hall's day decides the age. */
static hv *run(hk_session *s, const char *cmd, ...)
{
    hv *req = hv_map();
    hv_set(req, "t", hv_str(cmd));
    hv_set(req, "id", hv_int(next_id++));
    va_list ap;
    va_start(ap, cmd);
    test_req_args(req, ap);
    va_end(ap);
    hk_out out;
    hk_out_init(&out);
    hall_cmd(hall, s, req, (hk_time){ 1763888400000LL, 20251123, 600, 6 }, &out);
    for (size_t i = 0; i < out.nevents; i++)
        hv_push(events, hv_dup(out.events[i]));
    hv *r = out.reply;
    out.reply = NULL;
    hk_out_clear(&out);
    hv_free(req);
    return r;
}

static hk_session login(const char *token)
{
    hk_session s = { 0 };
    hv *r = run(&s, "hello", "token", "s", token, NULL);
    assert_string_equal(hv_get_str(r, "t"), "ok");
    hv_free(r);
    return s;
}

/* Whether the number (its first 17 characters at most: an X may be case-folded) is in v's msgpack bytes. */
static bool carries(const hv *v, const char *id)
{
    size_t n = 0;
    uint8_t *b = NULL;
    assert_int_equal(codec_encode(v, 0, &b, &n), 0);
    size_t k = strlen(id) < 17 ? strlen(id) : 17;
    bool hit = false;
    for (size_t i = 0; i + k <= n && !hit; i++)
        hit = !memcmp(b + i, id, k);
    free(b);
    return hit;
}

/* The reply's ticket; fails on an error reply. */
static const char *issue(hk_session *s, const char *id, hv **reply)
{
    *reply = run(s, "ticket.issue", "category", "s", "A", "id_number", "s", id, NULL);
    if (strcmp(hv_get_str(*reply, "t"), "ok"))
        fail_msg("ticket.issue: %s %s", hv_get_str(*reply, "code"), hv_get_str(*reply, "msg"));
    assert_false(carries(*reply, id));
    return hv_get_str(hv_get(*reply, "ticket"), "priority");
}

static void expect_err(hv *r, const char *code, const char *part, const char *id)
{
    assert_string_equal(hv_get_str(r, "t"), "err");
    assert_string_equal(hv_get_str(r, "code"), code);
    if (!strstr(hv_get_str(r, "msg"), part))
        fail_msg("message '%s' lacks '%s'", hv_get_str(r, "msg"), part);
    assert_false(carries(r, id));
    hv_free(r);
}

static void test_kiosk_elderly_priority(void **st)
{
    (void)st;
    hk_session kiosk = login("kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq");
    hv *r;
    /* 60 today: priority, reason elderly, though queue.priority_roles does not list kiosk */
    assert_string_equal(issue(&kiosk, "440304196511231232", &r), "priority");
    assert_string_equal(hv_get_str(hv_get(r, "ticket"), "priority_reason"), "elderly");
    hv_free(r);
    assert_string_equal(issue(&kiosk, "11010519491231002X", &r), "priority");
    hv_free(r);
    /* 60 tomorrow: a normal ticket, no reason */
    assert_string_equal(issue(&kiosk, "440304196511241238", &r), "normal");
    assert_null(hv_get(hv_get(r, "ticket"), "priority_reason"));
    hv_free(r);
    assert_int_equal(events->u.a.n, 3);
    const hv *ev = events->u.a.v[0];
    assert_string_equal(hv_get_str(ev, "ev"), "ticket.issued");
    assert_string_equal(hv_get_str(ev, "priority"), "priority");
    assert_string_equal(hv_get_str(ev, "priority_reason"), "elderly");
    assert_string_equal(hv_get_str(ev, "by"), "kiosk");
    assert_string_equal(hv_get_str(events->u.a.v[2], "priority"), "normal");
    assert_null(hv_get(events->u.a.v[2], "priority_reason"));
    for (size_t i = 0; i < events->u.a.n; i++) {
        assert_false(carries(events->u.a.v[i], "440304196511231232"));
        assert_false(carries(events->u.a.v[i], "11010519491231002X"));
        assert_false(carries(events->u.a.v[i], "440304196511241238"));
    }
    /* a normal ticket without a card is still there */
    r = run(&kiosk, "ticket.issue", "category", "s", "A", NULL);
    assert_string_equal(hv_get_str(hv_get(r, "ticket"), "priority"), "normal");
    hv_free(r);
}

static void test_bad_numbers(void **st)
{
    (void)st;
    hk_session kiosk = login("kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq"), guide = login("staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD");
    expect_err(run(&kiosk, "ticket.issue", "category", "s", "A", "id_number", "s", "440304196511231233", NULL),
               "bad_request", "check digit", "440304196511231233");
    expect_err(run(&kiosk, "ticket.issue", "category", "s", "A", "id_number", "s", "4403041965112312", NULL),
               "bad_request", "18 characters", "4403041965112312");
    expect_err(run(&kiosk, "ticket.issue", "category", "s", "A", "id_number", "s", "110101196502290031", NULL),
               "bad_request", "birth date", "110101196502290031");
    expect_err(run(&kiosk, "ticket.issue", "category", "s", "A", "id_number", "i", 1, NULL),
               "bad_request", "a string", "no number");
    /* the number decides the priority alone */
    expect_err(run(&kiosk, "ticket.issue", "category", "s", "A", "id_number", "s", "440304196511231232",
                   "priority", "s", "normal", NULL), "bad_request", "without priority", "440304196511231232");
    /* read at a kiosk only: the guide issues priority tickets without the number */
    expect_err(run(&guide, "ticket.issue", "category", "s", "A", "id_number", "s", "440304196511231232", NULL),
               "forbidden", "kiosk", "440304196511231232");
    assert_int_equal(events->u.a.n, 0);    /* refused requests change nothing */
}

static void test_elderly_age_configured(void **st)
{
    (void)st;
    assert_int_equal(cfg.queue.elderly_age, 65);
    hk_session kiosk = login("kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq");
    hv *r;
    assert_string_equal(issue(&kiosk, "440304196511231232", &r), "normal");    /* 60 < 65 */
    hv_free(r);
    assert_string_equal(issue(&kiosk, "11010519491231002X", &r), "priority");  /* 75 */
    hv_free(r);
}

static void test_elderly_age_config_errors(void **st)
{
    (void)st;
    hk_config c;
    char yaml[8192], err[512];
    assert_int_equal(config_load_string(config_demo_yaml, strlen(config_demo_yaml), "d", &c, err, sizeof err), 0);
    hk_config_free(&c);
    snprintf(yaml, sizeof yaml, "%squeue: { elderly_age: 20 }\n", config_demo_yaml);
    assert_int_not_equal(config_load_string(yaml, strlen(yaml), "q.yaml", &c, err, sizeof err), 0);
    if (!strstr(err, "elderly_age"))
        fail_msg("error '%s' does not name elderly_age", err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_digit),
        cmocka_unit_test(test_birth_date),
        cmocka_unit_test(test_age),
        cmocka_unit_test_setup_teardown(test_kiosk_elderly_priority, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_elderly_age_configured, setup_age_65, teardown),
        cmocka_unit_test(test_elderly_age_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
