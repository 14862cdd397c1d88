/* ctl_client.h: one request/reply exchange over hall.v1 for the hallctl commands that hold a
 * conversation of their own (appointments, report, archive): send {t, id, ...args}, wait for the
 * reply with that id, skip pushed events. The exit-status words are hallctl's. */
#ifndef HK_CTL_CLIENT_H
#define HK_CTL_CLIENT_H

#include <stdint.h>

#include "core/val.h"
#include "wsclient.h"

enum { CTL_CLIENT_OK = 0, CTL_CLIENT_ERR = 1, CTL_CLIENT_CONN = 3 };

typedef struct {
    wsclient *ws;
    const char *url;     /* for messages */
    int timeout_ms;      /* for the whole exchange: sending and the reply */
    int64_t next_id;
} ctl_client;

/* CTL_CLIENT_OK with the ok reply in *reply; CTL_CLIENT_ERR with the err reply in *reply (not
 * printed: the caller words it); CTL_CLIENT_CONN when the connection failed or timed out
 * (printed to stderr, *reply NULL). */
int ctl_client_request(ctl_client *c, const char *t, const hv *args, hv **reply);

#endif
