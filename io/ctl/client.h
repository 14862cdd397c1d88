/* client.h: hallctl's one request/reply loop over hall.v1, for every subcommand: send {t, id,
 * ...args}, wait for the reply with that id, skip pushed events. Text frames are skipped with a
 * warning, an undecodable frame ends the exchange, and Ctrl-C ends a wait cleanly. The
 * exit-status words are hallctl's. */
#ifndef HK_CTL_CLIENT_H
#define HK_CTL_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/val.h"
#include "wsclient.h"

enum { CTL_CLIENT_OK = 0, CTL_CLIENT_ERR = 1, CTL_CLIENT_CONN = 3, CTL_CLIENT_SIGNAL = 130 };

/* ctl_client_recv's own failure, beside the WSC_E* codes; the message is already printed. */
#define CTL_CLIENT_EUNDECODABLE (-100)

typedef struct {
    wsclient *ws;
    const char *url;     /* for messages */
    int timeout_ms;      /* for the whole exchange: sending and the reply */
    int64_t next_id;
    bool safe_text;      /* text output: no received control character may reach the terminal (safe.h) */
} ctl_client;

/* CTL_CLIENT_OK with the ok reply in *reply; CTL_CLIENT_ERR with the err reply in *reply (not
 * printed: the caller words it); CTL_CLIENT_CONN when the connection failed, timed out or sent
 * an undecodable frame (printed to stderr, *reply NULL); CTL_CLIENT_SIGNAL after Ctrl-C. */
int ctl_client_request(ctl_client *c, const char *t, const hv *args, hv **reply);

/* Receives one decoded map (timeout_ms < 0 waits for ever): 0, a WSC_E* code, or
 * CTL_CLIENT_EUNDECODABLE. */
int ctl_client_recv(ctl_client *c, int timeout_ms, hv **out);
/* The exit status for a failed ctl_client_recv: CTL_CLIENT_SIGNAL after Ctrl-C, else
 * CTL_CLIENT_CONN with the reason printed. */
int ctl_client_fail(const ctl_client *c, int r);

/* Ctrl-C and SIGTERM without SA_RESTART, so a signal interrupts the wait at hand. */
void ctl_client_catch_signals(void);
/* The signal that came, or 0. */
int ctl_client_signalled(void);
/* From now on a signal ends the program at once (exit 0): a watch has nothing left to flush. */
void ctl_client_watching(void);

#endif
