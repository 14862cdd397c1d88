/* client.c: see client.h. */
#include "client.h"
#include "safe.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/codec/codec.h"
#include "io/base/clock.h"

static volatile sig_atomic_t client_signal;
static volatile sig_atomic_t client_watching;

/* In a watch, Ctrl-C may come at any moment, also just before the next blocking poll: nothing is
 * left to flush, so the clean answer is to end right here. */
static void client_on_signal(int sig)
{
    if (client_watching) _exit(0);
    client_signal = sig;
}

void ctl_client_catch_signals(void)
{
    struct sigaction sa = {.sa_handler = client_on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int ctl_client_signalled(void) { return client_signal; }

void ctl_client_watching(void)
{
    client_watching = 1;
    if (client_signal) _exit(0);
}

int ctl_client_fail(const ctl_client *c, int r)
{
    if (r == CTL_CLIENT_EUNDECODABLE) return CTL_CLIENT_CONN;
    if (r == WSC_EINTR && client_signal) return CTL_CLIENT_SIGNAL;
    fprintf(stderr, "hallctl: %s: %s\n", c->url, r == WSC_ETIMEOUT ? "timed out waiting for the daemon"
                                                                 : wsclient_errmsg(c->ws));
    return CTL_CLIENT_CONN;
}

int ctl_client_recv(ctl_client *c, int timeout_ms, hv **out)
{
    for (;;) {
        uint8_t *msg;
        size_t len;
        int is_text;
        int r = wsclient_recv(c->ws, &msg, &len, &is_text, timeout_ms);
        if (r) return r;
        if (is_text) {   /* hall.v1 never sends text; not worth ending the run over */
            fprintf(stderr, "hallctl: warning: ignoring a text frame\n");
            free(msg);
            continue;
        }
        hv *v = NULL;
        int d = codec_decode(msg, len, &v);
        free(msg);
        if (d == CODEC_OK) {
            if (c->safe_text) ctl_safe_text(v);
            *out = v;
            return 0;
        }
        /* Its id is unreadable, so waiting on would only end in a timeout. */
        fprintf(stderr, "hallctl: %s: the daemon sent a frame that cannot be decoded: %s\n", c->url,
                codec_strerror(d));
        return CTL_CLIENT_EUNDECODABLE;
    }
}

int ctl_client_request(ctl_client *c, const char *t, const hv *args, hv **reply)
{
    *reply = NULL;
    int64_t id = c->next_id++;
    hv *req = hv_set(hv_set(hv_map(), "t", hv_str(t)), "id", hv_int(id));
    for (size_t i = 0; args && i < args->u.m.n; i++) hv_set(req, args->u.m.v[i].key, hv_dup(args->u.m.v[i].val));
    uint8_t *buf;
    size_t len;
    int e = codec_encode(req, 0, &buf, &len);
    hv_free(req);
    if (e) {
        fprintf(stderr, "hallctl: cannot encode the request %s\n", t);
        return CTL_CLIENT_CONN;
    }
    int r = wsclient_send(c->ws, buf, len, c->timeout_ms);
    free(buf);
    if (r) return ctl_client_fail(c, r);
    int64_t until = hk_clock_mono_ms() + c->timeout_ms;
    for (;;) {
        int64_t left = until - hk_clock_mono_ms();
        hv *m;
        if (left <= 0) return ctl_client_fail(c, WSC_ETIMEOUT);
        if ((r = ctl_client_recv(c, (int)left, &m))) return ctl_client_fail(c, r);
        const char *mt = hv_get_str(m, "t");
        int64_t mid = -1;
        hv_get_int(m, "id", &mid);
        /* an err without id answers a request the daemon could not read: ours, as only one is out */
        if (!mt || !strcmp(mt, "ev") || (mid != id && !(mid < 0 && !strcmp(mt, "err")))) {
            hv_free(m);
            continue;
        }
        *reply = m;
        return !strcmp(mt, "ok") ? CTL_CLIENT_OK : CTL_CLIENT_ERR;
    }
}
