/* test_journal.c: the local journal (io/store/journal.c): records read back in order, the header's
 * byte order (little-endian whatever the host, so a data dir moves between x86-64 and arm64), a
 * torn or garbled tail ignored, rewrite, compaction from a seq and reset, and the batched fsync reported through the
 * loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "io/store/journal.h"

typedef struct {
    int n;
    uint64_t seq[16];
    char data[16][32];
} seen;

static void collect(void *arg, uint64_t seq, const uint8_t *data, size_t len)
{
    seen *s = arg;
    assert_true(s->n < 16 && len < 32);
    s->seq[s->n] = seq;
    memcpy(s->data[s->n], data, len);
    s->data[s->n][len] = 0;
    s->n++;
}

static char *tmp_path(char *dir)
{
    assert_non_null(mkdtemp(dir));
    char *p = malloc(strlen(dir) + 16);
    sprintf(p, "%s/j.journal", dir);
    return p;
}

static void cleanup(char *dir, char *path)
{
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    unlink(tmp);
    unlink(path);
    rmdir(dir);
    free(path);
}

static size_t file_bytes(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void test_append_read_back_little_endian(void **st)
{
    (void)st;
    char dir[] = "/tmp/hk-journal-XXXXXX";
    char *path = tmp_path(dir);
    uv_loop_t loop;
    uv_loop_init(&loop);
    char err[128];
    journal *j = journal_open(&loop, path, err, sizeof err);
    assert_non_null(j);
    assert_int_equal(journal_append(j, 0x0102030405060708ULL, (const uint8_t *)"abc", 3), 0);
    assert_int_equal(journal_append(j, 9, (const uint8_t *)"hello", 5), 0);
    assert_int_equal(journal_bytes(j), 16 + 3 + 16 + 5);
    uv_run(&loop, UV_RUN_DEFAULT);                 /* the fsync(s) in the thread pool */
    assert_int_equal(journal_synced(j), 0x0102030405060708ULL);

    uint8_t b[128];
    assert_int_equal(file_bytes(path, b, sizeof b), 16 + 3 + 16 + 5);
    /* [u32 len][u32 sum][u64 seq], little-endian */
    assert_memory_equal(b, "\x03\x00\x00\x00", 4);
    assert_memory_equal(b + 8, "\x08\x07\x06\x05\x04\x03\x02\x01", 8);
    assert_memory_equal(b + 16, "abc", 3);
    assert_memory_equal(b + 19, "\x05\x00\x00\x00", 4);
    assert_memory_equal(b + 19 + 8, "\x09\x00\x00\x00\x00\x00\x00\x00", 8);

    seen s = {0};
    assert_int_equal(journal_each(j, collect, &s), 0);
    assert_int_equal(s.n, 2);
    assert_true(s.seq[0] == 0x0102030405060708ULL && s.seq[1] == 9);
    assert_string_equal(s.data[0], "abc");
    assert_string_equal(s.data[1], "hello");
    journal_close(j);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    cleanup(dir, path);
}

static void test_torn_and_garbled_tail_ignored(void **st)
{
    (void)st;
    char dir[] = "/tmp/hk-journal-XXXXXX";
    char *path = tmp_path(dir);
    uv_loop_t loop;
    uv_loop_init(&loop);
    char err[128];
    journal *j = journal_open(&loop, path, err, sizeof err);
    assert_non_null(j);
    assert_int_equal(journal_append(j, 1, (const uint8_t *)"one", 3), 0);
    assert_int_equal(journal_append(j, 2, (const uint8_t *)"two", 3), 0);
    assert_int_equal(journal_append(j, 3, (const uint8_t *)"three", 5), 0);
    uv_run(&loop, UV_RUN_DEFAULT);

    /* a crash mid-write: the last record cut short */
    assert_int_equal(truncate(path, (off_t)(2 * (16 + 3) + 16 + 2)), 0);
    seen s = {0};
    assert_int_equal(journal_each(j, collect, &s), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.data[1], "two");

    /* a changed byte in the second record's payload: its checksum fails, reading stops there */
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "X", 1, 16 + 3 + 16), 1);
    close(fd);
    memset(&s, 0, sizeof s);
    assert_int_equal(journal_each(j, collect, &s), 0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.data[0], "one");
    journal_close(j);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    cleanup(dir, path);
}

static void test_rewrite_and_reset(void **st)
{
    (void)st;
    char dir[] = "/tmp/hk-journal-XXXXXX";
    char *path = tmp_path(dir);
    uv_loop_t loop;
    uv_loop_init(&loop);
    char err[128];
    journal *j = journal_open(&loop, path, err, sizeof err);
    assert_non_null(j);
    for (uint64_t i = 1; i <= 5; i++) assert_int_equal(journal_append(j, i, (const uint8_t *)"x", 1), 0);
    assert_int_equal(journal_rewrite(j, 6, (const uint8_t *)"last", 4), 0);
    assert_int_equal(journal_synced(j), 6);
    assert_int_equal(journal_append(j, 7, (const uint8_t *)"after", 5), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    seen s = {0};
    assert_int_equal(journal_each(j, collect, &s), 0);
    assert_int_equal(s.n, 2);
    assert_true(s.seq[0] == 6 && s.seq[1] == 7);
    assert_string_equal(s.data[0], "last");
    assert_string_equal(s.data[1], "after");

    assert_int_equal(journal_reset(j), 0);
    assert_int_equal(journal_bytes(j), 0);
    memset(&s, 0, sizeof s);
    assert_int_equal(journal_each(j, collect, &s), 0);
    assert_int_equal(s.n, 0);
    journal_close(j);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);

    /* reopened: what is on disk, nothing more */
    uv_loop_init(&loop);
    j = journal_open(&loop, path, err, sizeof err);
    assert_non_null(j);
    assert_int_equal(journal_bytes(j), 0);
    journal_close(j);
    assert_int_equal(uv_loop_close(&loop), 0);
    cleanup(dir, path);
}

/* Compaction keeps the records from a seq on (the latest day.checkpoint), in order, on disk */
static void test_compact_keeps_from_seq(void **st)
{
    (void)st;
    char dir[] = "/tmp/hk-journal-XXXXXX";
    char *path = tmp_path(dir);
    uv_loop_t loop;
    uv_loop_init(&loop);
    char err[128];
    journal *j = journal_open(&loop, path, err, sizeof err);
    assert_non_null(j);
    const char *words[] = {"a", "b", "cp", "d", "e"};
    for (uint64_t i = 1; i <= 5; i++) assert_int_equal(journal_append(j, i, (const uint8_t *)words[i - 1], strlen(words[i - 1])), 0);
    assert_int_equal(journal_compact(j, 3), 0);
    assert_int_equal(journal_synced(j), 5);
    assert_int_equal(journal_bytes(j), 3 * 16 + 2 + 1 + 1);
    assert_int_equal(journal_append(j, 6, (const uint8_t *)"f", 1), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    journal_close(j);
    uv_run(&loop, UV_RUN_DEFAULT);

    j = journal_open(&loop, path, err, sizeof err);   /* what is on disk */
    assert_non_null(j);
    seen s = {0};
    assert_int_equal(journal_each(j, collect, &s), 0);
    assert_int_equal(s.n, 4);
    assert_true(s.seq[0] == 3 && s.seq[1] == 4 && s.seq[2] == 5 && s.seq[3] == 6);
    assert_string_equal(s.data[0], "cp");
    assert_string_equal(s.data[3], "f");
    journal_close(j);
    assert_int_equal(uv_loop_close(&loop), 0);
    cleanup(dir, path);
}

static void test_open_fails_with_a_reason(void **st)
{
    (void)st;
    uv_loop_t loop;
    uv_loop_init(&loop);
    char err[256] = "";
    assert_null(journal_open(&loop, "/nonexistent-dir-hk/j.journal", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent-dir-hk/j.journal"));
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_read_back_little_endian),
        cmocka_unit_test(test_torn_and_garbled_tail_ignored),
        cmocka_unit_test(test_rewrite_and_reset),
        cmocka_unit_test(test_compact_keeps_from_seq),
        cmocka_unit_test(test_open_fails_with_a_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
