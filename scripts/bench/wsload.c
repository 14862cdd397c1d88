/* wsload.c: see wsload.h. One thread, one libuv loop, many connections; every read goes through
 * one shared buffer so a thousand idle connections cost no read buffers of their own. */
#include "wsload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#define WSL_MAX_MESSAGE (1u << 20)

static uint8_t shared_rd[1 << 16];

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) { fputs("wsload: out of memory\n", stderr); abort(); }
    return q;
}

double wsl_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double wsl_quantile(double *v, size_t n, double q)
{
    if (!n) return 0;
    qsort(v, n, sizeof *v, cmp_double);
    size_t k = (size_t)(q * (double)n + 0.999999);
    if (k < 1) k = 1;
    if (k > n) k = n;
    return v[k - 1];
}

long wsl_raise_nofile(long want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return -1;
    if ((long)rl.rlim_cur < want) {
        rl.rlim_cur = (rlim_t)want < rl.rlim_max ? (rlim_t)want : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return (long)rl.rlim_cur;
}

/* ---- writing ------------------------------------------------------------------------------ */

typedef struct {
    uv_write_t req;
    uv_buf_t buf;
} wreq;

static void on_written(uv_write_t *req, int status)
{
    (void)status;
    wreq *w = (wreq *)req;
    free(w->buf.base);
    free(w);
}

static int raw_send(wsl_conn *c, const uint8_t *p, size_t n)
{
    if (c->state == WSL_CLOSING || c->state == WSL_CLOSED) return -1;
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
    int m = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (m == UV_EAGAIN) m = 0;
    if (m < 0) return m;
    if ((size_t)m == n) return 0;
    wreq *w = malloc(sizeof *w);
    if (!w) return -1;
    w->buf.len = n - (size_t)m;
    w->buf.base = malloc(w->buf.len);
    if (!w->buf.base) { free(w); return -1; }
    memcpy(w->buf.base, p + m, w->buf.len);
    return uv_write(&w->req, (uv_stream_t *)&c->tcp, &w->buf, 1, on_written);
}

static uint32_t mask_state = 0x9e3779b9u;

int wsl_send(wsl_conn *c, const void *buf, size_t len)
{
    if (c->state != WSL_OPEN) return -1;
    uint8_t stackbuf[512];
    size_t need = len + 14;
    uint8_t *f = need <= sizeof stackbuf ? stackbuf : malloc(need);
    if (!f) return -1;
    size_t h = 0;
    f[h++] = 0x82;                          /* FIN + binary */
    if (len < 126) f[h++] = (uint8_t)(0x80 | len);
    else if (len < 65536) { f[h++] = 0x80 | 126; f[h++] = (uint8_t)(len >> 8); f[h++] = (uint8_t)len; }
    else {
        f[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--) f[h++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    mask_state ^= mask_state << 13; mask_state ^= mask_state >> 17; mask_state ^= mask_state << 5;
    uint8_t mk[4] = {(uint8_t)mask_state, (uint8_t)(mask_state >> 8), (uint8_t)(mask_state >> 16),
                     (uint8_t)(mask_state >> 24)};
    memcpy(f + h, mk, 4);
    h += 4;
    const uint8_t *src = buf;
    for (size_t i = 0; i < len; i++) f[h + i] = src[i] ^ mk[i & 3];
    int rc = raw_send(c, f, h + len);
    if (f != stackbuf) free(f);
    return rc;
}

/* ---- closing ------------------------------------------------------------------------------ */

static void on_tcp_closed(uv_handle_t *hd)
{
    wsl_conn *c = hd->data;
    free(c->rbuf);
    free(c->msg);
    c->rbuf = c->msg = NULL;
    c->rlen = c->rcap = c->mlen = c->mcap = 0;
    c->state = WSL_CLOSED;
    if (c->h->on_close) c->h->on_close(c);
}

void wsl_close(wsl_conn *c)
{
    if (c->state == WSL_CLOSING || c->state == WSL_CLOSED || c->state == WSL_IDLE) return;
    int was_open = c->state == WSL_OPEN;
    c->state = WSL_CLOSING;
    if (!was_open && c->h->on_open) c->h->on_open(c, -1);
    uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
}

/* ---- reading ------------------------------------------------------------------------------ */

static void deliver(wsl_conn *c, int opcode, int fin, const uint8_t *p, size_t n)
{
    if (opcode == 0x9) {                    /* ping -> pong */
        uint8_t f[6 + 125];
        if (n > 125) n = 125;
        f[0] = 0x8A;
        f[1] = (uint8_t)(0x80 | n);
        memset(f + 2, 0, 4);                /* a zero mask key: the payload goes as is */
        memcpy(f + 6, p, n);
        raw_send(c, f, 6 + n);
        return;
    }
    if (opcode == 0x8) { wsl_close(c); return; }
    if (opcode == 0xA) return;
    if (opcode != 0 && fin && c->mlen == 0) {   /* the common case: one unfragmented message */
        c->h->on_msg(c, p, n);
        return;
    }
    if (opcode != 0) c->mlen = 0;
    if (c->mlen + n > WSL_MAX_MESSAGE) { wsl_close(c); return; }
    if (c->mlen + n > c->mcap) {
        c->mcap = (c->mlen + n) * 2;
        c->msg = xrealloc(c->msg, c->mcap);
    }
    memcpy(c->msg + c->mlen, p, n);
    c->mlen += n;
    if (fin) {
        size_t m = c->mlen;
        c->mlen = 0;
        c->h->on_msg(c, c->msg, m);
    }
}

/* Consumes whole frames from p[0..n); returns the bytes consumed. */
static size_t parse_frames(wsl_conn *c, uint8_t *p, size_t n)
{
    size_t off = 0;
    while (c->state == WSL_OPEN && n - off >= 2) {
        uint8_t *f = p + off;
        size_t avail = n - off, h = 2;
        int fin = f[0] >> 7, opcode = f[0] & 0xF, masked = f[1] >> 7;
        uint64_t len = f[1] & 0x7F;
        if (len == 126) {
            if (avail < 4) break;
            len = ((uint64_t)f[2] << 8) | f[3];
            h = 4;
        } else if (len == 127) {
            if (avail < 10) break;
            len = 0;
            for (int i = 0; i < 8; i++) len = (len << 8) | f[2 + i];
            h = 10;
        }
        if (len > WSL_MAX_MESSAGE) { wsl_close(c); break; }
        if (masked) h += 4;
        if (avail < h + len) break;
        if (masked)
            for (uint64_t i = 0; i < len; i++) f[h + i] ^= f[h - 4 + (i & 3)];
        deliver(c, opcode, fin, f + h, (size_t)len);
        off += h + (size_t)len;
    }
    return off;
}

/* Checks the 101 answer; returns the header length, 0 if incomplete, -1 if refused. */
static long parse_handshake(wsl_conn *c, const uint8_t *p, size_t n)
{
    const uint8_t *end = NULL;
    for (size_t i = 3; i < n; i++)
        if (p[i] == '\n' && p[i - 1] == '\r' && p[i - 2] == '\n' && p[i - 3] == '\r') { end = p + i + 1; break; }
    if (!end) return n > 8192 ? -1 : 0;
    size_t hl = (size_t)(end - p);
    char hdr[8193];
    memcpy(hdr, p, hl);
    hdr[hl] = 0;
    if (strncmp(hdr, "HTTP/1.1 101", 12) != 0) return -1;
    if (c->proto) {
        char want[128];
        snprintf(want, sizeof want, "\r\nsec-websocket-protocol: %s\r\n", c->proto);
        int ok = 0;
        for (char *q = hdr; *q && !ok; q++)
            if (!strncasecmp(q, want, strlen(want))) ok = 1;
        if (!ok) return -1;
    }
    return (long)hl;
}

static void process(wsl_conn *c, uint8_t *p, size_t n, int from_shared)
{
    size_t off = 0;
    if (c->state == WSL_HANDSHAKE) {
        long hl = parse_handshake(c, p, n);
        if (hl < 0) { wsl_close(c); return; }
        if (hl == 0) goto keep;
        off = (size_t)hl;
        c->state = WSL_OPEN;
        if (c->h->on_open) c->h->on_open(c, 0);
    }
    off += parse_frames(c, p + off, n - off);
keep:
    if (c->state != WSL_OPEN && c->state != WSL_HANDSHAKE) return;
    if (!from_shared) {
        memmove(c->rbuf, c->rbuf + off, n - off);
        c->rlen = n - off;
        return;
    }
    if (off == n) return;
    if (n - off > c->rcap) {
        c->rcap = n - off;
        c->rbuf = xrealloc(c->rbuf, c->rcap);
    }
    memcpy(c->rbuf, p + off, n - off);
    c->rlen = n - off;
}

static void on_alloc(uv_handle_t *hd, size_t suggested, uv_buf_t *buf)
{
    (void)hd;
    (void)suggested;
    buf->base = (char *)shared_rd;
    buf->len = sizeof shared_rd;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    wsl_conn *c = s->data;
    (void)buf;
    if (nread < 0) { wsl_close(c); return; }
    if (nread == 0) return;
    if (c->rlen == 0) {
        process(c, shared_rd, (size_t)nread, 1);
        return;
    }
    if (c->rlen + (size_t)nread > c->rcap) {
        c->rcap = (c->rlen + (size_t)nread) * 2;
        c->rbuf = xrealloc(c->rbuf, c->rcap);
    }
    memcpy(c->rbuf + c->rlen, shared_rd, (size_t)nread);
    process(c, c->rbuf, c->rlen + (size_t)nread, 0);
}

/* ---- connecting ----------------------------------------------------------------------------- */

static void on_connected(uv_connect_t *req, int status)
{
    wsl_conn *c = req->data;
    if (status < 0) { wsl_close(c); return; }
    uv_tcp_nodelay(&c->tcp, 1);
    c->state = WSL_HANDSHAKE;
    char req_txt[512];
    int n = snprintf(req_txt, sizeof req_txt,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                     "%s%s%s\r\n",
                     c->path, c->host, c->proto ? "Sec-WebSocket-Protocol: " : "",
                     c->proto ? c->proto : "", c->proto ? "\r\n" : "");
    if (raw_send(c, (const uint8_t *)req_txt, (size_t)n) < 0) { wsl_close(c); return; }
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

int wsl_connect(uv_loop_t *loop, wsl_conn *c, const struct sockaddr_in *addr, const char *host,
                const char *path, const char *proto, const wsl_handlers *h)
{
    c->h = h;
    c->host = host;
    c->path = path;
    c->proto = proto;
    c->rlen = c->mlen = 0;
    int rc = uv_tcp_init(loop, &c->tcp);
    if (rc < 0) return rc;
    c->tcp.data = c;
    c->creq.data = c;
    c->state = WSL_CONNECTING;
    rc = uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)addr, on_connected);
    if (rc < 0) {
        c->state = WSL_CLOSING;
        uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
    }
    return rc;
}

/* ---- MessagePack ---------------------------------------------------------------------------- */

void mpw_put(mpw *w, const void *p, size_t n)
{
    if (w->n + n > w->cap) {
        w->cap = (w->n + n) * 2 + 64;
        w->p = xrealloc(w->p, w->cap);
    }
    memcpy(w->p + w->n, p, n);
    w->n += n;
}

void mpw_map(mpw *w, uint32_t n)
{
    uint8_t b[5];
    if (n < 16) { b[0] = (uint8_t)(0x80 | n); mpw_put(w, b, 1); return; }
    b[0] = 0xdf; b[1] = (uint8_t)(n >> 24); b[2] = (uint8_t)(n >> 16); b[3] = (uint8_t)(n >> 8); b[4] = (uint8_t)n;
    mpw_put(w, b, 5);
}

void mpw_str(mpw *w, const char *s)
{
    size_t n = strlen(s);
    uint8_t b[3];
    if (n < 32) { b[0] = (uint8_t)(0xa0 | n); mpw_put(w, b, 1); }
    else if (n < 256) { b[0] = 0xd9; b[1] = (uint8_t)n; mpw_put(w, b, 2); }
    else { b[0] = 0xda; b[1] = (uint8_t)(n >> 8); b[2] = (uint8_t)n; mpw_put(w, b, 3); }
    mpw_put(w, s, n);
}

void mpw_uint(mpw *w, uint64_t v)
{
    uint8_t b[9];
    if (v < 128) { b[0] = (uint8_t)v; mpw_put(w, b, 1); return; }
    if (v <= 0xffffffffu) {
        b[0] = 0xce; b[1] = (uint8_t)(v >> 24); b[2] = (uint8_t)(v >> 16); b[3] = (uint8_t)(v >> 8); b[4] = (uint8_t)v;
        mpw_put(w, b, 5);
        return;
    }
    b[0] = 0xcf;
    for (int i = 0; i < 8; i++) b[1 + i] = (uint8_t)(v >> (56 - 8 * i));
    mpw_put(w, b, 9);
}

void mpw_free(mpw *w) { free(w->p); w->p = NULL; w->n = w->cap = 0; }

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = (v << 8) | p[i];
    return v;
}

/* Bytes taken by the value at p (recursively), or 0 if it runs past n. */
static size_t mp_size(const uint8_t *p, size_t n, int depth)
{
    if (!n || depth > 32) return 0;
    uint8_t b = p[0];
    size_t h = 1, body = 0, items = 0;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) return 1;
    if ((b & 0xe0) == 0xa0) body = b & 0x1f;
    else if ((b & 0xf0) == 0x90) items = b & 0x0f;
    else if ((b & 0xf0) == 0x80) items = 2u * (b & 0x0f);
    else switch (b) {
        case 0xcc: case 0xd0: return n >= 2 ? 2 : 0;
        case 0xcd: case 0xd1: return n >= 3 ? 3 : 0;
        case 0xce: case 0xd2: case 0xca: return n >= 5 ? 5 : 0;
        case 0xcf: case 0xd3: case 0xcb: return n >= 9 ? 9 : 0;
        case 0xd9: case 0xc4: if (n < 2) return 0; h = 2; body = p[1]; break;
        case 0xda: case 0xc5: if (n < 3) return 0; h = 3; body = (size_t)be(p + 1, 2); break;
        case 0xdb: case 0xc6: if (n < 5) return 0; h = 5; body = (size_t)be(p + 1, 4); break;
        case 0xdc: if (n < 3) return 0; h = 3; items = (size_t)be(p + 1, 2); break;
        case 0xdd: if (n < 5) return 0; h = 5; items = (size_t)be(p + 1, 4); break;
        case 0xde: if (n < 3) return 0; h = 3; items = 2 * (size_t)be(p + 1, 2); break;
        case 0xdf: if (n < 5) return 0; h = 5; items = 2 * (size_t)be(p + 1, 4); break;
        case 0xd4: return n >= 3 ? 3 : 0;
        case 0xd5: return n >= 4 ? 4 : 0;
        case 0xd6: return n >= 6 ? 6 : 0;
        case 0xd7: return n >= 10 ? 10 : 0;
        case 0xd8: return n >= 18 ? 18 : 0;
        default: return 0;
        }
    if (h + body > n) return 0;
    size_t off = h + body;
    for (size_t i = 0; i < items; i++) {
        size_t s = mp_size(p + off, n - off, depth + 1);
        if (!s) return 0;
        off += s;
    }
    return off;
}

static int str_span(const uint8_t *p, size_t n, const uint8_t **s, size_t *sl)
{
    if (!n) return -1;
    size_t h, l;
    if ((p[0] & 0xe0) == 0xa0) { h = 1; l = p[0] & 0x1f; }
    else if (p[0] == 0xd9 && n >= 2) { h = 2; l = p[1]; }
    else if (p[0] == 0xda && n >= 3) { h = 3; l = (size_t)be(p + 1, 2); }
    else return -1;
    if (h + l > n) return -1;
    *s = p + h;
    *sl = l;
    return 0;
}

const uint8_t *mp_find(const uint8_t *p, size_t n, const char *key, size_t *vlen)
{
    if (!n) return NULL;
    size_t items, off;
    if ((p[0] & 0xf0) == 0x80) { items = p[0] & 0x0f; off = 1; }
    else if (p[0] == 0xde && n >= 3) { items = (size_t)be(p + 1, 2); off = 3; }
    else if (p[0] == 0xdf && n >= 5) { items = (size_t)be(p + 1, 4); off = 5; }
    else return NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i < items; i++) {
        const uint8_t *ks;
        size_t ksl, sk = mp_size(p + off, n - off, 0);
        if (!sk) return NULL;
        int match = str_span(p + off, n - off, &ks, &ksl) == 0 && ksl == kl && !memcmp(ks, key, kl);
        off += sk;
        if (match) { *vlen = n - off; return p + off; }
        size_t sv = mp_size(p + off, n - off, 0);
        if (!sv) return NULL;
        off += sv;
    }
    return NULL;
}

int mp_str(const uint8_t *p, size_t n, char *out, size_t cap)
{
    const uint8_t *s;
    size_t l;
    if (str_span(p, n, &s, &l) < 0) return -1;
    if (l >= cap) l = cap - 1;
    memcpy(out, s, l);
    out[l] = 0;
    return 0;
}

int mp_uint(const uint8_t *p, size_t n, uint64_t *out)
{
    if (!n) return -1;
    if (p[0] <= 0x7f) { *out = p[0]; return 0; }
    int w = p[0] == 0xcc ? 1 : p[0] == 0xcd ? 2 : p[0] == 0xce ? 4 : p[0] == 0xcf ? 8 :
            p[0] == 0xd0 ? 1 : p[0] == 0xd1 ? 2 : p[0] == 0xd2 ? 4 : p[0] == 0xd3 ? 8 : 0;
    if (!w || (size_t)w + 1 > n) return -1;
    *out = be(p + 1, w);      /* signed forms: the bench only reads values that are >= 0 */
    return 0;
}

int mp_get_str(const uint8_t *p, size_t n, const char *key, char *out, size_t cap)
{
    size_t vl;
    const uint8_t *v = mp_find(p, n, key, &vl);
    return v ? mp_str(v, vl, out, cap) : -1;
}

int mp_get_uint(const uint8_t *p, size_t n, const char *key, uint64_t *out)
{
    size_t vl;
    const uint8_t *v = mp_find(p, n, key, &vl);
    return v ? mp_uint(v, vl, out) : -1;
}
