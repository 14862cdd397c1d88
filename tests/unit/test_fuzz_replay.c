/* test_fuzz_replay.c: replays every file of the fuzz corpora under tests/fuzz (config_corpus,
 * cmd_corpus, codec_corpus, codec_found) through the harness functions libFuzzer drives
 * (tests/fuzz/harness_*.c), so the normal suite under ASan/UBSan (-DHK_SANITIZE=ON) re-checks
 * every input the fuzzer kept, and a crash minimised into a corpus stays a failing test until
 * it is fixed. HK_FUZZ_VERBOSE=1 names each file before it runs (a sanitizer report does not). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* The harnesses are compiled into this test, so the unit-test glob of tests/CMakeLists.txt
 * needs nothing more; scripts/fuzz compiles the same files for libFuzzer. */
#include "tests/fuzz/harness_check.c"
#include "tests/fuzz/harness_codec.c"
#include "tests/fuzz/harness_config.c"
#include "tests/fuzz/harness_cmd.c"

/* tests/fuzz/NAME, from HK_SRC or from this file's own path */
static void corpus_path(char *out, size_t cap, const char *name)
{
    const char *src = getenv("HK_SRC");
    if (src && *src) { snprintf(out, cap, "%s/tests/fuzz/%s", src, name); return; }
    const char *file = __FILE__;
    const char *slash = strrchr(file, '/');
    if (!slash) { snprintf(out, cap, "../fuzz/%s", name); return; }
    snprintf(out, cap, "%.*s/../fuzz/%s", (int)(slash - file), file, name);
}

static int not_hidden(const struct dirent *e) { return e->d_name[0] != '.'; }

/* Runs fn on every file of the directory, in name order, each in a buffer of its exact size
 * (so ASan sees a read past the end); returns the number of files. */
static int replay_dir(const char *name, int (*fn)(const uint8_t *, size_t), bool required)
{
    char dir[4096];
    corpus_path(dir, sizeof dir, name);
    struct dirent **list = NULL;
    int n = scandir(dir, &list, not_hidden, alphasort);
    if (n < 0) {
        if (required) fail_msg("cannot read corpus %s (set HK_SRC to the repository root)", dir);
        return 0;
    }
    bool verbose = getenv("HK_FUZZ_VERBOSE") != NULL;
    for (int i = 0; i < n; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, list[i]->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) fail_msg("cannot open %s", path);
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        rewind(f);
        assert_true(size >= 0 && size <= 1 << 20);
        uint8_t *buf = malloc(size ? (size_t)size : 1);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
        fclose(f);
        if (verbose) fprintf(stderr, "replay %s\n", path);
        fuzz_input_name = path;
        assert_int_equal(fn(buf, (size_t)size), 0);
        fuzz_input_name = NULL;
        free(buf);
        free(list[i]);
    }
    free(list);
    print_message("%s: %d files\n", name, n);
    return n;
}

static void test_codec_corpus(void **state)
{
    (void)state;
    int n = replay_dir("codec_corpus", fuzz_codec, true) + replay_dir("codec_found", fuzz_codec, false);
    assert_true(n >= 10);
}

static void test_config_corpus(void **state)
{
    (void)state;
    assert_true(replay_dir("config_corpus", fuzz_config, true) >= 40);
}

static void test_cmd_corpus(void **state)
{
    (void)state;
    assert_true(replay_dir("cmd_corpus", fuzz_cmd, true) >= 50);
}

/* The harness must notice a broken invariant, not only crashes: a request whose reply id is
 * checked, and a codec round trip, pass on known-good input; the seeds cover the rest. */
static void test_known_good(void **state)
{
    (void)state;
    static const uint8_t frame[] = {0x82, 0xa1, 't', 0xa5, 'h', 'e', 'l', 'l', 'o', 0xa2, 'i', 'd', 0x01};
    assert_int_equal(fuzz_codec(frame, sizeof frame), 0);
    uint8_t req[1 + sizeof frame];
    req[0] = 2;   /* kiosk, empty hall */
    memcpy(req + 1, frame, sizeof frame);
    assert_int_equal(fuzz_cmd(req, sizeof req), 0);
    /* a script on the full hall (harness.h): issue, two hours later check in as staff */
    static const uint8_t script[] = {
        2 + 24,                                                                 /* kiosk, empty, full hall */
        0x83, 0xa1, 't', 0xac, 't', 'i', 'c', 'k', 'e', 't', '.', 'i', 's', 's', 'u', 'e', 0xa2, 'i', 'd', 0x01,
        0xa8, 'c', 'a', 't', 'e', 'g', 'o', 'r', 'y', 0xa1, 'A',               /* {t: ticket.issue, id: 1, category: A} */
        0xcd, 0x1c, 0x20,                                                       /* 7200 s */
        0xfc, 0xae, 's', 't', 'a', 'f', 'f', '-', '0', '0', '0', '1', '-', 'p', 'i', 'n',   /* session 4: hello */
        0x82, 0xa1, 't', 0xad, 's', 't', 'a', 'f', 'f', '.', 'c', 'h', 'e', 'c', 'k', 'i', 'n',
        0xa6, 'w', 'i', 'n', 'd', 'o', 'w', 0x01,                               /* {t: staff.checkin, window: 1}: id added */
    };
    assert_int_equal(fuzz_cmd(script, sizeof script), 0);
    static const char yaml[] = "hall: { id: h, name: H }\ncategories: [ { id: A, name: a } ]\n"
                               "windows: [ { id: 1, name: w, categories: [A] } ]\n";
    assert_int_equal(fuzz_config((const uint8_t *)yaml, sizeof yaml - 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_good),
        cmocka_unit_test(test_codec_corpus),
        cmocka_unit_test(test_config_corpus),
        cmocka_unit_test(test_cmd_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
