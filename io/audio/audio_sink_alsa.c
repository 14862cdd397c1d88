/* audio_sink_alsa.c: a zone's speakers on an ALSA device. The loop only copies samples into a
 * single-producer single-consumer ring; an audio thread opens the device, feeds it (silence when
 * the ring is empty, so the device never underruns between announcements), recovers from xruns,
 * and reopens a lost device every few seconds. Faults go back to the loop through poll_fault.
 * Built only with HK_HAVE_ALSA (CMake links libasound then); otherwise the sink reports that. */
#include "audio.h"

#include <stdio.h>

#ifndef HK_HAVE_ALSA

audio_sink *audio_sink_alsa_new(const char *device, const char *zone, char *err, size_t errlen)
{
    (void)zone;
    snprintf(err, errlen, "sink alsa (device %s): this build has no ALSA support", device);
    return NULL;
}

#else

#include <alsa/asoundlib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RING (AUDIO_RATE * 2)           /* 2 s: the loop is never that late */
#define CHUNK (AUDIO_RATE / 50)         /* 20 ms per device write */
#define REOPEN_S 5

typedef struct {
    audio_sink base;
    char *device, *zone;
    int16_t ring[RING];
    atomic_size_t head, tail;           /* head: loop writes; tail: thread reads */
    atomic_bool stop;
    pthread_t thread;
    pthread_mutex_t fault_mu;           /* only for the fault text, never on the audio path */
    char fault[256];
    bool fault_new;
    size_t dropped;                     /* loop side: samples the full ring refused */
} alsa_sink;

static void set_fault(alsa_sink *s, const char *fmt, const char *what)
{
    pthread_mutex_lock(&s->fault_mu);
    snprintf(s->fault, sizeof s->fault, fmt, s->zone, s->device, what);
    s->fault_new = true;
    pthread_mutex_unlock(&s->fault_mu);
}

static snd_pcm_t *open_device(alsa_sink *s)
{
    snd_pcm_t *pcm = NULL;
    int rc = snd_pcm_open(&pcm, s->device, SND_PCM_STREAM_PLAYBACK, 0);
    if (rc == 0)
        rc = snd_pcm_set_params(pcm, SND_PCM_FORMAT_S16, SND_PCM_ACCESS_RW_INTERLEAVED, 1, AUDIO_RATE, 1,
                                100000 /* us of device buffer */);
    if (rc < 0) {
        set_fault(s, "audio zone %s: cannot open ALSA device %s: %s", snd_strerror(rc));
        if (pcm)
            snd_pcm_close(pcm);
        return NULL;
    }
    return pcm;
}

static void *alsa_thread(void *arg)
{
    alsa_sink *s = arg;
    snd_pcm_t *pcm = NULL;
    time_t next_open = 0;
    int16_t buf[CHUNK];
    while (!atomic_load(&s->stop)) {
        if (!pcm) {
            time_t now = time(NULL);
            if (now < next_open) {
                struct timespec ts = { 0, 100 * 1000000 };
                nanosleep(&ts, NULL);
                /* drop what the loop wrote meanwhile: stale sound is worse than none */
                atomic_store(&s->tail, atomic_load(&s->head));
                continue;
            }
            pcm = open_device(s);
            if (!pcm) {
                next_open = now + REOPEN_S;
                continue;
            }
        }
        size_t head = atomic_load_explicit(&s->head, memory_order_acquire);
        size_t tail = atomic_load_explicit(&s->tail, memory_order_relaxed);
        size_t n = head - tail < CHUNK ? head - tail : CHUNK;
        for (size_t i = 0; i < n; i++)
            buf[i] = s->ring[(tail + i) % RING];
        memset(buf + n, 0, (CHUNK - n) * sizeof buf[0]);
        atomic_store_explicit(&s->tail, tail + n, memory_order_release);
        snd_pcm_sframes_t w = snd_pcm_writei(pcm, buf, CHUNK);
        if (w < 0 && snd_pcm_recover(pcm, (int)w, 1) < 0) {
            set_fault(s, "audio zone %s: ALSA device %s failed: %s", snd_strerror((int)w));
            snd_pcm_close(pcm);
            pcm = NULL;
            next_open = time(NULL) + REOPEN_S;
        }
    }
    if (pcm) {
        snd_pcm_drop(pcm);
        snd_pcm_close(pcm);
    }
    return NULL;
}

static int alsa_begin(audio_sink *sk, const audio_ann *ann, char *err, size_t errlen)
{
    (void)sk, (void)ann, (void)err, (void)errlen;
    return 0;
}

static int alsa_write(audio_sink *sk, const int16_t *pcm, size_t n, char *err, size_t errlen)
{
    alsa_sink *s = (alsa_sink *)sk;
    size_t head = atomic_load_explicit(&s->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&s->tail, memory_order_acquire);
    size_t room = RING - (head - tail);
    size_t k = n < room ? n : room;
    for (size_t i = 0; i < k; i++)
        s->ring[(head + i) % RING] = pcm[i];
    atomic_store_explicit(&s->head, head + k, memory_order_release);
    if (k < n && s->dropped++ == 0) {
        snprintf(err, errlen, "audio zone %s: ALSA device %s is not taking samples", s->zone, s->device);
        return -1;
    }
    return 0;
}

static int alsa_end(audio_sink *sk, const audio_ann *ann, char *err, size_t errlen)
{
    (void)ann, (void)err, (void)errlen;
    ((alsa_sink *)sk)->dropped = 0;
    return 0;
}

static const char *alsa_poll_fault(audio_sink *sk, char *buf, size_t len)
{
    alsa_sink *s = (alsa_sink *)sk;
    const char *r = NULL;
    pthread_mutex_lock(&s->fault_mu);
    if (s->fault_new) {
        snprintf(buf, len, "%s", s->fault);
        s->fault_new = false;
        r = buf;
    }
    pthread_mutex_unlock(&s->fault_mu);
    return r;
}

static void alsa_free(audio_sink *sk)
{
    alsa_sink *s = (alsa_sink *)sk;
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);      /* at most one 20 ms device write */
    pthread_mutex_destroy(&s->fault_mu);
    free(s->device);
    free(s->zone);
    free(s);
}

static const audio_sink_ops alsa_ops = { alsa_begin, alsa_write, alsa_end, alsa_poll_fault, alsa_free };

audio_sink *audio_sink_alsa_new(const char *device, const char *zone, char *err, size_t errlen)
{
    alsa_sink *s = calloc(1, sizeof *s);
    if (!s || !(s->device = strdup(device)) || !(s->zone = strdup(zone))) {
        if (s) {
            free(s->device);
            free(s);
        }
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->base.ops = &alsa_ops;
    pthread_mutex_init(&s->fault_mu, NULL);
    if (pthread_create(&s->thread, NULL, alsa_thread, s)) {
        pthread_mutex_destroy(&s->fault_mu);
        free(s->device);
        free(s->zone);
        free(s);
        snprintf(err, errlen, "cannot start the audio thread");
        return NULL;
    }
    return &s->base;
}

#endif
