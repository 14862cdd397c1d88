/* test_json.c: core/json.h, the one JSON string escaper: what Python's json.dumps(s,
 * ensure_ascii=False) writes (the incident log's hash chain depends on it), a U+FFFD for each byte
 * of invalid UTF-8, and snprintf's contract for a short buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/json.h"

static void expect_json(const char *in, size_t n, const char *want)
{
    char *got = json_str_dup(in, n);
    assert_string_equal(got, want);
    assert_int_equal(json_str(NULL, 0, in, n), strlen(want));
    free(got);
}

static void test_as_python(void **state)
{
    (void)state;
    expect_json("", 0, "\"\"");
    expect_json("plain", 5, "\"plain\"");
    /* json.dumps('"\\\n\r\t\b\f', ensure_ascii=False) */
    expect_json("\"\\\n\r\t\b\f", 7, "\"\\\"\\\\\\n\\r\\t\\b\\f\"");
    /* other controls as \u00xx, DEL raw, NUL inside the string escaped */
    expect_json("a\x01" "b\x1f\x7f", 5, "\"a\\u0001b\\u001f\x7f\"");
    expect_json("x\0y", 3, "\"x\\u0000y\"");
    /* UTF-8 passes through raw */
    expect_json("安保 é", 9, "\"安保 é\"");
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    /* a stray continuation byte, a truncated sequence, an overlong '/', a surrogate */
    expect_json("a\x80z", 3, "\"a\xef\xbf\xbdz\"");
    expect_json("\xe5\xae", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    expect_json("\xc0\xaf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    expect_json("\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
}

static void test_short_buffer(void **state)
{
    (void)state;
    char buf[6];
    memset(buf, 'X', sizeof buf);
    /* "\"a\\nb\"" needs 6 bytes and the NUL: 5 are written, then the NUL */
    assert_int_equal(json_str(buf, sizeof buf, "a\nb", 3), 6);
    assert_string_equal(buf, "\"a\\nb");
    assert_int_equal(json_str(buf, 1, "abc", 3), 5);
    assert_string_equal(buf, "");
    char big[16];
    assert_int_equal(json_str(big, sizeof big, "abc", 3), 5);
    assert_string_equal(big, "\"abc\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_as_python),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_short_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
