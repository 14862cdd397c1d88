/* redis_child.h: the embedded redis-server, a child process on a unix socket under the data dir,
 * with append-only persistence. Restarted with backoff if it dies; stopped (SIGTERM, then waited
 * for) when the daemon stops. */
#ifndef HK_REDIS_CHILD_H
#define HK_REDIS_CHILD_H

#include <stddef.h>
#include <uv.h>

typedef struct redis_child redis_child;

/* data_dir must exist. The socket is DATA_DIR/redis.sock; the AOF lives in DATA_DIR/redis/. */
redis_child *redis_child_new(uv_loop_t *loop, const char *data_dir, char *err, size_t errlen);
int redis_child_start(redis_child *rc);
const char *redis_child_url(const redis_child *rc);    /* "unix:///.../redis.sock" */
int redis_child_pid(const redis_child *rc);            /* 0 if not running */
/* cb(arg) each time the child exits or is killed unasked (it is restarted after a backoff): a
 * redis-server that cannot load its data exits at once. */
void redis_child_set_exit_cb(redis_child *rc, void (*cb)(void *arg), void *arg);
/* Sends SIGTERM, waits for the child to exit (on the loop), closes handles, then calls close_cb. */
void redis_child_stop(redis_child *rc, void (*close_cb)(void *arg), void *arg);
void redis_child_free(redis_child *rc);

/* Starts redis-server through `path --exec-with-parent-death redis-server ARGS` (the daemon's
 * own binary, see redis_child_exec_main), so the child dies with the daemon. NULL: direct. */
void redis_child_set_launcher(const char *path);
/* The launcher's side: call first thing in main(); returns only if argv is not a launch. */
void redis_child_exec_main(int argc, char **argv);

#endif
