/* test_config_redis.c: the `redis` section of the configuration (load_redis in io/config/config_load.c):
 * url, or sentinels + master + db for Redis Sentinel, and every wrong combination with its
 * FILE:LINE message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "io/config/config_load.h"

/* A minimal hall; the redis section goes on line 2. */
static int load(const char *redis, hk_config *c, char *err, size_t errlen)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "hall: { id: demo }\n"
             "%s\n"
             "tokens: [ { token: \"admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6\", role: admin } ]\n"
             "categories: [ { id: A, name: 社保医保 } ]\n"
             "windows: [ { id: 1, name: 1号窗口, categories: [A] } ]\n",
             redis);
    return config_load_string(yaml, strlen(yaml), "hall.yaml", c, err, errlen);
}

static void test_sentinels(void **state)
{
    (void)state;
    hk_config c;
    char err[512];
    assert_int_equal(load("redis: { sentinels: [\"10.0.0.5:26379\", \"[::1]:26380\", \"localhost:26381\"], "
                          "master: hallmaster, db: 3 }", &c, err, sizeof err), 0);
    assert_null(c.redis_url);
    assert_int_equal(c.nredis_sentinels, 3);
    assert_string_equal(c.redis_sentinels[0], "10.0.0.5:26379");
    assert_string_equal(c.redis_sentinels[1], "[::1]:26380");
    assert_string_equal(c.redis_sentinels[2], "localhost:26381");
    assert_string_equal(c.redis_master, "hallmaster");
    assert_int_equal(c.redis_db, 3);
    hk_config_free(&c);

    assert_int_equal(load("redis:\n  sentinels:\n    - 127.0.0.1:26379\n  master: m", &c, err, sizeof err), 0);
    assert_int_equal(c.nredis_sentinels, 1);
    assert_int_equal(c.redis_db, 0);
    hk_config_free(&c);

    /* a plain url leaves the sentinel fields empty */
    assert_int_equal(load("redis: { url: \"redis://127.0.0.1:6379/0\" }", &c, err, sizeof err), 0);
    assert_int_equal(c.nredis_sentinels, 0);
    assert_null(c.redis_master);
    hk_config_free(&c);
}

static void test_sentinel_errors(void **state)
{
    (void)state;
    static const struct { const char *redis, *want; } cases[] = {
        {"redis: { url: \"redis://127.0.0.1:6379/0\", sentinels: [\"127.0.0.1:26379\"], master: m }",
         "hall.yaml:2: 'url' and 'sentinels' in redis are mutually exclusive"},
        {"redis: { sentinels: [\"127.0.0.1:26379\"] }", "hall.yaml:2: missing required key 'master' in redis"},
        {"redis: { sentinels: [], master: m }", "hall.yaml:2: 'sentinels' in redis must list at least one HOST:PORT"},
        {"redis: { sentinels: \"127.0.0.1:26379\", master: m }", "'sentinels' in redis must be a list"},
        {"redis: { sentinels: [\"sentinel.example:26379\"], master: m }", "HOST an IP address or localhost"},
        {"redis: { sentinels: [\"127.0.0.1\"], master: m }", "got '127.0.0.1'"},
        {"redis: { sentinels: [\"127.0.0.1:0\"], master: m }", "a port from 1 to 65535"},
        {"redis: { sentinels: [\"[::1:26379\"], master: m }", "got '[::1:26379'"},
        {"redis: { sentinels: [\"127.0.0.1:1\", \"127.0.0.1:1\"], master: m }", "lists '127.0.0.1:1' twice"},
        {"redis: { sentinels: [\"127.0.0.1:1\"], master: \"a b\" }", "'master' in redis must not contain spaces"},
        {"redis: { sentinels: [\"127.0.0.1:1\"], master: m, db: 1000001 }", "'db' in redis must be an integer"},
        {"redis: { sentinels: [\"127.0.0.1:1\"], master: m, db: \"2\" }", "quoted string"},
        {"redis: { master: m }", "'master' in redis needs 'sentinels'"},
        {"redis: { url: \"redis://127.0.0.1:6379/0\", db: 2 }", "'db' in redis goes with 'sentinels'"},
        {"redis: { sentinel: [\"127.0.0.1:1\"], master: m }", "unknown key 'sentinel'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        hk_config c;
        char err[512] = "";
        int rc = load(cases[i].redis, &c, err, sizeof err);
        if (rc == 0 || !strstr(err, cases[i].want))
            fail_msg("%s: rc %d, error \"%s\", expected \"%s\"", cases[i].redis, rc, err, cases[i].want);
        hk_config_free(&c);
    }
}

int main(void)
{
    unsetenv("HALL_REDIS_URL");   /* it would win over the section under test */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sentinels),
        cmocka_unit_test(test_sentinel_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
