/* frame.c: see frame.h. */
#include "frame.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec/codec.h"

size_t frame_headroom(void) { return LWS_PRE; }

/* The codec's buffer starts at 8 KiB whatever the message: a frame kept in it cost a stalled
 * client about 9 KB of resident memory per event of a few hundred bytes. The frame is copied
 * into one block of its own size (header, headroom, payload) and the codec's buffer freed. */
frame *frame_encode(const hv *v)
{
    uint8_t *enc;
    size_t len;
    if (codec_encode(v, 0, &enc, &len) < 0) return NULL;
    frame *f = malloc(sizeof *f + LWS_PRE + len);
    if (f) {
        f->refs = 1;
        f->len = len;
        memcpy(f->buf + LWS_PRE, enc, len);
    }
    free(enc);
    return f;
}

frame *frame_ref(frame *f) { f->refs++; return f; }

void frame_unref(frame *f)
{
    if (f && --f->refs == 0) free(f);
}
