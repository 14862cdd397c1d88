/* codec.c: hall.v1 frames (one msgpack map) <-> hv trees. Untrusted bytes are walked by
 * codec_validate before msgpack-c sees them, because msgpack-c sizes its allocations from the
 * declared counts and fails on nesting past 32 (stack.md). */
#include "codec.h"

#include <msgpack.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

/* ---- validation ---------------------------------------------------------------------------- */

/* What one format byte announces: a scalar followed by `skip` payload bytes, or a container
 * of `count` entries. `hdr` is how many big-endian length/value bytes follow the format byte. */
typedef enum { K_SCALAR, K_STR, K_ARR, K_MAP, K_EXT, K_BAD } codec_kind;

typedef struct {
    codec_kind kind;
    unsigned hdr;      /* bytes after the format byte holding a length or count (0, 1, 2, 4) */
    uint64_t skip;     /* fixed payload bytes (scalars, fixext) or the inline count/length */
} codec_head;

static codec_head codec_classify(uint8_t c)
{
    if (c <= 0x7f || c >= 0xe0) return (codec_head){K_SCALAR, 0, 0};   /* fixints */
    if (c <= 0x8f) return (codec_head){K_MAP, 0, c & 0x0f};
    if (c <= 0x9f) return (codec_head){K_ARR, 0, c & 0x0f};
    if (c <= 0xbf) return (codec_head){K_STR, 0, c & 0x1f};
    switch (c) {
    case 0xc0: case 0xc2: case 0xc3: return (codec_head){K_SCALAR, 0, 0};
    case 0xc4: return (codec_head){K_STR, 1, 0};   /* bin8/16/32 decode as strings */
    case 0xc5: return (codec_head){K_STR, 2, 0};
    case 0xc6: return (codec_head){K_STR, 4, 0};
    case 0xc7: case 0xc8: case 0xc9:               /* ext8/16/32 */
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:   /* fixext */
        return (codec_head){K_EXT, 0, 0};
    case 0xca: return (codec_head){K_SCALAR, 0, 4};
    case 0xcb: return (codec_head){K_SCALAR, 0, 8};
    case 0xcc: case 0xd0: return (codec_head){K_SCALAR, 0, 1};
    case 0xcd: case 0xd1: return (codec_head){K_SCALAR, 0, 2};
    case 0xce: case 0xd2: return (codec_head){K_SCALAR, 0, 4};
    case 0xcf: case 0xd3: return (codec_head){K_SCALAR, 0, 8};
    case 0xd9: return (codec_head){K_STR, 1, 0};
    case 0xda: return (codec_head){K_STR, 2, 0};
    case 0xdb: return (codec_head){K_STR, 4, 0};
    case 0xdc: return (codec_head){K_ARR, 2, 0};
    case 0xdd: return (codec_head){K_ARR, 4, 0};
    case 0xde: return (codec_head){K_MAP, 2, 0};
    case 0xdf: return (codec_head){K_MAP, 4, 0};
    default: return (codec_head){K_BAD, 0, 0};     /* 0xc1, never used */
    }
}

static uint64_t codec_be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v = (v << 8) | p[i];
    return v;
}

int codec_validate(const void *buf, size_t len)
{
    const uint8_t *b = buf;
    if (len == 0) return CODEC_EMPTY;
    if (len > CODEC_MAX_FRAME) return CODEC_ESIZE;
    if (codec_classify(b[0]).kind != K_MAP) return CODEC_ENOTMAP;

    /* st[d].left: objects still expected in open container d (a map of n pairs expects 2n, keys at
     * even counts). pending: the sum over all open containers; it can never exceed the bytes
     * that remain, since every object takes at least one byte. That bounds what msgpack-c
     * will allocate by the frame size. */
    struct { uint64_t left; bool map; } st[CODEC_MAX_DEPTH];
    int depth = 0;
    uint64_t pending = 1;
    size_t p = 0;

    for (;;) {
        bool is_key = depth > 0 && st[depth - 1].map && st[depth - 1].left % 2 == 0;
        if (p >= len) return CODEC_ETRUNC;
        uint8_t c = b[p++];
        pending--;
        codec_head h = codec_classify(c);
        if (h.kind == K_BAD) return CODEC_ETRUNC;
        if (is_key && h.kind != K_STR) return CODEC_EKEY;
        if (h.kind == K_EXT) return CODEC_ETYPE;
        if (h.hdr) {
            if (len - p < h.hdr) return CODEC_ETRUNC;
            h.skip = codec_be(b + p, h.hdr);
            p += h.hdr;
        }
        if (c == 0xcf && len - p >= 1 && b[p] >= 0x80) return CODEC_ETYPE; /* uint64 > INT64_MAX */

        if (h.kind == K_SCALAR || h.kind == K_STR) {
            if (h.skip > len - p) return CODEC_ETRUNC;
            /* hv map keys are C strings: an embedded NUL would silently shorten the key */
            if (is_key && h.skip && memchr(b + p, 0, (size_t)h.skip)) return CODEC_EKEY;
            p += (size_t)h.skip;
        }
        if (depth > 0) st[depth - 1].left--;
        if (h.kind == K_ARR || h.kind == K_MAP) {
            if (depth == CODEC_MAX_DEPTH) return CODEC_EDEPTH;
            uint64_t n = h.kind == K_MAP ? h.skip * 2 : h.skip;
            if (n > len - p || pending + n > len - p) return CODEC_ETRUNC;
            if (n > 0) {
                st[depth].left = n;
                st[depth].map = h.kind == K_MAP;
                depth++;
                pending += n;
                continue;
            }
        }
        while (depth > 0 && st[depth - 1].left == 0) depth--;
        if (depth == 0) return p == len ? CODEC_OK : CODEC_ETRUNC;
    }
}

/* ---- decoding ------------------------------------------------------------------------------ */

static int codec_obj_to_hv(const msgpack_object *o, hv **out);

static int codec_key_cmp(const void *a, const void *b)
{
    const hv_pair *x = *(hv_pair *const *)a, *y = *(hv_pair *const *)b;
    int r = strcmp(x->key, y->key);
    if (r) return r;
    return x < y ? -1 : x > y;   /* stable: earlier pairs first */
}

/* Gives `pairs` to map m with hv_setn's meaning for repeated keys (first position, last value),
 * but in O(n log n): hv_setn searches linearly, which a frame of 20000 keys would make quadratic. */
static void codec_map_adopt(hv *m, hv_pair *pairs, size_t n)
{
    if (n > 1) {
        hv_pair **idx = hk_malloc(n * sizeof *idx);
        for (size_t i = 0; i < n; i++) idx[i] = &pairs[i];
        qsort(idx, n, sizeof *idx, codec_key_cmp);
        for (size_t i = 0; i < n;) {
            size_t j = i + 1;
            while (j < n && strcmp(idx[i]->key, idx[j]->key) == 0) j++;
            if (j - i > 1) {
                hv_free(idx[i]->val);
                idx[i]->val = idx[j - 1]->val;
                for (size_t k = i + 1; k < j; k++) {
                    if (k != j - 1) hv_free(idx[k]->val);
                    free(idx[k]->key);
                    idx[k]->key = NULL;   /* marks the pair dropped */
                }
            }
            i = j;
        }
        free(idx);
        size_t w = 0;
        for (size_t i = 0; i < n; i++)
            if (pairs[i].key) pairs[w++] = pairs[i];
        n = w;
    }
    m->u.m.v = pairs;
    m->u.m.n = n;
    m->u.m.cap = n;
}

static int codec_map_to_hv(const msgpack_object_map *om, hv **out)
{
    hv *m = hv_map();
    if (om->size == 0) { *out = m; return CODEC_OK; }
    hv_pair *pairs = hk_calloc(om->size, sizeof *pairs);
    for (uint32_t i = 0; i < om->size; i++) {
        const msgpack_object *k = &om->ptr[i].key;
        const char *kp = NULL;   /* msgpack-c may give NULL for a zero-length string */
        size_t kn = 0;
        bool key_ok = true;
        if (k->type == MSGPACK_OBJECT_STR) kp = k->via.str.ptr, kn = k->via.str.size;
        else if (k->type == MSGPACK_OBJECT_BIN) kp = k->via.bin.ptr, kn = k->via.bin.size;
        else key_ok = false;
        if (kn && memchr(kp, 0, kn)) key_ok = false;
        hv *v = NULL;
        int rc = key_ok ? codec_obj_to_hv(&om->ptr[i].val, &v) : CODEC_EKEY;
        if (rc) {
            for (uint32_t j = 0; j < i; j++) { free(pairs[j].key); hv_free(pairs[j].val); }
            free(pairs);
            hv_free(m);
            return rc;
        }
        pairs[i].key = hk_malloc(kn + 1);
        if (kn) memcpy(pairs[i].key, kp, kn);
        pairs[i].key[kn] = '\0';
        pairs[i].val = v;
    }
    codec_map_adopt(m, pairs, om->size);
    *out = m;
    return CODEC_OK;
}

static int codec_obj_to_hv(const msgpack_object *o, hv **out)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: *out = hv_nil(); return CODEC_OK;
    case MSGPACK_OBJECT_BOOLEAN: *out = hv_bool(o->via.boolean); return CODEC_OK;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 > INT64_MAX) return CODEC_ETYPE;
        *out = hv_int((int64_t)o->via.u64);
        return CODEC_OK;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: *out = hv_int(o->via.i64); return CODEC_OK;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: *out = hv_float(o->via.f64); return CODEC_OK;
    case MSGPACK_OBJECT_STR: *out = hv_strn(o->via.str.ptr, o->via.str.size); return CODEC_OK;
    case MSGPACK_OBJECT_BIN: *out = hv_strn(o->via.bin.ptr, o->via.bin.size); return CODEC_OK;
    case MSGPACK_OBJECT_ARRAY: {
        hv *a = hv_arr();
        if (o->via.array.size) {
            a->u.a.v = hk_malloc(o->via.array.size * sizeof *a->u.a.v);   /* exact size, no regrowth */
            a->u.a.cap = o->via.array.size;
        }
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            hv *e = NULL;
            int rc = codec_obj_to_hv(&o->via.array.ptr[i], &e);
            if (rc) { hv_free(a); return rc; }
            a->u.a.v[a->u.a.n++] = e;
        }
        *out = a;
        return CODEC_OK;
    }
    case MSGPACK_OBJECT_MAP: return codec_map_to_hv(&o->via.map, out);
    default: return CODEC_ETYPE;   /* ext and anything newer */
    }
}

int codec_decode(const void *buf, size_t len, hv **out)
{
    *out = NULL;
    int rc = codec_validate(buf, len);
    if (rc) return rc;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    msgpack_unpack_return ur = msgpack_unpack_next(&u, buf, len, &off);
    if (ur != MSGPACK_UNPACK_SUCCESS || off != len) rc = CODEC_ETRUNC;
    else if (u.data.type != MSGPACK_OBJECT_MAP) rc = CODEC_ENOTMAP;
    else rc = codec_obj_to_hv(&u.data, out);
    msgpack_unpacked_destroy(&u);
    return rc;
}

/* ---- encoding ------------------------------------------------------------------------------ */

static int codec_pack(msgpack_packer *pk, const hv *v)
{
    if (!v) return -1;
    switch (v->t) {
    case HV_NIL: return msgpack_pack_nil(pk);
    case HV_BOOL: return v->u.b ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    case HV_INT:   /* msgpack-c picks the smallest format; non-negative values use uint formats */
        return v->u.i >= 0 ? msgpack_pack_uint64(pk, (uint64_t)v->u.i) : msgpack_pack_int64(pk, v->u.i);
    case HV_FLOAT: return msgpack_pack_double(pk, v->u.f);
    case HV_STR:
        if (msgpack_pack_str(pk, v->u.s.n)) return -1;
        return msgpack_pack_str_body(pk, v->u.s.p, v->u.s.n);
    case HV_ARR:
        if (msgpack_pack_array(pk, v->u.a.n)) return -1;
        for (size_t i = 0; i < v->u.a.n; i++)
            if (codec_pack(pk, v->u.a.v[i])) return -1;
        return 0;
    case HV_MAP:
        if (msgpack_pack_map(pk, v->u.m.n)) return -1;
        for (size_t i = 0; i < v->u.m.n; i++) {
            const char *k = v->u.m.v[i].key;
            size_t kn = strlen(k);
            if (msgpack_pack_str(pk, kn) || msgpack_pack_str_body(pk, k, kn)) return -1;
            if (codec_pack(pk, v->u.m.v[i].val)) return -1;
        }
        return 0;
    }
    return -1;
}

int codec_encode(const hv *v, size_t headroom, uint8_t **out, size_t *len)
{
    static const char zeros[64];
    *out = NULL;
    *len = 0;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    /* the headroom goes into the buffer first, so the frame is written in place, never moved */
    for (size_t left = headroom; left > 0;) {
        size_t n = left < sizeof zeros ? left : sizeof zeros;
        if (msgpack_sbuffer_write(&sb, zeros, n)) { msgpack_sbuffer_destroy(&sb); return -1; }
        left -= n;
    }
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (codec_pack(&pk, v)) { msgpack_sbuffer_destroy(&sb); return -1; }
    *len = sb.size - headroom;
    *out = (uint8_t *)msgpack_sbuffer_release(&sb);
    return 0;
}

const char *codec_strerror(int code)
{
    switch (code) {
    case CODEC_OK: return "ok";
    case CODEC_ETRUNC: return "malformed msgpack";
    case CODEC_EDEPTH: return "nesting deeper than 16";
    case CODEC_ESIZE: return "frame larger than 64 KiB";
    case CODEC_ENOTMAP: return "frame is not a map";
    case CODEC_EKEY: return "map key is not a string";
    case CODEC_ETYPE: return "unsupported msgpack type";
    case CODEC_EMPTY: return "empty frame";
    default: return "unknown codec error";
    }
}
