/* wsclient.c: the blocking WebSocket client of wsclient.h. The socket is non-blocking and every
 * read or write waits in poll() first, so one deadline bounds a whole handshake or message. */
#include "wsclient.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "sha1.h"
#include "io/base/clock.h"

#define WSC_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WSC_MAX_HEADERS 16384

enum { OP_CONT = 0x0, OP_TEXT = 0x1, OP_BINARY = 0x2, OP_CLOSE = 0x8, OP_PING = 0x9, OP_PONG = 0xa };

struct wsclient {
    int fd;
    SSL_CTX *tls_ctx;                /* wss://: OpenSSL over the same non-blocking socket */
    SSL *tls;
    uint8_t rbuf[WSC_MAX_HEADERS];   /* bytes read but not consumed yet */
    size_t rpos, rlen;
    bool close_sent, close_seen;
    int close_code;
    char close_reason[124];
    char err[256];
};

/* ---- time and socket waits ------------------------------------------------------------------ */

static int64_t wsc_deadline(int timeout_ms) { return timeout_ms < 0 ? -1 : hk_clock_mono_ms() + timeout_ms; }

static void wsc_seterr(wsclient *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void wsc_seterr(wsclient *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
}

/* Waits until fd is ready for `events` or the deadline (-1 = none) passes. */
static int wsc_wait(wsclient *c, short events, int64_t deadline)
{
    for (;;) {
        int ms = -1;
        if (deadline >= 0) {
            int64_t left = deadline - hk_clock_mono_ms();
            ms = left <= 0 ? 0 : left > 1000000 ? 1000000 : (int)left;   /* 0: what is there already */
        }
        struct pollfd p = {.fd = c->fd, .events = events};
        int r = poll(&p, 1, ms);
        if (r > 0) return WSC_OK;   /* errors and hangups surface in the following recv/send */
        if (r == 0 && ms == 0) { wsc_seterr(c, "timed out"); return WSC_ETIMEOUT; }
        if (r == 0) continue;       /* re-checks the deadline */
        if (errno == EINTR) { wsc_seterr(c, "interrupted"); return WSC_EINTR; }
        wsc_seterr(c, "poll: %s", strerror(errno));
        return WSC_EIO;
    }
}

/* After an SSL_* call returned n <= 0: WSC_OK with *want set to what to wait for before trying
 * again, or the error. */
static int wsc_tls_retry(wsclient *c, int n, short *want)
{
    int e = SSL_get_error(c->tls, n);
    if (e == SSL_ERROR_WANT_READ) { *want = POLLIN; return WSC_OK; }
    if (e == SSL_ERROR_WANT_WRITE) { *want = POLLOUT; return WSC_OK; }
    if (e == SSL_ERROR_ZERO_RETURN) { wsc_seterr(c, "connection closed by peer"); return WSC_ECLOSED; }
    if (e == SSL_ERROR_SYSCALL && (errno == EINTR || errno == EAGAIN)) { *want = POLLIN | POLLOUT; return WSC_OK; }
    unsigned long code = ERR_get_error();
    if (e == SSL_ERROR_SYSCALL && !code) {
        wsc_seterr(c, n == 0 ? "connection closed by peer" : "%s", strerror(errno));
        return n == 0 ? WSC_ECLOSED : WSC_EIO;
    }
    char why[200];
    ERR_error_string_n(code, why, sizeof why);
    long v = SSL_get_verify_result(c->tls);
    if (v != X509_V_OK) wsc_seterr(c, "TLS: the server's certificate: %s (--cafile FILE names the CA)", X509_verify_cert_error_string(v));
    else wsc_seterr(c, "TLS: %s", why);
    return WSC_EIO;
}

/* Reads more bytes into rbuf (compacting it first). */
static int wsc_fill(wsclient *c, int64_t deadline)
{
    if (c->rpos == c->rlen) c->rpos = c->rlen = 0;
    if (c->rlen == sizeof c->rbuf && c->rpos) {
        memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
        c->rlen -= c->rpos;
        c->rpos = 0;
    }
    if (c->rlen == sizeof c->rbuf) { wsc_seterr(c, "input buffer full"); return WSC_EPROTO; }
    short want = POLLIN;
    for (;;) {
        /* TLS may hold decrypted bytes already: ask it before waiting on the socket */
        int r = c->tls && SSL_pending(c->tls) ? WSC_OK : wsc_wait(c, want, deadline);
        if (r) return r;
        if (c->tls) {
            int n = SSL_read(c->tls, c->rbuf + c->rlen, (int)(sizeof c->rbuf - c->rlen));
            if (n > 0) { c->rlen += (size_t)n; return WSC_OK; }
            if ((r = wsc_tls_retry(c, n, &want)) == WSC_OK) continue;
            return r;
        }
        ssize_t n = recv(c->fd, c->rbuf + c->rlen, sizeof c->rbuf - c->rlen, 0);
        if (n > 0) { c->rlen += (size_t)n; return WSC_OK; }
        if (n == 0) { wsc_seterr(c, "connection closed by peer"); return WSC_ECLOSED; }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
        wsc_seterr(c, "%s", strerror(errno));
        return WSC_EIO;
    }
}

static int wsc_read(wsclient *c, void *dst, size_t n, int64_t deadline)
{
    uint8_t *d = dst;
    while (n) {
        if (c->rpos == c->rlen) {
            int r = wsc_fill(c, deadline);
            if (r) return r;
        }
        size_t k = c->rlen - c->rpos;
        if (k > n) k = n;
        memcpy(d, c->rbuf + c->rpos, k);
        c->rpos += k;
        d += k;
        n -= k;
    }
    return WSC_OK;
}

static int wsc_write(wsclient *c, const void *buf, size_t len, int64_t deadline)
{
    const uint8_t *p = buf;
    short want = POLLOUT;
    while (len) {
        int r = wsc_wait(c, want, deadline);
        if (r) return r;
        if (c->tls) {
            int n = SSL_write(c->tls, p, len > INT_MAX ? INT_MAX : (int)len);
            if (n > 0) { p += n; len -= (size_t)n; want = POLLOUT; continue; }
            if ((r = wsc_tls_retry(c, n, &want)) == WSC_OK) continue;
            return r;
        }
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n >= 0) { p += n; len -= (size_t)n; continue; }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
        wsc_seterr(c, "%s", strerror(errno));
        return WSC_EIO;
    }
    return WSC_OK;
}

/* ---- frames --------------------------------------------------------------------------------- */

/* One frame, FIN set, masked with a fresh random key as RFC 6455 section 5.3 requires of clients. */
static int wsc_send_frame(wsclient *c, int op, const void *payload, size_t len, int64_t deadline)
{
    uint8_t *f = malloc(len + 14);
    if (!f) { wsc_seterr(c, "out of memory"); return WSC_EIO; }
    size_t h = 0;
    f[h++] = (uint8_t)(0x80 | op);
    if (len < 126) {
        f[h++] = (uint8_t)(0x80 | len);
    } else if (len <= 0xffff) {
        f[h++] = 0x80 | 126;
        f[h++] = (uint8_t)(len >> 8);
        f[h++] = (uint8_t)len;
    } else {
        f[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--) f[h++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    uint8_t key[4];
    randombytes_buf(key, sizeof key);
    memcpy(f + h, key, 4);
    h += 4;
    const uint8_t *p = payload;
    for (size_t i = 0; i < len; i++) f[h + i] = p[i] ^ key[i & 3];
    int r = wsc_write(c, f, h + len, deadline);
    free(f);
    return r;
}

static void wsc_send_close(wsclient *c, int code, int64_t deadline)
{
    if (c->close_sent) return;
    c->close_sent = true;
    uint8_t b[2] = {(uint8_t)(code >> 8), (uint8_t)code};
    (void)wsc_send_frame(c, OP_CLOSE, b, code ? 2 : 0, deadline);
}

/* A framing violation: tell the peer (best effort, briefly) and report it. */
static int wsc_proto_error(wsclient *c, int code, const char *what)
{
    wsc_seterr(c, "protocol error: %s", what);
    wsc_send_close(c, code, wsc_deadline(500));
    return code == 1009 ? WSC_ETOOBIG : WSC_EPROTO;
}

int wsclient_recv(wsclient *c, uint8_t **msg, size_t *len, int *is_text, int timeout_ms)
{
    int64_t deadline = wsc_deadline(timeout_ms);
    uint8_t *data = NULL;
    size_t n = 0;
    int msg_op = -1;   /* opcode of the message being reassembled, -1 = none */
    int r;

    *msg = NULL;
    *len = 0;
    if (c->close_seen) { wsc_seterr(c, "connection closed"); return WSC_ECLOSED; }
    for (;;) {
        uint8_t h[2];
        if ((r = wsc_read(c, h, 2, deadline))) goto fail;
        bool fin = h[0] & 0x80;
        int op = h[0] & 0x0f;
        uint64_t plen = h[1] & 0x7f;
        if (h[0] & 0x70) { r = wsc_proto_error(c, 1002, "reserved bits set"); goto fail; }
        if (h[1] & 0x80) { r = wsc_proto_error(c, 1002, "masked frame from server"); goto fail; }
        if (plen == 126) {
            uint8_t e[2];
            if ((r = wsc_read(c, e, 2, deadline))) goto fail;
            plen = (uint64_t)e[0] << 8 | e[1];
        } else if (plen == 127) {
            uint8_t e[8];
            if ((r = wsc_read(c, e, 8, deadline))) goto fail;
            plen = 0;
            for (int i = 0; i < 8; i++) plen = plen << 8 | e[i];
            if (plen >> 63) { r = wsc_proto_error(c, 1002, "bad frame length"); goto fail; }
        }

        if (op & 0x8) {   /* control frames may arrive between the fragments of a message */
            uint8_t p[125];
            if (!fin || plen > 125) { r = wsc_proto_error(c, 1002, "bad control frame"); goto fail; }
            if ((r = wsc_read(c, p, (size_t)plen, deadline))) goto fail;
            if (op == OP_PING) {
                if ((r = wsc_send_frame(c, OP_PONG, p, (size_t)plen, deadline))) goto fail;
            } else if (op == OP_CLOSE) {
                c->close_seen = true;
                c->close_code = plen >= 2 ? (p[0] << 8 | p[1]) : 0;
                size_t rl = plen > 2 ? (size_t)plen - 2 : 0;
                memcpy(c->close_reason, p + 2, rl);
                c->close_reason[rl] = '\0';
                wsc_send_close(c, c->close_code ? c->close_code : 1000, wsc_deadline(500));
                if (c->close_code) wsc_seterr(c, "connection closed by peer (%d%s%s)", c->close_code,
                                              rl ? " " : "", c->close_reason);
                else wsc_seterr(c, "connection closed by peer");
                r = WSC_ECLOSED;
                goto fail;
            } else if (op != OP_PONG) {
                r = wsc_proto_error(c, 1002, "unknown control opcode");
                goto fail;
            }
            continue;
        }

        if (op == OP_CONT) {
            if (msg_op < 0) { r = wsc_proto_error(c, 1002, "continuation without a message"); goto fail; }
        } else if (op == OP_TEXT || op == OP_BINARY) {
            if (msg_op >= 0) { r = wsc_proto_error(c, 1002, "new message inside a fragmented one"); goto fail; }
            msg_op = op;
        } else {
            r = wsc_proto_error(c, 1002, "unknown opcode");
            goto fail;
        }
        if (plen > WSCLIENT_MAX_MESSAGE - n) { r = wsc_proto_error(c, 1009, "message too big"); goto fail; }
        uint8_t *nd = realloc(data, n + (size_t)plen + 1);
        if (!nd) { wsc_seterr(c, "out of memory"); r = WSC_EIO; goto fail; }
        data = nd;
        if ((r = wsc_read(c, data + n, (size_t)plen, deadline))) goto fail;
        n += (size_t)plen;
        if (fin) {
            data[n] = '\0';
            *msg = data;
            *len = n;
            if (is_text) *is_text = msg_op == OP_TEXT;
            return WSC_OK;
        }
    }
fail:
    free(data);
    return r;
}

int wsclient_send(wsclient *c, const void *buf, size_t len, int timeout_ms)
{
    if (c->close_sent || c->close_seen) { wsc_seterr(c, "connection closed"); return WSC_ECLOSED; }
    return wsc_send_frame(c, OP_BINARY, buf, len, wsc_deadline(timeout_ms));
}

/* ---- connecting ----------------------------------------------------------------------------- */

typedef struct {
    char host[256];
    char port[8];
    char path[1024];
    bool bracketed;   /* an IPv6 literal, written back in brackets in the Host header */
    bool tls;         /* wss:// */
} wsc_url;

static const char *wsc_cafile;

void wsclient_set_cafile(const char *path) { wsc_cafile = path; }

/* The TLS handshake over the connected socket: the server's certificate must chain to the CA
 * file (or the system's CAs) and name the URL's host (a DNS name or an IP address). */
static int wsc_tls_connect(wsclient *c, const wsc_url *u, int64_t deadline)
{
    c->tls_ctx = SSL_CTX_new(TLS_client_method());
    if (!c->tls_ctx) { wsc_seterr(c, "TLS: cannot set up OpenSSL"); return WSC_EIO; }
    SSL_CTX_set_min_proto_version(c->tls_ctx, TLS1_2_VERSION);
    if (wsc_cafile ? SSL_CTX_load_verify_locations(c->tls_ctx, wsc_cafile, NULL) != 1
                   : SSL_CTX_set_default_verify_paths(c->tls_ctx) != 1) {
        wsc_seterr(c, "TLS: cannot read the CA file %s", wsc_cafile ? wsc_cafile : "(system default)");
        return WSC_EIO;
    }
    SSL_CTX_set_verify(c->tls_ctx, SSL_VERIFY_PEER, NULL);
    c->tls = SSL_new(c->tls_ctx);
    if (!c->tls || SSL_set_fd(c->tls, c->fd) != 1) { wsc_seterr(c, "TLS: cannot set up OpenSSL"); return WSC_EIO; }
    unsigned char ip[16];
    bool is_ip = inet_pton(AF_INET, u->host, ip) == 1 || inet_pton(AF_INET6, u->host, ip) == 1;
    X509_VERIFY_PARAM *vp = SSL_get0_param(c->tls);
    if (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, u->host) != 1
              : SSL_set1_host(c->tls, u->host) != 1 || SSL_set_tlsext_host_name(c->tls, u->host) != 1) {
        wsc_seterr(c, "TLS: bad host name %s", u->host);
        return WSC_EIO;
    }
    short want = POLLOUT;
    for (;;) {
        int n = SSL_connect(c->tls);
        if (n == 1) return WSC_OK;
        int r = wsc_tls_retry(c, n, &want);
        if (!r) r = wsc_wait(c, want, deadline);
        if (r) return r;
    }
}

static int wsc_parse_url(const char *url, wsc_url *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    u->tls = strncasecmp(url, "wss://", 6) == 0;
    if (!u->tls && strncasecmp(url, "ws://", 5) != 0) {
        snprintf(err, errlen, "URL must start with ws:// or wss://");
        return WSC_EURL;
    }
    const char *p = url + (u->tls ? 6 : 5), *hend, *rest;
    if (*p == '[') {
        hend = strchr(p, ']');
        if (!hend) { snprintf(err, errlen, "unterminated [ in URL"); return WSC_EURL; }
        p++;
        rest = hend + 1;
        u->bracketed = true;
    } else {
        hend = p + strcspn(p, ":/?#");
        rest = hend;
    }
    size_t hl = (size_t)(hend - p);
    if (hl == 0 || hl >= sizeof u->host) { snprintf(err, errlen, "bad host in URL"); return WSC_EURL; }
    memcpy(u->host, p, hl);
    strcpy(u->port, u->tls ? "443" : "80");
    if (*rest == ':') {
        rest++;
        size_t pl = strspn(rest, "0123456789");
        long port = pl && pl < 6 ? strtol(rest, NULL, 10) : 0;
        if (port < 1 || port > 65535) { snprintf(err, errlen, "bad port in URL"); return WSC_EURL; }
        snprintf(u->port, sizeof u->port, "%ld", port);
        rest += pl;
    }
    if (*rest == '#') rest = "";   /* a fragment never goes on the wire */
    if (*rest && *rest != '/' && *rest != '?') { snprintf(err, errlen, "bad URL after host"); return WSC_EURL; }
    size_t n = strcspn(rest, "#");
    if (n + 2 > sizeof u->path) { snprintf(err, errlen, "URL path too long"); return WSC_EURL; }
    if (*rest != '/') u->path[0] = '/';
    memcpy(u->path + strlen(u->path), rest, n);
    for (const char *q = u->path; *q; q++)
        if ((unsigned char)*q <= ' ' || *q == 0x7f) { snprintf(err, errlen, "bad character in URL path"); return WSC_EURL; }
    for (const char *q = u->host; *q; q++)
        if ((unsigned char)*q <= ' ' || *q == 0x7f) { snprintf(err, errlen, "bad character in URL host"); return WSC_EURL; }
    return WSC_OK;
}

/* Non-blocking connect to each resolved address in turn, within the deadline. */
static int wsc_tcp_connect(wsclient *c, const wsc_url *u, int64_t deadline)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int g = getaddrinfo(u->host, u->port, &hints, &res);
    if (g) {
        wsc_seterr(c, "%s", g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
        return WSC_ECONNECT;
    }
    int r = WSC_ECONNECT;
    wsc_seterr(c, "no address");
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        c->fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (c->fd < 0) { wsc_seterr(c, "%s", strerror(errno)); continue; }
        int e = 0;
        if (connect(c->fd, a->ai_addr, a->ai_addrlen) < 0) {
            e = errno;
            if (e == EINPROGRESS) {
                r = wsc_wait(c, POLLOUT, deadline);
                if (r == WSC_ETIMEOUT || r == WSC_EINTR) { close(c->fd); c->fd = -1; break; }
                socklen_t sl = sizeof e;
                if (r || getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &sl) < 0) e = errno;
            }
        }
        if (e == 0) {
            int one = 1;
            setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);   /* small request frames */
            r = WSC_OK;
            break;
        }
        wsc_seterr(c, "%s", strerror(e));
        r = WSC_ECONNECT;
        close(c->fd);
        c->fd = -1;
    }
    freeaddrinfo(res);
    if (r == WSC_ETIMEOUT) wsc_seterr(c, "connect timed out");
    return r == WSC_OK ? WSC_OK : (r == WSC_EINTR ? WSC_EINTR : WSC_ECONNECT);
}

/* Finds header `name` in the response head (lines after the status line); copies its value. */
static bool wsc_header(const char *head, const char *name, char *val, size_t vlen)
{
    size_t nl = strlen(name);
    for (const char *line = strstr(head, "\r\n"); line; line = strstr(line, "\r\n")) {
        line += 2;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1, *e = strstr(v, "\r\n");
            while (*v == ' ' || *v == '\t') v++;
            if (!e) e = v + strlen(v);
            while (e > v && (e[-1] == ' ' || e[-1] == '\t')) e--;
            size_t n = (size_t)(e - v) < vlen - 1 ? (size_t)(e - v) : vlen - 1;
            memcpy(val, v, n);
            val[n] = '\0';
            return true;
        }
    }
    return false;
}

/* true if the comma-separated header value holds `token` (case-insensitive). */
static bool wsc_has_token(const char *list, const char *token)
{
    size_t tl = strlen(token);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        size_t n = strcspn(p, ",");
        size_t m = n;
        while (m && (p[m - 1] == ' ' || p[m - 1] == '\t')) m--;
        if (m == tl && strncasecmp(p, token, tl) == 0) return true;
        p += n;
    }
    return false;
}

static int wsc_handshake(wsclient *c, const wsc_url *u, const char *subprotocol, int64_t deadline)
{
    uint8_t nonce[16];
    char key[32], expect[32], req[2048 + sizeof u->path];
    randombytes_buf(nonce, sizeof nonce);
    sodium_bin2base64(key, sizeof key, nonce, sizeof nonce, sodium_base64_VARIANT_ORIGINAL);

    char kg[sizeof key + sizeof WSC_GUID];
    uint8_t dig[SHA1_DIGEST_LEN];
    snprintf(kg, sizeof kg, "%s%s", key, WSC_GUID);
    sha1_digest(kg, strlen(kg), dig);
    sodium_bin2base64(expect, sizeof expect, dig, sizeof dig, sodium_base64_VARIANT_ORIGINAL);

    bool defport = strcmp(u->port, "80") == 0;
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\n"
                     "Host: %s%s%s%s%s\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "%s%s%s"
                     "\r\n",
                     u->path, u->bracketed ? "[" : "", u->host, u->bracketed ? "]" : "",
                     defport ? "" : ":", defport ? "" : u->port, key,
                     subprotocol ? "Sec-WebSocket-Protocol: " : "", subprotocol ? subprotocol : "",
                     subprotocol ? "\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof req) { wsc_seterr(c, "request too long"); return WSC_EHANDSHAKE; }
    int r = wsc_write(c, req, (size_t)n, deadline);
    if (r) return r == WSC_ETIMEOUT || r == WSC_EINTR ? r : WSC_EHANDSHAKE;

    /* Read the response head; bytes after it are already frames and stay in rbuf. */
    size_t end = 0;
    for (;;) {
        uint8_t *hit = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
        if (hit) { end = (size_t)(hit - c->rbuf) + 4; break; }
        if (c->rlen == sizeof c->rbuf) { wsc_seterr(c, "response headers too long"); return WSC_EHANDSHAKE; }
        r = wsc_fill(c, deadline);
        if (r == WSC_ECLOSED) { wsc_seterr(c, "connection closed during handshake"); return WSC_EHANDSHAKE; }
        if (r) return r == WSC_ETIMEOUT || r == WSC_EINTR ? r : WSC_EHANDSHAKE;
    }
    char head[WSC_MAX_HEADERS + 1];
    memcpy(head, c->rbuf, end);
    head[end] = '\0';
    c->rpos = end;

    int status = 0;
    char reason[64] = "";
    if (sscanf(head, "HTTP/1.%*[01] %3d %63[^\r\n]", &status, reason) < 1) {
        wsc_seterr(c, "not an HTTP response");
        return WSC_EHANDSHAKE;
    }
    if (status != 101) {
        wsc_seterr(c, "HTTP %d %s (no WebSocket upgrade)", status, reason);
        return WSC_EHANDSHAKE;
    }
    char val[256];
    if (!wsc_header(head, "Upgrade", val, sizeof val) || strcasecmp(val, "websocket") != 0 ||
        !wsc_header(head, "Connection", val, sizeof val) || !wsc_has_token(val, "upgrade")) {
        wsc_seterr(c, "bad Upgrade/Connection headers in the 101 response");
        return WSC_EHANDSHAKE;
    }
    if (!wsc_header(head, "Sec-WebSocket-Accept", val, sizeof val) || strcmp(val, expect) != 0) {
        wsc_seterr(c, "wrong Sec-WebSocket-Accept");
        return WSC_EHANDSHAKE;
    }
    if (subprotocol) {
        if (!wsc_header(head, "Sec-WebSocket-Protocol", val, sizeof val)) {
            wsc_seterr(c, "server did not accept subprotocol %s", subprotocol);
            return WSC_EHANDSHAKE;
        }
        if (strcmp(val, subprotocol) != 0) {
            wsc_seterr(c, "server chose subprotocol %s, not %s", val, subprotocol);
            return WSC_EHANDSHAKE;
        }
    }
    if (wsc_header(head, "Sec-WebSocket-Extensions", val, sizeof val) && val[0]) {
        wsc_seterr(c, "server chose extensions that were not offered: %s", val);
        return WSC_EHANDSHAKE;
    }
    return WSC_OK;
}

static void wsc_free(wsclient *c)
{
    if (c->tls) SSL_free(c->tls);
    if (c->tls_ctx) SSL_CTX_free(c->tls_ctx);
    if (c->fd >= 0) close(c->fd);
    free(c);
}

int wsclient_connect(const char *url, const char *subprotocol, int timeout_ms, wsclient **out,
                     char *err, size_t errlen)
{
    *out = NULL;
    if (sodium_init() < 0) { snprintf(err, errlen, "libsodium init failed"); return WSC_EIO; }
    wsc_url u;
    int r = wsc_parse_url(url, &u, err, errlen);
    if (r) return r;
    wsclient *c = calloc(1, sizeof *c);
    if (!c) { snprintf(err, errlen, "out of memory"); return WSC_EIO; }
    c->fd = -1;
    int64_t deadline = wsc_deadline(timeout_ms);
    r = wsc_tcp_connect(c, &u, deadline);
    if (!r && u.tls) r = wsc_tls_connect(c, &u, deadline);
    if (!r) r = wsc_handshake(c, &u, subprotocol, deadline);
    if (r) {
        if (r == WSC_ETIMEOUT) wsc_seterr(c, "timed out");
        snprintf(err, errlen, "%s", c->err);
        wsc_free(c);
        return r;
    }
    *out = c;
    return WSC_OK;
}

int wsclient_close_code(const wsclient *c) { return c->close_code; }
const char *wsclient_close_reason(const wsclient *c) { return c->close_reason; }
const char *wsclient_errmsg(const wsclient *c) { return c->err; }

void wsclient_close(wsclient *c, int timeout_ms)
{
    if (!c) return;
    int64_t deadline = wsc_deadline(timeout_ms);
    if (!c->close_seen) {
        wsc_send_close(c, 1000, deadline);
        /* The server answers with its own close and then ends TCP (RFC 6455 section 7.1.1);
         * data messages still in flight are dropped. */
        for (;;) {
            uint8_t *m;
            size_t n;
            int64_t left = deadline - hk_clock_mono_ms();
            int r = wsclient_recv(c, &m, &n, NULL, timeout_ms < 0 ? -1 : left > 0 ? (int)left : 0);
            if (r) break;
            free(m);
        }
    }
    wsc_free(c);
}

const char *wsclient_strerror(int code)
{
    switch (code) {
    case WSC_OK: return "ok";
    case WSC_EURL: return "bad URL";
    case WSC_ECONNECT: return "cannot connect";
    case WSC_EHANDSHAKE: return "WebSocket handshake failed";
    case WSC_EIO: return "socket error";
    case WSC_ETIMEOUT: return "timed out";
    case WSC_ECLOSED: return "connection closed";
    case WSC_EPROTO: return "WebSocket protocol error";
    case WSC_ETOOBIG: return "message too big";
    case WSC_EINTR: return "interrupted";
    }
    return "unknown error";
}
