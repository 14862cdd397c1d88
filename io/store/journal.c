/* journal.c: see journal.h. */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/log.h"

#define JOURNAL_HEAD 16

struct journal {
    uv_loop_t *loop;
    int fd;
    char path[1024];
    size_t bytes;
    uint64_t written, synced, syncing;   /* seqs: last written, last on disk, covered by the fsync in flight */
    int in_flight, dirty, closing;
    int retired_fd;       /* replaced by journal_rewrite while an fsync used it: closed after */
    uv_fs_t req;
    void (*cb)(void *arg);
    void *cb_arg;
};

/* The header is little-endian whatever the host: a data dir moved between an x86-64 server and
 * an arm64 board reads the same (both are little-endian, so older files are unchanged). */
static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static uint32_t journal_sum(uint64_t seq, const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;          /* FNV-1a over seq and data: finds torn records */
    for (int i = 0; i < 8; i++) { h ^= (uint8_t)(seq >> (8 * i)); h *= 16777619u; }
    for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 16777619u; }
    return h;
}

journal *journal_open(uv_loop_t *loop, const char *path, char *err, size_t errlen)
{
    journal *j = calloc(1, sizeof *j);
    if (!j) { snprintf(err, errlen, "out of memory"); return NULL; }
    j->loop = loop;
    j->retired_fd = -1;
    snprintf(j->path, sizeof j->path, "%s", path);
    j->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (j->fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        free(j);
        return NULL;
    }
    struct stat st;
    if (fstat(j->fd, &st) == 0) j->bytes = (size_t)st.st_size;
    return j;
}

static void journal_sync_start(journal *j);

static void journal_synced_cb(uv_fs_t *req)
{
    journal *j = req->data;
    if (req->result < 0) log_err("journal %s: fsync failed: %s", j->path, uv_strerror((int)req->result));
    else j->synced = j->syncing;
    uv_fs_req_cleanup(req);
    j->in_flight = 0;
    if (j->retired_fd >= 0) {
        close(j->retired_fd);
        j->retired_fd = -1;
    }
    if (j->closing) {
        close(j->fd);
        free(j);
        return;
    }
    if (j->dirty) journal_sync_start(j);
    if (j->cb) j->cb(j->cb_arg);
}

static void journal_sync_start(journal *j)
{
    j->dirty = 0;
    j->in_flight = 1;
    j->syncing = j->written;
    j->req.data = j;
    int rc = uv_fs_fdatasync(j->loop, &j->req, j->fd, journal_synced_cb);
    if (rc < 0) {
        j->in_flight = 0;
        log_err("journal %s: cannot fsync: %s", j->path, uv_strerror(rc));
    }
}

static ssize_t journal_write(int fd, uint64_t seq, const uint8_t *data, size_t len)
{
    uint8_t head[JOURNAL_HEAD];
    uint32_t l = (uint32_t)len, sum = journal_sum(seq, data, len);
    put_le(head, l, 4);
    put_le(head + 4, sum, 4);
    put_le(head + 8, seq, 8);
    struct iovec iov[2] = {{head, JOURNAL_HEAD}, {(void *)data, len}};
    ssize_t n = writev(fd, iov, 2);
    if (n != (ssize_t)(JOURNAL_HEAD + len)) return n < 0 ? -errno : -EIO;
    return n;
}

/* The temporary file a rewrite fills, opened read-write like the file it replaces
 * (journal_each reads through this descriptor). */
static int journal_tmp_open(const journal *j, char *tmp, size_t tmplen)
{
    snprintf(tmp, tmplen, "%s.tmp", j->path);
    int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    return fd < 0 ? -errno : fd;
}

/* fsyncs the filled temporary file and renames it over the journal: a crash leaves either. */
static int journal_tmp_commit(journal *j, int fd, const char *tmp, int err, size_t bytes)
{
    if (err == 0 && (fsync(fd) < 0 || rename(tmp, j->path) < 0)) err = errno;
    if (err) {
        close(fd);
        unlink(tmp);
        return -err;
    }
    if (j->in_flight && j->retired_fd < 0) j->retired_fd = j->fd;
    else close(j->fd);
    j->fd = fd;
    j->bytes = bytes;
    j->synced = j->written;
    return 0;
}

int journal_rewrite(journal *j, uint64_t seq, const uint8_t *data, size_t len)
{
    char tmp[1100];
    int fd = journal_tmp_open(j, tmp, sizeof tmp);
    if (fd < 0) return fd;
    ssize_t n = journal_write(fd, seq, data, len);
    if (seq > j->written) j->written = seq;
    return journal_tmp_commit(j, fd, tmp, n < 0 ? (int)-n : 0, n < 0 ? 0 : (size_t)n);
}

typedef struct {
    int fd, err;
    uint64_t from;
    size_t bytes;
} compact_ctx;

static void compact_copy(void *arg, uint64_t seq, const uint8_t *data, size_t len)
{
    compact_ctx *c = arg;
    if (seq < c->from || c->err) return;
    ssize_t n = journal_write(c->fd, seq, data, len);
    if (n < 0) c->err = (int)-n;
    else c->bytes += (size_t)n;
}

int journal_compact(journal *j, uint64_t from_seq)
{
    char tmp[1100];
    int fd = journal_tmp_open(j, tmp, sizeof tmp);
    if (fd < 0) return fd;
    compact_ctx c = {fd, 0, from_seq, 0};
    int rc = journal_each(j, compact_copy, &c);
    return journal_tmp_commit(j, fd, tmp, rc < 0 ? -rc : c.err, c.bytes);
}

int journal_append(journal *j, uint64_t seq, const uint8_t *data, size_t len)
{
    if (len > UINT32_MAX) return -EINVAL;
    ssize_t n = journal_write(j->fd, seq, data, len);
    if (n < 0) return (int)n;
    j->bytes += (size_t)n;
    if (seq > j->written) j->written = seq;
    if (j->in_flight) j->dirty = 1;
    else journal_sync_start(j);
    return 0;
}

uint64_t journal_synced(const journal *j) { return j->synced; }
size_t journal_bytes(const journal *j) { return j->bytes; }

void journal_on_synced(journal *j, void (*cb)(void *arg), void *arg)
{
    j->cb = cb;
    j->cb_arg = arg;
}

int journal_each(journal *j, void (*each)(void *arg, uint64_t seq, const uint8_t *data, size_t len), void *arg)
{
    struct stat st;
    if (fstat(j->fd, &st) < 0) return -errno;
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return -ENOMEM;
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(j->fd, buf + got, n - got, (off_t)got);
        if (r <= 0) break;
        got += (size_t)r;
    }
    size_t off = 0;
    while (off + JOURNAL_HEAD <= got) {
        uint32_t l, sum;
        uint64_t seq;
        l = (uint32_t)get_le(buf + off, 4);
        sum = (uint32_t)get_le(buf + off + 4, 4);
        seq = get_le(buf + off + 8, 8);
        if (l > got - off - JOURNAL_HEAD || journal_sum(seq, buf + off + JOURNAL_HEAD, l) != sum) {
            log_warn("journal %s: ignoring a torn record at byte %zu", j->path, off);
            break;
        }
        each(arg, seq, buf + off + JOURNAL_HEAD, l);
        off += JOURNAL_HEAD + l;
    }
    free(buf);
    return 0;
}

int journal_reset(journal *j)
{
    if (ftruncate(j->fd, 0) < 0) return -errno;
    j->bytes = 0;
    return 0;
}

void journal_close(journal *j)
{
    if (!j) return;
    j->cb = NULL;
    if (j->in_flight) { j->closing = 1; return; }
    close(j->fd);
    free(j);
}
