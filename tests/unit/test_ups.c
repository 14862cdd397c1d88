/* test_ups.c: upsd's answer lines as io/ups/ups.c reads them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "io/ups/ups.h"

static void test_parse(void **state)
{
    (void)state;
    char var[64], value[128];
    assert_int_equal(ups_parse_line("VAR dummy ups.status \"OB LB\"", var, sizeof var, value, sizeof value), 1);
    assert_string_equal(var, "ups.status");
    assert_string_equal(value, "OB LB");
    assert_int_equal(ups_parse_line("VAR dummy battery.charge \"9\"", var, sizeof var, value, sizeof value), 1);
    assert_string_equal(var, "battery.charge");
    assert_string_equal(value, "9");
    assert_int_equal(ups_parse_line("ERR DATA-STALE", var, sizeof var, value, sizeof value), -1);
    assert_string_equal(value, "DATA-STALE");
    assert_int_equal(ups_parse_line("ERR UNKNOWN-UPS extra", var, sizeof var, value, sizeof value), -1);
    assert_string_equal(value, "UNKNOWN-UPS");
    assert_int_equal(ups_parse_line("BEGIN LIST VAR dummy", var, sizeof var, value, sizeof value), 0);
    assert_int_equal(ups_parse_line("VAR dummy", var, sizeof var, value, sizeof value), 0);
    assert_int_equal(ups_parse_line("VAR dummy ups.status OL", var, sizeof var, value, sizeof value), 0);
    assert_int_equal(ups_parse_line("VAR dummy ups.status \"unterminated", var, sizeof var, value, sizeof value), 0);
    assert_int_equal(ups_parse_line("", var, sizeof var, value, sizeof value), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_parse) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
