/* audio.c: the speakers on the loop (io/audio/audio.h): clips and their synthesis queue, call and notice
 * composition, the emergency program, and the pacing clock that pulls core/speaker.c's segments
 * into the zones' sinks every AUDIO_PERIOD_MS. */
#include "audio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/speaker.h"
#include "core/json.h"
#include "io/base/clock.h"

/* Clip ids given to the scheduler: the two generated sounds, cached speech, announcements. */
#define ID_TONE 1
#define ID_CHIME 2
#define CLIP_BASE 16
#define ITEM_BASE (1ull << 32)
#define PENDING_MAX 16              /* notices waiting for their speech (calls are never refused) */
#define JOIN_GAP MS(250)            /* pause between two calls joined into one sentence */
#define SENTENCE_GAP MS(350)        /* after a sentence; the rest of the pause before a repeat is the repeat's */
#define FAULTS_MAX 8
#define MS(x) ((size_t)(x) * AUDIO_RATE / 1000)
#define PIECE_CHIME ((size_t)-2)   /* a piece that is the chime, not a clip */

enum { CLIP_WANTED, CLIP_RUNNING, CLIP_READY, CLIP_FAILED };
/* synthesis order: emergency messages, then notices, then the fixed call pieces, then drills */
enum { SYN_EMERGENCY = 0, SYN_NOTICE = 1, SYN_PIECE = 2, SYN_LATER = 3 };

typedef struct {
    char *voice, *text;
    int rate;           /* espeak-ng words per minute */
    audio_pcm pcm;
    int state, order;
} clip_t;

/* The parts of a call a backlog may leave out (speaker_call_parts, in order). */
enum { PART_LEAD, PART_HEAD, PART_BODY, PART_FAST, PART_TAIL, PART_REST, PARTS };
/* which sentence add_template() makes: the first, a repeat, or the quick body for a backlog */
enum { TPL_FIRST, TPL_REPEAT, TPL_FAST };

/* A call or notice being composed: clips and the pause after each. */
typedef struct {
    size_t clip;        /* index, or PIECE_CHIME */
    size_t gap;         /* samples of silence after it */
    int part;           /* PART_* */
} piece;

typedef struct item {
    uint64_t id;
    int priority;
    uint32_t zones;     /* where it plays (evacuation: all) */
    int refs;           /* zones that have yet to report its end */
    char *text;
    int16_t *pcm;       /* calls and notices, once composed */
    size_t n;
    struct span { const char *text; size_t at, n; } *spans;   /* each piece in pcm, for the index */
    size_t nspans;
    piece *pieces;      /* until composed */
    size_t npieces;
    size_t part[PARTS]; /* samples of each part, once composed */
    int64_t asked_ms;
    bool pending;       /* waiting for clips */
    struct item *next;
} item;

#define RUNS_MAX 16
typedef struct {
    char id[HK_AUDIO_NAME_MAX];
    audio_sink *sink;
    bool faulted;
    item *cur;
    audio_ann ann;
    /* which samples of cur's pcm went where in the sink: a backlog leaves parts out */
    struct run { size_t src, at, n; } runs[RUNS_MAX];
    size_t nruns;
    char *parts;                    /* ann.parts_json, built at the end */
} zone;

typedef struct {
    uv_work_t req;
    audio *a;
    size_t clip;
    char *voice, *text, *dir;
    int rate;
    audio_pcm pcm;
    int rc;
    char err[256];
} synth_job;

/* What audio_emergency() last applied, to act only on changes. */
typedef struct {
    bool on, frozen, drill, evac_style;
    int from;
    size_t n;
    const hk_step_cfg *steps[SPEAKER_MSGS_MAX];
} em_state;

struct audio {
    uv_loop_t *loop;
    const hk_config *cfg;
    char *data_dir;
    audio_callbacks cb;
    speaker *sp;
    zone *zones;
    size_t nzones;
    clip_t *clips;
    size_t nclips, cap;
    audio_pcm chime, tone;
    const char *voice, *voice2;     /* espeak voices: primary and second language (or NULL) */
    char voice_buf[HK_AUDIO_NAME_MAX + 16];
    uint64_t next_id;
    item *items;                    /* every live announcement */
    synth_job *job;                 /* the one running, or NULL */
    uv_timer_t timer;
    bool timer_ready, clock_on, closing, timer_closed;
    uint64_t t0_ns, produced;
    em_state em, em_want;       /* applied, and wanted when applying had to wait */
    bool em_retry;
    char faults[FAULTS_MAX][256];
    size_t nfaults;
    char last_fault[256];
    void (*close_cb)(void *);
    void *close_arg;
};

static void kick(audio *a);

/* Faults are delivered from the timer, never inside an audio_* call; repeats are folded. */
static void fault(audio *a, const char *msg)
{
    if (!strcmp(a->last_fault, msg) || a->nfaults >= FAULTS_MAX)
        return;
    snprintf(a->last_fault, sizeof a->last_fault, "%s", msg);
    snprintf(a->faults[a->nfaults++], sizeof a->faults[0], "%s", msg);
    kick(a);
}

/* ---- clips and synthesis ---- */

static void synth_next(audio *a);

static size_t clip_want(audio *a, const char *voice, int rate, const char *text, int order)
{
    for (size_t i = 0; i < a->nclips; i++)
        if (!strcmp(a->clips[i].text, text) && !strcmp(a->clips[i].voice, voice) && a->clips[i].rate == rate) {
            if (order < a->clips[i].order)
                a->clips[i].order = order;
            return i;
        }
    if (a->nclips == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        clip_t *c = realloc(a->clips, cap * sizeof *c);
        if (!c)
            return SIZE_MAX;
        a->clips = c;
        a->cap = cap;
    }
    clip_t *c = &a->clips[a->nclips];
    *c = (clip_t){ .voice = strdup(voice), .text = strdup(text), .rate = rate, .state = CLIP_WANTED, .order = order };
    if (!c->voice || !c->text) {
        free(c->voice);
        free(c->text);
        return SIZE_MAX;
    }
    synth_next(a);      /* no-op while a job runs */
    return a->nclips++;
}

static void synth_work(uv_work_t *req)
{
    synth_job *j = req->data;
    j->rc = audio_synth(j->dir, j->voice, j->rate, j->text, &j->pcm, j->err, sizeof j->err);
}

static void item_try_compose(audio *a);
static void finish_close(audio *a);

static void synth_done(uv_work_t *req, int status)
{
    synth_job *j = req->data;
    audio *a = j->a;
    a->job = NULL;
    if (!a->closing) {
        clip_t *c = &a->clips[j->clip];
        if (status == 0 && j->rc == 0) {
            c->pcm = j->pcm;
            c->state = CLIP_READY;
        } else {
            audio_pcm_free(&j->pcm);
            c->state = CLIP_FAILED;
            fault(a, j->err[0] ? j->err : "speech synthesis cancelled");
        }
        speaker_clip_ready(a->sp, CLIP_BASE + j->clip, c->state == CLIP_READY ? c->pcm.n : 0);
        item_try_compose(a);
        synth_next(a);
    } else {
        audio_pcm_free(&j->pcm);
    }
    free(j->voice);
    free(j->text);
    free(j->dir);
    free(j);
    if (a->closing)
        finish_close(a);
}

static void synth_next(audio *a)
{
    if (a->job || a->closing)
        return;
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < a->nclips; i++)
        if (a->clips[i].state == CLIP_WANTED && (best == SIZE_MAX || a->clips[i].order < a->clips[best].order))
            best = i;
    if (best == SIZE_MAX)
        return;
    synth_job *j = calloc(1, sizeof *j);
    if (!j)
        return;
    j->a = a;
    j->clip = best;
    j->rate = a->clips[best].rate;
    j->voice = strdup(a->clips[best].voice);
    j->text = strdup(a->clips[best].text);
    j->dir = strdup(a->data_dir);
    j->req.data = j;
    if (!j->voice || !j->text || !j->dir || uv_queue_work(a->loop, &j->req, synth_work, synth_done)) {
        free(j->voice);
        free(j->text);
        free(j->dir);
        free(j);
        a->clips[best].state = CLIP_FAILED;
        fault(a, "cannot start speech synthesis");
        return;
    }
    a->clips[best].state = CLIP_RUNNING;
    a->job = j;
}

static bool clip_done(const clip_t *c)
{
    return c->state == CLIP_READY || c->state == CLIP_FAILED;
}

bool audio_ready(const audio *a)
{
    for (size_t i = 0; i < a->nclips; i++)
        if (a->clips[i].order <= SYN_PIECE && !clip_done(&a->clips[i]))
            return false;
    return true;
}

/* ---- items ---- */

static item *item_new(audio *a, int priority, uint32_t zones, const char *text)
{
    item *it = calloc(1, sizeof *it);
    if (!it || !(it->text = strdup(text))) {
        free(it);
        return NULL;
    }
    it->id = a->next_id++;
    it->priority = priority;
    it->zones = zones;
    it->asked_ms = hk_clock_now().ms;
    it->next = a->items;
    a->items = it;
    return it;
}

static void item_free(audio *a, item *it)
{
    for (item **p = &a->items; *p; p = &(*p)->next)
        if (*p == it) {
            *p = it->next;
            break;
        }
    free(it->text);
    free(it->pcm);
    free(it->spans);
    free(it->pieces);
    free(it);
}

static item *item_find(audio *a, uint64_t id)
{
    for (item *it = a->items; it; it = it->next)
        if (it->id == id)
            return it;
    return NULL;
}

static int add_piece(item *it, size_t clip, size_t gap, int part)
{
    if (clip == SIZE_MAX)
        return -1;      /* clip_want ran out of memory */
    piece *p = realloc(it->pieces, (it->npieces + 1) * sizeof *p);
    if (!p)
        return -1;
    it->pieces = p;
    p[it->npieces++] = (piece){ clip, gap, part };
    return 0;
}

/* Pieces of one template: literal runs as clips, {code} word by word, {window} by name,
 * {window_id} as a number. Runs of punctuation and spaces become pauses. In the first sentence
 * of a call (TPL_FIRST), the text before the first placeholder is the head, the text after the
 * last one the tail, the rest the body; a repeat is all rest; TPL_FAST is the body alone, spoken
 * faster with shorter pauses, which a backlog plays instead (docs/audio.md). */
static int add_template(audio *a, item *it, const char *tpl, const char *voice, bool en, const char *code,
                        const hk_window_cfg *w, int mode)
{
    char buf[HK_AUDIO_TEXT_MAX];
    const char *p = tpl;
    bool seen = false;      /* a placeholder before */
    int body = mode == TPL_FIRST ? PART_BODY : mode == TPL_FAST ? PART_FAST : PART_REST;
    int rate = mode == TPL_FAST ? AUDIO_FAST_WPM : AUDIO_RATE_WPM;
    size_t word_gap = mode == TPL_FAST ? MS(20) : MS(40), gap = mode == TPL_FAST ? MS(40) : MS(80);
    while (*p) {
        if (*p == '{') {
            const char *e = strchr(p, '}');
            if (!e)
                return -1;
            size_t k = (size_t)(e - p + 1);
            if (!strncmp(p, "{code}", k)) {
                const char *words[16];
                int nw = en ? speaker_code_words_en(code, words, 16)
                            : speaker_code_words(code, a->cfg->audio.digits, words, 16);
                if (nw < 0)
                    return -1;
                for (int i = 0; i < nw; i++)
                    if (add_piece(it, clip_want(a, voice, rate, words[i], SYN_PIECE), word_gap, body))
                        return -1;
            } else if (!strncmp(p, "{window}", k) || !strncmp(p, "{window_id}", k)) {
                if (!strncmp(p, "{window}", k) && w->name)
                    snprintf(buf, sizeof buf, "%s", w->name);
                else
                    snprintf(buf, sizeof buf, "%d", w->id);
                if (add_piece(it, clip_want(a, voice, rate, buf, SYN_PIECE), gap, body))
                    return -1;
            }
            seen = true;
            p = e + 1;
            continue;
        }
        size_t k = strcspn(p, "{");
        size_t n = k < sizeof buf - 1 ? k : sizeof buf - 1;
        memcpy(buf, p, n);
        buf[n] = 0;
        p += k;
        bool speech = false;
        for (size_t i = 0; i < n; i++)
            if ((buf[i] >= '0' && buf[i] <= '9') || (buf[i] >= 'A' && buf[i] <= 'Z') ||
                (buf[i] >= 'a' && buf[i] <= 'z') || (unsigned char)buf[i] >= 0x80)
                speech = true;
        int part = mode == TPL_REPEAT ? PART_REST : !seen ? (*p ? PART_HEAD : PART_BODY) : *p ? PART_BODY : PART_TAIL;
        if (part == PART_BODY)
            part = body;
        else if (mode == TPL_FAST)
            continue;       /* the quick body has no head or tail */
        if (speech && add_piece(it, clip_want(a, voice, rate, buf, SYN_PIECE), gap, part))
            return -1;
    }
    return 0;
}

/* Orders the first sentence's pieces by part (stable): the quick body goes after the body, before the tail. */
static void sort_pieces(item *it)
{
    for (size_t i = 1; i < it->npieces; i++)
        for (size_t j = i; j > 0 && it->pieces[j - 1].part > it->pieces[j].part; j--) {
            piece t = it->pieces[j];
            it->pieces[j] = it->pieces[j - 1];
            it->pieces[j - 1] = t;
        }
}

/* The text a template reads, for events and the index. */
static void expand(const char *tpl, const char *code, const hk_window_cfg *w, char *out, size_t len)
{
    size_t n = 0;
    out[0] = 0;
    for (const char *p = tpl; *p && n + 1 < len;) {
        const char *sub = NULL;
        char num[16];
        if (!strncmp(p, "{code}", 6)) {
            sub = code;
            p += 6;
        } else if (!strncmp(p, "{window}", 8)) {
            sub = w->name ? w->name : "";
            p += 8;
        } else if (!strncmp(p, "{window_id}", 11)) {
            snprintf(num, sizeof num, "%d", w->id);
            sub = num;
            p += 11;
        }
        if (sub) {
            int k = snprintf(out + n, len - n, "%s", sub);
            n += k > 0 ? (size_t)k : 0;
            if (n >= len)
                n = len - 1;
        } else {
            out[n++] = *p++;
            out[n] = 0;
        }
    }
}

static const char *window_template(const audio *a, int window)
{
    const hk_audio_cfg *c = &a->cfg->audio;
    for (size_t i = 0; i < c->nwindow_templates; i++)
        if (c->window_templates[i].window == window)
            return c->window_templates[i].template_;
    return c->template_[0] ? c->template_ : "请{code}号到{window}办理";
}

static const char *second_template(const audio *a)
{
    const char *t = a->cfg->audio.second_template;
    return t[0] ? t : "Number {code}, please go to window {window_id}.";
}

/* Pieces ready: the PCM, and where each piece is in it. 1 composed, 0 still waiting, -1 no memory. */
static int compose(audio *a, item *it)
{
    size_t n = 0;
    for (size_t i = 0; i < it->npieces; i++) {
        const piece *p = &it->pieces[i];
        if (p->clip != PIECE_CHIME && !clip_done(&a->clips[p->clip]))
            return 0;
        n += (p->clip == PIECE_CHIME ? a->chime.n : a->clips[p->clip].pcm.n) + p->gap;
    }
    memset(it->part, 0, sizeof it->part);
    it->pcm = calloc(n ? n : 1, sizeof *it->pcm);
    it->spans = calloc(it->npieces ? it->npieces : 1, sizeof *it->spans);
    if (!it->pcm || !it->spans)
        return -1;
    size_t at = 0;
    for (size_t i = 0; i < it->npieces; i++) {
        const piece *p = &it->pieces[i];
        const audio_pcm *src = p->clip == PIECE_CHIME ? &a->chime : &a->clips[p->clip].pcm;
        const char *name = p->clip == PIECE_CHIME ? "(chime)" : a->clips[p->clip].text;
        memcpy(it->pcm + at, src->pcm, src->n * sizeof *src->pcm);
        it->spans[it->nspans++] = (struct span){ name, at, src->n };    /* clip texts live as long as a */
        at += src->n + p->gap;
        /* the pause after the first sentence is kept short when the repeat is left out */
        size_t keep = p->part == PART_TAIL && p->gap > SENTENCE_GAP ? SENTENCE_GAP : p->gap;
        it->part[p->part] += src->n + keep;
        it->part[PART_REST] += p->gap - keep;
    }
    it->n = n;
    free(it->pieces);
    it->pieces = NULL;
    it->npieces = 0;
    it->pending = false;
    return 1;
}

/* Hands a composed item to the scheduler on each of its zones; drops it where refused. */
static int item_enqueue(audio *a, item *it)
{
    int rc = 0;
    for (size_t z = 0; z < a->nzones; z++) {
        if (!(it->zones & (1u << z)))
            continue;
        speaker_call_parts cp = { it->part[PART_LEAD], it->part[PART_HEAD], it->part[PART_BODY], it->part[PART_FAST],
                                  it->part[PART_TAIL], it->part[PART_REST], JOIN_GAP };
        /* pieces are in part order (audio_call), so the parts lay out the PCM */
        int r = it->priority == SPEAKER_CALL && cp.body
                    ? speaker_enqueue_call(a->sp, z, it->id, &cp)
                    : speaker_enqueue(a->sp, z, it->priority, it->id, it->n ? it->n : 1);
        if (r == 0)
            it->refs++;
        else
            rc = r;
    }
    if (!it->refs) {
        item_free(a, it);
        return rc == SPEAKER_EFULL     ? AUDIO_EFULL
               : rc == SPEAKER_EFROZEN ? AUDIO_EFROZEN
               : rc == SPEAKER_ENOMEM  ? AUDIO_ENOMEM
                                       : AUDIO_EINVAL;
    }
    kick(a);
    return 0;
}

static void item_try_compose(audio *a)
{
    for (item *it = a->items, *next; it; it = next) {
        next = it->next;
        if (!it->pending)
            continue;
        int r = compose(a, it);
        if (r < 0) {
            fault(a, "out of memory composing an announcement");
            item_free(a, it);
        } else if (r > 0) {
            item_enqueue(a, it);
        }
    }
}

static size_t pending_count(const audio *a)
{
    size_t n = 0;
    for (const item *it = a->items; it; it = it->next)
        n += it->pending;
    return n;
}

/* Drops announcements still waiting for clips (an emergency makes them stale). */
static void drop_pending(audio *a, int upto)
{
    for (item *it = a->items, *next; it; it = next) {
        next = it->next;
        if (it->pending && it->priority <= upto)
            item_free(a, it);
    }
}

/* ---- public: calls and notices ---- */

int audio_call(audio *a, const char *code, int window_id)
{
    const hk_window_cfg *w = hk_config_window(a->cfg, window_id);
    const char *words[16];
    if (!w || speaker_code_words(code, 0, words, 16) < 0)
        return AUDIO_EINVAL;
    if (speaker_evacuating(a->sp) || speaker_frozen(a->sp))
        return AUDIO_EFROZEN;
    size_t z = 0;
    while (z < a->nzones && strcmp(a->zones[z].id, w->zone ? w->zone : "hall"))
        z++;
    if (z == a->nzones)
        z = 0;
    const char *tpl = window_template(a, window_id);
    char text[HK_AUDIO_TEXT_MAX * 3];
    expand(tpl, code, w, text, HK_AUDIO_TEXT_MAX);
    if (a->voice2) {
        size_t k = strlen(text);
        text[k++] = ' ';
        expand(second_template(a), code, w, text + k, sizeof text - k);
    }
    item *it = item_new(a, SPEAKER_CALL, 1u << z, text);
    if (!it)
        return AUDIO_ENOMEM;
    int repeat = a->cfg->audio.repeat > 0 ? a->cfg->audio.repeat : 2;
    /* pieces in the order of their parts, so that the parts lay out the PCM (item_enqueue) */
    int rc = add_piece(it, PIECE_CHIME, MS(250), PART_LEAD);
    if (!rc)
        rc = add_template(a, it, tpl, a->voice, false, code, w, TPL_FIRST);
    if (!rc)
        rc = add_template(a, it, tpl, a->voice, false, code, w, TPL_FAST);
    if (!rc)
        sort_pieces(it);
    for (int r = 1; r < repeat && !rc; r++) {
        if (it->npieces)
            it->pieces[it->npieces - 1].gap = MS(700);
        rc = add_template(a, it, tpl, a->voice, false, code, w, TPL_REPEAT);
    }
    if (!rc && it->npieces)
        it->pieces[it->npieces - 1].gap = MS(700);
    if (!rc && a->voice2)
        rc = add_template(a, it, second_template(a), a->voice2, true, code, w, TPL_REPEAT);
    if (rc) {
        item_free(a, it);
        return AUDIO_ENOMEM;
    }
    it->pending = true;
    rc = compose(a, it);
    if (rc < 0) {
        item_free(a, it);
        return AUDIO_ENOMEM;
    }
    return rc > 0 ? item_enqueue(a, it) : 0;
}

static int zone_index(const audio *a, const char *id)
{
    for (size_t z = 0; z < a->nzones; z++)
        if (!strcmp(a->zones[z].id, id))
            return (int)z;
    return -1;
}

int audio_notice(audio *a, const char *text, const char *const *zones, size_t nzones)
{
    if (!text || !*text || strlen(text) >= 4096)
        return AUDIO_EINVAL;
    uint32_t mask = nzones ? 0 : (uint32_t)((1ull << a->nzones) - 1);
    for (size_t i = 0; i < nzones; i++) {
        int z = zone_index(a, zones[i]);
        if (z < 0)
            return AUDIO_EINVAL;
        mask |= 1u << z;
    }
    if (speaker_evacuating(a->sp))
        return AUDIO_EFROZEN;
    if (pending_count(a) >= PENDING_MAX)
        return AUDIO_EFULL;
    item *it = item_new(a, SPEAKER_NOTICE, mask, text);
    if (!it)
        return AUDIO_ENOMEM;
    size_t c = clip_want(a, a->voice, AUDIO_RATE_WPM, text, SYN_NOTICE);
    if (c == SIZE_MAX || add_piece(it, PIECE_CHIME, MS(250), PART_LEAD) || add_piece(it, c, 0, PART_BODY)) {
        item_free(a, it);
        return AUDIO_ENOMEM;
    }
    it->pending = true;
    int rc = compose(a, it);
    if (rc < 0) {
        item_free(a, it);
        return AUDIO_ENOMEM;
    }
    return rc > 0 ? item_enqueue(a, it) : 0;
}

/* ---- the emergency program ---- */

#define DRILL_PREFIX "这是演练。"

static void em_from_out(const emergency_out *out, em_state *want)
{
    memset(want, 0, sizeof *want);      /* compared with memcmp: no stray padding */
    want->from = -1;
    if (out && out->nannounce > 0 && out->announce_from >= 0) {
        want->on = true;
        want->from = out->announce_from;
        want->drill = out->drill;
        want->n = out->nannounce < SPEAKER_MSGS_MAX ? out->nannounce : SPEAKER_MSGS_MAX;
        for (size_t i = 0; i < want->n; i++) {
            want->steps[i] = out->announce[i];
            want->evac_style |= out->announce[i]->loop;
        }
        want->evac_style |= out->display == EMERGENCY_DISPLAY_EVACUATION;
    }
    want->frozen = out && out->frozen;
}

/* Starts the program of want on every zone. 0, or -1 to try again at the next tick. */
static int em_start(audio *a, const em_state *want)
{
    char text[2048] = "";
    speaker_msg msgs[SPEAKER_MSGS_MAX];
    size_t nfailed = 0;
    uint64_t failed[SPEAKER_MSGS_MAX];
    uint32_t all = (uint32_t)((1ull << a->nzones) - 1);
    for (size_t i = 0; i < want->n; i++) {
        const hk_step_cfg *st = want->steps[i];
        char msg[HK_AUDIO_TEXT_MAX * 4];
        snprintf(msg, sizeof msg, "%s%s", want->drill ? DRILL_PREFIX : "", st->text ? st->text : "");
        size_t c = clip_want(a, a->voice, AUDIO_RATE_WPM, msg, SYN_EMERGENCY);
        size_t k = strlen(text);
        snprintf(text + k, sizeof text - k, "%s%s", k ? " " : "", msg);
        uint32_t mask = st->nzones ? 0 : all;
        for (size_t zi = 0; zi < st->nzones; zi++) {
            int z = zone_index(a, st->zones[zi]);
            if (z >= 0)
                mask |= 1u << z;
        }
        msgs[i] = (speaker_msg){ .clip = CLIP_BASE + c, .loop = st->loop, .zones = mask };
        if (c == SIZE_MAX) {
            msgs[i].clip = ID_CHIME;    /* no memory for the text: at least a sound */
            msgs[i].len = a->chime.n;
        } else if (a->clips[c].state == CLIP_READY && a->clips[c].pcm.n) {
            msgs[i].len = a->clips[c].pcm.n;
        } else if (clip_done(&a->clips[c])) {
            failed[nfailed++] = CLIP_BASE + c;
        }
    }
    item *it = item_new(a, SPEAKER_EMERGENCY, all, text);
    const audio_pcm *lead = want->evac_style ? &a->tone : &a->chime;
    if (!it || speaker_evacuate(a->sp, it->id, want->evac_style ? ID_TONE : ID_CHIME, lead->n, msgs, want->n)) {
        if (it)
            item_free(a, it);
        return -1;
    }
    it->refs = (int)a->nzones;
    for (size_t i = 0; i < nfailed; i++)
        speaker_clip_ready(a->sp, failed[i], 0);
    return 0;
}

static void em_set(audio *a, const em_state *want)
{
    if (!a->em_retry && !memcmp(want, &a->em, sizeof *want))
        return;
    a->em_retry = false;
    speaker_freeze(a->sp, want->frozen || want->on);
    if (want->frozen || want->on)
        drop_pending(a, want->on ? SPEAKER_NOTICE : SPEAKER_CALL);
    bool same = want->on && a->em.on && want->from == a->em.from && want->drill == a->em.drill &&
                want->n == a->em.n && want->evac_style == a->em.evac_style &&
                !memcmp(want->steps, a->em.steps, sizeof want->steps);
    if (want->on && !same) {
        if (em_start(a, want)) {
            a->em_want = *want;
            a->em_retry = true;
            kick(a);
            return;
        }
    } else if (!want->on && a->em.on) {
        speaker_evacuate_end(a->sp);
    }
    a->em = *want;
    kick(a);
}

void audio_emergency(audio *a, const emergency_out *out)
{
    if (a->closing)
        return;
    em_state want;
    em_from_out(out, &want);
    em_set(a, &want);
}

/* ---- the clock ---- */

static const int16_t zeros[AUDIO_RATE / 10];

/* A fault is reported once per zone until a begin succeeds again (the sink recovered). */
static void sink_result(audio *a, zone *z, int rc, const char *err, bool recovers)
{
    if (rc) {
        if (!z->faulted)
            fault(a, err);
        z->faulted = true;
    } else if (z->faulted && recovers) {
        z->faulted = false;
        a->last_fault[0] = 0;   /* a new failure is news again */
    }
}

static void note_run(zone *z, size_t src, size_t n)
{
    struct run *r = z->nruns ? &z->runs[z->nruns - 1] : NULL;
    if (r && r->src + r->n == src && r->at + r->n == z->ann.samples)
        r->n += n;
    else if (z->nruns < RUNS_MAX)
        z->runs[z->nruns++] = (struct run){ src, z->ann.samples, n };
}

/* The index's parts of the announcement ending in z: each piece that was played whole, at its
 * sample in the file. NULL without memory or for emergencies (no pieces). */
static const char *parts_json(zone *z)
{
    free(z->parts);
    z->parts = NULL;
    const item *it = z->cur;
    if (!it || !it->nspans)
        return NULL;
    size_t len = 64, n = 0;
    for (size_t i = 0; i < it->nspans; i++)
        len += 2 * strlen(it->spans[i].text) + 64;
    if (!(z->parts = malloc(len)))
        return NULL;
    n += (size_t)snprintf(z->parts, len, "[");
    for (size_t i = 0; i < it->nspans; i++) {
        const struct span *sp = &it->spans[i];
        for (size_t k = 0; k < z->nruns; k++) {
            const struct run *r = &z->runs[k];
            if (sp->at < r->src || sp->at + sp->n > r->src + r->n)
                continue;
            char js[HK_AUDIO_TEXT_MAX * 2];
            json_str(js, sizeof js, sp->text, strlen(sp->text));
            n += (size_t)snprintf(z->parts + n, len - n, "%s{\"text\":%s,\"at\":%zu,\"n\":%zu}", n > 1 ? "," : "",
                                  js, r->at + (sp->at - r->src), sp->n);
            break;
        }
    }
    snprintf(z->parts + n, len - n, "]");
    return z->parts;
}

static void seg_write(audio *a, zone *z, const speaker_seg *g)
{
    if (!z->sink || !z->cur || g->count == 0)
        return;
    const int16_t *src = NULL;
    if (g->clip == ID_TONE)
        src = a->tone.pcm;
    else if (g->clip == ID_CHIME)
        src = a->chime.pcm;
    else if (g->clip >= CLIP_BASE && g->clip < ITEM_BASE)
        src = a->clips[g->clip - CLIP_BASE].pcm.pcm;
    else if (g->clip == z->cur->id)
        src = z->cur->pcm;
    char err[256] = "";
    int rc = 0;
    if (src && (g->clip != z->cur->id || z->cur->n)) {
        if (g->clip == z->cur->id)
            note_run(z, g->offset, g->count);
        rc = z->sink->ops->write(z->sink, src + g->offset, g->count, err, sizeof err);
    } else {
        for (size_t left = g->count; left && !rc;) {
            size_t k = left < sizeof zeros / sizeof zeros[0] ? left : sizeof zeros / sizeof zeros[0];
            rc = z->sink->ops->write(z->sink, zeros, k, err, sizeof err);
            left -= k;
        }
    }
    z->ann.samples += g->count;
    if (rc)
        sink_result(a, z, rc, err, false);
}

static void seg_handle(audio *a, size_t zi, const speaker_seg *g)
{
    zone *z = &a->zones[zi];
    char err[256] = "";
    if (g->flags & SPEAKER_SEG_FIRST) {
        item *it = item_find(a, g->owner);
        if (it) {
            z->cur = it;
            z->ann = (audio_ann){ .text = it->text, .zone = z->id, .priority = speaker_priority_name(it->priority),
                                  .started_at_ms = it->asked_ms, .first_sample_at_ms = hk_clock_now().ms };
            z->nruns = 0;
            if (z->sink)
                sink_result(a, z, z->sink->ops->begin(z->sink, &z->ann, err, sizeof err), err, true);
            if (a->cb.started && !a->closing)
                a->cb.started(a->cb.arg, it->text, z->id, z->ann.priority);
        }
    }
    if (g->owner && g->count)
        seg_write(a, z, g);
    if (g->flags & SPEAKER_SEG_LAST) {
        item *it = item_find(a, g->owner);
        if (it && z->cur == it && !(g->flags & SPEAKER_SEG_DROPPED)) {
            z->ann.ended_at_ms = hk_clock_now().ms;
            z->ann.truncated = (g->flags & SPEAKER_SEG_TRUNCATED) != 0;
            z->ann.parts_json = parts_json(z);
            if (z->sink)
                sink_result(a, z, z->sink->ops->end(z->sink, &z->ann, err, sizeof err), err, false);
            if (a->cb.finished && !a->closing)
                a->cb.finished(a->cb.arg, it->text, z->id, z->ann.priority, z->ann.truncated);
        }
        if (it && z->cur == it)
            z->cur = NULL;
        if (it && --it->refs <= 0)
            item_free(a, it);
    }
}

static void pull_zone(audio *a, size_t zi, size_t n)
{
    speaker_seg segs[16];
    size_t left = n;
    do {
        size_t done, k = speaker_pull(a->sp, zi, left, segs, 16, &done);
        for (size_t i = 0; i < k; i++)
            seg_handle(a, zi, &segs[i]);
        left -= done;
        if (!k)
            break;
    } while (left);
}

static void on_tick(uv_timer_t *t)
{
    audio *a = t->data;
    for (size_t i = 0; i < a->nfaults && !a->closing; i++)
        if (a->cb.fault)
            a->cb.fault(a->cb.arg, a->faults[i]);
    a->nfaults = 0;
    for (size_t zi = 0; zi < a->nzones; zi++) {
        zone *z = &a->zones[zi];
        char buf[256];
        const char *f = z->sink && z->sink->ops->poll_fault ? z->sink->ops->poll_fault(z->sink, buf, sizeof buf) : NULL;
        if (f && a->cb.fault && !a->closing)
            a->cb.fault(a->cb.arg, f);
    }
    if (a->em_retry) {
        em_state want = a->em_want;
        em_set(a, &want);
    }
    uint64_t now = uv_hrtime();
    if (!a->clock_on) {
        a->clock_on = true;
        a->t0_ns = now;
        a->produced = 0;
    }
    /* one period ahead, so a sink always holds the next period before it needs it */
    uint64_t due = (now - a->t0_ns) * AUDIO_RATE / 1000000000ull + MS(AUDIO_PERIOD_MS);
    size_t n = due > a->produced ? (size_t)(due - a->produced) : 0;
    a->produced = due > a->produced ? due : a->produced;
    for (size_t zi = 0; zi < a->nzones; zi++)
        pull_zone(a, zi, n);
    bool alsa = false;
    for (size_t zi = 0; zi < a->nzones; zi++)
        alsa |= a->zones[zi].sink && a->zones[zi].sink->ops->poll_fault;
    /* Idle: stop the clock (an alsa sink keeps it, to poll for device faults). */
    if (!speaker_busy(a->sp) && !a->nfaults && !a->em_retry && !alsa) {
        uv_timer_stop(&a->timer);
        a->clock_on = false;
    }
}

static void kick(audio *a)
{
    if (a->closing || !a->timer_ready)
        return;
    if (!uv_is_active((uv_handle_t *)&a->timer) || !a->clock_on)
        uv_timer_start(&a->timer, on_tick, 0, AUDIO_PERIOD_MS);
    else if (uv_timer_get_due_in(&a->timer) > 0 && (a->nfaults || speaker_evacuating(a->sp)))
        uv_timer_start(&a->timer, on_tick, 0, AUDIO_PERIOD_MS);   /* faults and emergencies at once */
}

/* ---- setup and teardown ---- */

static const char *espeak_voice(const char *v, char *buf, size_t len)
{
    /* Debian's espeak-ng 1.51 "cmn" reads its dictionary's pinyin with English rules (号 becomes
     * "hao four"); its cmn-latn-pinyin voice reads the same dictionary correctly. */
    snprintf(buf, len, "%s", !strcmp(v, "cmn") || !strcmp(v, "zh") ? "cmn-latn-pinyin" : v);
    return buf;
}

static int add_zone(audio *a, const char *id, const char *sink, const char *target, char *err, size_t errlen)
{
    if (zone_index(a, id) >= 0)
        return 0;
    if (a->nzones >= SPEAKER_ZONES_MAX || a->nzones >= HK_AUDIO_ZONES_MAX) {
        snprintf(err, errlen, "too many audio zones (at most %d)", HK_AUDIO_ZONES_MAX);
        return -1;
    }
    zone *z = &a->zones[a->nzones++];
    snprintf(z->id, sizeof z->id, "%s", id);
    char ferr[256] = "";
    if (!strcmp(sink, "file")) {
        char dir[4096];
        const char *t = target && *target ? target : "announcements.wav";
        size_t n = strlen(t);
        int keep = n > 4 && !strcmp(t + n - 4, ".wav") ? (int)n - 4 : (int)n;
        if (t[0] == '/')
            snprintf(dir, sizeof dir, "%.*s", keep, t);
        else
            snprintf(dir, sizeof dir, "%s/%.*s", a->data_dir, keep, t);
        z->sink = audio_sink_file_new(dir, z->id, ferr, sizeof ferr);
    } else if (!strcmp(sink, "alsa")) {
        z->sink = audio_sink_alsa_new(target && *target ? target : "default", z->id, ferr, sizeof ferr);
    }
    if (!z->sink && ferr[0]) {
        char m[300];
        snprintf(m, sizeof m, "audio zone %s: %s", z->id, ferr);
        fault(a, m);
    }
    return 0;
}

static void want_playbook_texts(audio *a, const hk_playbook_cfg *pb)
{
    if (pb->silent)
        return;
    for (size_t i = 0; i < pb->nsteps; i++) {
        const hk_step_cfg *st = &pb->steps[i];
        if (st->text && (!strcmp(st->do_, "announce") || !strcmp(st->do_, "notice")))
            clip_want(a, a->voice, AUDIO_RATE_WPM, st->text, SYN_EMERGENCY);
    }
}

/* Every clip a call can need, so calls never wait: letters of the categories, digits, template
 * phrases, window names; and every emergency message. */
static void want_fixed_clips(audio *a)
{
    const hk_config *c = a->cfg;
    for (size_t i = 0; i < c->nplaybooks; i++)
        want_playbook_texts(a, &c->playbooks[i]);
    for (size_t i = 0; i < playbook_builtin_count(); i++) {
        const hk_playbook_cfg *pb = playbook_builtin(i);
        size_t k = 0;
        while (k < c->nplaybooks && strcmp(c->playbooks[k].id, pb->id))
            k++;
        if (k == c->nplaybooks)     /* not overridden by the config */
            want_playbook_texts(a, pb);
    }
    char code[8];
    for (size_t i = 0; i < c->ncategories; i++)
        for (int d = 0; d < 10; d++) {
            snprintf(code, sizeof code, "%s%d", c->categories[i].id, d);
            for (size_t w = 0; w < c->nwindows; w++) {
                item tmp = { 0 };
                add_template(a, &tmp, window_template(a, c->windows[w].id), a->voice, false, code, &c->windows[w], TPL_FIRST);
                add_template(a, &tmp, window_template(a, c->windows[w].id), a->voice, false, code, &c->windows[w], TPL_FAST);
                if (a->voice2)
                    add_template(a, &tmp, second_template(a), a->voice2, true, code, &c->windows[w], TPL_REPEAT);
                free(tmp.pieces);
            }
        }
}

audio *audio_new(uv_loop_t *loop, const hk_config *cfg, const char *data_dir, const audio_callbacks *cb,
                 char *err, size_t errlen)
{
    audio *a = calloc(1, sizeof *a);
    if (!a || !(a->data_dir = strdup(data_dir)) || !(a->zones = calloc(HK_AUDIO_ZONES_MAX, sizeof *a->zones)) ||
        audio_chime(&a->chime) || audio_tone(&a->tone, cfg->audio.evac_tone_s)) {
        snprintf(err, errlen, "audio: out of memory");
        goto fail;
    }
    a->loop = loop;
    a->cfg = cfg;
    if (cb)
        a->cb = *cb;
    a->next_id = ITEM_BASE;
    a->em.from = -1;
    const hk_audio_cfg *ac = &cfg->audio;
    a->voice = espeak_voice(ac->nvoices ? ac->voices[0] : "cmn", a->voice_buf, sizeof a->voice_buf);
    a->voice2 = ac->second_language[0] ? ac->second_language : NULL;
    const char *sink = ac->sink ? ac->sink : "file";
    const char *target = !strcmp(sink, "alsa") ? ac->device : ac->path;
    int rc = 0;
    if (ac->nzones) {
        for (size_t i = 0; i < ac->nzones && !rc; i++)
            rc = add_zone(a, ac->zones[i].id, ac->zones[i].sink, ac->zones[i].target, err, errlen);
    } else {
        for (size_t w = 0; w < cfg->nwindows && !rc; w++)
            rc = add_zone(a, cfg->windows[w].zone ? cfg->windows[w].zone : "hall", sink, target, err, errlen);
        if (!rc && a->nzones == 0)
            rc = add_zone(a, "hall", sink, target, err, errlen);
    }
    if (rc)
        goto fail;
    if (!(a->sp = speaker_new(a->nzones))) {
        snprintf(err, errlen, "audio: out of memory");
        goto fail;
    }
    uv_timer_init(loop, &a->timer);
    a->timer.data = a;
    a->timer_ready = true;
    want_fixed_clips(a);
    bool polled = false;
    for (size_t z = 0; z < a->nzones; z++)
        polled |= a->zones[z].sink && a->zones[z].sink->ops->poll_fault;
    if (a->nfaults || polled)
        kick(a);        /* an alsa sink's thread reports through the clock */
    return a;
fail:
    if (a) {
        for (size_t z = 0; z < a->nzones; z++)
            if (a->zones[z].sink)
                a->zones[z].sink->ops->free(a->zones[z].sink);
        free(a->zones);
        free(a->data_dir);
        audio_pcm_free(&a->chime);
        audio_pcm_free(&a->tone);
        free(a);
    }
    return NULL;
}

static void free_all(audio *a)
{
    while (a->items)
        item_free(a, a->items);
    for (size_t i = 0; i < a->nclips; i++) {
        free(a->clips[i].voice);
        free(a->clips[i].text);
        audio_pcm_free(&a->clips[i].pcm);
    }
    free(a->clips);
    for (size_t z = 0; z < a->nzones; z++) {
        if (a->zones[z].sink)
            a->zones[z].sink->ops->free(a->zones[z].sink);
        free(a->zones[z].parts);
    }
    free(a->zones);
    speaker_free(a->sp);
    audio_pcm_free(&a->chime);
    audio_pcm_free(&a->tone);
    free(a->data_dir);
    void (*cb)(void *) = a->close_cb;
    void *arg = a->close_arg;
    free(a);
    if (cb)
        cb(arg);
}

static void finish_close(audio *a)
{
    if (a->job || !a->timer_closed)
        return;
    free_all(a);
}

static void on_timer_closed(uv_handle_t *h)
{
    audio *a = h->data;
    a->timer_closed = true;
    finish_close(a);
}

void audio_close(audio *a, void (*cb)(void *arg), void *arg)
{
    a->close_cb = cb;
    a->close_arg = arg;
    /* end what plays, so each zone's last file is complete */
    for (size_t zi = 0; zi < a->nzones; zi++) {
        zone *z = &a->zones[zi];
        if (z->cur && z->sink) {
            char err[256];
            z->ann.ended_at_ms = hk_clock_now().ms;
            z->ann.truncated = true;
            z->ann.parts_json = parts_json(z);
            z->sink->ops->end(z->sink, &z->ann, err, sizeof err);
        }
        z->cur = NULL;
    }
    a->closing = true;
    uv_timer_stop(&a->timer);
    uv_close((uv_handle_t *)&a->timer, on_timer_closed);
}
