/* test_text.c: the one check of free text (core/text.c): valid UTF-8, no control characters (C0,
 * DEL, C1), a limit per field at any depth of a request, multiline only where the table says, and
 * that hall_cmd runs it before any command's handler. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/hall.h"
#include "core/text.h"
#include "io/config/config_load.h"
#include "req_args.h"

static int check_req(const char *cmd, const char *field, hv *v, char *why, size_t len)
{
    hv *req = hv_map();
    hv_set(req, "t", hv_str(cmd));
    hv_set(req, field, v);
    int rc = text_check_request(cmd, req, why, len);
    hv_free(req);
    return rc;
}

static hv *repeat(char c, size_t n)
{
    char buf[70000];
    assert_true(n < sizeof buf);
    memset(buf, c, n);
    return hv_strn(buf, n);
}

static void strings_are_utf8_without_controls(void **state)
{
    (void)state;
    char why[200];
    assert_int_equal(check_req("window.pause", "reason", hv_str("午休 lunch"), why, sizeof why), 0);
    assert_int_equal(check_req("window.pause", "reason", hv_str("x\x1b[2Jy"), why, sizeof why), -1);
    assert_non_null(strstr(why, "control characters"));
    assert_int_equal(check_req("window.pause", "reason", hv_strn("a\0b", 3), why, sizeof why), -1);
    assert_int_equal(check_req("window.pause", "reason", hv_str("a\x7f"), why, sizeof why), -1);
    assert_int_equal(check_req("window.pause", "reason", hv_str("a\xc2\x9b" "2J"), why, sizeof why), -1);   /* C1 CSI */
    assert_int_equal(check_req("window.pause", "reason", hv_str("bad \xff\xfe"), why, sizeof why), -1);
    assert_non_null(strstr(why, "UTF-8"));
    assert_int_equal(check_req("window.pause", "reason", hv_str("\xed\xa0\x80"), why, sizeof why), -1);   /* a surrogate */
    assert_int_equal(check_req("window.pause", "reason", hv_str("line\nbreak"), why, sizeof why), -1);
    /* the whole request: a key, and a string deep in a list */
    hv *req = hv_map();
    hv_set(req, "t", hv_str("ticket.finish"));
    hv_set(req, "bad\x1bkey", hv_int(1));
    assert_int_equal(text_check_request("ticket.finish", req, why, sizeof why), -1);
    hv_free(req);
    hv *list = hv_arr();
    hv_push(list, hv_str("户口本"));
    hv_push(list, hv_str("结婚证\x1b]0;pwned\x07"));
    assert_int_equal(check_req("ticket.finish", "missing", list, why, sizeof why), -1);
}

static void each_field_has_its_limit(void **state)
{
    (void)state;
    char why[200];
    assert_int_equal(check_req("emergency.clear", "reason", repeat('x', 500), why, sizeof why), 0);
    assert_int_equal(check_req("emergency.clear", "reason", repeat('x', 501), why, sizeof why), -1);
    assert_non_null(strstr(why, "500 bytes"));
    assert_int_equal(check_req("window.pause", "reason", repeat('x', 121), why, sizeof why), -1);
    assert_int_equal(check_req("ticket.rate", "text", repeat('x', 301), why, sizeof why), -1);
    /* a list's strings take the list's limit */
    hv *list = hv_arr();
    hv_push(list, repeat('m', 61));
    assert_int_equal(check_req("ticket.finish", "missing", list, why, sizeof why), -1);
    /* names of configured things are short; a field no command reads is bounded by the frame */
    assert_int_equal(check_req("ticket.issue", "category", repeat('A', 64), why, sizeof why), 0);
    assert_int_equal(check_req("ticket.issue", "category", repeat('A', 65), why, sizeof why), -1);
    assert_int_equal(check_req("state.get", "pad", repeat('p', 60000), why, sizeof why), 0);
    assert_int_equal(check_req("state.get", "pad", hv_str("p\x1b"), why, sizeof why), -1);
    /* the message shows the refused value as text */
    assert_int_equal(check_req("window.pause", "reason", hv_str("\xff\xfe张"), why, sizeof why), -1);
    assert_non_null(strstr(why, "got '??张'"));
    /* a CSV import is a file: lines and tabs are allowed there only */
    assert_int_equal(check_req("appointment.import", "csv", hv_str("number,name\r\nA1,张三\n"), why, sizeof why), 0);
    assert_int_equal(check_req("appointment.import", "csv", hv_str("a\x1b"), why, sizeof why), -1);
    bool ml = false;
    assert_int_equal(text_limit("appointment.import", "csv", &ml), 60 * 1024);
    assert_true(ml);
    /* text_check: a required string */
    hv *empty = hv_str("");
    assert_int_equal(text_check(empty, 10, false, "result", why, sizeof why), -1);
    hv_free(empty);
}

static void hall_cmd_checks_before_the_handler(void **state)
{
    (void)state;
    hk_config cfg;
    char err[256];
    assert_int_equal(config_load_string(config_demo_yaml, strlen(config_demo_yaml), "demo", &cfg, err, sizeof err), 0);
    hk_hall *h = hall_new(&cfg);
    hk_time now = {1763888400000LL, 20251123, 600, 0};
    struct { const char *token, *cmd, *k, *v, *k2, *v2; } bad[] = {
        {"staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp", "window.pause", "reason", "\x1b[31mred", NULL, NULL},
        {"security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u", "emergency.trigger", "playbook", "fire\x1b", NULL, NULL},
        {"kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq", "ticket.issue", "category", "A\xff", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        hk_session s = {0};
        hk_out out;
        hv *req = hv_map();
        hv_set(req, "t", hv_str("hello"));
        hv_set(req, "id", hv_int(1));
        hv_set(req, "token", hv_str(bad[i].token));
        hk_out_init(&out);
        hall_cmd(h, &s, req, now, &out);
        hv_free(req);
        hk_out_clear(&out);
        req = hv_map();
        hv_set(req, "t", hv_str(bad[i].cmd));
        hv_set(req, "id", hv_int(2));
        hv_set(req, bad[i].k, hv_str(bad[i].v));
        hk_out_init(&out);
        hall_cmd(h, &s, req, now, &out);
        assert_string_equal(hv_get_str(out.reply, "code"), "bad_request");
        assert_int_equal(out.nevents, 0);
        hv_free(req);
        hk_out_clear(&out);
    }
    hall_free(h);
    hk_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strings_are_utf8_without_controls),
        cmocka_unit_test(each_field_has_its_limit),
        cmocka_unit_test(hall_cmd_checks_before_the_handler),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
