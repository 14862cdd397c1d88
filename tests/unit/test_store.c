/* test_store.c: the Redis event log (io/store/store.c) and the embedded redis-server (io/store/redis_child.c)
 * against a real redis-server in a temporary directory: pipelined appends, ordered completions,
 * idempotent resends, link loss (SIGKILL and a stalled server), paged restore, clean shutdown,
 * held appends released after a look at the stream's last entry. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "io/store/redis_child.h"
#include "io/store/store.h"

/* ---- fixture ------------------------------------------------------------------------------ */

typedef struct {
    uv_loop_t loop;
    char dir[64];
    redis_child *rc;
    store *st;
    int ups, downs;
    int closed;
    /* appends */
    size_t next_done;           /* completions must arrive in this order */
    int *done_count;            /* per append index */
    int *done_status;
    struct app_ctx *ctx;
    size_t n_app;
    /* restore */
    uint64_t *r_seq;
    uint8_t **r_data;
    size_t *r_len;
    size_t r_n, r_cap;
    int r_done, r_status;
    uint64_t r_last;
} fx;

typedef struct app_ctx {
    fx *f;
    size_t idx;
} app_ctx;

static void on_tick(uv_timer_t *t) { (void)t; }

static int run_until(fx *f, int (*cond)(fx *), unsigned ms)
{
    uv_timer_t tick;        /* wakes uv_run so the deadline is checked */
    uv_timer_init(&f->loop, &tick);
    uv_timer_start(&tick, on_tick, 10, 10);
    uint64_t end = uv_now(&f->loop) + ms;
    int ok;
    while (!(ok = cond(f)) && uv_now(&f->loop) < end)
        uv_run(&f->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    return ok;
}

static void on_link(void *arg, int up)
{
    fx *f = arg;
    if (up) f->ups++;
    else f->downs++;
}

static int cond_up(fx *f) { return store_is_up(f->st); }
static int cond_down(fx *f) { return !store_is_up(f->st); }
static int cond_closed(fx *f) { return f->closed; }
static int cond_restored(fx *f) { return f->r_done; }
static int cond_all_done(fx *f) { return f->next_done == f->n_app; }

static void on_closed(void *arg) { ((fx *)arg)->closed = 1; }

/* Servers still running when a test failed half-way: killed at the end of the run. */
static redis_child *g_live[16];

static void live_set(redis_child *rc, int on)
{
    for (size_t i = 0; i < 16; i++)
        if (on ? !g_live[i] : g_live[i] == rc) {
            g_live[i] = on ? rc : NULL;
            return;
        }
}

static int kill_leftovers(void **state)
{
    for (size_t i = 0; i < 16; i++)
        if (g_live[i] && redis_child_pid(g_live[i]) > 0) kill(redis_child_pid(g_live[i]), SIGKILL);
    return 0;
}

static void fx_start_child(fx *f)
{
    char err[256] = "";
    f->rc = redis_child_new(&f->loop, f->dir, err, sizeof err);
    assert_non_null(f->rc);
    assert_int_equal(redis_child_start(f->rc), 0);
    live_set(f->rc, 1);
    assert_true(redis_child_pid(f->rc) > 0);
}

static store *fx_store(fx *f)
{
    char err[256] = "";
    store *s = store_new(&f->loop, "demo", redis_child_url(f->rc), err, sizeof err);
    assert_non_null(s);
    return s;
}

static void fx_open(fx *f)
{
    memset(f, 0, sizeof *f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    strcpy(f->dir, "/tmp/hk-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    fx_start_child(f);
    f->st = fx_store(f);
    store_set_link_cb(f->st, on_link, f);
    assert_int_equal(store_start(f->st), 0);
    assert_true(run_until(f, cond_up, 5000));
}

static void fx_stop_store(fx *f, store *s)
{
    f->closed = 0;
    store_stop(s, on_closed, f);
    assert_true(run_until(f, cond_closed, 2000));
    store_free(s);
}

static void fx_reset_restore(fx *f)
{
    for (size_t i = 0; i < f->r_n; i++) free(f->r_data[i]);
    free(f->r_seq);
    free(f->r_data);
    free(f->r_len);
    f->r_seq = NULL;
    f->r_data = NULL;
    f->r_len = NULL;
    f->r_n = f->r_cap = 0;
    f->r_done = 0;
}

static void fx_close(fx *f)
{
    if (f->st) fx_stop_store(f, f->st);
    if (f->rc) {
        int pid = redis_child_pid(f->rc);
        f->closed = 0;
        redis_child_stop(f->rc, on_closed, f);
        assert_true(run_until(f, cond_closed, 7000));
        live_set(f->rc, 0);
        redis_child_free(f->rc);
        if (pid > 0) assert_int_equal(kill(pid, 0), -1);   /* reaped, gone */
    }
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    fx_reset_restore(f);
    free(f->done_count);
    free(f->done_status);
    free(f->ctx);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- appends and restore helpers ----------------------------------------------------------- */

static void on_done(void *arg, int status)
{
    app_ctx *c = arg;
    fx *f = c->f;
    assert_int_equal(c->idx, f->next_done);     /* strictly in append order */
    f->done_count[c->idx]++;
    f->done_status[c->idx] = status;
    f->next_done++;
}

static void fx_alloc_apps(fx *f, size_t n)
{
    f->done_count = calloc(n, sizeof(int));
    f->done_status = calloc(n, sizeof(int));
    f->ctx = calloc(n, sizeof *f->ctx);
    f->n_app = 0;
    f->next_done = 0;
}

static size_t event_bytes(uint64_t seq, uint8_t *buf)
{
    size_t len = 1 + seq % 61;
    for (size_t k = 0; k < len; k++) buf[k] = (uint8_t)(seq * 31 + k * 7);   /* zeros included */
    return len;
}

static void fx_append(fx *f, store *s, uint64_t seq)
{
    uint8_t buf[64];
    size_t len = event_bytes(seq, buf);
    app_ctx *c = &f->ctx[f->n_app];
    c->f = f;
    c->idx = f->n_app++;
    assert_int_equal(store_append(s, seq, "ticket.issued", 1700000000000LL + (int64_t)seq, buf, len,
                                  on_done, c), 0);
}

static void on_event(void *arg, uint64_t seq, const uint8_t *data, size_t len)
{
    fx *f = arg;
    if (f->r_n == f->r_cap) {
        f->r_cap = f->r_cap ? f->r_cap * 2 : 256;
        f->r_seq = realloc(f->r_seq, f->r_cap * sizeof *f->r_seq);
        f->r_data = realloc(f->r_data, f->r_cap * sizeof *f->r_data);
        f->r_len = realloc(f->r_len, f->r_cap * sizeof *f->r_len);
    }
    f->r_seq[f->r_n] = seq;
    f->r_data[f->r_n] = malloc(len ? len : 1);
    memcpy(f->r_data[f->r_n], data, len);
    f->r_len[f->r_n] = len;
    f->r_n++;
}

static void on_restored(void *arg, int status, uint64_t last_seq)
{
    fx *f = arg;
    f->r_done++;
    f->r_status = status;
    f->r_last = last_seq;
}

/* Restores with a fresh connection, as a restarted daemon would. */
static void fx_restore(fx *f)
{
    fx_reset_restore(f);
    store *s = fx_store(f);
    assert_int_equal(store_restore(s, on_event, on_restored, f), 0);   /* before the link is up */
    assert_int_equal(store_start(s), 0);
    assert_true(run_until(f, cond_restored, 10000));
    assert_int_equal(f->r_done, 1);
    fx_stop_store(f, s);
}

static void check_restored(fx *f, const uint64_t *seqs, size_t n)
{
    assert_int_equal(f->r_status, 0);
    assert_int_equal(f->r_n, n);
    for (size_t i = 0; i < n; i++) {
        uint8_t buf[64];
        size_t len = event_bytes(seqs[i], buf);
        assert_int_equal(f->r_seq[i], seqs[i]);
        assert_int_equal(f->r_len[i], len);
        assert_memory_equal(f->r_data[i], buf, len);
    }
}

static void check_range(fx *f, uint64_t n)
{
    uint64_t *seqs = malloc(n * sizeof *seqs);
    for (uint64_t i = 0; i < n; i++) seqs[i] = i + 1;
    check_restored(f, seqs, n);
    free(seqs);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_append_restore(void **state)
{
    fx f;
    fx_open(&f);
    fx_alloc_apps(&f, 1000);
    for (uint64_t seq = 1; seq <= 1000; seq++) fx_append(&f, f.st, seq);   /* all before any reply */
    assert_int_equal(store_pending(f.st), 1000);
    assert_true(run_until(&f, cond_all_done, 10000));
    assert_int_equal(store_pending(f.st), 0);
    for (size_t i = 0; i < 1000; i++) {
        assert_int_equal(f.done_count[i], 1);
        assert_int_equal(f.done_status[i], 0);
    }
    fx_restore(&f);
    check_range(&f, 1000);
    assert_int_equal(f.r_last, 1000);
    fx_close(&f);
}

static void test_restore_pages(void **state)
{
    fx f;
    fx_open(&f);
    const size_t n = 10001;     /* two full pages of 5000 and one entry after them */
    fx_alloc_apps(&f, n);
    for (uint64_t seq = 1; seq <= n; seq++) fx_append(&f, f.st, seq);
    assert_true(run_until(&f, cond_all_done, 20000));
    fx_restore(&f);
    check_range(&f, n);
    assert_int_equal(f.r_last, n);
    fx_close(&f);
}

static void test_restore_empty(void **state)
{
    fx f;
    fx_open(&f);
    fx_restore(&f);
    assert_int_equal(f.r_status, 0);
    assert_int_equal(f.r_n, 0);
    assert_int_equal(f.r_last, 0);
    fx_close(&f);
}

static void test_idempotent(void **state)
{
    fx f;
    fx_open(&f);
    fx_alloc_apps(&f, 16);
    fx_append(&f, f.st, 1);
    fx_append(&f, f.st, 2);
    fx_append(&f, f.st, 3);
    fx_append(&f, f.st, 2);    /* a resend of a stored event: success, and in order */
    assert_true(run_until(&f, cond_all_done, 5000));
    for (size_t i = 0; i < 4; i++) assert_int_equal(f.done_status[i], 0);
    /* the resend set hall:{demo}:seq back to 2: restore still reports the stream's top */
    fx_restore(&f);
    const uint64_t a[] = {1, 2, 3};
    check_restored(&f, a, 3);
    assert_int_equal(f.r_last, 3);

    fx_append(&f, f.st, 10);
    fx_append(&f, f.st, 7);    /* below the top and absent: cannot be stored, must not claim so */
    fx_append(&f, f.st, 11);
    assert_true(run_until(&f, cond_all_done, 5000));
    assert_int_equal(f.done_status[4], 0);
    assert_int_equal(f.done_status[5], -ERANGE);
    assert_int_equal(f.done_status[6], 0);
    for (size_t i = 0; i < 7; i++) assert_int_equal(f.done_count[i], 1);
    fx_restore(&f);
    const uint64_t b[] = {1, 2, 3, 10, 11};
    check_restored(&f, b, 5);
    assert_int_equal(f.r_last, 11);
    fx_close(&f);
}

static int cond_some_done(fx *f) { return f->next_done > 0; }

/* With appendfsync everysec Redis may postpone its AOF write (up to 2 s, while a slow background
 * fsync runs) and still reply, so a SIGKILL of redis can lose acknowledged appends: the
 * exactly-once claim below holds with "always" (docs/redis.md). */
static void test_link_loss(void **state)
{
    fx f;
    setenv("HALL_REDIS_APPENDFSYNC", "always", 1);
    fx_open(&f);
    unsetenv("HALL_REDIS_APPENDFSYNC");
    const size_t n = 900;
    fx_alloc_apps(&f, n);
    for (uint64_t seq = 1; seq <= 300; seq++) fx_append(&f, f.st, seq);
    assert_true(run_until(&f, cond_some_done, 5000));
    /* the server stops reading, 301..600 go on the wire, then it dies: those can only
     * complete through a resend to the restarted server */
    int pid = redis_child_pid(f.rc);
    assert_int_equal(kill(pid, SIGSTOP), 0);
    for (uint64_t seq = 301; seq <= 600; seq++) fx_append(&f, f.st, seq);
    for (int i = 0; i < 3; i++) uv_run(&f.loop, UV_RUN_NOWAIT);
    assert_true(store_pending(f.st) >= 300);
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_true(run_until(&f, cond_down, 5000));
    assert_int_equal(f.downs, 1);
    assert_true(store_pending(f.st) >= 300);
    for (uint64_t seq = 601; seq <= n; seq++) fx_append(&f, f.st, seq);   /* while down */
    assert_true(store_pending(f.st) >= 600);
    /* redis_child restarts the server on the same AOF; the store reconnects and resends */
    assert_true(run_until(&f, cond_all_done, 15000));
    assert_true(redis_child_pid(f.rc) > 0 && redis_child_pid(f.rc) != pid);
    assert_int_equal(f.ups, 2);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(f.done_count[i], 1);
        assert_int_equal(f.done_status[i], 0);
    }
    fx_restore(&f);
    check_range(&f, n);
    assert_int_equal(f.r_last, n);
    fx_close(&f);
}

static void test_stalled_server(void **state)
{
    fx f;
    fx_open(&f);
    fx_alloc_apps(&f, 8);
    int pid = redis_child_pid(f.rc);
    assert_int_equal(kill(pid, SIGSTOP), 0);
    for (uint64_t seq = 1; seq <= 5; seq++) fx_append(&f, f.st, seq);
    /* no reply for 5 s: the link is declared lost although the socket stays open */
    assert_true(run_until(&f, cond_down, 8000));
    assert_int_equal(f.next_done, 0);
    assert_int_equal(kill(pid, SIGCONT), 0);
    assert_true(run_until(&f, cond_all_done, 8000));
    assert_int_equal(f.ups, 2);
    fx_restore(&f);
    check_range(&f, 5);
    fx_close(&f);
}

/* A hall started from its local copy: store_top reads the stream's last entry; held appends are
 * not sent; store_release completes those Redis has without writing them and sends the rest. */
typedef struct {
    int n, status;
    uint64_t seq;
    uint8_t data[64];
    size_t len;
} top_seen;

static void on_top(void *arg, int status, uint64_t seq, const uint8_t *data, size_t len)
{
    top_seen *t = arg;
    t->n++;
    t->status = status;
    t->seq = seq;
    t->len = len < sizeof t->data ? len : sizeof t->data;
    if (data) memcpy(t->data, data, t->len);
}

static top_seen *g_top;
static int cond_top(fx *f) { (void)f; return g_top->n > 0; }

static void ask_top(fx *f, top_seen *t)
{
    memset(t, 0, sizeof *t);
    g_top = t;
    assert_int_equal(store_top(f->st, on_top, t), 0);
    assert_true(run_until(f, cond_top, 5000));
    assert_int_equal(t->status, 0);
}

static void test_hold_release_top(void **state)
{
    fx f;
    fx_open(&f);
    assert_true(run_until(&f, cond_up, 5000));
    top_seen t;
    ask_top(&f, &t);
    assert_int_equal(t.seq, 0);            /* an empty stream */
    fx_alloc_apps(&f, 8);
    for (uint64_t seq = 1; seq <= 3; seq++) fx_append(&f, f.st, seq);
    assert_true(run_until(&f, cond_all_done, 5000));
    ask_top(&f, &t);
    uint8_t buf[64];
    size_t len = event_bytes(3, buf);
    assert_int_equal(t.seq, 3);
    assert_int_equal(t.len, len);
    assert_memory_equal(t.data, buf, len);

    store_hold(f.st);
    assert_false(store_is_up(f.st));        /* a held store takes no writes: not up for the hall */
    for (uint64_t seq = 2; seq <= 5; seq++) fx_append(&f, f.st, seq);   /* 2, 3: Redis has them */
    ask_top(&f, &t);                        /* a reply after anything pipelined before it */
    assert_int_equal(t.seq, 3);
    assert_int_equal(store_pending(f.st), 4);
    assert_int_equal(f.next_done, 3);
    assert_int_equal(store_release(f.st, 3), 0);
    assert_true(store_is_up(f.st));
    assert_true(run_until(&f, cond_all_done, 5000));
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(f.done_count[i], 1);
        assert_int_equal(f.done_status[i], 0);
    }
    assert_int_equal(store_confirmed(f.st), 5);
    fx_restore(&f);
    check_range(&f, 5);
    fx_close(&f);
}

static void test_stop_with_pending(void **state)
{
    fx f;
    fx_open(&f);
    fx_alloc_apps(&f, 100);
    for (uint64_t seq = 1; seq <= 100; seq++) fx_append(&f, f.st, seq);
    fx_stop_store(&f, f.st);    /* pending appends dropped: on_done must not run */
    f.st = NULL;
    assert_int_equal(f.next_done, 0);
    fx_close(&f);
}

static void test_urls(void **state)
{
    fx f;
    memset(&f, 0, sizeof f);
    assert_int_equal(uv_loop_init(&f.loop), 0);
    char err[256];
    err[0] = 0;
    assert_null(store_new(&f.loop, "demo", "redis://redis.example.com:6379/0", err, sizeof err));
    assert_non_null(strstr(err, "IP address"));
    assert_null(store_new(&f.loop, "demo", "http://127.0.0.1/", err, sizeof err));
    assert_null(store_new(&f.loop, "demo", "redis://127.0.0.1:99999/0", err, sizeof err));
    assert_null(store_new(&f.loop, "demo", "unix://relative.sock", err, sizeof err));
    const char *good[] = {"redis://localhost:6379/3", "redis://127.0.0.1", "redis://[::1]:6380/1",
                          "redis://:secret@127.0.0.1:6379/0", "unix:///run/redis.sock"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        store *s = store_new(&f.loop, "demo", good[i], err, sizeof err);
        assert_non_null(s);
        fx_stop_store(&f, s);
    }
    /* nothing listens on port 1: the store keeps retrying, never up, and stops cleanly */
    store *s = store_new(&f.loop, "demo", "redis://127.0.0.1:1/0", err, sizeof err);
    assert_non_null(s);
    f.st = s;
    store_set_link_cb(s, on_link, &f);
    assert_int_equal(store_start(s), 0);
    assert_false(run_until(&f, cond_up, 500));
    assert_int_equal(f.ups + f.downs, 0);
    assert_int_equal(store_append(s, 1, "x", 0, (const uint8_t *)"a", 1, NULL, NULL), 0);
    assert_int_equal(store_pending(s), 1);
    fx_stop_store(&f, s);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f.loop), 0);
}

static void test_sentinel_args(void **state)
{
    fx f;
    memset(&f, 0, sizeof f);
    assert_int_equal(uv_loop_init(&f.loop), 0);
    char err[256];
    const char *bad[][1] = {{"sentinel.example:26379"}, {"127.0.0.1"}, {"127.0.0.1:0"}, {"[::1:26379"}, {":26379"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = 0;
        assert_null(store_new_sentinel(&f.loop, "demo", bad[i], 1, "m", 0, err, sizeof err));
        assert_non_null(strstr(err, "HOST:PORT"));
    }
    const char *one[] = {"127.0.0.1:26379"};
    assert_null(store_new_sentinel(&f.loop, "demo", one, 0, "m", 0, err, sizeof err));
    assert_null(store_new_sentinel(&f.loop, "demo", one, 1, "", 0, err, sizeof err));
    /* no sentinel listens (ports 1 and 2): every round fails, the store keeps asking, never up,
     * keeps the append, and stops cleanly */
    const char *none[] = {"127.0.0.1:1", "localhost:2", "[::1]:3"};
    store *s = store_new_sentinel(&f.loop, "demo", none, 3, "hallmaster", 2, err, sizeof err);
    assert_non_null(s);
    f.st = s;
    store_set_link_cb(s, on_link, &f);
    assert_int_equal(store_start(s), 0);
    assert_false(run_until(&f, cond_up, 700));
    assert_int_equal(f.ups + f.downs, 0);
    assert_int_equal(store_append(s, 1, "x", 0, (const uint8_t *)"a", 1, NULL, NULL), 0);
    assert_int_equal(store_pending(s), 1);
    fx_stop_store(&f, s);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f.loop), 0);
}

static void test_child(void **state)
{
    fx f;
    memset(&f, 0, sizeof f);
    assert_int_equal(uv_loop_init(&f.loop), 0);
    strcpy(f.dir, "/tmp/hk-store-XXXXXX");
    assert_non_null(mkdtemp(f.dir));
    char path[256], sock[256], buf[64];

    /* not installed: a clear error, nothing started */
    char *old_path = strdup(getenv("PATH"));
    setenv("PATH", "/nonexistent", 1);
    char err[256];
    redis_child *rc = redis_child_new(&f.loop, f.dir, err, sizeof err);
    assert_non_null(rc);
    assert_int_equal(redis_child_start(rc), -ENOENT);
    setenv("PATH", old_path, 1);
    free(old_path);
    f.closed = 0;
    redis_child_stop(rc, on_closed, &f);
    assert_true(run_until(&f, cond_closed, 1000));
    redis_child_free(rc);

    /* a server left behind by a daemon killed with -9: the next start ends it first */
    snprintf(path, sizeof path, "%s/redis", f.dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(sock, sizeof sock, "%s/redis.sock", f.dir);
    pid_t old = fork();
    assert_true(old >= 0);
    if (old == 0) {
        execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", sock, "--dir", path,
               "--save", "", "--logfile", "/dev/null", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500 && access(sock, F_OK) != 0; i++) usleep(10000);
    assert_int_equal(access(sock, F_OK), 0);
    snprintf(path, sizeof path, "%s/redis/redis.pid", f.dir);
    FILE *pf = fopen(path, "w");
    fprintf(pf, "%d\n", (int)old);
    fclose(pf);

    fx_start_child(&f);
    int status;
    assert_int_equal(waitpid(old, &status, WNOHANG), old);     /* already ended by the start */
    int pid = redis_child_pid(f.rc);
    assert_true(pid > 0 && pid != old);
    pf = fopen(path, "r");
    assert_non_null(pf);
    assert_non_null(fgets(buf, sizeof buf, pf));
    fclose(pf);
    assert_int_equal(atoi(buf), pid);
    assert_int_equal(strncmp(redis_child_url(f.rc), "unix:///", 8), 0);

    /* the new server works */
    f.st = fx_store(&f);
    store_set_link_cb(f.st, on_link, &f);
    assert_int_equal(store_start(f.st), 0);
    assert_true(run_until(&f, cond_up, 5000));
    fx_stop_store(&f, f.st);
    f.st = NULL;
    f.closed = 0;
    redis_child_stop(f.rc, on_closed, &f);      /* SIGTERM, reaped, handles closed */
    assert_true(run_until(&f, cond_closed, 7000));
    live_set(f.rc, 0);
    assert_int_equal(kill(pid, 0), -1);
    assert_int_equal(access(path, F_OK), -1);   /* pidfile removed */
    redis_child_free(f.rc);
    f.rc = NULL;
    fx_close(&f);
}

int main(void)
{
    if (getenv("HK_TEST_FILTER")) cmocka_set_test_filter(getenv("HK_TEST_FILTER"));
    signal(SIGPIPE, SIG_IGN);   /* as the daemon does: a write to a dead server is an error, not death */
    hk_log_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_child),
        cmocka_unit_test(test_restore_empty),
        cmocka_unit_test(test_append_restore),
        cmocka_unit_test(test_restore_pages),
        cmocka_unit_test(test_sentinel_args),
        cmocka_unit_test(test_idempotent),
        cmocka_unit_test(test_link_loss),
        cmocka_unit_test(test_stop_with_pending),
        cmocka_unit_test(test_hold_release_top),
        cmocka_unit_test(test_stalled_server),
    };
    return cmocka_run_group_tests(tests, NULL, kill_leftovers);
}
