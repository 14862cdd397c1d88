/* test_limits.c: the sign-in guard (core/limits.c): penalties that refuse every hello and grow
 * with failures, and failed-hello log lines aggregated per address. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/limits.h"

static hk_login_guard g;

static void test_penalty_after_max_fails_and_growing(void **state)
{
    (void)state;
    memset(&g, 0, sizeof g);
    bool log_now;
    int64_t t = 1000000;
    for (int i = 1; i < LOGIN_MAX_FAILS; i++) {
        assert_int_equal(login_failed(&g, "10.0.0.9", t, &log_now), 0);
        assert_int_equal(login_penalty(&g, "10.0.0.9", t), 0);
    }
    assert_int_equal(login_failed(&g, "10.0.0.9", t, &log_now), LOGIN_BLOCK_MS);
    assert_int_equal(login_penalty(&g, "10.0.0.9", t + 1), LOGIN_BLOCK_MS - 1);
    assert_int_equal(login_penalty(&g, "10.0.0.8", t + 1), 0);   /* another address is not touched */
    /* after the block, the next failure blocks twice as long, then four times */
    t += LOGIN_BLOCK_MS;
    assert_int_equal(login_penalty(&g, "10.0.0.9", t), 0);
    assert_int_equal(login_failed(&g, "10.0.0.9", t, &log_now), 2 * LOGIN_BLOCK_MS);
    t += 2 * LOGIN_BLOCK_MS;
    assert_int_equal(login_failed(&g, "10.0.0.9", t, &log_now), 4 * LOGIN_BLOCK_MS);
    for (int i = 0; i < 40; i++) login_failed(&g, "10.0.0.9", t, &log_now);
    assert_int_equal(login_penalty(&g, "10.0.0.9", t), LOGIN_BLOCK_MAX_MS);
    /* forgotten long after the last failure, once the block is over */
    t += LOGIN_BLOCK_MAX_MS + LOGIN_FORGET_MS + 1;
    assert_int_equal(login_failed(&g, "10.0.0.9", t, &log_now), 0);
}

static unsigned reported_failed, reported_refused, reports;

static void on_report(void *arg, const char *addr, unsigned failed, unsigned refused, int64_t penalty)
{
    (void)arg;
    (void)penalty;
    assert_string_equal(addr, "10.0.0.7");
    reported_failed += failed;
    reported_refused += refused;
    reports++;
}

static void test_log_lines_aggregated(void **state)
{
    (void)state;
    memset(&g, 0, sizeof g);
    int64_t t = 5000000;
    unsigned at_once = 0;
    for (int i = 0; i < 1500; i++) {
        bool log_now;
        if (login_penalty(&g, "10.0.0.7", t)) continue;
        login_failed(&g, "10.0.0.7", t, &log_now);
        at_once += log_now;
    }
    assert_int_equal(at_once, 1);
    login_report(&g, t + LOGIN_LOG_MS - 1, on_report, NULL);
    assert_int_equal(reports, 0);                       /* the interval is not over yet */
    login_report(&g, t + LOGIN_LOG_MS, on_report, NULL);
    assert_int_equal(reports, 1);
    assert_int_equal(reported_failed + reported_refused, 1499);
    login_report(&g, t + 3 * LOGIN_LOG_MS, on_report, NULL);
    assert_int_equal(reports, 1);                       /* nothing new: no line */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_penalty_after_max_fails_and_growing),
        cmocka_unit_test(test_log_lines_aggregated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
