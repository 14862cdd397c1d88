/* harness_codec.c: the frame pre-validator and decoder (core/codec/codec.c) on arbitrary bytes. */
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec/codec.h"

/* Equal trees, in order, floats bit for bit (NaN included, which hv_equal calls unequal). */
static bool same_tree(const hv *a, const hv *b)
{
    if (a->t != b->t) return false;
    switch (a->t) {
    case HV_NIL: return true;
    case HV_BOOL: return a->u.b == b->u.b;
    case HV_INT: return a->u.i == b->u.i;
    case HV_FLOAT: return memcmp(&a->u.f, &b->u.f, sizeof a->u.f) == 0;
    case HV_STR:
        return a->u.s.n == b->u.s.n && memcmp(a->u.s.p, b->u.s.p, a->u.s.n) == 0 && a->u.s.p[a->u.s.n] == '\0';
    case HV_ARR:
        if (a->u.a.n != b->u.a.n) return false;
        for (size_t i = 0; i < a->u.a.n; i++)
            if (!same_tree(a->u.a.v[i], b->u.a.v[i])) return false;
        return true;
    case HV_MAP:
        if (a->u.m.n != b->u.m.n) return false;
        for (size_t i = 0; i < a->u.m.n; i++)
            if (strcmp(a->u.m.v[i].key, b->u.m.v[i].key) || !same_tree(a->u.m.v[i].val, b->u.m.v[i].val))
                return false;
        return true;
    }
    return false;
}

static bool has_nan(const hv *v)
{
    if (v->t == HV_FLOAT) return isnan(v->u.f);
    if (v->t == HV_ARR)
        for (size_t i = 0; i < v->u.a.n; i++)
            if (has_nan(v->u.a.v[i])) return true;
    if (v->t == HV_MAP)
        for (size_t i = 0; i < v->u.m.n; i++)
            if (has_nan(v->u.m.v[i].val)) return true;
    return false;
}

/* No key twice in any map: decoding keeps one pair per key (first position, last value). */
static bool keys_unique(const hv *v)
{
    if (v->t == HV_ARR)
        for (size_t i = 0; i < v->u.a.n; i++)
            if (!keys_unique(v->u.a.v[i])) return false;
    if (v->t == HV_MAP)
        for (size_t i = 0; i < v->u.m.n; i++) {
            for (size_t j = i + 1; j < v->u.m.n; j++)
                if (!strcmp(v->u.m.v[i].key, v->u.m.v[j].key)) return false;
            if (!keys_unique(v->u.m.v[i].val)) return false;
        }
    return true;
}

int fuzz_codec(const uint8_t *data, size_t size)
{
    int vrc = codec_validate(data, size);
    FUZZ_CHECK(vrc <= CODEC_OK && vrc >= CODEC_EMPTY, "codec_validate returned %d", vrc);
    FUZZ_CHECK(strcmp(codec_strerror(vrc), "unknown codec error") != 0, "no reason for %d", vrc);

    hv *v = (hv *)1;
    int drc = codec_decode(data, size, &v);
    if (vrc != CODEC_OK) {
        FUZZ_CHECK(drc == vrc, "validate said %d, decode %d", vrc, drc);
        FUZZ_CHECK(v == NULL, "decode failed but left a tree");
        return 0;
    }
    /* a frame the validator accepts must decode: the hub relies on the validator's verdict */
    FUZZ_CHECK(drc == CODEC_OK, "validated frame does not decode: %s", codec_strerror(drc));
    FUZZ_CHECK(v && v->t == HV_MAP, "decoded top level is not a map");
    FUZZ_CHECK(keys_unique(v), "decoded map holds a key twice");
    /* a proper prefix of one complete object is never a complete object */
    FUZZ_CHECK(codec_validate(data, size - 1) < 0, "prefix of %zu bytes validates", size - 1);
    FUZZ_CHECK(codec_validate(data, size / 2) < 0, "prefix of %zu bytes validates", size / 2);

    hv *dup = hv_dup(v);
    FUZZ_CHECK(same_tree(v, dup), "hv_dup differs");
    FUZZ_CHECK(has_nan(v) || hv_equal(v, dup), "hv_equal(v, hv_dup(v)) is false");
    hv_free(dup);

    uint8_t *e1 = NULL, *e2 = NULL;
    size_t n1 = 0, n2 = 0;
    FUZZ_CHECK(codec_encode(v, 5, &e1, &n1) == 0, "decoded tree does not encode");
    /* float32 re-encodes as float64 (4 bytes more): only then may the encoding outgrow a frame */
    if (n1 <= CODEC_MAX_FRAME) {
        hv *w = NULL;
        int rc = codec_decode(e1 + 5, n1, &w);
        FUZZ_CHECK(rc == CODEC_OK, "re-encoded frame does not decode: %s", codec_strerror(rc));
        if (!same_tree(v, w)) { fuzz_dump("first", v); fuzz_dump("second", w); fuzz_fail("round trip changed the tree"); }
        FUZZ_CHECK(codec_encode(w, 0, &e2, &n2) == 0, "second encode failed");
        FUZZ_CHECK(n1 == n2 && memcmp(e1 + 5, e2, n1) == 0, "encoding is not stable (%zu vs %zu bytes)", n1, n2);
        hv_free(w);
        free(e2);
    }
    free(e1);
    hv_free(v);
    return 0;
}
