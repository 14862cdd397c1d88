/* server.c: libwebsockets on the daemon's libuv loop (see server.h). One protocol, "hall.v1",
 * is first in the list so it also receives plain HTTP: it serves the pages and upgrades /ws. */
#include "server.h"

#include <errno.h>
#include <ifaddrs.h>
#include <libwebsockets.h>
#include <netdb.h>
#include <strings.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "core/codec/codec.h"

struct client {
    struct lws *wsi;
    server *srv;
    client *prev, *next;
    frame **q;                 /* ring of qcap frames, grown as needed; qbytes <= SERVER_MAX_QUEUED_BYTES */
    size_t qcap, qhead, qlen, qbytes;
    uint8_t *rx;               /* reassembly of a fragmented message, at most CODEC_MAX_FRAME */
    size_t rxlen;
    int rx_binary;
    int dropping;
    int close_status;          /* close once the queue is drained; 0 = no */
    char close_reason[64];
    char peer[64];
    void *data;
    int established;
    int batched;               /* in the server's batch list: written when the batch ends */
};

struct server {
    struct lws_context *ctx;
    struct lws_vhost *vh;
    server_handlers h;
    void *arg;
    char pages[1024];
    int port;
    client *clients;
    size_t nclients;
    uint8_t *wbuf;             /* LWS_PRE + SERVER_COALESCE_BYTES: the write path's scratch buffer */
    int batching;              /* between server_batch_begin and server_batch_end */
    client **batch;            /* clients whose queue went from empty to not empty in the batch */
    size_t nbatch, capbatch;
    char **hosts;              /* the names the hall answers to, lower case */
    size_t nhosts;
};

static void server_lws_log(int level, const char *line)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", line);
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = 0;
    hk_log(level == LLL_ERR ? HK_LOG_ERR : HK_LOG_WARN, "lws: %s", buf);
}

/* ---- HTTP: the pages ---------------------------------------------------------------------- */

static const char *mime_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    static const struct { const char *ext, *mime; } types[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".json", "application/json"}, {".png", "image/png"}, {".svg", "image/svg+xml"},
        {".ico", "image/x-icon"}, {".wav", "audio/wav"}, {".ogg", "audio/ogg"},
        {".wasm", "application/wasm"}, {".txt", "text/plain; charset=utf-8"},
        {".csv", "text/csv; charset=utf-8"},
    };
    for (size_t i = 0; dot && i < sizeof types / sizeof *types; i++)
        if (!strcmp(dot, types[i].ext)) return types[i].mime;
    return "application/octet-stream";
}

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Maps a URL path to a file under the pages directory: "/" -> index.html, "/kiosk" ->
 * kiosk.html, "/display/window/N" -> window.html, others as files. Refuses "..". */
static int page_file(const server *s, const char *url, char *out, size_t len)
{
    if (url[0] != '/' || strstr(url, "..") || strchr(url, '\\')) return -1;
    if (!strcmp(url, "/")) url = "/index.html";
    if (!strncmp(url, "/display/window/", 16)) url = "/window.html";
    if (!strncmp(url, "/rate/", 6)) url = "/rate.html";   /* the rating device of window N */
    if (!strncmp(url, "/t/", 3)) url = "/ticket.html";   /* a ticket's phone page, /t/CODE?k=KEY (docs/mobile.md) */
    snprintf(out, len, "%s%s", s->pages, url);
    if (is_file(out)) return 0;
    if (!strchr(url + 1, '.') && !strchr(url + 1, '/')) {
        snprintf(out, len, "%s%s.html", s->pages, url);
        if (is_file(out)) return 0;
    }
    return -1;
}

/* ---- the hall's host names (http.hosts): a page or a WebSocket asked for under another name
 * is refused, so a DNS name rebound to the hall's address by another site gets nothing */

static void server_add_host(server *s, const char *h)
{
    for (size_t i = 0; i < s->nhosts; i++)
        if (!strcasecmp(s->hosts[i], h)) return;
    char **nh = realloc(s->hosts, (s->nhosts + 1) * sizeof *nh);
    if (!nh || !(nh[s->nhosts] = strdup(h))) { free(nh == s->hosts ? NULL : nh); abort(); }
    s->hosts = nh;
    s->nhosts++;
}

int server_listen_is_loopback(const char *listen)
{
    const char *colon = strrchr(listen, ':');
    size_t n = colon ? (size_t)(colon - listen) : strlen(listen);
    return (n >= 4 && !strncmp(listen, "127.", 4)) || (n == 9 && !strncmp(listen, "localhost", 9));
}

/* The default: the listen address, and for a wildcard address every address of this machine and
 * its host name (with .local); localhost and 127.0.0.1 always. */
static void server_default_hosts(server *s, const char *host)
{
    server_add_host(s, "localhost");
    server_add_host(s, "127.0.0.1");
    if (host[0] && strcmp(host, "0.0.0.0") && strcmp(host, "*")) {
        char bare[128];
        size_t n = strlen(host);
        snprintf(bare, sizeof bare, "%.*s", host[0] == '[' && host[n - 1] == ']' ? (int)n - 2 : (int)n,
                 host[0] == '[' ? host + 1 : host);   /* "[::1]" is "::1" in a Host header's brackets */
        server_add_host(s, bare);
        return;
    }
    char name[256];
    if (gethostname(name, sizeof name - 8) == 0 && name[0]) {
        name[sizeof name - 8] = 0;
        server_add_host(s, name);
        if (!strchr(name, '.')) server_add_host(s, strcat(name, ".local"));
    }
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) != 0) return;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        char addr[NI_MAXHOST];
        if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6)) continue;
        socklen_t len = i->ifa_addr->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
        if (getnameinfo(i->ifa_addr, len, addr, sizeof addr, NULL, 0, NI_NUMERICHOST) == 0 && !strchr(addr, '%'))
            server_add_host(s, addr);
    }
    freeifaddrs(ifs);
}

/* v is a Host header ("name", "name:port", "[v6]:port") or an Origin's host part. */
static int host_allowed(const server *s, const char *v)
{
    char name[256];
    const char *end;
    if (v[0] == '[') {
        end = strchr(v, ']');
        if (!end) return 0;
        v++;
    } else {
        const char *colon = strchr(v, ':');
        end = colon && colon == strrchr(v, ':') ? colon : v + strlen(v);
    }
    size_t n = (size_t)(end - v);
    if (!n || n >= sizeof name) return 0;
    memcpy(name, v, n);
    name[n] = 0;
    for (size_t i = 0; i < s->nhosts; i++)
        if (!strcasecmp(s->hosts[i], name)) return 1;
    return 0;
}

static int host_header_ok(const server *s, struct lws *wsi)
{
    char host[256];
    return lws_hdr_total_length(wsi, WSI_TOKEN_HOST) > 0 && lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) >= 0 &&
           host_allowed(s, host);
}

static int serve_http(server *s, struct lws *wsi, const char *url)
{
    char path[1400];
    if (!host_header_ok(s, wsi)) {
        char peer[64];
        lws_get_peer_simple(wsi, peer, sizeof peer);
        log_warn("refused a page to %s: its Host is not one of http.hosts", peer);
        if (lws_return_http_status(wsi, HTTP_STATUS_FORBIDDEN, "this hall does not answer to that host name (http.hosts)"))
            return -1;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    if (page_file(s, url, path, sizeof path) < 0) {
        if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL)) return -1;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    int n = lws_serve_http_file(wsi, path, mime_of(path), NULL, 0);
    if (n < 0) return -1;
    if (n > 0 && lws_http_transaction_completed(wsi)) return -1;
    return 0;
}

/* ---- WebSocket clients --------------------------------------------------------------------- */

static void client_link(server *s, client *c)
{
    c->next = s->clients;
    if (s->clients) s->clients->prev = c;
    s->clients = c;
    s->nclients++;
}

static void client_unlink(server *s, client *c)
{
    if (c->prev) c->prev->next = c->next;
    else s->clients = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
    s->nclients--;
}

static void client_drop(client *c, const char *why)
{
    if (c->dropping) return;
    c->dropping = 1;
    log_warn("client %s dropped: %s", c->peer, why);
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/* Most clients never have more than a few frames waiting: the ring starts small. */
static int client_grow(client *c)
{
    size_t ncap = c->qcap ? c->qcap * 2 : 8;
    frame **nq = malloc(ncap * sizeof *nq);
    if (!nq) return -1;
    for (size_t i = 0; i < c->qlen; i++) nq[i] = c->q[(c->qhead + i) % c->qcap];
    free(c->q);
    c->q = nq;
    c->qcap = ncap;
    c->qhead = 0;
    return 0;
}

static int server_batch_grow(server *s)
{
    size_t ncap = s->capbatch ? s->capbatch * 2 : 256;
    client **nb = realloc(s->batch, ncap * sizeof *nb);
    if (!nb) return -1;
    s->batch = nb;
    s->capbatch = ncap;
    return 0;
}

int client_send(client *c, frame *f)
{
    if (c->dropping) return -1;
    if (c->qbytes + f->len > SERVER_MAX_QUEUED_BYTES) {
        char why[128];
        snprintf(why, sizeof why, "too slow: %zu bytes in %zu frames wait for it (limit %u)", c->qbytes,
                 c->qlen, SERVER_MAX_QUEUED_BYTES);
        client_drop(c, why);
        return -1;
    }
    if (c->qlen == c->qcap && client_grow(c) < 0) {
        client_drop(c, "out of memory for its send queue");
        return -1;
    }
    c->q[(c->qhead + c->qlen) % c->qcap] = frame_ref(f);
    c->qlen++;
    c->qbytes += f->len;
    /* a client with frames already waiting has asked for a writeable callback (or is in the
     * batch): asking again per frame of a broadcast only costs poll re-arming */
    if (c->qlen == 1 && !c->batched) {
        server *s = c->srv;
        if (s->batching && (s->nbatch < s->capbatch || server_batch_grow(s) == 0)) {
            c->batched = 1;
            s->batch[s->nbatch++] = c;
        } else {
            lws_callback_on_writable(c->wsi);
        }
    }
    return 0;
}

void client_close_after(client *c, int status, const char *reason)
{
    c->close_status = status;
    snprintf(c->close_reason, sizeof c->close_reason, "%s", reason ? reason : "");
    lws_callback_on_writable(c->wsi);
}

void client_set_timeout(client *c, int secs)
{
    if (c->dropping) return;   /* a client being dropped stays dropped */
    lws_set_timeout(c->wsi, secs ? PENDING_TIMEOUT_USER_OK : NO_PENDING_TIMEOUT, secs);
}

void client_set_data(client *c, void *data) { c->data = data; }
void *client_data(const client *c) { return c->data; }
const char *client_peer(const client *c) { return c->peer; }

void server_each(server *s, void (*fn)(client *c, void *arg), void *arg)
{
    for (client *c = s->clients, *next; c; c = next) {
        next = c->next;
        if (!c->dropping) fn(c, arg);
    }
}

size_t server_clients(const server *s) { return s->nclients; }
int server_port(const server *s) { return s->port; }

static int client_close_now(client *c, int status, const char *reason)
{
    lws_close_reason(c->wsi, (enum lws_close_status)status, (unsigned char *)reason, strlen(reason));
    return -1;
}

static int on_receive(client *c, const void *in, size_t len)
{
    if (c->dropping) return 0;
    if (lws_is_first_fragment(c->wsi)) {
        c->rxlen = 0;
        c->rx_binary = lws_frame_is_binary(c->wsi);
        /* the usual case, a message in one piece, is decoded where lws has it: the 64 KiB
         * reassembly buffer is only for fragmented messages (it cost each connection a resident
         * page or two, 4-8 MB with 1000 displays) */
        if (lws_is_final_fragment(c->wsi) && !lws_remaining_packet_payload(c->wsi) && len <= CODEC_MAX_FRAME) {
            c->srv->h.on_message(c->srv->arg, c, in, len, c->rx_binary);
            return 0;
        }
    }
    if (c->rxlen + len > CODEC_MAX_FRAME)
        return client_close_now(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "frame larger than 64 KiB");
    if (!c->rx && !(c->rx = malloc(CODEC_MAX_FRAME))) return -1;
    memcpy(c->rx + c->rxlen, in, len);
    c->rxlen += len;
    if (!lws_is_final_fragment(c->wsi) || lws_remaining_packet_payload(c->wsi)) return 0;
    size_t n = c->rxlen;
    c->rxlen = 0;
    c->srv->h.on_message(c->srv->arg, c, c->rx, n, c->rx_binary);
    return 0;
}

/* The write path. The frames waiting for a client go out in ONE send: each gets its WebSocket
 * header here (server frames are unmasked: 2, 4 or 10 bytes) and is copied behind the previous
 * one in the server's scratch buffer, which lws_write sends as is (LWS_WRITE_RAW). A call.next
 * is two frames per display and an emergency up to four: one send() each instead of one per
 * frame plus a poll() (lws_send_pipe_choked) between them. What the socket does not take, lws
 * keeps (copied) and sends before calling us again, so frames are never interleaved or cut. */
#define SERVER_COALESCE_BYTES (64 * 1024)

static size_t ws_header(uint8_t *h, size_t len)
{
    h[0] = 0x82;                                   /* FIN, binary */
    if (len < 126) { h[1] = (uint8_t)len; return 2; }
    if (len < 65536) { h[1] = 126; h[2] = (uint8_t)(len >> 8); h[3] = (uint8_t)len; return 4; }
    h[1] = 127;
    for (int i = 0; i < 8; i++) h[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
    return 10;
}

static frame *client_pop(client *c)
{
    frame *f = c->q[c->qhead];
    c->qhead = (c->qhead + 1) % c->qcap;
    c->qlen--;
    c->qbytes -= f->len;
    return f;
}

/* Writes what fits of c's queue in one lws_write. 0, or -1 if lws refused (the connection is
 * unusable). */
static int client_write_queued(client *c)
{
    server *s = c->srv;
    uint8_t *out = s->wbuf + LWS_PRE;
    size_t used = 0, n = 0;
    while (n < c->qlen && n < SERVER_WRITES_PER_CALLBACK) {
        const frame *f = c->q[(c->qhead + n) % c->qcap];
        if (used + 10 + f->len > SERVER_COALESCE_BYTES) break;
        used += ws_header(out + used, f->len);
        memcpy(out + used, frame_payload(f), f->len);
        used += f->len;
        n++;
    }
    int m;
    if (n == 0) {
        /* a frame larger than the scratch buffer goes alone, framed by lws in its headroom */
        frame *f = client_pop(c);
        m = lws_write(c->wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_BINARY);
        frame_unref(f);
    } else {
        for (size_t i = 0; i < n; i++) frame_unref(client_pop(c));
        m = lws_write(c->wsi, out, used, LWS_WRITE_RAW);
    }
    return m < 0 ? -1 : 0;
}

static int on_writeable(client *c)
{
    if (c->qlen) {
        if (client_write_queued(c) < 0) return -1;
        if (c->qlen || c->close_status) lws_callback_on_writable(c->wsi);
        return 0;
    }
    if (c->close_status) return client_close_now(c, c->close_status, c->close_reason);
    return 0;
}

void server_batch_begin(server *s) { s->batching = 1; }

/* The end of a broadcast: every client whose queue was empty before it is written to now,
 * directly, instead of asking lws for a writeable callback. On lws's libuv loop each such
 * request costs four epoll_ctl calls (uv_poll_start drops the descriptor from epoll and adds it
 * again, once to ask for POLLOUT and once to give it back) and the frames wait for the next
 * loop iteration; with 1000 displays that was a quarter of the daemon's time in a call.next.
 * A direct write is safe here: nothing of this client is queued in lws (lws_partial_buffered),
 * and what the socket does not take lws keeps and sends on its own writeable callback, before
 * any later write of ours (at most SERVER_COALESCE_BYTES per client; past that it waits for the
 * callback as before). */
static void batch_write(client *c)
{
    c->batched = 0;
    if (!c->qlen || c->dropping) return;
    if (lws_partial_buffered(c->wsi)) {
        lws_callback_on_writable(c->wsi);
        return;
    }
    if (client_write_queued(c) < 0) {
        client_drop(c, "its connection failed while sending");
        return;
    }
    if (c->qlen || c->close_status) lws_callback_on_writable(c->wsi);
}

void server_batch_end(server *s, client *first)
{
    s->batching = 0;
    /* the one who asked goes first: a staff tablet's call.next is answered before the 1000
     * displays are told, not after (each client's own frames keep their order either way) */
    if (first && first->batched) batch_write(first);
    for (size_t i = 0; i < s->nbatch; i++)
        if (s->batch[i]->batched) batch_write(s->batch[i]);
    s->nbatch = 0;
}

/* A browser page of another site must not drive the hall with a user's stored token: a request
 * that says where it comes from (Origin) must come from one of the hall's own names, as must
 * the name it was sent to (Host: a DNS name rebound to the hall's address is not one). */
static int origin_ok(const server *s, struct lws *wsi)
{
    char origin[256];
    if (!host_header_ok(s, wsi)) return 0;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) <= 0) return 1;   /* not a browser */
    if (lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) < 0) return 0;
    const char *o = strstr(origin, "://");
    if (!o) return 0;   /* "null" and the like */
    char host[256];
    snprintf(host, sizeof host, "%s", o + 3);
    host[strcspn(host, "/")] = 0;
    return host_allowed(s, host);
}

static int filter_connection(server *s, struct lws *wsi)
{
    char uri[64], peer[64];
    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0 || strcmp(uri, "/ws") != 0)
        return 1;   /* WebSocket only on /ws */
    lws_get_peer_simple(wsi, peer, sizeof peer);
    if (!origin_ok(s, wsi)) {
        log_warn("refused a WebSocket from %s: its Origin or Host is not one of http.hosts", peer);
        return 1;
    }
    /* one address may not take every connection the box can hold; loopback is the box itself */
    if (strcmp(peer, "127.0.0.1") != 0 && strcmp(peer, "::1") != 0) {
        size_t n = 0;
        for (client *c = s->clients; c; c = c->next)
            if (!strcmp(c->peer, peer)) n++;
        if (n >= SERVER_MAX_PER_ADDR) {
            log_warn("refused a WebSocket from %s: it already has %zu connections", peer, n);
            return 1;
        }
    }
    return 0;
}

static void client_release(client *c)
{
    while (c->qlen) {
        frame_unref(c->q[c->qhead]);
        c->qhead = (c->qhead + 1) % c->qcap;
        c->qlen--;
    }
    free(c->q);
    c->q = NULL;
    c->qcap = c->qbytes = 0;
    free(c->rx);
    c->rx = NULL;
}

static int server_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                           size_t len)
{
    server *s = lws_context_user(lws_get_context(wsi));
    client *c = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return serve_http(s, wsi, in ? (const char *)in : "/");
    case LWS_CALLBACK_HTTP_FILE_COMPLETION:
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return filter_connection(s, wsi);
    case LWS_CALLBACK_ESTABLISHED:
        memset(c, 0, sizeof *c);
        c->wsi = wsi;
        c->srv = s;
        c->established = 1;
        lws_get_peer_simple(wsi, c->peer, sizeof c->peer);
        client_link(s, c);
        s->h.on_open(s->arg, c);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        return on_receive(c, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return on_writeable(c);
    case LWS_CALLBACK_CLOSED:
        if (c && c->established) {
            c->established = 0;
            s->h.on_close(s->arg, c);
            client_unlink(s, c);
            client_release(c);
        }
        return 0;
    default:
        return 0;
    }
}

static struct lws_protocols server_protocols[] = {
    {"hall.v1", server_callback, sizeof(client), 16384, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* added by lws to every HTTP response of the vhost, pages and errors alike */
static const struct lws_protocol_vhost_options server_headers[] = {
    {&server_headers[1], NULL, "content-security-policy:", SERVER_CSP},
    {&server_headers[2], NULL, "x-frame-options:", "DENY"},
    {&server_headers[3], NULL, "x-content-type-options:", "nosniff"},
    {NULL, NULL, "referrer-policy:", "no-referrer"},
};

static int split_listen(const char *listen, char *host, size_t hlen, int *port)
{
    const char *colon = strrchr(listen, ':');
    if (!colon || (size_t)(colon - listen) >= hlen) return -1;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = 0;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p < 0 || p > 65535) return -1;
    *port = (int)p;
    return 0;
}

static void server_release(server *s)
{
    free(s->wbuf);
    free(s->batch);
    for (size_t i = 0; i < s->nhosts; i++) free(s->hosts[i]);
    free(s->hosts);
    free(s);
}

server *server_new(uv_loop_t *loop, const server_options *opt, const server_handlers *h, void *arg,
                   char *err, size_t errlen)
{
    server *s = calloc(1, sizeof *s);
    if (!s) { snprintf(err, errlen, "out of memory"); return NULL; }
    s->h = *h;
    s->arg = arg;
    s->wbuf = malloc(LWS_PRE + SERVER_COALESCE_BYTES);
    if (!s->wbuf) { snprintf(err, errlen, "out of memory"); free(s); return NULL; }
    snprintf(s->pages, sizeof s->pages, "%s", opt->pages_dir);
    char host[128];
    if (split_listen(opt->listen, host, sizeof host, &s->port) < 0) {
        snprintf(err, errlen, "http.listen '%s' is not HOST:PORT", opt->listen);
        server_release(s);
        return NULL;
    }
    lws_set_log_level(LLL_ERR | LLL_WARN, server_lws_log);
    if (opt->nhosts) {
        for (size_t i = 0; i < opt->nhosts; i++) server_add_host(s, opt->hosts[i]);
    } else {
        server_default_hosts(s, host);
    }

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    void *loops[1] = {loop};
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
                   LWS_SERVER_OPTION_DISABLE_IPV6 | LWS_SERVER_OPTION_VALIDATE_UTF8;
    if (opt->tls_cert) info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.foreign_loops = loops;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.user = s;
    s->ctx = lws_create_context(&info);
    if (!s->ctx) {
        snprintf(err, errlen, "cannot start the web server (is libwebsockets-evlib-uv installed?)");
        server_release(s);
        return NULL;
    }
    memset(&info, 0, sizeof info);
    info.port = s->port;
    info.iface = (!host[0] || !strcmp(host, "0.0.0.0") || !strcmp(host, "*")) ? NULL : host;
    info.protocols = server_protocols;
    info.vhost_name = "hall";
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6 | LWS_SERVER_OPTION_VALIDATE_UTF8;
    /* lws enables TLS on a vhost only if the vhost's own options ask for it too */
    if (opt->tls_cert) info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.ssl_cert_filepath = opt->tls_cert;
    info.ssl_private_key_filepath = opt->tls_key;
    info.keepalive_timeout = 5;
    info.headers = &server_headers[0];
    s->vh = lws_create_vhost(s->ctx, &info);
    if (!s->vh) {
        snprintf(err, errlen, "cannot listen on %s: the port is in use or the address is not on this machine",
                 opt->listen);
        lws_context_destroy(s->ctx);
        uv_run(loop, UV_RUN_DEFAULT);
        lws_context_destroy(s->ctx);
        server_release(s);
        return NULL;
    }
    if (s->port == 0) s->port = lws_get_vhost_listen_port(s->vh);
    return s;
}

void server_free(server *s, uv_loop_t *loop)
{
    if (!s) return;
    /* the order stack.md gives: destroy, let the loop close lws's handles, destroy again */
    lws_context_destroy(s->ctx);
    uv_run(loop, UV_RUN_DEFAULT);
    lws_context_destroy(s->ctx);
    server_release(s);
}
