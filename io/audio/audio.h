/* audio.h: the hall's broadcast speakers (docs/audio.md): Mandarin calls from cached clips,
 * notices, and the evacuation pattern, scheduled by core/speaker.c and paced by a libuv timer
 * into per-zone sinks (file, alsa, none). Nothing here blocks the loop: speech is synthesised by
 * `espeak-ng` in the libuv thread pool, one job at a time, into DATA/audio-cache. */
#ifndef HK_AUDIO_H
#define HK_AUDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/config.h"
#include "core/emergency.h"
#include "core/speaker.h"

#define AUDIO_RATE 22050            /* Hz, mono, signed 16-bit: espeak-ng's own format */
#define AUDIO_PERIOD_MS 20          /* the pacing clock */
#define AUDIO_RATE_WPM 150          /* espeak-ng's speed for every clip: slow and clear */
#define AUDIO_FAST_WPM 230          /* the code and window of a call in a backlog (docs/audio.md) */

/* The speakers' codes (core/speaker.h), with the same numbers: a code means one thing on both
 * sides of audio.c. The announce command turns them into the protocol's words (errors.h). */
enum {
    AUDIO_EFROZEN = SPEAKER_EFROZEN,   /* refused: evacuation audio active, or calls while the queue is frozen */
    AUDIO_EFULL = SPEAKER_EFULL,       /* too many announcements waiting */
    AUDIO_EINVAL = SPEAKER_EINVAL,     /* bad code, unknown window or zone, empty text */
    AUDIO_ENOMEM = SPEAKER_ENOMEM,
};

typedef struct audio audio;

/* All callbacks run on the loop, from the audio timer (never inside an audio_* call). priority is
 * "call", "notice" or "emergency"; zone is the zone id. started: the first sample went to the
 * zone's sink; finished: the last one did, or it was cut (truncated). fault: a sink or the speech
 * synthesiser failed; audio goes on where it can (the screens still show every call). */
typedef struct {
    void (*started)(void *arg, const char *text, const char *zone, const char *priority);
    void (*finished)(void *arg, const char *text, const char *zone, const char *priority, bool truncated);
    void (*fault)(void *arg, const char *msg);
    void *arg;
} audio_callbacks;

/* cfg (borrowed, must outlive the audio) gives zones, sinks, voices and templates; data_dir holds
 * audio-cache/ and the file sink's directory. Starts rendering the clip cache off the loop.
 * NULL with a message in err on a bad setup (out of memory, more zones than supported). A sink
 * that cannot be opened is not an error here: it is reported through cb->fault. */
audio *audio_new(uv_loop_t *loop, const hk_config *cfg, const char *data_dir, const audio_callbacks *cb,
                 char *err, size_t errlen);

/* Whether every fixed clip (chime, letters, digits, phrases, window names, playbook messages) is
 * in memory. Calls made before that wait for their clips (and are dropped by an emergency). */
bool audio_ready(const audio *a);

/* Announces ticket `code` to window_id's zone (also for call.recall). 0, AUDIO_EFROZEN (dropped,
 * not queued for later), AUDIO_EINVAL, AUDIO_ENOMEM. Never refused for a backlog: the zone's
 * scheduler shortens queued calls instead (core/speaker.h). */
int audio_call(audio *a, const char *code, int window_id);

/* Free text to the named zones (none = all), synthesised off the loop, then played with notice
 * priority. 0, AUDIO_EFROZEN (evacuation audio active), AUDIO_EINVAL (unknown zone, empty text),
 * AUDIO_EFULL. */
int audio_notice(audio *a, const char *text, const char *const *zones, size_t nzones);

/* The emergency outputs, passed on every change (from the outputs hook; cheap when nothing
 * changed). Evacuation audio runs while out->announce is not empty (the public primary incident's
 * announce/notice steps): sounder tone then the messages (prefixed 这是演练 for a drill), looped
 * if any step loops. out->frozen drops calls. NULL = nothing active. Never blocks. */
void audio_emergency(audio *a, const emergency_out *out);

/* Stops the clock, ends what plays in the sinks (truncated; no more callbacks), waits for a
 * running synthesis job, closes the sinks, then calls cb(arg) (may be NULL) and frees a. */
void audio_close(audio *a, void (*cb)(void *arg), void *arg);

/* ---- clips (io/audio/audio_clips.c): PCM at AUDIO_RATE ---- */
typedef struct {
    int16_t *pcm;
    size_t n;
} audio_pcm;

/* The call chime (two falling notes) and the evacuation sounder (a slow sweep), generated. */
int audio_chime(audio_pcm *out);
int audio_tone(audio_pcm *out, int seconds);
/* Cache file of (voice, rate in words per minute, text): DIR/audio-cache/HASH.wav. */
void audio_cache_path(const char *data_dir, const char *voice, int rate, const char *text, char *out, size_t len);
/* Speech for (voice, rate, text): read from the cache, else made by espeak-ng (blocking: call it from
 * a worker thread) and stored there. Leading/trailing silence trimmed, resampled to AUDIO_RATE.
 * 0, or -1 with a message in err. */
int audio_synth(const char *data_dir, const char *voice, int rate, const char *text, audio_pcm *out, char *err,
                size_t errlen);
/* WAV (RIFF PCM 16-bit mono or stereo, any rate) into AUDIO_RATE mono. 0 or -1. */
int audio_wav_parse(const uint8_t *data, size_t len, audio_pcm *out);
void audio_wav_header(uint8_t hdr[44], size_t nsamples);
void audio_pcm_free(audio_pcm *p);

/* ---- sinks (io/audio_sink_*.c), used by io/audio/audio.c ---- */
typedef struct {
    const char *text, *zone, *priority;
    int64_t started_at_ms;      /* asked for */
    int64_t first_sample_at_ms; /* first sample handed to the sink */
    int64_t ended_at_ms;
    size_t samples;             /* handed to the sink */
    bool truncated;
    const char *parts_json;     /* [{"text":..,"at":SAMPLE,"n":SAMPLES}, ...] or NULL */
} audio_ann;

typedef struct audio_sink audio_sink;
typedef struct {
    /* An announcement starts / its samples / it ends. Errors: -1 with err filled (a fault). */
    int (*begin)(audio_sink *s, const audio_ann *ann, char *err, size_t errlen);
    int (*write)(audio_sink *s, const int16_t *pcm, size_t n, char *err, size_t errlen);
    int (*end)(audio_sink *s, const audio_ann *ann, char *err, size_t errlen);
    /* A fault raised off the loop (alsa thread) since the last call, or NULL; polled per period. */
    const char *(*poll_fault)(audio_sink *s, char *buf, size_t len);
    void (*free)(audio_sink *s);
} audio_sink_ops;
struct audio_sink {
    const audio_sink_ops *ops;
};

/* File sink: one WAV per announcement in dir (created if missing) and dir/index.jsonl. */
audio_sink *audio_sink_file_new(const char *dir, const char *zone, char *err, size_t errlen);
/* ALSA sink: opens device in its own thread (a missing device is a fault, retried). Without
 * ALSA support compiled in, NULL with err saying so. */
audio_sink *audio_sink_alsa_new(const char *device, const char *zone, char *err, size_t errlen);

#endif
