/* test_codec.c: the msgpack codec of hall.v1 (core/codec/codec.c): exact encodings, round trips,
 * every rejection the validator owes the server, a seeded mutation run and the seed corpus. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/codec/codec.h"

/* ---- helpers ------------------------------------------------------------------------------- */

/* "81 a1 61 01" -> bytes; spaces are ignored. */
static size_t hexb(const char *hex, uint8_t *out)
{
    size_t n = 0;
    for (const char *p = hex; *p;) {
        if (*p == ' ') { p++; continue; }
        unsigned v;
        assert_int_equal(sscanf(p, "%2x", &v), 1);
        out[n++] = (uint8_t)v;
        p += 2;
    }
    return n;
}

static int check_hex(const char *hex)
{
    uint8_t b[256];
    size_t n = hexb(hex, b);
    int rc = codec_validate(b, n);
    hv *v = (hv *)1;
    assert_int_equal(codec_decode(b, n, &v), rc);   /* decode agrees with the validator */
    if (rc) assert_null(v);
    else assert_non_null(v);
    hv_free(v);
    return rc;
}

static void encode_ok(const hv *v, uint8_t **out, size_t *len)
{
    assert_int_equal(codec_encode(v, 0, out, len), 0);
    assert_non_null(*out);
}

/* Encodes {"v": x} and compares the bytes that follow the 4-byte header 81 a1 76. */
static void assert_value_bytes(hv *x, const char *hex)
{
    hv *m = hv_set(hv_map(), "v", x);
    uint8_t *out;
    size_t len;
    encode_ok(m, &out, &len);
    uint8_t want[64];
    size_t wn = hexb(hex, want);
    assert_int_equal(len, 3 + wn);
    assert_memory_equal(out, "\x81\xa1\x76", 3);
    assert_memory_equal(out + 3, want, wn);
    hv *back = NULL;
    assert_int_equal(codec_decode(out, len, &back), CODEC_OK);
    assert_true(hv_equal(m, back));
    hv_free(back);
    free(out);
    hv_free(m);
}

static hv *roundtrip(const hv *v)
{
    uint8_t *out;
    size_t len;
    encode_ok(v, &out, &len);
    hv *back = NULL;
    assert_int_equal(codec_decode(out, len, &back), CODEC_OK);
    free(out);
    return back;
}

static hv *nested_maps(int depth)
{
    hv *v = hv_set(hv_map(), "leaf", hv_int(1));
    for (int i = 1; i < depth; i++) v = hv_set(hv_map(), "k", v);
    return v;
}

/* A frame with every type, used by the round-trip and truncation tests. */
static hv *sample_tree(void)
{
    hv *m = hv_map();
    hv_set(m, "t", hv_str("ticket.called"));
    hv_set(m, "id", hv_int(4242));
    hv_set(m, "nil", hv_nil());
    hv_set(m, "yes", hv_bool(true));
    hv_set(m, "no", hv_bool(false));
    hv_set(m, "neg", hv_int(-70000));
    hv_set(m, "f", hv_float(3.25));
    hv_set(m, "window_name", hv_str("3号窗口"));
    hv_set(m, "outcome", hv_str("即办件"));
    hv_set(m, "", hv_str(""));
    hv_set(m, "nul", hv_strn("a\0b", 3));
    hv *arr = hv_arr();
    hv_push(arr, hv_int(1));
    hv_push(arr, hv_str("二"));
    hv_push(arr, hv_set(hv_map(), "x", hv_arr()));
    hv_push(arr, hv_map());
    hv_set(m, "list", arr);
    hv_set(m, "emergency", hv_set(hv_set(hv_map(), "active", hv_bool(true)),
                                  "steps", hv_push(hv_arr(), hv_set(hv_map(), "do", hv_str("announce")))));
    return m;
}

/* ---- encoding ------------------------------------------------------------------------------ */

static void test_encode_known_bytes(void **state)
{
    (void)state;
    hv *m = hv_set(hv_map(), "a", hv_int(1));
    uint8_t *out;
    size_t len;
    encode_ok(m, &out, &len);
    assert_int_equal(len, 4);
    assert_memory_equal(out, "\x81\xa1\x61\x01", 4);
    free(out);
    hv_free(m);

    assert_value_bytes(hv_nil(), "c0");
    assert_value_bytes(hv_bool(true), "c3");
    assert_value_bytes(hv_bool(false), "c2");
    assert_value_bytes(hv_str("ab"), "a2 61 62");
    assert_value_bytes(hv_str("社保"), "a6 e7 a4 be e4 bf 9d");
    assert_value_bytes(hv_arr(), "90");
    assert_value_bytes(hv_push(hv_push(hv_arr(), hv_int(1)), hv_nil()), "92 01 c0");
    assert_value_bytes(hv_float(1.5), "cb 3f f8 00 00 00 00 00 00");
}

static void test_encode_int_edges(void **state)
{
    (void)state;
    assert_value_bytes(hv_int(0), "00");
    assert_value_bytes(hv_int(127), "7f");
    assert_value_bytes(hv_int(128), "cc 80");
    assert_value_bytes(hv_int(255), "cc ff");
    assert_value_bytes(hv_int(256), "cd 01 00");
    assert_value_bytes(hv_int(65535), "cd ff ff");
    assert_value_bytes(hv_int(65536), "ce 00 01 00 00");
    assert_value_bytes(hv_int(4294967295LL), "ce ff ff ff ff");
    assert_value_bytes(hv_int(4294967296LL), "cf 00 00 00 01 00 00 00 00");
    assert_value_bytes(hv_int(INT64_MAX), "cf 7f ff ff ff ff ff ff ff");
    assert_value_bytes(hv_int(-1), "ff");
    assert_value_bytes(hv_int(-32), "e0");
    assert_value_bytes(hv_int(-33), "d0 df");
    assert_value_bytes(hv_int(-128), "d0 80");
    assert_value_bytes(hv_int(-129), "d1 ff 7f");
    assert_value_bytes(hv_int(-32769), "d2 ff ff 7f ff");
    assert_value_bytes(hv_int(-2147483649LL), "d3 ff ff ff ff 7f ff ff ff");
    assert_value_bytes(hv_int(INT64_MIN), "d3 80 00 00 00 00 00 00 00");
}

static void test_encode_headroom_and_order(void **state)
{
    (void)state;
    hv *m = hv_map();
    hv_set(m, "z", hv_int(1));
    hv_set(m, "a", hv_int(2));
    hv_set(m, "m", hv_int(3));
    uint8_t *out;
    size_t len;
    assert_int_equal(codec_encode(m, 16, &out, &len), 0);
    assert_int_equal(len, 10);
    assert_memory_equal(out + 16, "\x83\xa1z\x01\xa1" "a\x02\xa1m\x03", 10);   /* insertion order */
    free(out);
    assert_int_equal(codec_encode(m, 1000, &out, &len), 0);   /* headroom larger than one chunk */
    assert_int_equal(len, 10);
    assert_memory_equal(out + 1000, "\x83\xa1z\x01", 4);
    free(out);

    hv *back = roundtrip(m);
    assert_int_equal(back->u.m.n, 3);
    assert_string_equal(back->u.m.v[0].key, "z");
    assert_string_equal(back->u.m.v[1].key, "a");
    assert_string_equal(back->u.m.v[2].key, "m");
    hv_free(back);
    hv_free(m);

    assert_int_equal(codec_encode(NULL, 0, &out, &len), -1);
}

/* ---- round trips --------------------------------------------------------------------------- */

static void test_roundtrip_all_types(void **state)
{
    (void)state;
    hv *m = sample_tree();
    hv *back = roundtrip(m);
    assert_true(hv_equal(m, back));
    assert_int_equal(back->u.m.n, m->u.m.n);
    for (size_t i = 0; i < m->u.m.n; i++) assert_string_equal(back->u.m.v[i].key, m->u.m.v[i].key);
    assert_string_equal(hv_get_str(back, "window_name"), "3号窗口");
    hv *nul = hv_get(back, "nul");
    assert_int_equal(nul->u.s.n, 3);
    assert_memory_equal(nul->u.s.p, "a\0b", 4);
    hv_free(back);
    hv_free(m);

    /* int edges through decode */
    const int64_t edges[] = {0, 127, 128, 255, 256, 65535, 65536, 4294967296LL, INT64_MIN, INT64_MAX,
                             -1, -32, -33, -128, -129, -32768, -32769};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        hv *x = hv_set(hv_map(), "v", hv_int(edges[i]));
        hv *y = roundtrip(x);
        int64_t got = 0;
        assert_int_equal(hv_get(y, "v")->t, HV_INT);
        assert_int_equal(hv_get_int(y, "v", &got), 0);
        assert_true(got == edges[i]);
        hv_free(x);
        hv_free(y);
    }

    /* floats, including the awkward ones */
    const double fl[] = {0.0, -0.0, 1.5, -2.75, 1e300, -1e-300, 0.1, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++) {
        hv *x = hv_set(hv_map(), "v", hv_float(fl[i]));
        hv *y = roundtrip(x);
        hv *f = hv_get(y, "v");
        assert_int_equal(f->t, HV_FLOAT);
        assert_memory_equal(&f->u.f, &fl[i], sizeof(double));   /* bit-exact, keeps -0.0 */
        hv_free(x);
        hv_free(y);
    }
    hv *x = hv_set(hv_map(), "v", hv_float(NAN));
    hv *y = roundtrip(x);
    assert_true(isnan(hv_get(y, "v")->u.f));
    hv_free(x);
    hv_free(y);
}

static void test_decode_types(void **state)
{
    (void)state;
    uint8_t b[128];
    hv *v = NULL;
    /* {"f": float32 1.5, "b": bin8 "hi", "k": str8 "x", "u": uint64 2^63-1, "i": int8 -5, "n": uint8 200} */
    size_t n = hexb("86 a1 66 ca 3f c0 00 00  a1 62 c4 02 68 69  a1 6b d9 01 78"
                    "a1 75 cf 7f ff ff ff ff ff ff ff  a1 69 d0 fb  a1 6e cc c8", b);
    assert_int_equal(codec_decode(b, n, &v), CODEC_OK);
    assert_int_equal(hv_get(v, "f")->t, HV_FLOAT);
    assert_true(hv_get(v, "f")->u.f == 1.5);
    assert_string_equal(hv_get_str(v, "b"), "hi");
    assert_string_equal(hv_get_str(v, "k"), "x");
    int64_t i;
    assert_int_equal(hv_get_int(v, "u", &i), 0);
    assert_true(i == INT64_MAX);
    assert_int_equal(hv_get_int(v, "i", &i), 0);
    assert_true(i == -5);
    assert_int_equal(hv_get_int(v, "n", &i), 0);
    assert_true(i == 200);
    hv_free(v);

    /* bin, str16 and str32 keys; map16/array16 containers */
    n = hexb("de 00 03  c4 01 61 01  da 00 01 62 dc 00 02 c0 c3  db 00 00 00 01 63 80", b);
    assert_int_equal(codec_decode(b, n, &v), CODEC_OK);
    assert_int_equal(v->u.m.n, 3);
    assert_non_null(hv_get(v, "a"));
    assert_int_equal(hv_get(v, "b")->u.a.n, 2);
    assert_int_equal(hv_get(v, "c")->t, HV_MAP);
    hv_free(v);

    /* the empty map is a valid frame */
    assert_int_equal(check_hex("80"), CODEC_OK);
    assert_int_equal(check_hex("df 00 00 00 00"), CODEC_OK);
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    uint8_t b[64];
    hv *v = NULL;
    /* {"a":1,"b":2,"a":3}: like hv_set, first position and last value */
    size_t n = hexb("83 a1 61 01 a1 62 02 a1 61 03", b);
    assert_int_equal(codec_decode(b, n, &v), CODEC_OK);
    assert_int_equal(v->u.m.n, 2);
    assert_string_equal(v->u.m.v[0].key, "a");
    assert_int_equal(v->u.m.v[0].val->u.i, 3);
    assert_string_equal(v->u.m.v[1].key, "b");
    hv_free(v);

    /* many keys, most of them repeated, in one frame (the path that must not be quadratic) */
    enum { N = 7000, DISTINCT = 3000 };   /* 8 bytes a pair: 56 KB, under the frame cap */
    size_t cap = 3 + (size_t)N * 8;
    uint8_t *big = malloc(cap);
    size_t p = 0;
    big[p++] = 0xde;
    big[p++] = N >> 8;
    big[p++] = N & 0xff;
    for (int k = 0; k < N; k++) {
        int key = (k * 7919) % DISTINCT;
        p += (size_t)sprintf((char *)big + p, "%c%04d", 0xa4, key);
        big[p++] = 0xcd;
        big[p++] = (uint8_t)(k >> 8);
        big[p++] = (uint8_t)k;
    }
    clock_t t0 = clock();
    assert_int_equal(codec_decode(big, p, &v), CODEC_OK);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    assert_true(secs < 2.0);
    assert_int_equal(v->u.m.n, DISTINCT);
    /* a reference built with hv_set gives the same tree, in the same order */
    hv *ref = hv_map();
    for (int k = 0; k < N; k++) {
        char key[8];
        snprintf(key, sizeof key, "%04d", (k * 7919) % DISTINCT);
        hv_set(ref, key, hv_int(k));
    }
    assert_true(hv_equal(ref, v));
    for (size_t k = 0; k < ref->u.m.n; k++) assert_string_equal(ref->u.m.v[k].key, v->u.m.v[k].key);
    hv_free(ref);
    hv_free(v);
    free(big);
}

/* ---- rejections ---------------------------------------------------------------------------- */

static void test_every_prefix_rejected(void **state)
{
    (void)state;
    hv *m = sample_tree();
    hv_set(m, "nested", nested_maps(10));
    uint8_t *out;
    size_t len;
    encode_ok(m, &out, &len);
    assert_int_equal(codec_validate(out, len), CODEC_OK);
    for (size_t n = 0; n < len; n++) {
        /* a copy of exactly n bytes, so ASan sees any read past the end */
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, out, n);
        hv *v = (hv *)1;
        int rc = codec_decode(cut, n, &v);
        assert_true(rc < 0);
        assert_null(v);
        assert_int_equal(rc, n == 0 ? CODEC_EMPTY : CODEC_ETRUNC);
        free(cut);
    }
    free(out);
    hv_free(m);
}

static void test_size_limit(void **state)
{
    (void)state;
    /* exactly 64 KiB: {"a": bin32 of the rest} is accepted, one byte more is not */
    uint8_t *b = calloc(CODEC_MAX_FRAME + 1, 1);
    size_t body = CODEC_MAX_FRAME - 8;
    memcpy(b, "\x81\xa1" "a\xc6", 4);
    b[4] = (uint8_t)(body >> 24);
    b[5] = (uint8_t)(body >> 16);
    b[6] = (uint8_t)(body >> 8);
    b[7] = (uint8_t)body;
    hv *v = NULL;
    assert_int_equal(codec_decode(b, CODEC_MAX_FRAME, &v), CODEC_OK);
    assert_int_equal(hv_get(v, "a")->u.s.n, body);
    hv_free(v);
    assert_int_equal(codec_validate(b, CODEC_MAX_FRAME + 1), CODEC_ESIZE);
    body++;
    b[7] = (uint8_t)body;
    v = (hv *)1;
    assert_int_equal(codec_decode(b, CODEC_MAX_FRAME + 1, &v), CODEC_ESIZE);
    assert_null(v);
    free(b);
    assert_int_equal(codec_validate("\x80", 1u << 30), CODEC_ESIZE);   /* never read */
}

static void test_depth_limit(void **state)
{
    (void)state;
    uint8_t *out;
    size_t len;
    hv *v = NULL;
    for (int d = 1; d <= 40; d++) {
        hv *m = nested_maps(d);
        encode_ok(m, &out, &len);
        int rc = codec_decode(out, len, &v);
        if (d <= CODEC_MAX_DEPTH) {
            assert_int_equal(rc, CODEC_OK);
            assert_true(hv_equal(m, v));
            hv_free(v);
        } else {
            assert_int_equal(rc, CODEC_EDEPTH);
            assert_null(v);
        }
        free(out);
        hv_free(m);
    }
    /* arrays count too, and an empty container at level 17 is still level 17 */
    uint8_t b[64];
    size_t n = hexb("81 a1 61", b);
    for (int i = 0; i < 14; i++) b[n++] = 0x91;
    b[n++] = 0x90;                       /* 1 map + 15 arrays = 16 */
    assert_int_equal(codec_validate(b, n), CODEC_OK);
    b[n - 1] = 0x91;
    b[n++] = 0x80;                       /* 17 */
    assert_int_equal(codec_validate(b, n), CODEC_EDEPTH);
}

static void test_huge_counts(void **state)
{
    (void)state;
    clock_t t0 = clock();
    assert_int_equal(check_hex("81 a1 61 dd ff ff ff ff"), CODEC_ETRUNC);
    assert_int_equal(check_hex("df ff ff ff ff"), CODEC_ETRUNC);
    assert_int_equal(check_hex("de ff ff"), CODEC_ETRUNC);
    assert_int_equal(check_hex("81 a1 61 dc ff ff 00 00 00"), CODEC_ETRUNC);
    assert_int_equal(check_hex("81 a1 61 db ff ff ff ff 61"), CODEC_ETRUNC);
    assert_int_equal(check_hex("81 a1 61 c6 ff ff ff ff"), CODEC_ETRUNC);
    assert_int_equal(check_hex("81 db ff ff ff ff 61 01"), CODEC_ETRUNC);
    /* counts are checked when declared, before the elements are walked: these would otherwise
     * reach the ext and say ETYPE. The second fits the 4 bytes left alone, not with the array
     * still owed after it. */
    assert_int_equal(check_hex("81 a1 61 96 01 01 d4 01 00"), CODEC_ETRUNC);
    assert_int_equal(check_hex("81 a1 61 92 94 01 d4 01 00"), CODEC_ETRUNC);
    assert_int_equal(check_hex("81 a1 61 92 93 01 d4 01 00"), CODEC_ETYPE);
    /* a map of 3 pairs needs at least 6 bytes, not 3 */
    assert_int_equal(check_hex("83 a0 a0 a0 a0 a0"), CODEC_ETRUNC);
    assert_int_equal(check_hex("83 a0 a0 a0 a0 a0 a0"), CODEC_OK);
    assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 0.5);
}

static void test_bad_shapes(void **state)
{
    (void)state;
    /* top level */
    assert_int_equal(check_hex("90"), CODEC_ENOTMAP);
    assert_int_equal(check_hex("91 01"), CODEC_ENOTMAP);
    assert_int_equal(check_hex("01"), CODEC_ENOTMAP);
    assert_int_equal(check_hex("a1 61"), CODEC_ENOTMAP);
    assert_int_equal(check_hex("c0"), CODEC_ENOTMAP);
    assert_int_equal(check_hex("d4 01 00"), CODEC_ENOTMAP);
    assert_int_equal(check_hex("c1"), CODEC_ENOTMAP);
    /* keys */
    assert_int_equal(check_hex("81 01 02"), CODEC_EKEY);
    assert_int_equal(check_hex("81 c0 02"), CODEC_EKEY);
    assert_int_equal(check_hex("81 90 02"), CODEC_EKEY);
    assert_int_equal(check_hex("81 80 02"), CODEC_EKEY);
    assert_int_equal(check_hex("81 cb 3f f8 00 00 00 00 00 00 02"), CODEC_EKEY);
    assert_int_equal(check_hex("82 a1 61 01 02 03"), CODEC_EKEY);                   /* second key */
    assert_int_equal(check_hex("81 a1 61 91 81 ff 01"), CODEC_EKEY);                /* nested map */
    assert_int_equal(check_hex("81 a3 61 00 62 01"), CODEC_EKEY);                   /* NUL in key */
    assert_int_equal(check_hex("81 c4 01 61 01"), CODEC_OK);                        /* bin key */
    assert_int_equal(check_hex("81 a0 01"), CODEC_OK);                              /* "" key */
    /* ext, timestamps and out-of-range ints */
    assert_int_equal(check_hex("81 a1 61 d4 01 00"), CODEC_ETYPE);
    assert_int_equal(check_hex("81 a1 61 d6 ff 00 00 00 01"), CODEC_ETYPE);          /* timestamp32 */
    assert_int_equal(check_hex("81 a1 61 c7 01 05 00"), CODEC_ETYPE);
    assert_int_equal(check_hex("81 a1 61 c8 00 01 05 00"), CODEC_ETYPE);
    assert_int_equal(check_hex("81 a1 61 c9 00 00 00 01 05 00"), CODEC_ETYPE);
    assert_int_equal(check_hex("81 a1 61 d8 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"), CODEC_ETYPE);
    assert_int_equal(check_hex("81 a1 61 91 d5 01 00 00"), CODEC_ETYPE);
    assert_int_equal(check_hex("81 a1 61 cf 80 00 00 00 00 00 00 00"), CODEC_ETYPE);
    assert_int_equal(check_hex("81 a1 61 cf ff ff ff ff ff ff ff ff"), CODEC_ETYPE);
    /* never-used byte */
    assert_int_equal(check_hex("81 a1 61 c1"), CODEC_ETRUNC);
    assert_int_equal(check_hex("81 c1 01"), CODEC_ETRUNC);
    assert_int_equal(check_hex("82 a1 61 01 a1 62 92 01 c1"), CODEC_ETRUNC);
    /* trailing bytes */
    assert_int_equal(check_hex("81 a1 61 01 00"), CODEC_ETRUNC);
    assert_int_equal(check_hex("80 80"), CODEC_ETRUNC);
    assert_int_equal(check_hex("81 a1 61 90 c0"), CODEC_ETRUNC);
    /* empty */
    hv *v = (hv *)1;
    assert_int_equal(codec_validate("", 0), CODEC_EMPTY);
    assert_int_equal(codec_decode("", 0, &v), CODEC_EMPTY);
    assert_null(v);
}

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(codec_strerror(CODEC_ETRUNC), "malformed msgpack");
    assert_string_equal(codec_strerror(CODEC_EDEPTH), "nesting deeper than 16");
    assert_string_equal(codec_strerror(CODEC_ESIZE), "frame larger than 64 KiB");
    assert_string_equal(codec_strerror(CODEC_ENOTMAP), "frame is not a map");
    assert_string_equal(codec_strerror(CODEC_EKEY), "map key is not a string");
    assert_string_equal(codec_strerror(CODEC_ETYPE), "unsupported msgpack type");
    assert_string_equal(codec_strerror(CODEC_EMPTY), "empty frame");
    assert_non_null(codec_strerror(-99));
}

/* ---- mutation run and corpus --------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rng(void)   /* xorshift64*: fixed seed, so a failure reproduces */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32);
}

/* Decodes buf; if accepted, encode(decode(x)) must be a fixed point of decode-then-encode. */
static int decode_and_check(const uint8_t *buf, size_t len)
{
    int vrc = codec_validate(buf, len);
    hv *v = (hv *)1;
    int rc = codec_decode(buf, len, &v);
    assert_int_equal(rc, vrc);
    if (rc) { assert_null(v); return rc; }
    assert_non_null(v);
    assert_int_equal(v->t, HV_MAP);
    uint8_t *e1, *e2;
    size_t n1, n2;
    encode_ok(v, &e1, &n1);
    hv *w = NULL;
    assert_int_equal(codec_decode(e1, n1, &w), CODEC_OK);
    encode_ok(w, &e2, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(e1, e2, n1);
    free(e1);
    free(e2);
    hv_free(w);
    hv_free(v);
    return rc;
}

static void mutate(uint8_t *b, size_t *len, size_t cap)
{
    static const uint8_t interesting[] = {0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1,
                                          0xc4, 0xc6, 0xc7, 0xca, 0xcb, 0xcf, 0xd3, 0xd4, 0xd9, 0xdb,
                                          0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff};
    int rounds = 1 + (int)(rng() % 4);
    for (int r = 0; r < rounds && *len > 0; r++) {
        size_t at = rng() % *len;
        switch (rng() % 7) {
        case 0: b[at] ^= (uint8_t)(1u << (rng() % 8)); break;
        case 1: b[at] = interesting[rng() % sizeof interesting]; break;
        case 2: b[at] = (uint8_t)rng(); break;
        case 3: *len = at; break;                                       /* truncate */
        case 4:                                                         /* delete one byte */
            memmove(b + at, b + at + 1, *len - at - 1);
            (*len)--;
            break;
        case 5:                                                         /* insert one byte */
            if (*len < cap) {
                memmove(b + at + 1, b + at, *len - at);
                b[at] = interesting[rng() % sizeof interesting];
                (*len)++;
            }
            break;
        default: {                                                      /* duplicate a run */
            size_t run = 1 + rng() % 8;
            if (at + run <= *len && *len + run <= cap) {
                memmove(b + at + run, b + at, *len - at);
                (*len) += run;
            }
            break;
        }
        }
    }
}

static void test_mutations(void **state)
{
    (void)state;
    hv *seeds[4];
    seeds[0] = sample_tree();
    seeds[1] = nested_maps(16);
    seeds[2] = hv_set(hv_set(hv_map(), "t", hv_str("ticket.rate")), "score", hv_int(5));
    seeds[3] = hv_set(hv_set(hv_map(), "n", hv_push(hv_push(hv_arr(), hv_int(INT64_MIN)), hv_float(0.5))),
                      "s", hv_str("不予受理"));
    enum { ROUNDS = 20000 };
    uint8_t *enc[4];
    size_t enc_len[4];
    for (int i = 0; i < 4; i++) encode_ok(seeds[i], &enc[i], &enc_len[i]);
    int accepted = 0, rejected = 0;
    for (int i = 0; i < ROUNDS; i++) {
        int s = (int)(rng() % 4);
        size_t cap = enc_len[s] + 64, len = enc_len[s];
        uint8_t *work = malloc(cap);
        memcpy(work, enc[s], len);
        mutate(work, &len, cap);
        /* an exact-size copy, so ASan catches a read past the end */
        uint8_t *exact = malloc(len ? len : 1);
        memcpy(exact, work, len);
        if (decode_and_check(exact, len) == CODEC_OK) accepted++;
        else rejected++;
        free(exact);
        free(work);
    }
    print_message("mutations: %d accepted, %d rejected\n", accepted, rejected);
    /* the run is meaningful only if both paths were exercised */
    assert_true(accepted > 100);
    assert_true(rejected > 1000);
    for (int i = 0; i < 4; i++) { free(enc[i]); hv_free(seeds[i]); }
}

static void corpus_dir(char *out, size_t cap)
{
    const char *src = getenv("HK_SRC");
    if (src && *src) { snprintf(out, cap, "%s/tests/fuzz/codec_corpus", src); return; }
    const char *file = __FILE__;
    const char *slash = strrchr(file, '/');
    if (!slash) { snprintf(out, cap, "../fuzz/codec_corpus"); return; }
    snprintf(out, cap, "%.*s/../fuzz/codec_corpus", (int)(slash - file), file);
}

static void test_corpus(void **state)
{
    (void)state;
    char dir[4096];
    corpus_dir(dir, sizeof dir);
    DIR *d = opendir(dir);
    if (!d) fail_msg("cannot open corpus directory %s (set HK_SRC to the repository root)", dir);
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        static uint8_t buf[CODEC_MAX_FRAME + 1];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        uint8_t *exact = malloc(n ? n : 1);
        memcpy(exact, buf, n);
        if (decode_and_check(exact, n) != CODEC_OK) fail_msg("corpus seed %s rejected", e->d_name);
        /* every strict prefix of a seed is rejected too */
        for (size_t k = 0; k < n; k++) assert_true(codec_validate(exact, k) < 0);
        free(exact);
        files++;
    }
    closedir(d);
    assert_true(files >= 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_known_bytes),
        cmocka_unit_test(test_encode_int_edges),
        cmocka_unit_test(test_encode_headroom_and_order),
        cmocka_unit_test(test_roundtrip_all_types),
        cmocka_unit_test(test_decode_types),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_every_prefix_rejected),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_huge_counts),
        cmocka_unit_test(test_bad_shapes),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
