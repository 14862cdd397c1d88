/* test_token.c: configured tokens (io/config/token.c): the entropy floor, Argon2id hashes selected
 * by their id, whole-token comparison, and what is refused at load. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "io/config/token.h"

#define STRONG "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq"

static void test_entropy_floor(void **state)
{
    (void)state;
    const char *why;
    assert_int_equal(token_check(STRONG, &why), 0);
    assert_int_equal(token_check("0123456789abcdef0123456789abcdef", &why), 0);   /* 32 hex digits */
    static const char *const weak[] = {"staff-0001-pin", "kiosk-1-secret", "kiosk-1.short",
                                       "kiosk.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",   /* long, not random */
                                       "0123456789abcdef0123456789", ""};
    for (size_t i = 0; i < sizeof weak / sizeof *weak; i++) {
        why = NULL;
        assert_int_equal(token_check(weak[i], &why), -1);
        assert_non_null(strstr(why, "128 bits"));
    }
    /* the id does not count: only the secret after it */
    assert_true(token_entropy_bits("a-very-long-descriptive-id-here.abc") < 128);
    assert_int_equal(token_check("sha256$00112233445566778899aabbccddeeff$00", &why), -1);
    assert_non_null(strstr(why, "Argon2id"));
}

static void test_hash_round_trip(void **state)
{
    (void)state;
    char h[256];
    const char *why;
    assert_int_equal(token_hash(STRONG, h, sizeof h, &why), 0);
    assert_true(token_is_hashed(h));
    assert_int_equal(token_check(h, &why), 0);
    assert_int_equal(strncmp(h, "kiosk-1.$argon2id$", 18), 0);
    assert_true(token_id_matches(h, (const uint8_t *)STRONG, strlen(STRONG)));
    assert_true(token_id_matches(h, (const uint8_t *)"kiosk-1.other", 13));
    assert_false(token_id_matches(h, (const uint8_t *)"kiosk-2.other", 13));
    assert_true(token_hash_verify(h, (const uint8_t *)STRONG, strlen(STRONG)));
    assert_false(token_hash_verify(h, (const uint8_t *)STRONG, strlen(STRONG) - 1));
    const char nul[] = STRONG "\0x";
    assert_false(token_hash_verify(h, (const uint8_t *)nul, sizeof nul - 1));
    assert_int_equal(token_hash("no-id-here-XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq", h, sizeof h, &why), -1);
    /* a hash asking for too much memory would make every hello slow */
    assert_int_equal(token_check("k.$argon2id$v=19$m=1048576,t=2,p=1$c2FsdHNhbHQ$aGFzaA", &why), -1);
}

static void test_plain_compared_whole(void **state)
{
    (void)state;
    const char nul[] = STRONG "\0anything";
    assert_true(token_plain_equal(STRONG, (const uint8_t *)STRONG, strlen(STRONG)));
    assert_false(token_plain_equal(STRONG, (const uint8_t *)nul, sizeof nul - 1));
    assert_false(token_plain_equal(STRONG, (const uint8_t *)STRONG, strlen(STRONG) - 1));
}

static void test_new_tokens_are_strong(void **state)
{
    (void)state;
    char a[128], b[128];
    const char *why;
    assert_int_equal(token_new("kiosk-3f9a", a, sizeof a), 0);
    assert_int_equal(token_new("kiosk-3f9a", b, sizeof b), 0);
    assert_string_not_equal(a, b);
    assert_int_equal(strncmp(a, "kiosk-3f9a.", 11), 0);
    assert_int_equal(token_check(a, &why), 0);
    assert_int_equal(token_new("bad.id", a, sizeof a), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entropy_floor),
        cmocka_unit_test(test_hash_round_trip),
        cmocka_unit_test(test_plain_compared_whole),
        cmocka_unit_test(test_new_tokens_are_strong),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
