/* test_audio.c: the speakers (io/audio/audio.c) on a real loop with the file sink in a temporary
 * directory and the real espeak-ng: a call's WAV (loud enough, plausible length, chime then code
 * then window), an emergency cutting a call and looping tone/message, no stale call after the
 * clear, and broken sinks reported as faults while calling goes on. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/emergency.h"
#include "io/audio/audio.h"
#include "io/config/config_load.h"

static char g_dir[64];      /* data dir shared by the tests: the clip cache is made once */

typedef struct {
    uv_loop_t loop;
    hk_config cfg;
    audio *a;
    char ann_dir[256];
    int started, finished, faults, closed;
    char last_started[512], last_finished[512], last_prio[16], fault_msg[512];
    bool last_truncated;
} fx;

static void on_started(void *arg, const char *text, const char *zone, const char *prio)
{
    fx *f = arg;
    f->started++;
    snprintf(f->last_started, sizeof f->last_started, "%s|%s|%s", text, zone, prio);
}

static void on_finished(void *arg, const char *text, const char *zone, const char *prio, bool truncated)
{
    fx *f = arg;
    f->finished++;
    snprintf(f->last_finished, sizeof f->last_finished, "%s|%s", text, zone);
    snprintf(f->last_prio, sizeof f->last_prio, "%s", prio);
    f->last_truncated = truncated;
}

static void on_fault(void *arg, const char *msg)
{
    fx *f = arg;
    f->faults++;
    snprintf(f->fault_msg, sizeof f->fault_msg, "%s", msg);
}

static void on_tick(uv_timer_t *t) { (void)t; }

static bool run_until(fx *f, bool (*cond)(fx *), unsigned ms)
{
    uv_timer_t tick;
    uv_timer_init(&f->loop, &tick);
    uv_timer_start(&tick, on_tick, 5, 5);
    uint64_t end = uv_now(&f->loop) + ms;
    bool ok;
    while (!(ok = cond(f)) && uv_now(&f->loop) < end)
        uv_run(&f->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    return ok;
}

static bool never(fx *f) { (void)f; return false; }
static bool is_ready(fx *f) { return audio_ready(f->a); }
static bool one_started(fx *f) { return f->started >= 1; }
static bool one_finished(fx *f) { return f->finished >= 1; }
static bool two_finished(fx *f) { return f->finished >= 2; }
static bool three_finished(fx *f) { return f->finished >= 3; }
static bool has_fault(fx *f) { return f->faults >= 1; }
static bool closed(fx *f) { return f->closed; }

static void start(fx *f, const char *name, const char *audio_yaml)
{
    memset(f, 0, sizeof *f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    snprintf(f->ann_dir, sizeof f->ann_dir, "%s/%s", g_dir, name);
    char yaml[4096], err[256];
    snprintf(yaml, sizeof yaml,
             "hall: { id: h1 }\n"
             "tokens: [ { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk } ]\n"
             "categories: [ { id: A, name: 甲 } ]\n"
             "windows:\n"
             "  - { id: 1, name: 1号窗口, categories: [A] }\n"
             "  - { id: 2, name: 2号窗口, categories: [A] }\n"
             "audio:\n%s",
             audio_yaml);
    assert_int_equal(config_load_string(yaml, strlen(yaml), name, &f->cfg, err, sizeof err), 0);
    audio_callbacks cb = { on_started, on_finished, on_fault, f };
    f->a = audio_new(&f->loop, &f->cfg, g_dir, &cb, err, sizeof err);
    assert_non_null(f->a);
}

static void on_closed(void *arg) { ((fx *)arg)->closed = 1; }

static void stop(fx *f)
{
    audio_close(f->a, on_closed, f);
    assert_true(run_until(f, closed, 10000));
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&f->loop), 0);      /* no handle left behind */
    hk_config_free(&f->cfg);
}

/* ---- reading what the file sink wrote ---- */

static int index_lines(const fx *f, char lines[][4096], int max)
{
    char path[512];
    snprintf(path, sizeof path, "%s/index.jsonl", f->ann_dir);
    FILE *fp = fopen(path, "r");
    int n = 0;
    while (fp && n < max && fgets(lines[n], 4096, fp))
        n++;
    if (fp)
        fclose(fp);
    return n;
}

static long long num(const char *line, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(line, k);
    assert_non_null(p);
    return strtoll(p + strlen(k), NULL, 10);
}

static void str(const char *line, const char *key, char *out, size_t len)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":\"", key);
    const char *p = strstr(line, k);
    assert_non_null(p);
    p += strlen(k);
    size_t n = strcspn(p, "\"");
    assert_true(n < len);
    memcpy(out, p, n);
    out[n] = 0;
}

static audio_pcm wav_of(const fx *f, const char *line)
{
    char name[256], path[600];
    str(line, "file", name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", f->ann_dir, name);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static uint8_t buf[4 << 20];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    audio_pcm p;
    assert_int_equal(audio_wav_parse(buf, n, &p), 0);
    return p;
}

static double rms(const int16_t *s, size_t n)
{
    double e = 0;
    for (size_t i = 0; i < n; i++)
        e += (double)s[i] * s[i];
    return n ? __builtin_sqrt(e / (double)n) : 0;
}

/* ---- tests ---- */

static void test_call_wav(void **st)
{
    (void)st;
    fx f;
    char y[512];
    snprintf(y, sizeof y, "  sink: file\n  path: %s/call\n  repeat: 1\n", g_dir);
    start(&f, "call", y);
    assert_true(run_until(&f, is_ready, 25000));    /* a cold cache: every clip made once */
    assert_int_equal(f.faults, 0);
    assert_int_equal(audio_call(f.a, "A005", 2), 0);
    assert_int_equal(audio_call(f.a, "A-5", 2), AUDIO_EINVAL);
    assert_int_equal(audio_call(f.a, "A006", 9), AUDIO_EINVAL);
    assert_true(run_until(&f, one_started, 1000));
    assert_string_equal(f.last_started, "请A005号到2号窗口办理|hall|call");
    assert_true(run_until(&f, one_finished, 15000));
    assert_false(f.last_truncated);
    static char lines[8][4096];
    assert_int_equal(index_lines(&f, lines, 8), 1);
    const char *l = lines[0];
    assert_non_null(strstr(l, "\"truncated\":false"));
    assert_non_null(strstr(l, "\"priority\":\"call\""));
    /* warm cache: the first sample goes out at once */
    assert_true(num(l, "first_sample_at_ms") - num(l, "started_at_ms") <= 50);
    audio_pcm w = wav_of(&f, l);
    assert_int_equal((long long)w.n, num(l, "samples"));
    assert_true(w.n > 2 * AUDIO_RATE && w.n < 8 * AUDIO_RATE);   /* chime + about 2 s of speech */
    assert_true(rms(w.pcm, w.n) > 1000);
    /* the recording is paced in real time */
    long long ms = num(l, "ended_at_ms") - num(l, "first_sample_at_ms");
    assert_true(ms > (long long)(w.n * 1000 / AUDIO_RATE) - 100);
    /* order: chime (sample-exact), then the code, then the window */
    audio_pcm chime;
    assert_int_equal(audio_chime(&chime), 0);
    assert_memory_equal(w.pcm, chime.pcm, chime.n * sizeof *chime.pcm);
    const char *order[] = { "(chime)", "请", "A", "零", "零", "五", "号到", "2号窗口", "办理" };
    const char *p = strstr(l, "\"parts\":");
    assert_non_null(p);
    long long prev = -1;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        char k[64];
        snprintf(k, sizeof k, "{\"text\":\"%s\",\"at\":", order[i]);
        const char *q = strstr(p, k);
        assert_non_null(q);
        long long at = strtoll(q + strlen(k), NULL, 10);
        long long n = strtoll(strstr(q, "\"n\":") + 4, NULL, 10);
        assert_true(at > prev);
        assert_true(n > 0 && at + n <= (long long)w.n);
        assert_true(rms(w.pcm + at, (size_t)n) > 500);   /* each piece is audible where it says */
        prev = at;
        p = q + 1;
    }
    audio_pcm_free(&chime);
    audio_pcm_free(&w);
    stop(&f);
}

static void test_emergency_preempts_and_loops(void **st)
{
    (void)st;
    fx f;
    char y[512];
    snprintf(y, sizeof y, "  sink: file\n  path: %s/evac\n  repeat: 2\n  evac_tone_s: 8\n", g_dir);
    start(&f, "evac", y);
    assert_true(run_until(&f, is_ready, 25000));
    emergency *e = emergency_new(&f.cfg);
    emergency_out out;
    assert_non_null(e);
    assert_int_equal(emergency_out_init(e, &out), 0);
    emergency_outputs(e, &out);
    audio_emergency(f.a, &out);                      /* nothing active: nothing changes */
    assert_int_equal(audio_call(f.a, "A007", 1), 0);
    assert_true(run_until(&f, one_started, 1000));
    run_until(&f, never, 1500);                      /* the call is mid-way */
    assert_int_equal(emergency_trigger(e, "fire", false, HK_ROLE_ADMIN, "test", 1), 0);
    emergency_outputs(e, &out);
    audio_emergency(f.a, &out);
    audio_emergency(f.a, &out);                      /* idempotent */
    assert_true(run_until(&f, one_finished, 200));   /* cut within a period or so */
    assert_true(f.last_truncated);
    assert_string_equal(f.last_prio, "call");
    assert_int_equal(f.started, 2);                  /* the evacuation started */
    assert_non_null(strstr(f.last_started, "|hall|emergency"));
    /* frozen: calls dropped, not queued */
    assert_int_equal(audio_call(f.a, "A008", 1), AUDIO_EFROZEN);
    assert_int_equal(audio_notice(f.a, "测试", NULL, 0), AUDIO_EFROZEN);
    /* let tone, message and the tone again play */
    const char *text = NULL;
    for (size_t i = 0; i < out.nannounce; i++)
        text = out.announce[i]->text;
    assert_non_null(text);
    audio_pcm msg, tone;
    char err[256];
    assert_int_equal(audio_synth(g_dir, "cmn-latn-pinyin", AUDIO_RATE_WPM, text, &msg, err, sizeof err), 0);
    assert_int_equal(audio_tone(&tone, 8), 0);
    unsigned play_ms = (unsigned)((tone.n + msg.n) * 1000 / AUDIO_RATE) + 1500;
    run_until(&f, never, play_ms);
    assert_int_equal(emergency_clear(e, NULL, HK_ROLE_ADMIN, "test", "over", NULL), 0);
    emergency_outputs(e, &out);
    audio_emergency(f.a, &out);
    assert_true(run_until(&f, two_finished, 1000));
    assert_string_equal(f.last_prio, "emergency");
    assert_false(f.last_truncated);
    /* after the clear: no stale call, new calls play */
    run_until(&f, never, 300);
    assert_int_equal(f.started, 2);
    assert_int_equal(audio_call(f.a, "A009", 1), 0);
    assert_true(run_until(&f, three_finished, 20000));
    static char lines[8][4096];
    assert_int_equal(index_lines(&f, lines, 8), 3);
    assert_non_null(strstr(lines[0], "A007"));
    assert_non_null(strstr(lines[0], "\"truncated\":true"));
    assert_non_null(strstr(lines[1], "\"priority\":\"emergency\""));
    assert_non_null(strstr(lines[2], "A009"));
    assert_null(strstr(lines[2], "A008"));
    /* the cut call's WAV is short; the evacuation starts as the call ends */
    audio_pcm c = wav_of(&f, lines[0]);
    assert_true(c.n < 4 * AUDIO_RATE);
    audio_pcm_free(&c);
    assert_true(num(lines[1], "first_sample_at_ms") - num(lines[0], "ended_at_ms") <= 30);
    assert_true(num(lines[1], "first_sample_at_ms") - num(lines[1], "started_at_ms") <= 300);
    /* the evacuation WAV: tone, message, tone again */
    audio_pcm ev = wav_of(&f, lines[1]);
    assert_true(ev.n > tone.n + msg.n + AUDIO_RATE / 2);
    assert_memory_equal(ev.pcm, tone.pcm, tone.n * sizeof *tone.pcm);
    assert_memory_equal(ev.pcm + tone.n, msg.pcm, msg.n * sizeof *msg.pcm);
    assert_memory_equal(ev.pcm + tone.n + msg.n, tone.pcm, AUDIO_RATE / 2 * sizeof *tone.pcm);
    audio_pcm_free(&ev);
    audio_pcm_free(&msg);
    audio_pcm_free(&tone);
    emergency_out_free(&out);
    emergency_free(e);
    stop(&f);
}

static void test_broken_sink(void **st)
{
    (void)st;
    fx f;
    char y[512], file[300];
    snprintf(file, sizeof file, "%s/not-a-dir", g_dir);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    /* a directory under a regular file can never be made, even by root */
    snprintf(y, sizeof y, "  sink: file\n  path: %s/announcements\n  repeat: 1\n", file);
    start(&f, "broken", y);
    assert_true(run_until(&f, is_ready, 25000));
    assert_int_equal(audio_call(f.a, "A010", 1), 0);
    assert_true(run_until(&f, has_fault, 2000));
    assert_non_null(strstr(f.fault_msg, "cannot create"));
    assert_true(run_until(&f, one_finished, 15000));   /* calling goes on */
    assert_int_equal(audio_call(f.a, "A011", 1), 0);
    assert_true(run_until(&f, two_finished, 15000));
    assert_int_equal(f.faults, 1);                      /* reported once, not per call */
    stop(&f);
}

static void test_alsa_missing_device(void **st)
{
    (void)st;
    fx f;
    start(&f, "alsa", "  sink: alsa\n  device: \"hw:CARD=hk_no_such_card\"\n  repeat: 1\n");
    assert_true(run_until(&f, has_fault, 3000));
    assert_non_null(strstr(f.fault_msg, "hw:CARD=hk_no_such_card"));
    assert_true(run_until(&f, is_ready, 25000));
    assert_int_equal(audio_call(f.a, "A012", 2), 0);
    assert_true(run_until(&f, one_started, 1000));
    stop(&f);
}

static int group_setup(void **st)
{
    (void)st;
    snprintf(g_dir, sizeof g_dir, "/tmp/hk-audio-XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int group_teardown(void **st)
{
    (void)st;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_call_wav),
        cmocka_unit_test(test_emergency_preempts_and_loops),
        cmocka_unit_test(test_broken_sink),
        cmocka_unit_test(test_alsa_missing_device),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
