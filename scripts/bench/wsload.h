/* wsload.h: the benchmark load side. A minimal non-blocking WebSocket client (RFC 6455, ws://
 * only) on libuv, built for holding many connections in one thread, plus a tiny MessagePack
 * writer/reader for the few hall.v1 fields the load programs look at. Not part of the daemon:
 * it lives under scripts/bench/ and is compiled by scripts/bench/Makefile. */
#ifndef WSLOAD_H
#define WSLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct wsl_conn wsl_conn;

/* on_open: handshake done (status 0) or failed (< 0). on_msg: one reassembled data message.
 * on_close: the TCP connection is gone (after on_open succeeded or failed). */
typedef struct {
    void (*on_open)(wsl_conn *c, int status);
    void (*on_msg)(wsl_conn *c, const uint8_t *data, size_t len);
    void (*on_close)(wsl_conn *c);
} wsl_handlers;

struct wsl_conn {
    uv_tcp_t tcp;
    uv_connect_t creq;
    const wsl_handlers *h;
    int state;                 /* WSL_* below */
    uint8_t *rbuf;             /* unparsed input */
    size_t rlen, rcap;
    uint8_t *msg;              /* reassembly of a fragmented message */
    size_t mlen, mcap;
    const char *host, *path, *proto;
    void *user;
    int idx;
};

enum { WSL_IDLE, WSL_CONNECTING, WSL_HANDSHAKE, WSL_OPEN, WSL_CLOSING, WSL_CLOSED };

/* Starts connecting c to addr (a struct sockaddr_in), GET path with subprotocol proto. */
int wsl_connect(uv_loop_t *loop, wsl_conn *c, const struct sockaddr_in *addr, const char *host,
                const char *path, const char *proto, const wsl_handlers *h);
/* Sends one masked binary frame; tries a direct write first, queues the rest. 0 or < 0. */
int wsl_send(wsl_conn *c, const void *buf, size_t len);
/* Closes the TCP connection (no closing handshake: the bench ends by dropping connections). */
void wsl_close(wsl_conn *c);

/* ---- time and statistics ---------------------------------------------------------------- */
double wsl_now_us(void);                  /* CLOCK_MONOTONIC in microseconds */
/* Sorts v and returns the q-quantile (nearest rank), q in [0,1]. */
double wsl_quantile(double *v, size_t n, double q);
/* Raises RLIMIT_NOFILE to at least want (up to the hard limit); returns the new soft limit. */
long wsl_raise_nofile(long want);

/* ---- MessagePack: just enough for hall.v1 ------------------------------------------------ */
typedef struct { uint8_t *p; size_t n, cap; } mpw;
void mpw_map(mpw *w, uint32_t n);
void mpw_put(mpw *w, const void *p, size_t n);   /* raw msgpack bytes */
void mpw_str(mpw *w, const char *s);
void mpw_uint(mpw *w, uint64_t v);
void mpw_free(mpw *w);

/* Finds key in the map at p[0..n) (top level only). Returns a pointer to its value and sets
 * *vlen to the bytes left from there, or NULL. */
const uint8_t *mp_find(const uint8_t *p, size_t n, const char *key, size_t *vlen);
/* Reads a string value: copies at most cap-1 bytes into out, NUL-terminated. 0 or -1. */
int mp_str(const uint8_t *p, size_t n, char *out, size_t cap);
/* Reads an unsigned/positive integer value. 0 or -1. */
int mp_uint(const uint8_t *p, size_t n, uint64_t *out);
/* Convenience: string / integer field of a top-level map. */
int mp_get_str(const uint8_t *p, size_t n, const char *key, char *out, size_t cap);
int mp_get_uint(const uint8_t *p, size_t n, const char *key, uint64_t *out);

#endif
