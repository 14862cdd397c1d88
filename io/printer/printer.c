/* printer.c: ESC/POS tickets and their delivery to a device file (uv_fs in the threadpool, the
 * file opened non-blocking) or a network printer (uv_tcp, raw port 9100). One job at a time, each
 * with a time-out; a failure drops the waiting jobs (a ticket printed minutes late helps nobody:
 * the kiosk screen and the phone link have it) and probes until the printer answers again. */
#include "printer.h"

#include <fcntl.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "qr.h"

/* ---- the byte stream -------------------------------------------------------------------- */

static void grow(escpos *e, size_t more)
{
    if (e->oom || e->n + more <= e->cap) return;
    size_t cap = e->cap ? e->cap : 512;
    while (cap < e->n + more) cap *= 2;
    uint8_t *p = realloc(e->p, cap);
    if (!p) { e->oom = true; return; }
    e->p = p;
    e->cap = cap;
}

void escpos_bytes(escpos *e, const void *p, size_t n)
{
    grow(e, n);
    if (e->oom) return;
    memcpy(e->p + e->n, p, n);
    e->n += n;
}

void escpos_init(escpos *e)
{
    memset(e, 0, sizeof *e);
    /* ESC @ resets whatever a previous job left (sizes, alignment); FS & selects the Chinese
     * character mode the printers sold in China start in anyway, so GB18030 text prints */
    static const uint8_t init[] = {0x1b, 0x40, 0x1c, 0x26};
    escpos_bytes(e, init, sizeof init);
}

void escpos_free(escpos *e)
{
    free(e->p);
    memset(e, 0, sizeof *e);
}

void escpos_align(escpos *e, int align)
{
    uint8_t b[] = {0x1b, 0x61, (uint8_t)(align < 0 ? 0 : align > 2 ? 2 : align)};
    escpos_bytes(e, b, sizeof b);
}

void escpos_size(escpos *e, int w, int h)
{
    w = w < 1 ? 1 : w > 8 ? 8 : w;
    h = h < 1 ? 1 : h > 8 ? 8 : h;
    uint8_t b[] = {0x1d, 0x21, (uint8_t)(((w - 1) << 4) | (h - 1))};
    escpos_bytes(e, b, sizeof b);
}

void escpos_bold(escpos *e, bool on)
{
    uint8_t b[] = {0x1b, 0x45, on ? 1 : 0};
    escpos_bytes(e, b, sizeof b);
}

void escpos_text(escpos *e, const char *utf8)
{
    size_t inleft = strlen(utf8);
    iconv_t cd = iconv_open("GB18030", "UTF-8");
    if (cd == (iconv_t)-1) {
        /* no converter: ASCII goes through, anything else prints as '?' */
        for (const char *c = utf8; *c; c++)
            if (!((unsigned char)*c & 0x80) || ((unsigned char)*c & 0xc0) == 0xc0)
                escpos_bytes(e, ((unsigned char)*c & 0x80) ? "?" : c, 1);
        return;
    }
    char *in = (char *)utf8;
    while (inleft) {
        char buf[256], *out = buf;
        size_t outleft = sizeof buf;
        size_t rc = iconv(cd, &in, &inleft, &out, &outleft);
        escpos_bytes(e, buf, (size_t)(out - buf));
        if (rc == (size_t)-1 && outleft == sizeof buf) {
            /* an invalid sequence: skip one byte and print '?' */
            escpos_bytes(e, "?", 1);
            in++;
            inleft--;
        }
    }
    iconv_close(cd);
}

void escpos_feed(escpos *e, int lines)
{
    uint8_t b[] = {0x1b, 0x64, (uint8_t)(lines < 0 ? 0 : lines > 255 ? 255 : lines)};
    escpos_bytes(e, b, sizeof b);
}

void escpos_raster(escpos *e, const uint8_t *bits, int width_bytes, int height)
{
    uint8_t h[] = {0x1d, 0x76, 0x30, 0x00, (uint8_t)(width_bytes & 0xff), (uint8_t)(width_bytes >> 8),
                   (uint8_t)(height & 0xff), (uint8_t)(height >> 8)};
    escpos_bytes(e, h, sizeof h);
    escpos_bytes(e, bits, (size_t)width_bytes * (size_t)height);
}

void escpos_cut(escpos *e)
{
    static const uint8_t b[] = {0x1d, 0x56, 66, 0};   /* feed to the cutter, then a partial cut */
    escpos_bytes(e, b, sizeof b);
}

int printer_dots(int width_mm) { return width_mm == 58 ? 384 : 576; }

int printer_ticket_escpos(const printer_ticket *t, uint8_t **out, size_t *len)
{
    escpos e;
    char line[256];
    escpos_init(&e);
    escpos_align(&e, 1);
    escpos_bold(&e, true);
    snprintf(line, sizeof line, "%s\n", t->hall_name ? t->hall_name : "");
    escpos_text(&e, line);
    escpos_bold(&e, false);
    escpos_feed(&e, 1);
    escpos_text(&e, "您的排队号 Your number\n");
    escpos_size(&e, t->width_mm == 58 ? 3 : 4, t->width_mm == 58 ? 3 : 4);
    escpos_bold(&e, true);
    snprintf(line, sizeof line, "%s\n", t->code);
    escpos_text(&e, line);
    escpos_bold(&e, false);
    escpos_size(&e, 1, 1);
    snprintf(line, sizeof line, "%s\n", t->category_name ? t->category_name : "");
    escpos_text(&e, line);
    snprintf(line, sizeof line, "前面还有 %d 人等候 (%d ahead)\n", t->ahead, t->ahead);
    escpos_text(&e, line);
    time_t secs = (time_t)(t->issued_at_ms / 1000);
    struct tm tm;
    localtime_r(&secs, &tm);
    strftime(line, sizeof line, "%Y-%m-%d %H:%M\n", &tm);
    escpos_text(&e, line);
    qr_matrix m;
    if (t->url && qr_encode(t->url, &m) == 0) {
        int full = m.size + 8;
        int scale = printer_dots(t->width_mm) / 2 / full;
        scale = scale < 2 ? 2 : scale > 6 ? 6 : scale;
        uint8_t *bits;
        int wb, h;
        if (qr_raster(&m, scale, &bits, &wb, &h) == 0) {
            escpos_feed(&e, 1);
            escpos_raster(&e, bits, wb, h);
            free(bits);
            escpos_text(&e, "扫码查看排队进度\nScan to follow your number\n");
        }
        qr_free(&m);
    }
    escpos_text(&e, "请留意叫号，过号请重新取号\n");
    escpos_feed(&e, 3);
    escpos_cut(&e);
    if (e.oom) {
        escpos_free(&e);
        return -1;
    }
    *out = e.p;
    *len = e.n;
    return 0;
}

/* ---- delivery ------------------------------------------------------------------------- */

typedef struct job {
    struct job *next;
    uint8_t *data;
    size_t len;
} job;

typedef struct attempt attempt;

struct printer {
    uv_loop_t *loop;
    const hk_printer_cfg *cfg;
    printer_status_fn fn;
    void *arg;
    job *head, *tail;
    int njobs;
    attempt *cur;
    uv_timer_t timeout, probe, retry;
    bool failing, closing;
    int timers_open;
};

/* One try at the printer: a job, or a probe (no job) while it is failing. Freed once nothing of
 * libuv refers to it any more, which may be after the printer has moved on (or been closed). */
struct attempt {
    printer *p;          /* NULL once finished: the printer may be gone */
    uv_loop_t *loop;
    job *j;
    bool finished;
    int inflight;        /* fs requests under way */
    bool tcp_open, fd_open;
    uv_tcp_t tcp;
    uv_connect_t conn;
    uv_write_t wr;
    uv_shutdown_t sh;
    uv_fs_t fs;
    uv_file fd;
    size_t off;
};

static void start_next(printer *p);
static void on_probe(uv_timer_t *t);
static void on_retry(uv_timer_t *t);

static void job_free(job *j)
{
    if (!j) return;
    free(j->data);
    free(j);
}

static void drop_jobs(printer *p)
{
    while (p->head) {
        job *j = p->head;
        p->head = j->next;
        job_free(j);
    }
    p->tail = NULL;
    p->njobs = 0;
}

static void attempt_maybe_free(attempt *a)
{
    if (a->finished && !a->inflight && !a->tcp_open && !a->fd_open) {
        job_free(a->j);
        free(a);
    }
}

static void on_fs_closed(uv_fs_t *req)
{
    attempt *a = req->data;
    uv_fs_req_cleanup(req);
    a->inflight--;
    attempt_maybe_free(a);
}

static void fd_close(attempt *a)
{
    if (!a->fd_open || a->inflight) return;
    a->fd_open = false;
    a->inflight++;
    a->fs.data = a;
    uv_fs_close(a->loop, &a->fs, a->fd, on_fs_closed);
}

static void on_tcp_closed(uv_handle_t *h)
{
    attempt *a = h->data;
    a->tcp_open = false;
    attempt_maybe_free(a);
}

static void finish(attempt *a, bool ok, const char *detail)
{
    if (a->finished) return;
    printer *p = a->p;
    a->finished = true;
    a->p = NULL;
    if (a->tcp_open && !uv_is_closing((uv_handle_t *)&a->tcp)) uv_close((uv_handle_t *)&a->tcp, on_tcp_closed);
    fd_close(a);
    p->cur = NULL;
    uv_timer_stop(&p->timeout);
    uv_timer_stop(&p->retry);
    if (!p->closing) {
        if (ok && p->failing) {
            p->failing = false;
            uv_timer_stop(&p->probe);
            log_notice("printer: working again");
            p->fn(p->arg, false, NULL);
        } else if (!ok) {
            if (!p->failing || a->j) log_warn("printer: %s%s", detail, a->j ? ": the ticket was not printed" : "");
            if (p->njobs) log_warn("printer: %d waiting tickets dropped", p->njobs);
            drop_jobs(p);
            if (!p->failing) uv_timer_start(&p->probe, on_probe, PRINTER_PROBE_MS, PRINTER_PROBE_MS);
            p->failing = true;
            p->fn(p->arg, true, detail);
        }
    }
    attempt_maybe_free(a);
    if (!p->closing) start_next(p);
}

static void fail_uv(attempt *a, const char *what, int status)
{
    char msg[200];
    const char *target = a->p->cfg->tcp ? a->p->cfg->tcp : a->p->cfg->device;
    snprintf(msg, sizeof msg, "%s %s: %s", what, target, uv_strerror(status));
    finish(a, false, msg);
}

/* -- tcp -- */

static void on_shutdown(uv_shutdown_t *req, int status)
{
    attempt *a = req->data;
    if (a->finished) return;
    if (status < 0) fail_uv(a, "cannot finish sending to", status);
    else finish(a, true, NULL);
}

static void on_written(uv_write_t *req, int status)
{
    attempt *a = req->data;
    if (a->finished) return;
    if (status < 0) { fail_uv(a, "cannot send the ticket to", status); return; }
    a->sh.data = a;
    int rc = uv_shutdown(&a->sh, (uv_stream_t *)&a->tcp, on_shutdown);
    if (rc < 0) fail_uv(a, "cannot finish sending to", rc);
}

static void on_connected(uv_connect_t *req, int status)
{
    attempt *a = req->data;
    if (a->finished) return;
    if (status < 0) { fail_uv(a, "cannot connect to", status); return; }
    if (!a->j) { finish(a, true, NULL); return; }   /* a probe: it answers */
    uv_buf_t b = uv_buf_init((char *)a->j->data, (unsigned)a->j->len);
    a->wr.data = a;
    int rc = uv_write(&a->wr, (uv_stream_t *)&a->tcp, &b, 1, on_written);
    if (rc < 0) fail_uv(a, "cannot send the ticket to", rc);
}

static int printer_addr(const char *hostport, struct sockaddr_storage *ss)
{
    char host[64];
    const char *colon = strrchr(hostport, ':');
    if (!colon || (size_t)(colon - hostport) >= sizeof host) return UV_EINVAL;
    int port = atoi(colon + 1);
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = 0;
    if (!strcmp(host, "localhost")) snprintf(host, sizeof host, "127.0.0.1");
    if (host[0] == '[') {
        size_t n = strlen(host);
        if (n < 3 || host[n - 1] != ']') return UV_EINVAL;
        host[n - 1] = 0;
        return uv_ip6_addr(host + 1, port, (struct sockaddr_in6 *)ss);
    }
    return uv_ip4_addr(host, port, (struct sockaddr_in *)ss);
}

static void start_tcp(attempt *a)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    int rc = printer_addr(a->p->cfg->tcp, &ss);
    if (rc < 0) { fail_uv(a, "bad printer address", rc); return; }
    uv_tcp_init(a->loop, &a->tcp);
    a->tcp.data = a;
    a->tcp_open = true;
    a->conn.data = a;
    rc = uv_tcp_connect(&a->conn, &a->tcp, (const struct sockaddr *)&ss, on_connected);
    if (rc < 0) fail_uv(a, "cannot connect to", rc);
}

/* -- device file -- */

static void write_more(attempt *a);

static void on_fs_written(uv_fs_t *req)
{
    attempt *a = req->data;
    ssize_t r = req->result;
    uv_fs_req_cleanup(req);
    a->inflight--;
    if (a->finished) { fd_close(a); attempt_maybe_free(a); return; }
    if (r == UV_EAGAIN) {
        /* the printer's buffer is full: try again shortly (the time-out still runs) */
        a->p->retry.data = a;
        uv_timer_start(&a->p->retry, on_retry, 20, 0);
        return;
    }
    if (r < 0) { fail_uv(a, "cannot write to", (int)r); return; }
    a->off += (size_t)r;
    if (a->off < a->j->len) { write_more(a); return; }
    fd_close(a);
    finish(a, true, NULL);
}

static void write_more(attempt *a)
{
    uv_buf_t b = uv_buf_init((char *)a->j->data + a->off, (unsigned)(a->j->len - a->off));
    a->fs.data = a;
    a->inflight++;
    int rc = uv_fs_write(a->loop, &a->fs, a->fd, &b, 1, -1, on_fs_written);
    if (rc < 0) {
        a->inflight--;
        fail_uv(a, "cannot write to", rc);
    }
}

static void on_fs_opened(uv_fs_t *req)
{
    attempt *a = req->data;
    ssize_t r = req->result;
    uv_fs_req_cleanup(req);
    a->inflight--;
    if (r >= 0) {
        a->fd = (uv_file)r;
        a->fd_open = true;
    }
    if (a->finished) { fd_close(a); attempt_maybe_free(a); return; }
    if (r < 0) { fail_uv(a, "cannot open", (int)r); return; }
    if (!a->j) { fd_close(a); finish(a, true, NULL); return; }   /* a probe: it opens */
    write_more(a);
}

static void start_device(attempt *a)
{
    a->fs.data = a;
    a->inflight++;
    /* non-blocking: a stuck printer answers EAGAIN instead of holding a threadpool thread */
    int rc = uv_fs_open(a->loop, &a->fs, a->p->cfg->device, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_APPEND | O_CLOEXEC, 0,
                        on_fs_opened);
    if (rc < 0) {
        a->inflight--;
        fail_uv(a, "cannot open", rc);
    }
}

/* -- the queue -- */

static void on_timeout(uv_timer_t *t)
{
    printer *p = t->data;
    if (!p->cur) return;
    char msg[160];
    snprintf(msg, sizeof msg, "no answer from %s within %d ms", p->cfg->tcp ? p->cfg->tcp : p->cfg->device,
             p->cfg->timeout_ms);
    finish(p->cur, false, msg);
}

static void on_retry(uv_timer_t *t)
{
    attempt *a = t->data;   /* finish() stops this timer, so a is still the current attempt */
    if (!a->finished) write_more(a);
}

static void start_attempt(printer *p, job *j)
{
    attempt *a = calloc(1, sizeof *a);
    if (!a) {
        job_free(j);
        return;
    }
    a->p = p;
    a->loop = p->loop;
    a->j = j;
    p->cur = a;
    uv_timer_start(&p->timeout, on_timeout, (uint64_t)p->cfg->timeout_ms, 0);
    if (p->cfg->tcp) start_tcp(a);
    else start_device(a);
}

static void start_next(printer *p)
{
    if (p->cur || p->closing || !p->head) return;
    job *j = p->head;
    p->head = j->next;
    if (!p->head) p->tail = NULL;
    p->njobs--;
    j->next = NULL;
    start_attempt(p, j);
}

static void on_probe(uv_timer_t *t)
{
    printer *p = t->data;
    if (!p->cur && !p->head && !p->closing) start_attempt(p, NULL);
}

printer *printer_new(uv_loop_t *loop, const hk_printer_cfg *cfg, printer_status_fn fn, void *arg)
{
    printer *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->loop = loop;
    p->cfg = cfg;
    p->fn = fn;
    p->arg = arg;
    uv_timer_init(loop, &p->timeout);
    uv_timer_init(loop, &p->probe);
    uv_timer_init(loop, &p->retry);
    p->timeout.data = p->probe.data = p;
    p->timers_open = 3;
    uv_timer_start(&p->probe, on_probe, 0, 0);   /* an offline printer is reported before the first ticket */
    return p;
}

int printer_print(printer *p, const uint8_t *data, size_t len)
{
    if (p->closing || p->njobs >= PRINTER_QUEUE_MAX || !len) return -1;
    job *j = calloc(1, sizeof *j);
    if (!j || !(j->data = malloc(len))) {
        free(j);
        return -1;
    }
    memcpy(j->data, data, len);
    j->len = len;
    if (p->tail) p->tail->next = j;
    else p->head = j;
    p->tail = j;
    p->njobs++;
    start_next(p);
    return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
    printer *p = h->data;
    if (--p->timers_open == 0) free(p);
}

void printer_close(printer *p)
{
    if (!p || p->closing) return;
    p->closing = true;
    drop_jobs(p);
    if (p->cur) finish(p->cur, false, "the controller is stopping");
    p->timeout.data = p->probe.data = p->retry.data = p;
    uv_close((uv_handle_t *)&p->timeout, on_timer_closed);
    uv_close((uv_handle_t *)&p->probe, on_timer_closed);
    uv_close((uv_handle_t *)&p->retry, on_timer_closed);
}
