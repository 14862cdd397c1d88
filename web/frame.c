/* frame.c: see frame.h. */
#include "frame.h"

#include <libwebsockets.h>
#include <stdlib.h>

#include "core/codec/codec.h"

size_t frame_headroom(void) { return LWS_PRE; }

frame *frame_encode(const hv *v)
{
    frame *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    if (codec_encode(v, LWS_PRE, &f->buf, &f->len) < 0) { free(f); return NULL; }
    f->refs = 1;
    return f;
}

frame *frame_ref(frame *f) { f->refs++; return f; }

void frame_unref(frame *f)
{
    if (f && --f->refs == 0) { free(f->buf); free(f); }
}
