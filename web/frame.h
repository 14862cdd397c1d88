/* frame.h: an encoded outgoing WebSocket message, refcounted so one broadcast buffer is shared
 * by every receiver. One allocation: this header, LWS_PRE bytes of headroom for lws_write, then
 * the payload, so a queued frame costs its payload plus about 40 bytes. */
#ifndef HK_FRAME_H
#define HK_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "core/val.h"

typedef struct {
    int refs;
    size_t len;        /* payload bytes */
    uint8_t buf[];     /* LWS_PRE headroom + payload */
} frame;

frame *frame_encode(const hv *v);   /* NULL if v cannot be encoded */
static inline const uint8_t *frame_payload(const frame *f);
frame *frame_ref(frame *f);
void frame_unref(frame *f);
size_t frame_headroom(void);

static inline const uint8_t *frame_payload(const frame *f) { return f->buf + frame_headroom(); }

#endif
