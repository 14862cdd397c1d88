/* wsclient.h: a small blocking WebSocket client (RFC 6455) over one TCP socket, for short-lived
 * tools such as hallctl. Not for the daemon's loop: every call blocks, bounded by poll() timeouts.
 * ws:// and wss:// (OpenSSL over the same socket, the server's certificate verified against a CA
 * file or the system's CAs); client frames are masked; fragmented messages are reassembled;
 * pings are answered. */
#ifndef HK_WSCLIENT_H
#define HK_WSCLIENT_H

#include <stddef.h>
#include <stdint.h>

/* Largest reassembled message wsclient_recv accepts; a bigger one closes with 1009. */
#define WSCLIENT_MAX_MESSAGE (16u * 1024 * 1024)

enum {
    WSC_OK = 0,
    WSC_EURL = -1,        /* the URL is not ws(s)://HOST[:PORT][/PATH] */
    WSC_ECONNECT = -2,    /* name resolution or TCP connect failed */
    WSC_EHANDSHAKE = -3,  /* the HTTP upgrade was refused or its answer is wrong */
    WSC_EIO = -4,         /* a socket error after connecting */
    WSC_ETIMEOUT = -5,    /* the timeout passed before the operation completed */
    WSC_ECLOSED = -6,     /* the peer sent a close frame or closed the TCP connection */
    WSC_EPROTO = -7,      /* the peer broke RFC 6455 framing; a 1002 close was sent */
    WSC_ETOOBIG = -8,     /* a message over WSCLIENT_MAX_MESSAGE; a 1009 close was sent */
    WSC_EINTR = -9,       /* a signal interrupted the wait (the caller checks its own flag) */
};

typedef struct wsclient wsclient;

/* The CA certificates (PEM file) that wss:// servers must chain to; NULL = the system's. For the
 * whole process (a tool's --cafile); path must stay valid. */
void wsclient_set_cafile(const char *path);

/* Connects to url (ws(s)://HOST[:PORT][/PATH], IPv6 literals in brackets) and performs the opening
 * handshake, offering `subprotocol` (may be NULL) and requiring the server to select it.
 * The Sec-WebSocket-Accept value is verified. timeout_ms < 0 waits forever.
 * Returns 0 with *out set, or a negative WSC_E* with a one-line reason in err
 * (e.g. "Connection refused", "HTTP 404 Not Found"). */
int wsclient_connect(const char *url, const char *subprotocol, int timeout_ms, wsclient **out,
                     char *err, size_t errlen);

/* Sends one binary message in a single masked frame. 0 or a negative WSC_E*. */
int wsclient_send(wsclient *c, const void *buf, size_t len, int timeout_ms);

/* Waits for the next data message (binary or text) and returns it in *msg (malloc'd, NUL-
 * terminated for convenience, caller frees), its length in *len and whether it was a text frame
 * in *is_text (may be NULL). Control frames are handled inside: ping gets a pong, a close frame
 * is answered and reported as WSC_ECLOSED. timeout_ms bounds the whole message; < 0 = forever. */
int wsclient_recv(wsclient *c, uint8_t **msg, size_t *len, int *is_text, int timeout_ms);

/* The close code the peer sent (0 if none) and its reason (may be ""), after WSC_ECLOSED. */
int wsclient_close_code(const wsclient *c);
const char *wsclient_close_reason(const wsclient *c);

/* A one-line reason for the last error on c (e.g. "Connection reset by peer"). */
const char *wsclient_errmsg(const wsclient *c);

/* Sends a 1000 close (unless a close was already exchanged), waits up to timeout_ms for the
 * server's close, then closes the socket and frees c. NULL is allowed. */
void wsclient_close(wsclient *c, int timeout_ms);

const char *wsclient_strerror(int code);

#endif
