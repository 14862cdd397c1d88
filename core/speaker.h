/* speaker.h: what each speaker zone plays next (docs/audio.md), pure logic: no I/O, no clock, no
 * PCM. The audio adapter (io/audio/audio.c) owns the samples and pulls "segments" (which clip, which
 * samples) period by period; the scheduler decides priorities, preemption and the evacuation loop.
 * Rules:
 *  - priorities emergency > notice > call. Queued items play notice first, then calls, each FIFO.
 *    Only an emergency cuts what is playing; a notice waits for the call in progress to end.
 *  - an evacuation owns every zone: it cuts the item in progress (truncated), drops everything
 *    queued, and refuses calls and notices until it ends. Nothing queued before it survives it,
 *    so no stale call plays after the clear.
 *  - a queue freeze (without evacuation audio) cuts and drops calls and refuses new ones.
 *  - outside those, no call is refused: a zone's queue grows. A backlog shortens calls instead
 *    (speaker_enqueue_call): no chime between consecutive calls, no repeat while anything
 *    waits, the code and window spoken faster, and up to 5 calls in a row joined into one
 *    sentence ("请A1号到1号窗口 … A2号到2号窗口办理").
 *  - the evacuation pattern per zone: lead-in clip (the sounder tone), then each message meant for
 *    the zone, again and again while any message loops; a non-looping program plays once.
 * Every end of an item is reported by a segment (SPEAKER_SEG_LAST, count 0 for cuts and drops),
 * in the order it happens relative to the samples, so the adapter can close files and emit events
 * exactly where the sound changes. */
#ifndef HK_SPEAKER_H
#define HK_SPEAKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { SPEAKER_CALL = 0, SPEAKER_NOTICE = 1, SPEAKER_EMERGENCY = 2 };
enum {
    SPEAKER_EFROZEN = -1,   /* refused: evacuation active (or queue frozen, for calls) */
    SPEAKER_EFULL = -2,     /* the zone has SPEAKER_QUEUE_MAX notices waiting */
    SPEAKER_EINVAL = -3,    /* bad zone, id 0, zero length, too many messages */
    SPEAKER_ENOMEM = -4,
};
#define SPEAKER_ZONES_MAX 32     /* zone masks are 32 bits */
#define SPEAKER_QUEUE_MAX 8      /* notices waiting per zone (calls are not bounded: a backlog shortens them) */
#define SPEAKER_MSGS_MAX 16      /* messages of one evacuation program */

const char *speaker_priority_name(int priority);   /* "call", "notice", "emergency" */

/* ---- code to words ---- */
enum { SPEAKER_DIGITS_LING = 0, SPEAKER_DIGITS_YAO = 1 };
/* "A005" -> "A" "零" "零" "五": letters one by one, then each digit; with SPEAKER_DIGITS_YAO a 1
 * is read 幺 (as on the radio), else 一. words[] receive static strings. Returns the number of
 * words, or SPEAKER_EINVAL for an empty code, a character other than A-Z a-z 0-9 (lower case is
 * read as upper case) or more than max words. */
int speaker_code_words(const char *code, int digits, const char **words, size_t max);
/* The same with English digit names ("zero".."nine"); letters as above. */
int speaker_code_words_en(const char *code, const char **words, size_t max);

/* ---- the scheduler ---- */
typedef struct speaker speaker;

enum {
    SPEAKER_SEG_FIRST = 1,       /* this segment holds the owner's first sample: it has started */
    SPEAKER_SEG_LAST = 2,        /* the owner has ended after this segment */
    SPEAKER_SEG_TRUNCATED = 4,   /* with LAST: cut off (preempted, frozen, replaced) */
    SPEAKER_SEG_DROPPED = 8,     /* with LAST: removed from the queue without a sample played */
};

typedef struct {
    uint64_t owner;     /* the announcement; 0 = nothing is playing (silence) */
    uint64_t clip;      /* where the samples come from: the owner itself for calls and notices,
                         * the lead-in or a message for an evacuation; 0 = silence */
    size_t offset;      /* first sample in clip */
    size_t count;       /* samples; 0 for end markers */
    int priority;
    int flags;          /* SPEAKER_SEG_* */
} speaker_seg;

/* One message of an evacuation program. */
typedef struct {
    uint64_t clip;
    size_t len;         /* samples; 0 = not ready yet (see speaker_clip_ready) */
    bool loop;
    uint32_t zones;     /* bit i = zone i */
} speaker_msg;

speaker *speaker_new(size_t nzones);   /* NULL if nzones is 0 or > SPEAKER_ZONES_MAX, or no memory */
void speaker_free(speaker *s);
size_t speaker_zones(const speaker *s);

/* Queues a call or notice (owner != 0, len samples > 0) on zone, played whole. 0, SPEAKER_EFROZEN
 * (calls while frozen or evacuating, notices while evacuating: the caller drops it), _EFULL (notices
 * only), _EINVAL, _ENOMEM. */
int speaker_enqueue(speaker *s, size_t zone, int priority, uint64_t owner, size_t len);

/* A call's sound, laid out in this order in the owner's clip, so that a backlog can leave parts
 * out: each part is decided when it is reached, from what waits in the zone then. */
typedef struct {
    size_t lead;        /* the chime and its pause: left out right after another call */
    size_t head;        /* the sentence before the code (请): left out when joined to the call before */
    size_t body;        /* the code and the window (> 0): played unless fast is */
    size_t fast;        /* the same spoken faster (0: none): played instead in a backlog (joined to
                         * the call before, or calls waiting when the body is reached) */
    size_t tail;        /* the rest of the first sentence (办理) and its pause: left out when the
                         * next call joins this sentence */
    size_t rest;        /* repeats and the second language: left out when anything waits */
    size_t join_gap;    /* silence between two joined calls (clip 0 in its segment) */
} speaker_call_parts;
/* Queues a call with parts. 0, SPEAKER_EFROZEN, _EINVAL (bad zone, owner 0, empty body), _ENOMEM. */
int speaker_enqueue_call(speaker *s, size_t zone, uint64_t owner, const speaker_call_parts *parts);

/* Freezes or unfreezes calls. Freezing cuts calls in progress and drops queued calls. */
void speaker_freeze(speaker *s, bool frozen);
bool speaker_frozen(const speaker *s);

/* Starts (or replaces) the evacuation program `owner` on every zone: lead-in clip lead (lead_len
 * samples > 0) then messages. A running program is ended first (truncated). 0 or _EINVAL. */
int speaker_evacuate(speaker *s, uint64_t owner, uint64_t lead, size_t lead_len, const speaker_msg *msgs,
                     size_t nmsgs);
/* Ends the evacuation: each zone reports the program's end (not truncated: a clear is its end). */
void speaker_evacuate_end(speaker *s);
bool speaker_evacuating(const speaker *s);
/* A message clip of the running program became ready (len > 0) or failed (len 0: skipped). */
void speaker_clip_ready(speaker *s, uint64_t clip, size_t len);

/* The next up to n samples of zone as segments (at most max). Returns the number of segments;
 * *done is the number of samples they cover (< n only when max segments were not enough: call
 * again). Silence is one segment with owner 0. */
size_t speaker_pull(speaker *s, size_t zone, size_t n, speaker_seg *out, size_t max, size_t *done);

/* Whether any zone has something playing, queued or an end to report (else pulls only give
 * silence and the adapter may stop its clock). */
bool speaker_busy(const speaker *s);

#endif
