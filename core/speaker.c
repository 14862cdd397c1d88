/* speaker.c: the speaker scheduler and the code-to-words rule (core/speaker.h). Pure: the
 * adapter passes lengths in samples and pulls segments; memory is allocated only when a zone's
 * queue grows (calls are never refused for room). */
#include "speaker.h"

#include <stdlib.h>
#include <string.h>

const char *speaker_priority_name(int priority)
{
    switch (priority) {
    case SPEAKER_CALL: return "call";
    case SPEAKER_NOTICE: return "notice";
    case SPEAKER_EMERGENCY: return "emergency";
    default: return "unknown";
    }
}

/* ---- code to words ---- */

static const char *const letters[26] = { "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M",
                                         "N", "O", "P", "Q", "R", "S", "T", "U", "V", "W", "X", "Y", "Z" };
static const char *const digits_zh[10] = { "零", "一", "二", "三", "四", "五", "六", "七", "八", "九" };
static const char *const digits_en[10] = { "zero", "one", "two", "three", "four",
                                           "five", "six", "seven", "eight", "nine" };

static int code_words(const char *code, const char *const *digit_names, const char *one, const char **words,
                      size_t max)
{
    size_t n = 0;
    if (!code || !*code)
        return SPEAKER_EINVAL;
    for (const char *p = code; *p; p++) {
        const char *w;
        if (*p >= 'A' && *p <= 'Z')
            w = letters[*p - 'A'];
        else if (*p >= 'a' && *p <= 'z')
            w = letters[*p - 'a'];
        else if (*p >= '0' && *p <= '9')
            w = *p == '1' ? one : digit_names[*p - '0'];
        else
            return SPEAKER_EINVAL;
        if (n >= max)
            return SPEAKER_EINVAL;
        words[n++] = w;
    }
    return (int)n;
}

int speaker_code_words(const char *code, int digits, const char **words, size_t max)
{
    return code_words(code, digits_zh, digits == SPEAKER_DIGITS_YAO ? "幺" : "一", words, max);
}

int speaker_code_words_en(const char *code, const char **words, size_t max)
{
    return code_words(code, digits_en, "one", words, max);
}

/* ---- the scheduler ---- */

/* A call's parts in its PCM (speaker_call_parts), then the pause before a joined call. */
enum { P_LEAD, P_HEAD, P_BODY, P_FAST, P_TAIL, P_REST, P_JOIN, P_END };
#define JOIN_MAX 5          /* calls in one joined sentence: more is hard to follow */
#define QUEUE_START 8       /* first capacity of a zone's queue; it grows for calls */

typedef struct {
    uint64_t owner;
    int priority;
    bool started;
    bool call;                 /* a call with parts: a backlog may shorten it */
    bool joining;              /* the next call continues its sentence */
    bool quick;                /* the fast body instead of the body */
    size_t part[P_REST + 1];
    size_t gap;                /* pause before a joined call */
    int phase;
    size_t ppos;               /* samples of the phase played */
} sp_item;

typedef struct {
    uint64_t owner;
    int priority;
    int flags;
} sp_mark;

typedef struct {
    bool has_cur;
    sp_item cur;
    sp_item *q;
    size_t nq, cap;            /* marks hold 2 * cap + 4 */
    sp_mark *marks;            /* ends to report, oldest first (ring) */
    size_t mhead, nmarks;
    /* how the last item ended, for the next call: right after a call (no chime), joined */
    bool after_call, joined;
    int chain;                 /* calls so far in the sentence being joined */
    /* the evacuation program in this zone */
    bool ev_on, ev_started, ev_done;
    int ev_seg;                    /* -1 = lead-in, else message index */
    size_t ev_pos;
    uint32_t ev_played;            /* messages already played once */
} sp_zone;

struct speaker {
    size_t nzones;
    bool frozen, evac;
    uint64_t ev_owner, ev_lead;
    size_t ev_lead_len;
    speaker_msg msgs[SPEAKER_MSGS_MAX];
    size_t nmsgs;
    uint32_t ev_failed;            /* messages that could not be made: skipped */
    bool ev_loops;
    sp_zone z[];
};

#define MARKS_CAP(z) (2 * (z)->cap + 4)

/* Doubles a zone's queue and its ring of ends (kept in order). 0 or SPEAKER_ENOMEM. */
static int zone_grow(sp_zone *z)
{
    size_t cap = z->cap ? 2 * z->cap : QUEUE_START;
    sp_item *q = realloc(z->q, cap * sizeof *q);
    if (!q)
        return SPEAKER_ENOMEM;
    z->q = q;
    sp_mark *m = malloc((2 * cap + 4) * sizeof *m);
    if (!m)
        return SPEAKER_ENOMEM;
    for (size_t i = 0; i < z->nmarks; i++)
        m[i] = z->marks[(z->mhead + i) % MARKS_CAP(z)];
    free(z->marks);
    z->marks = m;
    z->mhead = 0;
    z->cap = cap;
    return 0;
}

speaker *speaker_new(size_t nzones)
{
    if (nzones == 0 || nzones > SPEAKER_ZONES_MAX)
        return NULL;
    speaker *s = calloc(1, sizeof *s + nzones * sizeof s->z[0]);
    if (!s)
        return NULL;
    s->nzones = nzones;
    for (size_t i = 0; i < nzones; i++)
        if (zone_grow(&s->z[i])) {
            speaker_free(s);
            return NULL;
        }
    return s;
}

void speaker_free(speaker *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nzones; i++) {
        free(s->z[i].q);
        free(s->z[i].marks);
    }
    free(s);
}

size_t speaker_zones(const speaker *s)
{
    return s->nzones;
}

bool speaker_frozen(const speaker *s)
{
    return s->frozen;
}

bool speaker_evacuating(const speaker *s)
{
    return s->evac;
}

static void mark(sp_zone *z, uint64_t owner, int priority, int flags)
{
    if (z->nmarks >= MARKS_CAP(z))
        return;     /* callers check room first; never reached */
    z->marks[(z->mhead + z->nmarks) % MARKS_CAP(z)] = (sp_mark){ owner, priority, flags | SPEAKER_SEG_LAST };
    z->nmarks++;
}

static void cut_item(sp_zone *z, const sp_item *it)
{
    mark(z, it->owner, it->priority, it->started ? SPEAKER_SEG_TRUNCATED : SPEAKER_SEG_DROPPED);
}

/* Cuts the item in progress and drops queued items of priority <= upto. */
static void cut_zone(sp_zone *z, int upto)
{
    if (z->has_cur && z->cur.priority <= upto) {
        cut_item(z, &z->cur);
        z->has_cur = false;
    }
    size_t keep = 0;
    for (size_t i = 0; i < z->nq; i++) {
        if (z->q[i].priority <= upto)
            mark(z, z->q[i].owner, z->q[i].priority, SPEAKER_SEG_DROPPED);
        else
            z->q[keep++] = z->q[i];
    }
    z->nq = keep;
    z->after_call = z->joined = false;
    z->chain = 0;
}

static int enqueue(speaker *s, size_t zone, sp_item it)
{
    sp_zone *z = &s->z[zone];
    if (s->evac || (s->frozen && it.priority == SPEAKER_CALL))
        return SPEAKER_EFROZEN;
    if (it.priority == SPEAKER_NOTICE) {
        size_t notices = 0;
        for (size_t i = 0; i < z->nq; i++)
            notices += z->q[i].priority == SPEAKER_NOTICE;
        if (notices >= SPEAKER_QUEUE_MAX)
            return SPEAKER_EFULL;
    }
    /* every live item may leave an end to report: room for all of them (see MARKS_CAP) */
    if ((z->has_cur ? 1 : 0) + z->nq + z->nmarks + 1 >= z->cap && zone_grow(z))
        return SPEAKER_ENOMEM;
    z->q[z->nq++] = it;
    return 0;
}

int speaker_enqueue(speaker *s, size_t zone, int priority, uint64_t owner, size_t len)
{
    if (zone >= s->nzones || owner == 0 || len == 0 || (priority != SPEAKER_CALL && priority != SPEAKER_NOTICE))
        return SPEAKER_EINVAL;
    return enqueue(s, zone, (sp_item){ .owner = owner, .priority = priority, .part[P_BODY] = len });
}

int speaker_enqueue_call(speaker *s, size_t zone, uint64_t owner, const speaker_call_parts *p)
{
    if (zone >= s->nzones || owner == 0 || !p || p->body == 0)
        return SPEAKER_EINVAL;
    return enqueue(s, zone, (sp_item){ .owner = owner, .priority = SPEAKER_CALL, .call = true,
                                       .part = { p->lead, p->head, p->body, p->fast, p->tail, p->rest },
                                       .gap = p->join_gap });
}

void speaker_freeze(speaker *s, bool frozen)
{
    if (frozen && !s->frozen)
        for (size_t i = 0; i < s->nzones; i++)
            cut_zone(&s->z[i], SPEAKER_CALL);
    s->frozen = frozen;
}

static void end_program(speaker *s, int flags_if_started)
{
    for (size_t i = 0; i < s->nzones; i++) {
        sp_zone *z = &s->z[i];
        if (z->ev_on && !z->ev_done)
            mark(z, s->ev_owner, SPEAKER_EMERGENCY, z->ev_started ? flags_if_started : SPEAKER_SEG_DROPPED);
        z->ev_on = false;
    }
    s->evac = false;
}

int speaker_evacuate(speaker *s, uint64_t owner, uint64_t lead, size_t lead_len, const speaker_msg *msgs,
                     size_t nmsgs)
{
    if (owner == 0 || lead == 0 || lead_len == 0 || nmsgs > SPEAKER_MSGS_MAX || (nmsgs && !msgs))
        return SPEAKER_EINVAL;
    for (size_t i = 0; i < nmsgs; i++)
        if (msgs[i].clip == 0)
            return SPEAKER_EINVAL;
    for (size_t i = 0; i < s->nzones; i++) {
        const sp_zone *z = &s->z[i];
        if (z->nmarks + 2 + z->nq + 1 > MARKS_CAP(z))
            return SPEAKER_EFULL;   /* only if pulls stopped; the adapter tries again */
    }
    if (s->evac)
        end_program(s, SPEAKER_SEG_TRUNCATED);
    s->evac = true;
    s->ev_owner = owner;
    s->ev_lead = lead;
    s->ev_lead_len = lead_len;
    s->nmsgs = nmsgs;
    s->ev_failed = 0;
    s->ev_loops = false;
    for (size_t i = 0; i < nmsgs; i++) {
        s->msgs[i] = msgs[i];
        s->ev_loops |= msgs[i].loop;
    }
    for (size_t i = 0; i < s->nzones; i++) {
        sp_zone *z = &s->z[i];
        cut_zone(z, SPEAKER_NOTICE);
        z->ev_on = true;
        z->ev_started = z->ev_done = false;
        z->ev_seg = -1;
        z->ev_pos = 0;
        z->ev_played = 0;
    }
    return 0;
}

void speaker_evacuate_end(speaker *s)
{
    if (s->evac)
        end_program(s, 0);
}

void speaker_clip_ready(speaker *s, uint64_t clip, size_t len)
{
    if (!s->evac)
        return;
    for (size_t i = 0; i < s->nmsgs; i++) {
        if (s->msgs[i].clip != clip)
            continue;
        s->msgs[i].len = len;
        if (len == 0)
            s->ev_failed |= 1u << i;
    }
}

/* Moves zone zi past its current segment of the program: the next message meant for it, else
 * the lead-in again (looping program) or the end (played once). */
static void ev_advance(speaker *s, size_t zi)
{
    sp_zone *z = &s->z[zi];
    if (z->ev_seg >= 0)
        z->ev_played |= 1u << z->ev_seg;
    z->ev_pos = 0;
    for (size_t j = (size_t)(z->ev_seg + 1); j < s->nmsgs; j++) {
        const speaker_msg *m = &s->msgs[j];
        if (!(m->zones & (1u << zi)) || (s->ev_failed & (1u << j)))
            continue;
        if (m->loop || !(z->ev_played & (1u << j))) {
            z->ev_seg = (int)j;
            return;
        }
    }
    if (s->ev_loops) {
        z->ev_seg = -1;
        return;
    }
    z->ev_done = true;
    mark(z, s->ev_owner, SPEAKER_EMERGENCY, 0);
}

/* ---- playing calls and notices ---- */

static size_t next_pick(const sp_zone *z)
{
    size_t pick = 0;
    for (size_t i = 0; i < z->nq; i++)
        if (z->q[i].priority > z->q[pick].priority)
            pick = i;
    return pick;
}

static size_t phase_len(const sp_item *it)
{
    return it->phase == P_JOIN ? it->gap : it->part[it->phase];
}

static size_t part_start(const sp_item *it, int phase)
{
    size_t at = 0;
    for (int i = 0; i < phase && i <= P_REST; i++)
        at += it->part[i];
    return at;
}

/* Whether the phase the current item has reached plays: how a backlog shortens calls. Decided
 * once, when the phase is reached, from what waits at that moment. */
static bool phase_wanted(sp_zone *z, sp_item *it)
{
    if (!it->call)
        return it->phase != P_JOIN;
    switch (it->phase) {
    case P_LEAD: return !z->joined && !z->after_call;   /* no chime between consecutive calls */
    case P_HEAD: return !z->joined;                     /* a joined call continues the sentence */
    case P_BODY:                                        /* faster in a backlog */
        it->quick = it->part[P_FAST] && (z->joined || z->nq);
        return !it->quick;
    case P_FAST: return it->quick;
    case P_TAIL:                                        /* the next call joins this sentence */
        it->joining = z->nq && z->chain + 1 < JOIN_MAX && z->q[next_pick(z)].call;
        return !it->joining;
    case P_REST: return !it->joining && z->nq == 0;     /* a repeat only when nothing waits */
    case P_JOIN: return it->joining;
    default: return true;
    }
}

/* Moves the item past finished and left-out phases. true when it has ended. */
static bool settle(sp_zone *z, sp_item *it)
{
    while (it->phase < P_END) {
        if (it->ppos == 0 && !phase_wanted(z, it)) {
            it->phase++;
            continue;
        }
        if (it->ppos < phase_len(it))
            return false;
        it->phase++;
        it->ppos = 0;
    }
    return true;
}

static void start_next(sp_zone *z)
{
    size_t pick = next_pick(z);
    z->cur = z->q[pick];
    memmove(&z->q[pick], &z->q[pick + 1], (z->nq - pick - 1) * sizeof z->q[0]);
    z->nq--;
    z->has_cur = true;
    if (!z->cur.call)
        z->after_call = z->joined = false;
    if (!z->joined)
        z->chain = 0;
    settle(z, &z->cur);     /* the body is never empty: it does not end here */
}

size_t speaker_pull(speaker *s, size_t zone, size_t n, speaker_seg *out, size_t max, size_t *done)
{
    size_t k = 0, got = 0;
    if (zone >= s->nzones) {
        *done = 0;
        return 0;
    }
    sp_zone *z = &s->z[zone];
    while (k < max) {
        if (z->nmarks) {
            const sp_mark *m = &z->marks[z->mhead];
            out[k++] = (speaker_seg){ .owner = m->owner, .priority = m->priority, .flags = m->flags };
            z->mhead = (z->mhead + 1) % MARKS_CAP(z);
            z->nmarks--;
            continue;
        }
        if (got == n)
            break;
        size_t want = n - got;
        speaker_seg *g = &out[k];
        *g = (speaker_seg){ 0 };
        if (z->ev_on && !z->ev_done) {
            g->owner = s->ev_owner;
            g->priority = SPEAKER_EMERGENCY;
            if (!z->ev_started) {
                g->flags |= SPEAKER_SEG_FIRST;
                z->ev_started = true;
            }
            if (z->ev_seg >= 0 && (s->ev_failed & (1u << z->ev_seg))) {
                ev_advance(s, zone);       /* its message failed while waiting on it */
                if (g->flags) k++;         /* keep the FIRST flag, with no samples */
                continue;
            }
            size_t len = z->ev_seg < 0 ? s->ev_lead_len : s->msgs[z->ev_seg].len;
            if (len == 0) {                /* message not synthesised yet: wait in silence */
                g->count = want;
                got += want;
                k++;
                continue;
            }
            g->clip = z->ev_seg < 0 ? s->ev_lead : s->msgs[z->ev_seg].clip;
            g->offset = z->ev_pos;
            g->count = len - z->ev_pos < want ? len - z->ev_pos : want;
            z->ev_pos += g->count;
            got += g->count;
            k++;
            if (z->ev_pos == len)
                ev_advance(s, zone);
            continue;
        }
        if (!z->has_cur && z->nq && !z->ev_on)
            start_next(z);
        if (!z->has_cur) {
            g->count = want;               /* silence */
            got += want;
            k++;
            z->after_call = z->joined = false;
            z->chain = 0;
            continue;
        }
        sp_item *it = &z->cur;
        g->owner = it->owner;
        g->priority = it->priority;
        if (!it->started) {
            g->flags |= SPEAKER_SEG_FIRST;
            it->started = true;
        }
        size_t len = phase_len(it);
        g->clip = it->phase == P_JOIN ? 0 : it->owner;     /* the pause is silence */
        g->offset = it->phase == P_JOIN ? 0 : part_start(it, it->phase) + it->ppos;
        g->count = len - it->ppos < want ? len - it->ppos : want;
        it->ppos += g->count;
        got += g->count;
        k++;
        if (settle(z, it)) {
            mark(z, it->owner, it->priority, 0);
            z->has_cur = false;
            z->after_call = it->call;
            z->joined = it->joining;
            z->chain = it->joining ? z->chain + 1 : 0;
        }
    }
    *done = got;
    return k;
}

bool speaker_busy(const speaker *s)
{
    for (size_t i = 0; i < s->nzones; i++) {
        const sp_zone *z = &s->z[i];
        if (z->has_cur || z->nq || z->nmarks || (z->ev_on && !z->ev_done))
            return true;
    }
    return false;
}
