/* ups.c: see ups.h. One TCP connection to upsd; every poll_ms two GET VAR requests go out, and the
 * answers are read line by line. A poll that has not been answered by the next one, a closed
 * connection or an ERR is an error; the connection is then made again, at most every 10 s. */
#include "ups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define UPS_BACKOFF_MAX_MS 10000
#define UPS_LINE_MAX 512

struct ups_client {
    uv_loop_t *loop;
    hk_ups_cfg cfg;
    ups_cb cb;
    void *arg;
    struct sockaddr_in addr;
    uv_tcp_t *tcp;            /* NULL while not connected */
    uv_connect_t connect;
    uv_timer_t timer;         /* the poll, or the reconnect back-off */
    bool connected, awaiting, closing;
    int backoff_ms;
    char line[UPS_LINE_MAX];
    size_t nline;
    char status[128];         /* this poll's answers */
    int charge;
    bool have_status;
    int answers;              /* of this poll: 0, 1 (the status), 2 */
    char status_err[64];      /* upsd's ERR word for the status, if it gave one */
    char last[192];           /* what was reported last, to report changes only */
};

int ups_parse_line(const char *line, char *var, size_t varlen, char *value, size_t valuelen)
{
    if (!strncmp(line, "ERR ", 4)) {
        snprintf(value, valuelen, "%.*s", (int)strcspn(line + 4, " \r\n"), line + 4);
        return -1;
    }
    if (strncmp(line, "VAR ", 4)) return 0;
    const char *p = strchr(line + 4, ' ');           /* after the UPS name */
    if (!p) return 0;
    p++;
    size_t n = strcspn(p, " ");
    if (!p[n] || p[n + 1] != '"') return 0;
    snprintf(var, varlen, "%.*s", (int)n, p);
    const char *v = p + n + 2, *end = strrchr(v, '"');
    if (!end) return 0;
    snprintf(value, valuelen, "%.*s", (int)(end - v), v);
    return 1;
}

static bool has_word(const char *status, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = status; (p = strstr(p, word)); p += n)
        if ((p == status || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ')) return true;
    return false;
}

static void report(ups_client *u, const char *error)
{
    char now[sizeof u->last];
    if (error) snprintf(now, sizeof now, "E %s", error);
    else snprintf(now, sizeof now, "S %s %d", u->status, u->charge);
    if (!strcmp(now, u->last) && !error) return;     /* an error is repeated at most once a poll */
    snprintf(u->last, sizeof u->last, "%s", now);
    bool ob = !error && has_word(u->status, "OB"), lb = !error && has_word(u->status, "LB");
    u->cb(u->arg, ob, lb, error ? "" : u->status, u->charge, error);
}

static void on_tcp_closed(uv_handle_t *h) { free(h); }

static void schedule(ups_client *u, uv_timer_cb cb, uint64_t ms);
static void on_reconnect(uv_timer_t *t);

/* The link is gone or useless: drop it and try again after the back-off. */
static void fail(ups_client *u, const char *why)
{
    if (u->tcp) {
        uv_close((uv_handle_t *)u->tcp, on_tcp_closed);
        u->tcp = NULL;
    }
    u->connected = u->awaiting = false;
    u->nline = 0;
    report(u, why);
    u->backoff_ms = u->backoff_ms ? u->backoff_ms * 2 : u->cfg.poll_ms;
    if (u->backoff_ms > UPS_BACKOFF_MAX_MS) u->backoff_ms = UPS_BACKOFF_MAX_MS;
    schedule(u, on_reconnect, (uint64_t)u->backoff_ms);
}

/* upsd answers a poll's two requests in order: ups.status (required), then battery.charge
 * (optional: an ERR there, such as VAR-NOT-SUPPORTED while a driver reloads, only leaves the
 * charge unknown). The poll is reported once both are in. */
static void on_line(ups_client *u, const char *line)
{
    char var[64], value[128];
    int r = ups_parse_line(line, var, sizeof var, value, sizeof value);
    if (r == 0 || !u->awaiting) return;
    if (u->answers++ == 0) {
        if (r < 0) snprintf(u->status_err, sizeof u->status_err, "%.60s", value);
        else if (!strcmp(var, "ups.status")) {
            snprintf(u->status, sizeof u->status, "%s", value);
            u->have_status = true;
        }
        return;
    }
    if (r > 0 && !strcmp(var, "battery.charge")) u->charge = atoi(value);
    u->awaiting = false;                    /* the poll's last answer */
    if (!u->have_status) {
        char why[160];
        snprintf(why, sizeof why, "upsd answers ERR %s for UPS '%s'", u->status_err[0] ? u->status_err : "(no status)",
                 u->cfg.name);
        report(u, why);
        return;
    }
    u->backoff_ms = 0;
    report(u, NULL);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char chunk[1024];     /* one loop thread: read callbacks never overlap */
    (void)h; (void)suggested;
    *buf = uv_buf_init(chunk, sizeof chunk);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    ups_client *u = s->data;
    if (u->closing) return;
    if (n < 0) { fail(u, n == UV_EOF ? "upsd closed the connection" : uv_strerror((int)n)); return; }
    for (ssize_t i = 0; i < n; i++) {
        char c = buf->base[i];
        if (c == '\n') {
            u->line[u->nline] = '\0';
            if (u->nline && u->line[u->nline - 1] == '\r') u->line[u->nline - 1] = '\0';
            u->nline = 0;
            on_line(u, u->line);
            if (!u->tcp) return;          /* on_line failed the link */
        } else if (u->nline < sizeof u->line - 1) {
            u->line[u->nline++] = c;
        }
    }
}

typedef struct { uv_write_t req; char buf[256]; } ups_write;

static void on_written(uv_write_t *w, int status)
{
    (void)status;   /* a failed write shows as a read error or an unanswered poll */
    free(w);
}

static void on_poll(uv_timer_t *t)
{
    ups_client *u = t->data;
    if (u->awaiting) {                     /* the last poll was never answered */
        fail(u, "upsd does not answer");
        return;
    }
    ups_write *w = malloc(sizeof *w);
    if (!w) return;
    /* battery.charge is asked for last: its answer (or ERR) closes the poll */
    int n = snprintf(w->buf, sizeof w->buf, "GET VAR %s ups.status\nGET VAR %s battery.charge\n", u->cfg.name,
                     u->cfg.name);
    uv_buf_t b = uv_buf_init(w->buf, (unsigned)n);
    u->awaiting = true;
    u->have_status = false;
    u->answers = 0;
    u->status_err[0] = '\0';
    u->charge = -1;
    if (uv_write(&w->req, (uv_stream_t *)u->tcp, &b, 1, on_written) < 0) {
        free(w);
        fail(u, "cannot write to upsd");
    }
}

static void on_connected(uv_connect_t *c, int status)
{
    ups_client *u = c->data;
    if (u->closing) return;
    if (status < 0) {
        char why[160];
        snprintf(why, sizeof why, "cannot reach upsd at %s:%d: %s", u->cfg.host, u->cfg.port, uv_strerror(status));
        fail(u, why);
        return;
    }
    u->connected = true;
    u->tcp->data = u;
    uv_read_start((uv_stream_t *)u->tcp, on_alloc, on_read);
    on_poll(&u->timer);
    schedule(u, on_poll, (uint64_t)u->cfg.poll_ms);
}

static void start_connect(ups_client *u)
{
    u->tcp = malloc(sizeof *u->tcp);
    if (!u->tcp) { schedule(u, on_reconnect, UPS_BACKOFF_MAX_MS); return; }
    uv_tcp_init(u->loop, u->tcp);
    u->tcp->data = u;
    u->connect.data = u;
    int r = uv_tcp_connect(&u->connect, u->tcp, (const struct sockaddr *)&u->addr, on_connected);
    if (r < 0) {
        char why[160];
        snprintf(why, sizeof why, "cannot connect to upsd: %s", uv_strerror(r));
        fail(u, why);
    }
}

static void on_reconnect(uv_timer_t *t) { start_connect(t->data); }

static void schedule(ups_client *u, uv_timer_cb cb, uint64_t ms)
{
    uv_timer_stop(&u->timer);
    uv_timer_start(&u->timer, cb, ms, cb == on_poll ? ms : 0);   /* polls repeat, a reconnect does not */
}

ups_client *ups_open(uv_loop_t *loop, const hk_ups_cfg *cfg, ups_cb cb, void *arg, char *err, size_t errlen)
{
    ups_client *u = calloc(1, sizeof *u);
    if (!u) { snprintf(err, errlen, "out of memory"); return NULL; }
    const char *host = !strcmp(cfg->host, "localhost") ? "127.0.0.1" : cfg->host;
    if (uv_ip4_addr(host, cfg->port, &u->addr) < 0) {
        snprintf(err, errlen, "ups.host '%s' is not an IPv4 address (or localhost)", cfg->host);
        free(u);
        return NULL;
    }
    u->loop = loop;
    u->cfg = *cfg;
    u->cb = cb;
    u->arg = arg;
    u->charge = -1;
    uv_timer_init(loop, &u->timer);
    u->timer.data = u;
    start_connect(u);
    return u;
}

static void on_client_closed(uv_handle_t *h) { free(h->data); }

/* The connection closes last: its pending connect callback (UV_ECANCELED) still finds the client. */
static void on_last_closed(uv_handle_t *h)
{
    free(h->data);
    free(h);
}

void ups_close(ups_client *u)
{
    if (!u) return;
    u->closing = true;
    if (u->tcp) {
        uv_close((uv_handle_t *)&u->timer, NULL);
        uv_close((uv_handle_t *)u->tcp, on_last_closed);
        u->tcp = NULL;
    } else {
        uv_close((uv_handle_t *)&u->timer, on_client_closed);
    }
}
