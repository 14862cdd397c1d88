/* redis_child.c: see redis_child.h. The child is spawned directly (no shell), in its own session
 * so a terminal's Ctrl-C reaches only the daemon, which then stops it in order. A daemon killed
 * with -9 cannot stop it, so its pid is kept in DATA/redis/redis.pid and the next start ends it
 * (see docs/redis.md). */
#include "redis_child.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

#define RC_BACKOFF_MIN_MS 200
#define RC_BACKOFF_MAX_MS 5000
#define RC_STABLE_MS 10000      /* a child that ran this long starts the backoff afresh */
#define RC_KILL_AFTER_MS 5000

enum { RC_IDLE, RC_RUNNING, RC_BACKOFF, RC_STOPPING, RC_STOPPED };

struct redis_child {
    uv_loop_t *loop;
    char dir[PATH_MAX + 32];    /* DATA/redis */
    char sock[PATH_MAX + 32];   /* DATA/redis.sock */
    char pidfile[PATH_MAX + 32];
    char logfile[PATH_MAX + 32];
    char url[PATH_MAX + 32];
    char server[PATH_MAX];      /* redis-server found on PATH */
    const char *appendfsync;    /* "always" (default) or "everysec" */

    int state;
    uv_process_t proc;
    int proc_open;              /* proc handle initialised and not yet closed */
    int pid;
    uint64_t started_at;
    int spawned;                /* a child was started: the pidfile is ours to remove */
    uv_timer_t timer;           /* restart backoff, then SIGKILL delay while stopping */
    unsigned backoff_ms;
    int open_handles;
    void (*close_cb)(void *arg);
    void *close_arg;
    void (*exit_cb)(void *arg);  /* redis_child_set_exit_cb */
    void *exit_arg;
};

static void rc_spawn(redis_child *rc);

redis_child *redis_child_new(uv_loop_t *loop, const char *data_dir, char *err, size_t errlen)
{
    char abs[PATH_MAX];
    if (!realpath(data_dir, abs)) {
        snprintf(err, errlen, "data dir %s: %s", data_dir, strerror(errno));
        return NULL;
    }
    redis_child *rc = calloc(1, sizeof *rc);
    if (!rc) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    rc->loop = loop;
    snprintf(rc->dir, sizeof rc->dir, "%s/redis", abs);
    snprintf(rc->pidfile, sizeof rc->pidfile, "%s/redis/redis.pid", abs);
    snprintf(rc->logfile, sizeof rc->logfile, "%s/redis/redis.log", abs);
    snprintf(rc->sock, sizeof rc->sock, "%s/redis.sock", abs);
    snprintf(rc->url, sizeof rc->url, "unix://%s/redis.sock", abs);
    struct sockaddr_un sun;
    if (strlen(rc->sock) >= sizeof sun.sun_path) {
        snprintf(err, errlen, "data dir %s: path too long for a unix socket (%s)", abs, rc->sock);
        free(rc);
        return NULL;
    }
    /* fsync policy: always, so that what Redis confirmed is on disk even if redis-server is
     * killed or the power goes; everysec on request, for weak storage (docs/redis.md) */
    const char *fs = getenv("HALL_REDIS_APPENDFSYNC");
    rc->appendfsync = fs && !strcmp(fs, "everysec") ? "everysec" : "always";
    if (fs && strcmp(fs, "always") && strcmp(fs, "everysec")) {
        snprintf(err, errlen, "HALL_REDIS_APPENDFSYNC=%s: expected always or everysec", fs);
        free(rc);
        return NULL;
    }
    uv_timer_init(loop, &rc->timer);
    rc->timer.data = rc;
    rc->open_handles = 1;
    rc->backoff_ms = RC_BACKOFF_MIN_MS;
    return rc;
}

const char *redis_child_url(const redis_child *rc) { return rc->url; }
int redis_child_pid(const redis_child *rc) { return rc->state == RC_RUNNING || rc->state == RC_STOPPING ? rc->pid : 0; }

static int find_server(redis_child *rc)
{
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        if (n > 0 && n < sizeof rc->server - 16) {
            snprintf(rc->server, sizeof rc->server, "%.*s/redis-server", (int)n, path);
            if (access(rc->server, X_OK) == 0) return 0;
        }
        path += n;
        if (*path == ':') path++;
    }
    return -ENOENT;
}

/* ---- a redis-server left behind by a daemon that was killed -------------------------------- */

static int read_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0) return -1;
    buf[n] = 0;
    return (int)n;
}

/* 1 if pid is a live (not zombie) redis-server serving our socket. */
static int is_our_server(int pid, const char *sock)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (read_file(path, buf, sizeof buf) < 0) return 0;
    const char *close_paren = strrchr(buf, ')');
    if (!close_paren || close_paren[1] != ' ' || close_paren[2] == 'Z') return 0;
    if (!strstr(buf, "(redis-server)")) return 0;
    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    int n = read_file(path, buf, sizeof buf);
    if (n <= 0) return 0;
    for (int i = 0; i < n; i++)
        if (!buf[i]) buf[i] = ' ';
    return strstr(buf, sock) != NULL;   /* its title reads "redis-server unixsocket:PATH" */
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Runs before the loop does anything for the child, so a short blocking wait is acceptable. */
static void end_leftover(redis_child *rc)
{
    char buf[32];
    if (read_file(rc->pidfile, buf, sizeof buf) > 0) {
        int pid = atoi(buf);
        if (pid > 1 && is_our_server(pid, rc->sock)) {
            log_warn("redis: a redis-server (pid %d) from an earlier run still serves %s; stopping it",
                     pid, rc->sock);
            kill(pid, SIGTERM);
            int waited = 0;
            while (is_our_server(pid, rc->sock) && waited < RC_KILL_AFTER_MS) {
                sleep_ms(20);
                waited += 20;
            }
            if (is_our_server(pid, rc->sock)) {
                log_warn("redis: pid %d ignored SIGTERM for %d ms; killing it", pid, RC_KILL_AFTER_MS);
                kill(pid, SIGKILL);
                for (waited = 0; is_our_server(pid, rc->sock) && waited < 1000; waited += 20)
                    sleep_ms(20);
            }
        }
        unlink(rc->pidfile);
    }
    unlink(rc->sock);   /* a stale socket file would make the new server fail to bind */
}

static void write_pidfile(redis_child *rc, int pid)
{
    char tmp[PATH_MAX + 64], buf[32];
    snprintf(tmp, sizeof tmp, "%s.tmp", rc->pidfile);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_warn("redis: cannot write %s: %s", tmp, strerror(errno));
        return;
    }
    int n = snprintf(buf, sizeof buf, "%d\n", pid);
    if (write(fd, buf, (size_t)n) != n || close(fd) != 0 || rename(tmp, rc->pidfile) != 0) {
        log_warn("redis: cannot write %s: %s", rc->pidfile, strerror(errno));
        if (fd >= 0) unlink(tmp);
    }
}

/* ---- the child ---------------------------------------------------------------------------- */

static void rc_maybe_closed(redis_child *rc)
{
    if (rc->state == RC_STOPPED && rc->open_handles == 0 && rc->close_cb) {
        void (*cb)(void *) = rc->close_cb;
        rc->close_cb = NULL;
        cb(rc->close_arg);
    }
}

static void rc_on_handle_closed(uv_handle_t *h)
{
    redis_child *rc = h->data;
    if (h == (uv_handle_t *)&rc->proc) rc->proc_open = 0;
    rc->open_handles--;
    rc_maybe_closed(rc);
}

/* Stopping and the child is gone: close what is left. */
static void rc_finish_stop(redis_child *rc)
{
    rc->state = RC_STOPPED;
    if (rc->spawned) unlink(rc->pidfile);  /* never started: a leftover's pidfile stays */
    uv_timer_stop(&rc->timer);
    uv_close((uv_handle_t *)&rc->timer, rc_on_handle_closed);
}

static void rc_on_backoff(uv_timer_t *t)
{
    redis_child *rc = t->data;
    if (rc->state != RC_BACKOFF) return;
    if (rc->proc_open) {        /* the old handle is still closing */
        uv_timer_start(&rc->timer, rc_on_backoff, 10, 0);
        return;
    }
    rc_spawn(rc);
}

static void rc_restart_later(redis_child *rc)
{
    rc->state = RC_BACKOFF;
    log_warn("redis: restarting redis-server in %u ms", rc->backoff_ms);
    uv_timer_start(&rc->timer, rc_on_backoff, rc->backoff_ms, 0);
    rc->backoff_ms = rc->backoff_ms * 2 > RC_BACKOFF_MAX_MS ? RC_BACKOFF_MAX_MS : rc->backoff_ms * 2;
}

static void rc_on_exit(uv_process_t *p, int64_t status, int term_signal)
{
    redis_child *rc = p->data;
    uv_close((uv_handle_t *)p, rc_on_handle_closed);
    int pid = rc->pid;
    rc->pid = 0;
    if (rc->state == RC_STOPPING) {
        log_info("redis: redis-server (pid %d) stopped", pid);
        rc_finish_stop(rc);
        return;
    }
    if (term_signal)
        log_err("redis: redis-server (pid %d) killed by signal %d (see %s)", pid, term_signal, rc->logfile);
    else
        log_err("redis: redis-server (pid %d) exited with status %lld (see %s)", pid, (long long)status,
                rc->logfile);
    if (uv_now(rc->loop) - rc->started_at >= RC_STABLE_MS) rc->backoff_ms = RC_BACKOFF_MIN_MS;
    unlink(rc->sock);
    rc_restart_later(rc);
    if (rc->exit_cb) rc->exit_cb(rc->exit_arg);
}

void redis_child_set_exit_cb(redis_child *rc, void (*cb)(void *arg), void *arg)
{
    rc->exit_cb = cb;
    rc->exit_arg = arg;
}

static char rc_launcher[1024];

void redis_child_set_launcher(const char *path)
{
    snprintf(rc_launcher, sizeof rc_launcher, "%s", path ? path : "");
}

static void rc_spawn(redis_child *rc)
{
    const char *args[] = {
        rc_launcher, "--exec-with-parent-death",
        rc->server,
        "--port", "0",
        "--unixsocket", rc->sock,
        "--unixsocketperm", "700",
        "--dir", rc->dir,
        "--appendonly", "yes",
        "--appendfsync", rc->appendfsync,
        "--save", "",
        "--daemonize", "no",
        "--logfile", rc->logfile,
        NULL,
    };
    /* Its output (also what it prints before it opens --logfile) goes to the log file, not to
     * our stderr: a server outliving a killed daemon must not hold the daemon's pipe open. */
    int logfd = open(rc->logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    uv_stdio_container_t stdio[3];
    stdio[0].flags = UV_IGNORE;
    stdio[1].flags = logfd >= 0 ? UV_INHERIT_FD : UV_IGNORE;
    stdio[1].data.fd = logfd;
    stdio[2] = stdio[1];
    uv_process_options_t opt;
    memset(&opt, 0, sizeof opt);
    /* with a launcher the child asks the kernel for SIGTERM when the daemon dies (even by
     * kill -9), then becomes redis-server: no orphan keeps the data directory */
    opt.file = rc_launcher[0] ? rc_launcher : rc->server;
    opt.args = (char **)(rc_launcher[0] ? args : args + 2);
    opt.exit_cb = rc_on_exit;
    opt.stdio = stdio;
    opt.stdio_count = 3;
    opt.flags = UV_PROCESS_DETACHED;    /* own session: no terminal SIGINT behind our back */
    rc->proc.data = rc;
    int err = uv_spawn(rc->loop, &rc->proc, &opt);
    if (logfd >= 0) close(logfd);
    /* uv_spawn initialises the handle even when it fails; it must be closed either way */
    rc->proc_open = 1;
    rc->open_handles++;
    if (err != 0) {
        log_err("redis: cannot start %s: %s", rc->server, uv_strerror(err));
        uv_close((uv_handle_t *)&rc->proc, rc_on_handle_closed);
        rc_restart_later(rc);
        return;
    }
    rc->pid = rc->proc.pid;
    rc->started_at = uv_now(rc->loop);
    rc->spawned = 1;
    rc->state = RC_RUNNING;
    write_pidfile(rc, rc->pid);
    log_info("redis: started redis-server (pid %d) on %s, appendfsync %s", rc->pid, rc->sock,
             rc->appendfsync);
}

int redis_child_start(redis_child *rc)
{
    if (rc->state != RC_IDLE) return -EALREADY;
    if (find_server(rc) != 0) {
        log_err("redis-server not found: install the redis-server package or set redis.url");
        return -ENOENT;
    }
    if (mkdir(rc->dir, 0700) != 0 && errno != EEXIST) {
        int e = errno;
        log_err("redis: cannot create %s: %s", rc->dir, strerror(e));
        return -e;
    }
    end_leftover(rc);
    rc_spawn(rc);
    return 0;
}

static void rc_on_kill_timer(uv_timer_t *t)
{
    redis_child *rc = t->data;
    if (rc->state != RC_STOPPING || !rc->pid) return;
    log_warn("redis: redis-server (pid %d) did not stop in %d ms; killing it", rc->pid, RC_KILL_AFTER_MS);
    uv_process_kill(&rc->proc, SIGKILL);
}

void redis_child_stop(redis_child *rc, void (*close_cb)(void *arg), void *arg)
{
    if (rc->state == RC_STOPPING || rc->state == RC_STOPPED) return;
    rc->close_cb = close_cb;
    rc->close_arg = arg;
    uv_timer_stop(&rc->timer);
    if (rc->state == RC_RUNNING) {
        rc->state = RC_STOPPING;
        /* SIGTERM: redis flushes the AOF and exits; rc_on_exit finishes the stop */
        uv_process_kill(&rc->proc, SIGTERM);
        uv_timer_start(&rc->timer, rc_on_kill_timer, RC_KILL_AFTER_MS, 0);
        return;
    }
    rc_finish_stop(rc);
}

void redis_child_free(redis_child *rc)
{
    free(rc);
}

void redis_child_exec_main(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[1], "--exec-with-parent-death") != 0) return;
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent) _exit(1);
    execv(argv[2], argv + 2);
    fprintf(stderr, "hallkeeper: cannot run %s: %s\n", argv[2], strerror(errno));
    _exit(127);
}
