/* test_alloc.c: core/alloc.h, the one allocator: a size or count of 0 still gives a block, and
 * out of memory calls the host's hook, then aborts (core itself writes nothing anywhere). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/alloc.h"

static void test_blocks(void **state)
{
    (void)state;
    uint64_t *z = hk_calloc(0, sizeof *z);   /* one zeroed element, as calloc(n ? n : 1, ...) gave */
    assert_int_equal(z[0], 0);
    z = hk_realloc(z, 4 * sizeof *z);
    z[3] = 7;
    free(z);
    char *s = hk_strdup("安保");
    assert_string_equal(s, "安保");
    free(s);
    free(hk_malloc(0));
}

static void on_oom(size_t size) { _exit(size == 4242 ? 42 : 43); }

/* The child runs out of memory; its status says what happened. */
static int child_status(int with_hook)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (with_hook) hk_alloc_set_oom(on_oom);
        hk_alloc_fail(4242);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return st;
}

static void test_oom_hook(void **state)
{
    (void)state;
    int st = child_status(1);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 42);   /* the hook had the size asked for */
    st = child_status(0);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGABRT);   /* no hook: abort() alone */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocks),
        cmocka_unit_test(test_oom_hook),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
