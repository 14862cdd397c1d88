/* server.h: the one port of the daemon: static pages over HTTP and the hall.v1 WebSocket at /ws,
 * on libwebsockets driven by the daemon's own libuv loop. Each client has a bounded queue of
 * refcounted frames; a client that cannot drain it is dropped so it never grows memory or delays
 * the others. */
#ifndef HK_SERVER_H
#define HK_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "frame.h"

/* Payload bytes waiting for one client (the frames are shared, see frame.h): past this it is too
 * slow and dropped. The one limit of the send queue (docs/security.md, docs/reliability.md). */
#define SERVER_MAX_QUEUED_BYTES (1u << 20)
#define SERVER_WRITES_PER_CALLBACK 32 /* frames written per writeable callback while the socket takes them */
#define SERVER_MAX_PER_ADDR 256  /* WebSocket connections from one address (loopback excepted) */

typedef struct server server;
typedef struct client client;

typedef struct {
    void (*on_open)(void *arg, client *c);
    void (*on_message)(void *arg, client *c, const uint8_t *data, size_t len, int binary);
    void (*on_close)(void *arg, client *c);
} server_handlers;

typedef struct {
    const char *listen;        /* "HOST:PORT" */
    const char *pages_dir;
    const char *tls_cert, *tls_key;
    char *const *hosts;        /* the names the hall answers to (Host, Origin); NULL = the default */
    size_t nhosts;             /* (server_default_hosts) */
} server_options;

/* The security headers of every HTTP response (docs/security.md "The web edge"). */
#define SERVER_CSP "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
                   "connect-src 'self'; media-src 'self'; object-src 'none'; base-uri 'none'; " \
                   "form-action 'self'; frame-ancestors 'none'"

/* true if listen ("HOST:PORT") is on the loopback interface only. */
int server_listen_is_loopback(const char *listen);

server *server_new(uv_loop_t *loop, const server_options *opt, const server_handlers *h, void *arg,
                   char *err, size_t errlen);
int server_port(const server *s);

/* Queues f for c (takes a new reference). Returns 0, or -1 if c is being dropped. */
int client_send(client *c, frame *f);
/* After the frames queued so far are written, close with this status (1000, 1003, 1008, 1009). */
void client_close_after(client *c, int status, const char *reason);
/* Closes c after secs unless called again with 0 (the sign-in deadline). */
void client_set_timeout(client *c, int secs);
void client_set_data(client *c, void *data);
void *client_data(const client *c);
const char *client_peer(const client *c);

/* A broadcast: client_send between these two queues as usual, and server_batch_end writes
 * each client's new frames at once, in one send per client, without a writeable callback;
 * `first` (may be NULL: the client that made the change) is written before the others. */
void server_batch_begin(server *s);
void server_batch_end(server *s, client *first);

/* Calls fn for every open WebSocket client. */
void server_each(server *s, void (*fn)(client *c, void *arg), void *arg);
size_t server_clients(const server *s);

/* First phase of shutdown: stop accepting and drop every client. The caller then closes its own
 * handles, and calls server_free, which destroys lws in the order stack.md gives. */
void server_free(server *s, uv_loop_t *loop);

#endif
