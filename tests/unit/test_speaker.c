/* test_speaker.c: the speaker scheduler and the code-to-words rule (core/speaker.c), pure. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/speaker.h"

/* ---- code to words ---- */

static void words_eq(const char *code, int digits, const char *const *want, int n)
{
    const char *w[16];
    int got = speaker_code_words(code, digits, w, 16);
    assert_int_equal(got, n);
    for (int i = 0; i < n; i++)
        assert_string_equal(w[i], want[i]);
}

static void test_code_words(void **st)
{
    (void)st;
    words_eq("A005", SPEAKER_DIGITS_LING, (const char *[]){ "A", "零", "零", "五" }, 4);
    words_eq("A005", SPEAKER_DIGITS_YAO, (const char *[]){ "A", "零", "零", "五" }, 4);
    words_eq("A015", SPEAKER_DIGITS_LING, (const char *[]){ "A", "零", "一", "五" }, 4);
    words_eq("A015", SPEAKER_DIGITS_YAO, (const char *[]){ "A", "零", "幺", "五" }, 4);
    words_eq("bc2", SPEAKER_DIGITS_LING, (const char *[]){ "B", "C", "二" }, 3);
    words_eq("Z987", SPEAKER_DIGITS_LING, (const char *[]){ "Z", "九", "八", "七" }, 4);
    const char *w[4];
    assert_int_equal(speaker_code_words("", 0, w, 4), SPEAKER_EINVAL);
    assert_int_equal(speaker_code_words(NULL, 0, w, 4), SPEAKER_EINVAL);
    assert_int_equal(speaker_code_words("A-01", 0, w, 4), SPEAKER_EINVAL);
    assert_int_equal(speaker_code_words("A 01", 0, w, 4), SPEAKER_EINVAL);
    assert_int_equal(speaker_code_words("A0001", 0, w, 4), SPEAKER_EINVAL);   /* more than max */
    assert_int_equal(speaker_code_words_en("A015", w, 4), 4);
    assert_string_equal(w[0], "A");
    assert_string_equal(w[1], "zero");
    assert_string_equal(w[2], "one");
    assert_string_equal(w[3], "five");
}

/* ---- the scheduler: a log of what a zone played ---- */

typedef struct {
    speaker_seg seg[4096];
    size_t n;
} tape;

/* Pulls n samples of zone in periods of `period`, appending every segment but silence. */
static void play(speaker *s, size_t zone, size_t n, size_t period, tape *t)
{
    while (n) {
        size_t want = n < period ? n : period, got = 0;
        while (got < want) {
            speaker_seg seg[8];
            size_t done, k = speaker_pull(s, zone, want - got, seg, 8, &done);
            assert_true(k > 0);
            size_t sum = 0;
            for (size_t i = 0; i < k; i++) {
                sum += seg[i].count;
                if (seg[i].owner && t->n < 4096)
                    t->seg[t->n++] = seg[i];
            }
            assert_int_equal(sum, done);
            got += done;
        }
        n -= want;
    }
}

/* Samples of owner on the tape, and whether it ended and how. */
static size_t samples_of(const tape *t, uint64_t owner, int *end_flags)
{
    size_t n = 0;
    *end_flags = -1;
    for (size_t i = 0; i < t->n; i++)
        if (t->seg[i].owner == owner) {
            n += t->seg[i].count;
            if (t->seg[i].flags & SPEAKER_SEG_LAST)
                *end_flags = t->seg[i].flags;
        }
    return n;
}

static size_t first_at(const tape *t, uint64_t owner)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->seg[i].owner == owner)
            return i;
    return SIZE_MAX;
}

static void test_call_plays_whole(void **st)
{
    (void)st;
    speaker *s = speaker_new(1);
    assert_false(speaker_busy(s));
    assert_int_equal(speaker_enqueue(s, 0, SPEAKER_CALL, 7, 1000), 0);
    assert_true(speaker_busy(s));
    tape t = { 0 };
    play(s, 0, 2000, 441, &t);
    int end;
    assert_int_equal(samples_of(&t, 7, &end), 1000);
    assert_int_equal(end, SPEAKER_SEG_LAST);
    assert_true(t.seg[0].flags & SPEAKER_SEG_FIRST);
    assert_int_equal(t.seg[0].clip, 7);
    assert_int_equal(t.seg[1].offset, 441);          /* contiguous */
    assert_false(speaker_busy(s));
    /* bad arguments */
    assert_int_equal(speaker_enqueue(s, 1, SPEAKER_CALL, 8, 10), SPEAKER_EINVAL);
    assert_int_equal(speaker_enqueue(s, 0, SPEAKER_CALL, 0, 10), SPEAKER_EINVAL);
    assert_int_equal(speaker_enqueue(s, 0, SPEAKER_CALL, 8, 0), SPEAKER_EINVAL);
    assert_int_equal(speaker_enqueue(s, 0, SPEAKER_EMERGENCY, 8, 10), SPEAKER_EINVAL);
    speaker_free(s);
}

static void test_priorities(void **st)
{
    (void)st;
    speaker *s = speaker_new(1);
    assert_int_equal(speaker_enqueue(s, 0, SPEAKER_CALL, 1, 500), 0);
    tape t = { 0 };
    play(s, 0, 100, 100, &t);                        /* call 1 is playing */
    assert_int_equal(speaker_enqueue(s, 0, SPEAKER_CALL, 2, 500), 0);
    assert_int_equal(speaker_enqueue(s, 0, SPEAKER_NOTICE, 3, 500), 0);
    play(s, 0, 3000, 441, &t);
    int end;
    /* the notice does not cut the call, but goes before the call queued earlier */
    assert_int_equal(samples_of(&t, 1, &end), 500);
    assert_int_equal(end, SPEAKER_SEG_LAST);
    assert_true(first_at(&t, 1) < first_at(&t, 3));
    assert_true(first_at(&t, 3) < first_at(&t, 2));
    assert_int_equal(samples_of(&t, 2, &end), 500);
    assert_int_equal(samples_of(&t, 3, &end), 500);
    /* notices waiting have a bound; calls do not (test_no_call_refused) */
    int rc = 0;
    for (uint64_t id = 10; id < 10 + SPEAKER_QUEUE_MAX + 1 && !rc; id++)
        rc = speaker_enqueue(s, 0, SPEAKER_NOTICE, id, 10);
    assert_int_equal(rc, SPEAKER_EFULL);
    assert_int_equal(speaker_enqueue(s, 0, SPEAKER_CALL, 30, 10), 0);
    speaker_free(s);
}

static void test_emergency_preempts(void **st)
{
    (void)st;
    speaker *s = speaker_new(2);
    assert_int_equal(speaker_enqueue(s, 0, SPEAKER_CALL, 1, 10000), 0);
    assert_int_equal(speaker_enqueue(s, 0, SPEAKER_CALL, 2, 10000), 0);
    assert_int_equal(speaker_enqueue(s, 1, SPEAKER_NOTICE, 3, 10000), 0);
    tape t0 = { 0 }, t1 = { 0 };
    play(s, 0, 441, 441, &t0);
    play(s, 1, 441, 441, &t1);
    speaker_msg m = { .clip = 100, .len = 300, .loop = true, .zones = 3 };
    assert_int_equal(speaker_evacuate(s, 50, 99, 200, &m, 1), 0);
    assert_true(speaker_evacuating(s));
    size_t before = t0.n;
    play(s, 0, 441, 441, &t0);                      /* within one period */
    play(s, 1, 441, 441, &t1);
    int end;
    assert_int_equal(samples_of(&t0, 1, &end), 441);
    assert_int_equal(end, SPEAKER_SEG_LAST | SPEAKER_SEG_TRUNCATED);
    assert_int_equal(samples_of(&t0, 2, &end), 0);
    assert_int_equal(end, SPEAKER_SEG_LAST | SPEAKER_SEG_DROPPED);
    assert_int_equal(samples_of(&t1, 3, &end), 441);
    assert_int_equal(end, SPEAKER_SEG_LAST | SPEAKER_SEG_TRUNCATED);
    /* the ends come before the first evacuation sample */
    assert_true(first_at(&t0, 50) > before);
    assert_true(t0.seg[first_at(&t0, 50)].flags & SPEAKER_SEG_FIRST);
    assert_int_equal(t0.seg[first_at(&t0, 50)].clip, 99);
    assert_int_equal(samples_of(&t0, 50, &end), 441);
    assert_int_equal(samples_of(&t1, 50, &end), 441);
    speaker_free(s);
}

static void test_drop_while_frozen_and_no_stale_call(void **st)
{
    (void)st;
    speaker *s = speaker_new(1);
    /* freeze alone: calls refused, notices still play */
    assert_int_equal(speaker_enqueue(s, 0, SPEAKER_CALL, 1, 100), 0);
    speaker_freeze(s, true);
    assert_int_equal(speaker_enqueue(s, 0, SPEAKER_CALL, 2, 100), SPEAKER_EFROZEN);
    assert_int_equal(speaker_enqueue(s, 0, SPEAKER_NOTICE, 3, 100), 0);
    tape t = { 0 };
    play(s, 0, 1000, 441, &t);
    int end;
    assert_int_equal(samples_of(&t, 1, &end), 0);
    assert_int_equal(end, SPEAKER_SEG_LAST | SPEAKER_SEG_DROPPED);
    assert_int_equal(samples_of(&t, 3, &end), 100);
    speaker_freeze(s, false);
    /* evacuation: calls and notices refused, queued ones dropped, nothing stale after */
    assert_int_equal(speaker_enqueue(s, 0, SPEAKER_CALL, 4, 100), 0);
    speaker_msg m = { .clip = 100, .len = 300, .loop = true, .zones = 1 };
    assert_int_equal(speaker_evacuate(s, 50, 99, 200, &m, 1), 0);
    assert_int_equal(speaker_enqueue(s, 0, SPEAKER_CALL, 5, 100), SPEAKER_EFROZEN);
    assert_int_equal(speaker_enqueue(s, 0, SPEAKER_NOTICE, 6, 100), SPEAKER_EFROZEN);
    memset(&t, 0, sizeof t);
    play(s, 0, 2000, 441, &t);
    speaker_evacuate_end(s);
    assert_false(speaker_evacuating(s));
    play(s, 0, 5000, 441, &t);
    assert_int_equal(samples_of(&t, 4, &end), 0);
    assert_int_equal(end, SPEAKER_SEG_LAST | SPEAKER_SEG_DROPPED);
    assert_int_equal(samples_of(&t, 50, &end), 2000);
    assert_int_equal(end, SPEAKER_SEG_LAST);         /* a clear is the program's end */
    for (size_t i = 0; i < t.n; i++)
        assert_true(t.seg[i].owner == 4 || t.seg[i].owner == 50);
    assert_false(speaker_busy(s));
    /* calls work again */
    assert_int_equal(speaker_enqueue(s, 0, SPEAKER_CALL, 7, 100), 0);
    speaker_free(s);
}

static void test_evacuation_loop_pattern(void **st)
{
    (void)st;
    speaker *s = speaker_new(2);
    /* message 0 loops on both zones, message 1 plays once on zone 0 only, message 2 is not ready */
    speaker_msg m[3] = {
        { .clip = 100, .len = 300, .loop = true, .zones = 3 },
        { .clip = 101, .len = 150, .loop = false, .zones = 1 },
        { .clip = 102, .len = 0, .loop = false, .zones = 2 },
    };
    assert_int_equal(speaker_evacuate(s, 50, 99, 1000, m, 3), 0);
    tape t0 = { 0 }, t1 = { 0 };
    play(s, 0, 1000 + 300 + 150 + 1000 + 300 + 1000, 441, &t0);
    /* zone 0: tone, msg0, msg1, tone, msg0, tone */
    uint64_t want0[] = { 99, 100, 101, 99, 100, 99 };
    size_t k = 0;
    uint64_t last = 0;
    for (size_t i = 0; i < t0.n; i++) {
        if (t0.seg[i].clip == last || !t0.seg[i].count)
            continue;
        assert_true(k < 6);
        assert_int_equal(t0.seg[i].clip, want0[k]);
        last = want0[k++];
    }
    assert_int_equal(k, 6);
    /* zone 1: tone, msg0, then waits (silence of the program) for msg 2 */
    play(s, 1, 1000 + 300 + 500, 441, &t1);
    size_t wait = 0;
    for (size_t i = 0; i < t1.n; i++)
        if (t1.seg[i].owner == 50 && t1.seg[i].clip == 0)
            wait += t1.seg[i].count;
    assert_int_equal(wait, 500);
    speaker_clip_ready(s, 102, 80);
    memset(&t1, 0, sizeof t1);
    play(s, 1, 80 + 1000, 441, &t1);
    assert_int_equal(t1.seg[0].clip, 102);
    assert_int_equal(t1.seg[0].count, 80);
    assert_int_equal(t1.seg[1].clip, 99);            /* and the loop goes on */
    /* a replaced program ends truncated; the new one starts at once */
    speaker_msg m2 = { .clip = 200, .len = 10, .zones = 3 };
    assert_int_equal(speaker_evacuate(s, 60, 99, 20, &m2, 1), 0);
    tape t = { 0 };
    play(s, 0, 100, 100, &t);
    int end;
    samples_of(&t, 50, &end);
    assert_int_equal(end, SPEAKER_SEG_LAST | SPEAKER_SEG_TRUNCATED);
    /* a program without a looping message plays once and ends by itself */
    assert_int_equal(samples_of(&t, 60, &end), 30);
    assert_int_equal(end, SPEAKER_SEG_LAST);
    play(s, 1, 100, 100, &t);
    assert_false(speaker_busy(s));
    assert_true(speaker_evacuating(s));              /* still owns the zones until cleared */
    assert_int_equal(speaker_enqueue(s, 0, SPEAKER_CALL, 9, 10), SPEAKER_EFROZEN);
    speaker_free(s);
}

static void test_failed_message_skipped(void **st)
{
    (void)st;
    speaker *s = speaker_new(1);
    speaker_msg m[2] = { { .clip = 100, .len = 0, .loop = true, .zones = 1 }, { .clip = 101, .len = 50, .loop = true, .zones = 1 } };
    assert_int_equal(speaker_evacuate(s, 50, 99, 100, m, 2), 0);
    speaker_clip_ready(s, 100, 0);                   /* synthesis failed */
    tape t = { 0 };
    play(s, 0, 300, 441, &t);
    for (size_t i = 0; i < t.n; i++)
        assert_true(t.seg[i].clip != 100 && (t.seg[i].clip != 0 || !t.seg[i].count));
    int end;
    assert_int_equal(samples_of(&t, 50, &end), 300);
    assert_null(speaker_new(0));
    assert_null(speaker_new(SPEAKER_ZONES_MAX + 1));
    assert_int_equal(speaker_evacuate(s, 0, 99, 100, m, 2), SPEAKER_EINVAL);
    speaker_free(s);
}

/* ---- a backlog of calls is shortened, never refused ---- */

static const speaker_call_parts PARTS = { .lead = 10, .head = 20, .body = 30, .tail = 40, .rest = 50, .join_gap = 5 };

/* Each owner of the tape in order of first sample, with one FIRST and one untruncated LAST. */
static void each_once(const tape *t, uint64_t from, uint64_t to)
{
    for (uint64_t id = from; id <= to; id++) {
        int firsts = 0, lasts = 0;
        for (size_t i = 0; i < t->n; i++)
            if (t->seg[i].owner == id) {
                firsts += (t->seg[i].flags & SPEAKER_SEG_FIRST) != 0;
                if (t->seg[i].flags & SPEAKER_SEG_LAST) {
                    lasts++;
                    assert_int_equal(t->seg[i].flags, SPEAKER_SEG_LAST);
                }
            }
        assert_int_equal(firsts, 1);
        assert_int_equal(lasts, 1);
        if (id > from)
            assert_true(first_at(t, id - 1) < first_at(t, id));
    }
}

/* Samples of owner taken from its own clip from offset `at` on (-1: none), and of its silence. */
static size_t clip_samples(const tape *t, uint64_t owner, size_t *first_offset, size_t *silence)
{
    size_t n = 0;
    *first_offset = SIZE_MAX;
    *silence = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (t->seg[i].owner != owner || !t->seg[i].count)
            continue;
        if (t->seg[i].clip == 0) {
            *silence += t->seg[i].count;
            continue;
        }
        assert_int_equal(t->seg[i].clip, owner);
        if (*first_offset == SIZE_MAX)
            *first_offset = t->seg[i].offset;
        n += t->seg[i].count;
    }
    return n;
}

static void test_call_alone_plays_whole(void **st)
{
    (void)st;
    speaker *s = speaker_new(1);
    assert_int_equal(speaker_enqueue_call(s, 0, 1, &PARTS), 0);
    tape t = { 0 };
    play(s, 0, 1000, 7, &t);
    size_t off, sil;
    assert_int_equal(clip_samples(&t, 1, &off, &sil), 150);       /* chime, sentence, repeat */
    assert_int_equal(off, 0);
    assert_int_equal(sil, 0);
    each_once(&t, 1, 1);
    /* a call after silence has its chime again */
    assert_int_equal(speaker_enqueue_call(s, 0, 2, &PARTS), 0);
    play(s, 0, 1000, 7, &t);
    assert_int_equal(clip_samples(&t, 2, &off, &sil), 150);
    assert_int_equal(speaker_enqueue_call(s, 0, 3, &(speaker_call_parts){ .lead = 5 }), SPEAKER_EINVAL);
    assert_int_equal(speaker_enqueue_call(s, 1, 3, &PARTS), SPEAKER_EINVAL);
    assert_int_equal(speaker_enqueue_call(s, 0, 0, &PARTS), SPEAKER_EINVAL);
    speaker_free(s);
}

static void test_backlog_joined(void **st)
{
    (void)st;
    speaker *s = speaker_new(1);
    for (uint64_t id = 1; id <= 3; id++)
        assert_int_equal(speaker_enqueue_call(s, 0, id, &PARTS), 0);
    tape t = { 0 };
    play(s, 0, 2000, 7, &t);
    each_once(&t, 1, 3);
    size_t off, sil;
    /* 1: chime, 请, code and window, then a pause: 2 continues the sentence (no 办理, no repeat) */
    assert_int_equal(clip_samples(&t, 1, &off, &sil), 60);
    assert_int_equal(off, 0);
    assert_int_equal(sil, 5);
    /* 2: code and window only */
    assert_int_equal(clip_samples(&t, 2, &off, &sil), 30);
    assert_int_equal(off, 30);
    assert_int_equal(sil, 5);
    /* 3: the end of the sentence, and its repeat: nothing waits any more */
    assert_int_equal(clip_samples(&t, 3, &off, &sil), 120);
    assert_int_equal(off, 30);
    assert_int_equal(sil, 0);
    assert_false(speaker_busy(s));
    speaker_free(s);
}

static void test_backlog_sentence_bounded(void **st)
{
    (void)st;
    speaker *s = speaker_new(1);
    for (uint64_t id = 1; id <= 7; id++)
        assert_int_equal(speaker_enqueue_call(s, 0, id, &PARTS), 0);
    tape t = { 0 };
    play(s, 0, 4000, 7, &t);
    each_once(&t, 1, 7);
    size_t off, sil;
    assert_int_equal(clip_samples(&t, 1, &off, &sil), 60);
    for (uint64_t id = 2; id <= 4; id++)
        assert_int_equal(clip_samples(&t, id, &off, &sil), 30);
    /* 5 ends the sentence (5 calls at most), without its repeat: calls wait */
    assert_int_equal(clip_samples(&t, 5, &off, &sil), 70);
    assert_int_equal(off, 30);
    assert_int_equal(sil, 0);
    /* 6 starts a new sentence right after: 请 again, but no chime */
    assert_int_equal(clip_samples(&t, 6, &off, &sil), 50);
    assert_int_equal(off, 10);
    assert_int_equal(sil, 5);
    assert_int_equal(clip_samples(&t, 7, &off, &sil), 120);
    speaker_free(s);
}

/* Runs of owner's own clip on the tape: offsets and lengths, merged where contiguous. */
static size_t runs_of(const tape *t, uint64_t owner, size_t *at, size_t *n, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++) {
        const speaker_seg *g = &t->seg[i];
        if (g->owner != owner || g->clip != owner || !g->count)
            continue;
        if (k && at[k - 1] + n[k - 1] == g->offset)
            n[k - 1] += g->count;
        else if (k < max) {
            at[k] = g->offset;
            n[k++] = g->count;
        }
    }
    return k;
}

static void test_backlog_spoken_faster(void **st)
{
    (void)st;
    const speaker_call_parts p = { .lead = 10, .head = 20, .body = 30, .fast = 15, .tail = 40, .rest = 50, .join_gap = 5 };
    speaker *s = speaker_new(1);
    size_t at[8], n[8];
    /* alone: the usual body, the fast one skipped */
    assert_int_equal(speaker_enqueue_call(s, 0, 1, &p), 0);
    tape t = { 0 };
    play(s, 0, 1000, 7, &t);
    assert_int_equal(runs_of(&t, 1, at, n, 8), 2);
    assert_int_equal(at[0], 0);
    assert_int_equal(n[0], 60);          /* chime, 请, body */
    assert_int_equal(at[1], 75);
    assert_int_equal(n[1], 90);          /* tail, repeat */
    /* two waiting: both spoken fast, the second ends the sentence */
    assert_int_equal(speaker_enqueue_call(s, 0, 2, &p), 0);
    assert_int_equal(speaker_enqueue_call(s, 0, 3, &p), 0);
    memset(&t, 0, sizeof t);
    play(s, 0, 1000, 7, &t);
    each_once(&t, 2, 3);
    assert_int_equal(runs_of(&t, 2, at, n, 8), 2);
    assert_int_equal(at[0], 0);
    assert_int_equal(n[0], 30);          /* chime and 请 */
    assert_int_equal(at[1], 60);
    assert_int_equal(n[1], 15);          /* the fast body */
    assert_int_equal(runs_of(&t, 3, at, n, 8), 1);
    assert_int_equal(at[0], 60);
    assert_int_equal(n[0], 105);         /* fast body; nothing waits any more: tail and repeat */
    speaker_free(s);
}

static void test_call_arriving_while_spoken(void **st)
{
    (void)st;
    speaker *s = speaker_new(1);
    assert_int_equal(speaker_enqueue_call(s, 0, 1, &PARTS), 0);
    tape t = { 0 };
    play(s, 0, 90, 90, &t);                         /* 1 is in its tail: no join any more */
    assert_int_equal(speaker_enqueue_call(s, 0, 2, &PARTS), 0);
    play(s, 0, 1000, 7, &t);
    each_once(&t, 1, 2);
    size_t off, sil;
    assert_int_equal(clip_samples(&t, 1, &off, &sil), 100);      /* the repeat left out */
    assert_int_equal(clip_samples(&t, 2, &off, &sil), 140);      /* no chime: right after a call */
    assert_int_equal(off, 10);
    /* a notice between two calls: the call after it has its chime, nothing joins the notice */
    speaker_free(s);
    s = speaker_new(1);
    assert_int_equal(speaker_enqueue_call(s, 0, 1, &PARTS), 0);
    memset(&t, 0, sizeof t);
    play(s, 0, 7, 7, &t);
    assert_int_equal(speaker_enqueue(s, 0, SPEAKER_NOTICE, 2, 25), 0);
    assert_int_equal(speaker_enqueue_call(s, 0, 3, &PARTS), 0);
    play(s, 0, 1000, 7, &t);
    each_once(&t, 1, 3);
    assert_int_equal(clip_samples(&t, 1, &off, &sil), 100);
    assert_int_equal(sil, 0);
    assert_int_equal(clip_samples(&t, 2, &off, &sil), 25);
    assert_int_equal(clip_samples(&t, 3, &off, &sil), 150);
    assert_int_equal(off, 0);
    speaker_free(s);
}

static void test_no_call_refused(void **st)
{
    (void)st;
    speaker *s = speaker_new(2);
    enum { N = 100 };
    for (uint64_t id = 1; id <= N; id++)
        assert_int_equal(speaker_enqueue_call(s, 1, id, &PARTS), 0);
    static tape t;
    memset(&t, 0, sizeof t);
    play(s, 1, 200 * N, 441, &t);
    for (uint64_t id = 1; id <= N; id++) {
        int end;
        assert_true(samples_of(&t, id, &end) >= 30);
        assert_int_equal(end, SPEAKER_SEG_LAST);
    }
    assert_false(speaker_busy(s));
    /* a backlog is still dropped whole by an evacuation, and nothing of it plays after */
    for (uint64_t id = 1; id <= N; id++)
        assert_int_equal(speaker_enqueue_call(s, 0, id, &PARTS), 0);
    memset(&t, 0, sizeof t);
    play(s, 0, 7, 7, &t);
    speaker_msg m = { .clip = 900, .len = 300, .loop = true, .zones = 3 };
    assert_int_equal(speaker_evacuate(s, 1000, 99, 200, &m, 1), 0);
    assert_int_equal(speaker_enqueue_call(s, 0, 500, &PARTS), SPEAKER_EFROZEN);
    play(s, 0, 1000, 441, &t);
    speaker_evacuate_end(s);
    play(s, 0, 5000, 441, &t);
    int end;
    assert_int_equal(samples_of(&t, 1, &end), 7);
    assert_int_equal(end, SPEAKER_SEG_LAST | SPEAKER_SEG_TRUNCATED);
    for (uint64_t id = 2; id <= N; id++) {
        assert_int_equal(samples_of(&t, id, &end), 0);
        assert_int_equal(end, SPEAKER_SEG_LAST | SPEAKER_SEG_DROPPED);
    }
    play(s, 1, 100, 100, &t);                        /* zone 1 reports the program's end */
    assert_false(speaker_busy(s));
    speaker_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_code_words),
        cmocka_unit_test(test_call_plays_whole),
        cmocka_unit_test(test_priorities),
        cmocka_unit_test(test_emergency_preempts),
        cmocka_unit_test(test_drop_while_frozen_and_no_stale_call),
        cmocka_unit_test(test_evacuation_loop_pattern),
        cmocka_unit_test(test_failed_message_skipped),
        cmocka_unit_test(test_call_alone_plays_whole),
        cmocka_unit_test(test_backlog_joined),
        cmocka_unit_test(test_backlog_sentence_bounded),
        cmocka_unit_test(test_backlog_spoken_faster),
        cmocka_unit_test(test_call_arriving_while_spoken),
        cmocka_unit_test(test_no_call_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
