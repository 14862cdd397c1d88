/* audio_clips.c: the PCM pieces announcements are made of: generated chime and sounder, speech
 * from espeak-ng kept in DATA/audio-cache (one WAV per (voice, text)), WAV reading and writing.
 * audio_synth() blocks on a child process: io/audio/audio.c runs it in the libuv thread pool. */
#include "audio.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/base/fs.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

extern char **environ;

void audio_pcm_free(audio_pcm *p)
{
    free(p->pcm);
    p->pcm = NULL;
    p->n = 0;
}

static int pcm_alloc(audio_pcm *p, size_t n)
{
    p->pcm = calloc(n ? n : 1, sizeof *p->pcm);
    p->n = p->pcm ? n : 0;
    return p->pcm ? 0 : -1;
}

/* ---- generated sounds ---- */

/* Two falling notes (E5, C5) with a bell-like decay: the usual "ding-dong" before a call. */
int audio_chime(audio_pcm *out)
{
    static const struct { double f, start, len; } notes[] = { { 659.25, 0.0, 0.55 }, { 523.25, 0.45, 0.9 } };
    size_t n = (size_t)(1.35 * AUDIO_RATE);
    if (pcm_alloc(out, n))
        return -1;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / AUDIO_RATE, v = 0;
        for (size_t k = 0; k < sizeof notes / sizeof notes[0]; k++) {
            double u = t - notes[k].start;
            if (u < 0 || u > notes[k].len)
                continue;
            double env = exp(-u * 4.0) * (u < 0.005 ? u / 0.005 : 1.0) * (notes[k].len - u < 0.02 ? (notes[k].len - u) / 0.02 : 1.0);
            v += env * (0.7 * sin(2 * M_PI * notes[k].f * u) + 0.2 * sin(4 * M_PI * notes[k].f * u));
        }
        out->pcm[i] = (int16_t)lrint(v * 0.5 * 32767);
    }
    return 0;
}

/* The evacuation sounder: a rising sweep 600 -> 1200 Hz each second, 0.15 s gap, loud. */
int audio_tone(audio_pcm *out, int seconds)
{
    if (seconds <= 0)
        seconds = 10;
    size_t n = (size_t)seconds * AUDIO_RATE;
    if (pcm_alloc(out, n))
        return -1;
    double phase = 0;
    for (size_t i = 0; i < n; i++) {
        double u = (double)(i % AUDIO_RATE) / AUDIO_RATE;
        if (u >= 0.85) {
            out->pcm[i] = 0;
            phase = 0;
            continue;
        }
        double f = 600 + 600 * u / 0.85;
        phase += 2 * M_PI * f / AUDIO_RATE;
        double env = u < 0.01 ? u / 0.01 : (0.85 - u < 0.01 ? (0.85 - u) / 0.01 : 1.0);
        out->pcm[i] = (int16_t)lrint(env * 0.6 * 32767 * sin(phase));
    }
    return 0;
}

/* ---- WAV ---- */

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static void wr32(uint8_t *p, uint32_t v) { p[0] = v & 255; p[1] = v >> 8 & 255; p[2] = v >> 16 & 255; p[3] = v >> 24; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = v & 255; p[1] = v >> 8; }

void audio_wav_header(uint8_t h[44], size_t nsamples)
{
    uint32_t bytes = nsamples > 0x7fff0000u / 2 ? 0x7fff0000u : (uint32_t)(nsamples * 2);
    memcpy(h, "RIFF", 4);
    wr32(h + 4, 36 + bytes);
    memcpy(h + 8, "WAVEfmt ", 8);
    wr32(h + 16, 16);
    wr16(h + 20, 1);            /* PCM */
    wr16(h + 22, 1);            /* mono */
    wr32(h + 24, AUDIO_RATE);
    wr32(h + 28, AUDIO_RATE * 2);
    wr16(h + 32, 2);
    wr16(h + 34, 16);
    memcpy(h + 36, "data", 4);
    wr32(h + 40, bytes);
}

int audio_wav_parse(const uint8_t *d, size_t len, audio_pcm *out)
{
    memset(out, 0, sizeof *out);
    if (len < 12 || memcmp(d, "RIFF", 4) || memcmp(d + 8, "WAVE", 4))
        return -1;
    unsigned channels = 0, bits = 0, format = 0;
    uint32_t rate = 0;
    size_t at = 12;
    while (at + 8 <= len) {
        uint32_t sz = rd32(d + at + 4);
        const uint8_t *body = d + at + 8;
        size_t avail = len - at - 8;
        if (!memcmp(d + at, "fmt ", 4) && sz >= 16 && avail >= 16) {
            format = rd16(body);
            channels = rd16(body + 2);
            rate = rd32(body + 4);
            bits = rd16(body + 14);
        } else if (!memcmp(d + at, "data", 4)) {
            if (format != 1 || bits != 16 || channels < 1 || channels > 2 || rate < 4000 || rate > 192000)
                return -1;
            size_t bytes = sz > avail ? avail : sz;   /* a writer that never fixed its header */
            size_t frames = bytes / (2 * channels);
            size_t n = (size_t)((double)frames * AUDIO_RATE / rate);
            if (pcm_alloc(out, n))
                return -1;
            for (size_t i = 0; i < n; i++) {
                /* linear interpolation; a no-op at AUDIO_RATE */
                double pos = (double)i * rate / AUDIO_RATE;
                size_t f0 = (size_t)pos;
                size_t f1 = f0 + 1 < frames ? f0 + 1 : f0;
                double frac = pos - (double)f0, v = 0;
                for (unsigned c = 0; c < channels; c++) {
                    double a = (int16_t)rd16(body + 2 * (f0 * channels + c));
                    double b = (int16_t)rd16(body + 2 * (f1 * channels + c));
                    v += a + (b - a) * frac;
                }
                out->pcm[i] = (int16_t)lrint(v / channels);
            }
            return 0;
        }
        at += 8 + (size_t)sz + (sz & 1);
    }
    return -1;
}

/* Drops leading and trailing near-silence, keeping 10 ms, so clips join at a fixed pause. */
static void trim(audio_pcm *p)
{
    const int thr = 328;        /* 1% of full scale */
    size_t a = 0, b = p->n;
    while (a < b && abs(p->pcm[a]) < thr)
        a++;
    while (b > a && abs(p->pcm[b - 1]) < thr)
        b--;
    if (a == b) {
        p->n = 0;
        return;
    }
    size_t keep = AUDIO_RATE / 100;
    a = a > keep ? a - keep : 0;
    b = b + keep < p->n ? b + keep : p->n;
    memmove(p->pcm, p->pcm + a, (b - a) * sizeof *p->pcm);
    p->n = b - a;
}

/* ---- the cache ---- */

/* FNV-1a 64: stable across runs and builds, which is all a cache key needs. */
static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* DATA/audio-cache, or HALL_AUDIO_CACHE: clips depend only on (voice, text), so test runs and
 * several halls on one box may share one cache. */
static void cache_dir(const char *data_dir, char *out, size_t len)
{
    const char *env = getenv("HALL_AUDIO_CACHE");
    if (env && *env) snprintf(out, len, "%s", env);
    else snprintf(out, len, "%s/audio-cache", data_dir);
}

void audio_cache_path(const char *data_dir, const char *voice, int rate, const char *text, char *out, size_t len)
{
    char dir[3900];
    cache_dir(data_dir, dir, sizeof dir);
    uint64_t h = 14695981039346656037ull;
    h = fnv(h, "hk-audio-1", 11);   /* bump when the synthesis options change */
    h = fnv(h, voice, strlen(voice) + 1);
    if (rate != AUDIO_RATE_WPM) {       /* the usual rate keeps the names the cache always had */
        char r[16];
        int k = snprintf(r, sizeof r, "@%d", rate);
        h = fnv(h, r, (size_t)k + 1);
    }
    h = fnv(h, text, strlen(text));
    snprintf(out, len, "%s/%016llx.wav", dir, (unsigned long long)h);
}

static int read_file(const char *path, uint8_t **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) || st.st_size <= 0 || st.st_size > (64 << 20)) {
        close(fd);
        return -1;
    }
    *len = (size_t)st.st_size;
    *data = malloc(*len);
    size_t got = 0;
    while (*data && got < *len) {
        ssize_t r = read(fd, *data + got, *len - got);
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    if (!*data || got != *len) {
        free(*data);
        return -1;
    }
    return 0;
}

static int load_wav(const char *path, audio_pcm *out)
{
    uint8_t *d;
    size_t n;
    if (read_file(path, &d, &n))
        return -1;
    int rc = audio_wav_parse(d, n, out);
    free(d);
    return rc;
}

/* espeak-ng -v VOICE -b 1 -s RATE -w TMP -- TEXT, then TMP renamed into place: a crash halfway
 * leaves no half file in the cache. */
static int run_espeak(const char *voice, int rate, const char *text, const char *tmp, char *err, size_t errlen)
{
    char srate[16];
    snprintf(srate, sizeof srate, "%d", rate);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    char *argv[] = { "espeak-ng", "-v", (char *)voice, "-b", "1", "-s", srate, "-w", (char *)tmp, "--",
                     (char *)text, NULL };
    pid_t pid;
    int rc = posix_spawnp(&pid, "espeak-ng", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc) {
        snprintf(err, errlen, "cannot run espeak-ng: %s (install the espeak-ng package)", strerror(rc));
        return -1;
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) {
            snprintf(err, errlen, "espeak-ng: waitpid: %s", strerror(errno));
            return -1;
        }
    if (!WIFEXITED(st) || WEXITSTATUS(st)) {
        snprintf(err, errlen, "espeak-ng -v %s failed (status %d)", voice, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        return -1;
    }
    return 0;
}

int audio_synth(const char *data_dir, const char *voice, int rate, const char *text, audio_pcm *out, char *err,
                size_t errlen)
{
    char path[4096], tmp[4200];
    memset(out, 0, sizeof *out);
    audio_cache_path(data_dir, voice, rate, text, path, sizeof path);
    if (load_wav(path, out)) {
        char dir[4096];
        cache_dir(data_dir, dir, sizeof dir);
        if (hk_mkdirs(dir, 0755)) {
            snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
            return -1;
        }
        snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)gettid());
        if (run_espeak(voice, rate, text, tmp, err, errlen)) {
            unlink(tmp);
            return -1;
        }
        if (rename(tmp, path)) {
            snprintf(err, errlen, "cannot store %s: %s", path, strerror(errno));
            unlink(tmp);
            return -1;
        }
        if (load_wav(path, out)) {
            snprintf(err, errlen, "espeak-ng wrote an unreadable WAV for '%.40s'", text);
            return -1;
        }
    }
    trim(out);     /* punctuation alone gives no sound: an empty clip, not an error */
    return 0;
}
