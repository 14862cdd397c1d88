/* test_base.c: io/base, what every program shares with the OS: the hall's one clock (local
 * day, minute and weekday; --test-clock's advance; a monotonic clock) and mkdir -p. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "io/base/clock.h"
#include "io/base/fs.h"

static void test_local_time(void **state)
{
    (void)state;
    setenv("TZ", "CST-8", 1);   /* UTC+8, no daylight saving (POSIX form: no tzdata needed) */
    tzset();
    /* 2025-11-23 16:30:05 UTC = 2025-11-24 00:30:05 in UTC+8, a Monday */
    hk_time t = hk_clock_at(1763915405000LL);
    assert_int_equal(t.ms, 1763915405000LL);
    assert_int_equal(t.day, 20251124);
    assert_int_equal(t.min, 30);
    assert_int_equal(t.wday, 0);
    int32_t day;
    int minute;
    hk_clock_local(1763915405000LL - 31 * 60000, &day, &minute);   /* 23:59 the day before, Sunday */
    assert_int_equal(day, 20251123);
    assert_int_equal(minute, 23 * 60 + 59);
    assert_int_equal(hk_clock_at(1763915405000LL - 31 * 60000).wday, 6);
}

static void test_advance(void **state)
{
    (void)state;
    hk_time before = hk_clock_now();
    hk_clock_advance(3 * 86400000LL);
    hk_time after = hk_clock_now();
    hk_clock_advance(-3 * 86400000LL);
    /* three days on, give or take the real time the test took */
    assert_true(after.ms - before.ms >= 3 * 86400000LL);
    assert_true(after.ms - before.ms < 3 * 86400000LL + 60000);
    assert_int_equal(after.day, hk_clock_at(after.ms).day);
    int64_t m0 = hk_clock_mono_ms(), m1 = hk_clock_mono_ms();
    assert_true(m1 >= m0);
}

static void test_mkdirs(void **state)
{
    (void)state;
    char base[] = "/tmp/hk_test_base_XXXXXX", deep[128], file[160];
    assert_non_null(mkdtemp(base));
    snprintf(deep, sizeof deep, "%s/a/b/c", base);
    assert_int_equal(hk_mkdirs(deep, 0755), 0);
    struct stat st;
    assert_int_equal(stat(deep, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(hk_mkdirs(deep, 0755), 0);   /* already there: fine */
    /* a file in the way is an error, with errno set */
    snprintf(file, sizeof file, "%s/a/f", base);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(deep, sizeof deep, "%s/a/f/x", base);
    assert_int_equal(hk_mkdirs(deep, 0755), -ENOTDIR);
    assert_int_equal(errno, ENOTDIR);
    unlink(file);
    snprintf(deep, sizeof deep, "%s/a/b/c", base);
    rmdir(deep);
    snprintf(deep, sizeof deep, "%s/a/b", base);
    rmdir(deep);
    snprintf(deep, sizeof deep, "%s/a", base);
    rmdir(deep);
    rmdir(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_time),
        cmocka_unit_test(test_advance),
        cmocka_unit_test(test_mkdirs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
