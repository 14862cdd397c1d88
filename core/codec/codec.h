/* codec.h: MessagePack frames <-> hv trees (core/val.h), with the input limits of hall.v1.
 * codec_validate walks the raw bytes first, so msgpack-c never sees a count it could trust
 * into a huge allocation (stack.md) and nesting is bounded before anything is built. */
#ifndef HK_CODEC_H
#define HK_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/val.h"

#define CODEC_MAX_FRAME (64 * 1024)
#define CODEC_MAX_DEPTH 16

enum {
    CODEC_OK = 0,
    CODEC_ETRUNC = -1,   /* malformed or truncated msgpack, or bytes after the object */
    CODEC_EDEPTH = -2,   /* nesting deeper than CODEC_MAX_DEPTH */
    CODEC_ESIZE = -3,    /* frame larger than CODEC_MAX_FRAME */
    CODEC_ENOTMAP = -4,  /* top-level value is not a map */
    CODEC_EKEY = -5,     /* a map key that is not a string */
    CODEC_ETYPE = -6,    /* a type hall.v1 does not use (ext, timestamp) */
    CODEC_EMPTY = -7,    /* zero-length frame */
};

/* Checks that buf holds exactly one well-formed msgpack object within the limits above,
 * that every declared count fits in the bytes that remain, and that map keys are strings.
 * The top-level must be a map. Returns CODEC_OK or a negative CODEC_E*. */
int codec_validate(const void *buf, size_t len);

/* Validates, then decodes into a new tree (caller frees with hv_free). bin decodes as a string. */
int codec_decode(const void *buf, size_t len, hv **out);

/* Encodes v. *out is malloc'd with `headroom` spare bytes in front (LWS_PRE for lws_write);
 * the encoding itself is at *out + headroom and is *len bytes long. Returns 0 or -1. */
int codec_encode(const hv *v, size_t headroom, uint8_t **out, size_t *len);

/* A short English reason for a CODEC_E* code, used in err replies and logs. */
const char *codec_strerror(int code);

#endif
