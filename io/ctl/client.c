/* ctl_client.c: see ctl_client.h. */
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/codec/codec.h"
#include "io/base/clock.h"

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
    int64_t until = hk_clock_mono_ms() + c->timeout_ms;
    while (!r) {
        int64_t left = until - hk_clock_mono_ms();
        uint8_t *msg;
        int is_text;
        if (left <= 0) { r = WSC_ETIMEOUT; break; }
        if ((r = wsclient_recv(c->ws, &msg, &len, &is_text, (int)left))) break;
        hv *m = NULL;
        int d = is_text ? CODEC_ETYPE : codec_decode(msg, len, &m);
        free(msg);
        if (d != CODEC_OK) { hv_free(m); continue; }   /* not a hall.v1 reply: not ours to read */
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
    fprintf(stderr, "hallctl: %s: %s\n", c->url,
            r == WSC_ETIMEOUT ? "timed out waiting for the daemon" : wsclient_errmsg(c->ws));
    return CTL_CLIENT_CONN;
}
