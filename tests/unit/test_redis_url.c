/* test_redis_url.c: io/store/redis_url.h, the one Redis URL parser (the daemon's store and
 * `hallctl city`): every part of redis://[[USER]:PASSWORD@]HOST[:PORT][/DB], unix sockets, and
 * a specific error for each malformed URL. */
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "io/store/redis_url.h"

static void test_parts(void **state)
{
    (void)state;
    redis_url u;
    char err[256];
    assert_int_equal(redis_url_parse(&u, "redis://127.0.0.1", err, sizeof err), 0);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 0);
    assert_null(u.path);
    assert_null(u.user);
    assert_null(u.password);
    redis_url_free(&u);

    assert_int_equal(redis_url_parse(&u, "redis://hall:s3cr@t@redis.example:6380/2", err, sizeof err), 0);
    assert_string_equal(u.user, "hall");
    assert_string_equal(u.password, "s3cr");   /* the first @ ends the credentials */
    redis_url_free(&u);

    assert_int_equal(redis_url_parse(&u, "redis://:pw@[::1]:7000/15", err, sizeof err), 0);
    assert_null(u.user);
    assert_string_equal(u.password, "pw");
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 7000);
    assert_int_equal(u.db, 15);
    redis_url_free(&u);

    assert_int_equal(redis_url_parse(&u, "redis://localhost/", err, sizeof err), 0);
    assert_string_equal(u.host, "localhost");   /* names are the caller's business */
    redis_url_free(&u);

    assert_int_equal(redis_url_parse(&u, "unix:///run/redis/redis.sock", err, sizeof err), 0);
    assert_string_equal(u.path, "/run/redis/redis.sock");
    redis_url_free(&u);
}

static void expect_bad(const char *url, const char *why)
{
    redis_url u;
    char err[256] = "";
    assert_int_equal(redis_url_parse(&u, url, err, sizeof err), -EINVAL);
    redis_url_free(&u);
    if (!strstr(err, why)) fail_msg("%s: expected \"%s\" in \"%s\"", url, why, err);
}

static void test_errors(void **state)
{
    (void)state;
    expect_bad("http://127.0.0.1", "expected redis://HOST:PORT/DB or unix:///path");
    expect_bad("unix://relative.sock", "unix:// needs an absolute path");
    expect_bad("redis://secret@127.0.0.1", "credentials must be [USER]:PASSWORD@");
    expect_bad("redis://", "expected redis://HOST:PORT/DB");
    expect_bad("redis://127.0.0.1:0", "expected redis://HOST:PORT/DB");
    expect_bad("redis://127.0.0.1:65536", "expected redis://HOST:PORT/DB");
    expect_bad("redis://127.0.0.1:6379/x", "expected redis://HOST:PORT/DB");
    expect_bad("redis://127.0.0.1:6379/1/2", "expected redis://HOST:PORT/DB");
    expect_bad("redis://[::1", "expected redis://HOST:PORT/DB");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parts),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
