/* appointments.c: the appointment book, its commands and events (see appointments.h and
 * docs/appointments.md). Commands validate and emit; hall_apply_appointment is the only code that
 * changes the book, live and at replay. */
#include "hall_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "utf8.h"
#include "checkpoint.h"
#include "retention.h"
#include "days.h"

#define APPT_LIST_MAX 100          /* rows per appointments.list page: a reply stays far below 64 KiB */
#define APPT_IMPORT_ERRORS_SHOWN 40   /* bad rows spelled out in msg; `errors` holds up to ... */
#define APPT_IMPORT_ERRORS_MAX 500    /* ... this many, and ... */
#define APPT_IMPORT_ERRORS_BYTES 40000   /* ... this much text, so the reply stays one 64 KiB frame */

/* ---- the book ------------------------------------------------------------------------------ */

hk_appt_book *appt_book_new(void)
{
    hk_appt_book *b = hk_realloc(NULL, sizeof *b);
    memset(b, 0, sizeof *b);
    strmap_init(&b->by_number);
    return b;
}

void appt_book_free(hk_appt_book *b)
{
    if (!b) return;
    free(b->v);
    free(b->fails);
    strmap_free(&b->by_number);
    free(b);
}

static int book_index(const hk_appt_book *b, const char *number)
{
    int idx;
    return number && strmap_get(&b->by_number, number, &idx) == 0 ? idx : -1;
}

const hk_appt *appt_find(const hk_appt_book *b, const char *number)
{
    int idx = book_index(b, number);
    return idx >= 0 ? &b->v[idx] : NULL;
}

const char *appt_state_name(appt_state s)
{
    switch (s) {
    case APPT_CHECKED_IN: return "checked_in";
    case APPT_RELEASED: return "released";
    case APPT_CANCELLED: return "cancelled";
    default: return "booked";
    }
}

/* Forgets the finished appointments (checked in, released, cancelled) of days before `day`,
 * so a hall that runs for months keeps only what is still useful. Booked ones stay until the
 * tick releases them (their release is an event, so it is replayed too). */
static void book_drop_finished_before(hk_appt_book *b, int32_t day)
{
    size_t kept = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (b->v[i].state != APPT_BOOKED && b->v[i].day < day) continue;
        if (kept != i) b->v[kept] = b->v[i];
        kept++;
    }
    if (kept == b->n) return;
    b->n = kept;
    strmap_free(&b->by_number);
    strmap_init(&b->by_number);
    for (size_t i = 0; i < b->n; i++) strmap_put(&b->by_number, b->v[i].number, (int)i);
}

/* The same from the day of each appointment.added, once a day. */
static void book_prune(hk_appt_book *b, int32_t today)
{
    if (today <= b->pruned_day) return;
    b->pruned_day = today;
    book_drop_finished_before(b, today);
}

/* retention.h, at the day rollover: the finished appointments of days before `day`. book_prune
 * above does the same from the day of the last appointment.added, so this matters for a hall that
 * stops adding appointments; booked ones wait for the tick to release them (an event). */
void appt_forget_before(hk_hall *h, int32_t day)
{
    book_drop_finished_before(h->appts, day);
}

/* ---- parsing and checking -------------------------------------------------------------------- */

int appt_parse_hhmm(const char *s, bool allow_2400)
{
    if (!s || strlen(s) != 5 || s[2] != ':') return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9')) return -1;
    int hh = (s[0] - '0') * 10 + (s[1] - '0'), mm = (s[3] - '0') * 10 + (s[4] - '0');
    if (mm > 59) return -1;
    if (hh == 24 && mm == 0 && allow_2400) return 1440;
    if (hh > 23) return -1;
    return hh * 60 + mm;
}

int32_t appt_parse_date(const char *s)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return -1;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    if (y < 2000 || y > 2999 || m < 1 || m > 12 || d < 1) return -1;
    int md = mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    if (d > md) return -1;
    return (int32_t)(y * 10000 + m * 100 + d);
}

static void fmt_date(int32_t day, char *buf, size_t len)
{
    snprintf(buf, len, "%04d-%02d-%02d", (int)(day / 10000), (int)(day / 100 % 100), (int)(day % 100));
}

static void fmt_hhmm(int min, char *buf, size_t len)
{
    snprintf(buf, len, "%02d:%02d", min / 60 % 100, min % 60);
}

static bool is_number(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > HK_APPT_NUMBER_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* UTF-8 text without control characters, of at most max bytes. */
static bool is_text(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max) return false;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (p[i] < 0x20 || p[i] == 0x7f) return false;
        size_t l = utf8_seq_len(p + i, n - i);
        if (!l) return false;
        i += l;
    }
    return true;
}

/* Up to 40 bytes of what the caller sent, for a message: cut on a character boundary, bytes that
 * are not UTF-8 or are control characters shown as '?', so a reply is always valid text. */
typedef struct { char s[48]; } clipped;
static clipped clip(const char *in)
{
    clipped c;
    size_t o = 0, n = in ? strlen(in) : 0;
    const unsigned char *p = (const unsigned char *)(in ? in : "");
    for (size_t i = 0; i < n;) {
        size_t l = utf8_seq_len(p + i, n - i);
        if (l == 0 || p[i] < 0x20 || p[i] == 0x7f) l = 0;
        if (o + (l ? l : 1) > 40) { memcpy(c.s + o, "...", 3); o += 3; break; }
        if (l) { memcpy(c.s + o, p + i, l); o += l; i += l; }
        else { c.s[o++] = '?'; i++; }
    }
    c.s[o] = 0;
    return c;
}

/* One appointment as given by appointment.add or one CSV row, checked. */
typedef struct {
    const char *number, *name, *matter;
    char check[HK_APPT_CHECK_LEN + 1];   /* from phone / id_number: its last 4 characters */
    int cat;
    int32_t day;
    int start, end;
} appt_row;

/* Minutes since 1970-01-01 00:00 local time of minute `min` of day YYYYMMDD (days from the civil
 * date, days.h), so windows may cross midnight. */
static int64_t abs_min(int32_t day, int min) { return hk_day_number(day) * 1440 + min; }

/* The day and minute of an absolute minute (for messages). */
static void from_abs(int64_t am, int32_t *day, int *min)
{
    *min = (int)(am % 1440);
    *day = hk_day_of(am / 1440);
}

static int64_t close_abs(const hk_hall *h, int32_t day, int end_min)
{
    return abs_min(day, end_min) + queue_policy(h->cfg).appointment_grace_min;
}

static bool check_in_closed(const hk_hall *h, int32_t day, int end_min, hk_time now)
{
    return abs_min(now.day, now.min) >= close_abs(h, day, end_min);
}

/* Checks everything but the time fields (parsed by the caller). Returns HK_OK, or an HK_ERR_*. */
static int row_check(const hk_hall *h, const hk_appt_book *b, appt_row *r, const char *catid,
                     hk_time now, char *msg, size_t len)
{
    if (!is_number(r->number)) {
        snprintf(msg, len, "number must be 1 to %d of A-Z a-z 0-9 _ -, got '%s'", HK_APPT_NUMBER_MAX,
                 clip(r->number).s);
        return HK_ERR_BAD_REQUEST;
    }
    if (!r->name || !*r->name) { snprintf(msg, len, "name is required"); return HK_ERR_BAD_REQUEST; }
    if (!is_text(r->name, HK_APPT_NAME_MAX)) {
        snprintf(msg, len, "name must be UTF-8 text without control characters, at most %d bytes",
                 HK_APPT_NAME_MAX);
        return HK_ERR_BAD_REQUEST;
    }
    if (r->matter && !is_text(r->matter, HK_APPT_MATTER_MAX)) {
        snprintf(msg, len, "matter must be UTF-8 text without control characters, at most %d bytes",
                 HK_APPT_MATTER_MAX);
        return HK_ERR_BAD_REQUEST;
    }
    r->cat = queue_cat_index(&h->q, catid);
    if (r->cat < 0) {
        char known[128] = "";
        for (size_t i = 0; i < h->cfg->ncategories; i++) {
            size_t at = strlen(known);
            snprintf(known + at, sizeof known - at, "%s%s", i ? ", " : "", h->cfg->categories[i].id);
        }
        snprintf(msg, len, "no category '%s' (the hall has %s)", clip(catid).s, known);
        return HK_ERR_NOT_FOUND;
    }
    if (r->start >= r->end) {
        char a[8], e[8];
        fmt_hhmm(r->start, a, sizeof a);
        fmt_hhmm(r->end, e, sizeof e);
        snprintf(msg, len, "the slot must start before it ends, got %s-%s", a, e);
        return HK_ERR_BAD_REQUEST;
    }
    if (check_in_closed(h, r->day, r->end, now)) {
        char d[16], a[8], e[8];
        fmt_date(r->day, d, sizeof d);
        fmt_hhmm(r->start, a, sizeof a);
        fmt_hhmm(r->end, e, sizeof e);
        snprintf(msg, len, "the slot %s %s-%s is already over (check-in closes %d min after its end)", d, a, e,
                 queue_policy(h->cfg).appointment_grace_min);
        return HK_ERR_BAD_REQUEST;
    }
    const hk_appt *old = appt_find(b, r->number);
    if (old && old->state != APPT_CANCELLED) {
        char d[16], a[8];
        fmt_date(old->day, d, sizeof d);
        fmt_hhmm(old->start_min, a, sizeof a);
        snprintf(msg, len, "appointment %s already exists (%s %s, %s)", old->number, d, a,
                 appt_state_name(old->state));
        return HK_ERR_CONFLICT;
    }
    return HK_OK;
}

/* The check code of a phone or ID number: its last 4 characters, spaces and dashes left out;
 * digits, and an ID number's final X. 0, or -1 if there are fewer than 4 of them. */
static int check_code(const char *s, char out[HK_APPT_CHECK_LEN + 1])
{
    char keep[64];
    size_t n = 0;
    for (const char *p = s; *p && n < sizeof keep; p++) {
        if (*p == ' ' || *p == '-') continue;
        bool x = (*p == 'x' || *p == 'X') && !p[1];
        if (!(*p >= '0' && *p <= '9') && !x) return -1;
        keep[n++] = x ? 'X' : *p;
    }
    if (n < HK_APPT_CHECK_LEN) return -1;
    memcpy(out, keep + n - HK_APPT_CHECK_LEN, HK_APPT_CHECK_LEN);
    out[HK_APPT_CHECK_LEN] = 0;
    return 0;
}

static hv *added_event(const hk_hall *h, const appt_row *r, const char *source, hk_time now)
{
    char d[16], a[8], e[8];
    fmt_date(r->day, d, sizeof d);
    fmt_hhmm(r->start, a, sizeof a);
    fmt_hhmm(r->end, e, sizeof e);
    hv *ev = hall_event("appointment.added");
    hv_set(ev, "number", hv_str(r->number));
    hv_set(ev, "name", hv_str(r->name));
    hv_set(ev, "category", hv_str(h->cfg->categories[r->cat].id));
    hv_set(ev, "date", hv_str(d));
    hv_set(ev, "day", hv_int(r->day));
    hv_set(ev, "slot_start", hv_str(a));
    hv_set(ev, "slot_end", hv_str(e));
    hv_set(ev, "matter", r->matter && *r->matter ? hv_str(r->matter) : hv_nil());
    if (r->check[0]) hv_set(ev, "check", hv_str(r->check));   /* staff and admin only, as the name */
    hv_set(ev, "source", hv_str(source));
    hv_set(ev, "today", hv_int(now.day));
    return ev;
}

/* The full view, name included: for appointments.list and the add reply (staff, admin only). */
static hv *appt_view(const hk_hall *h, const hk_appt *a)
{
    char d[16], s[8], e[8];
    fmt_date(a->day, d, sizeof d);
    fmt_hhmm(a->start_min, s, sizeof s);
    fmt_hhmm(a->end_min, e, sizeof e);
    hv *m = hv_map();
    hv_set(m, "number", hv_str(a->number));
    hv_set(m, "name", hv_str(a->name));
    hv_set(m, "category", hv_str(h->cfg->categories[a->cat].id));
    hv_set(m, "date", hv_str(d));
    hv_set(m, "slot_start", hv_str(s));
    hv_set(m, "slot_end", hv_str(e));
    hv_set(m, "matter", a->matter[0] ? hv_str(a->matter) : hv_nil());
    hv_set(m, "state", hv_str(appt_state_name(a->state)));
    hv_set(m, "ticket", a->code[0] ? hv_str(a->code) : hv_nil());
    return m;
}

/* ---- events: applying ---------------------------------------------------------------------------- */

static int apply_added(hk_hall *h, const hv *ev)
{
    hk_appt_book *b = h->appts;
    const char *number = hv_get_str(ev, "number"), *name = hv_get_str(ev, "name");
    const char *matter = hv_get_str(ev, "matter");
    int cat = queue_cat_index(&h->q, hv_get_str(ev, "category"));
    int start = appt_parse_hhmm(hv_get_str(ev, "slot_start"), false);
    int end = appt_parse_hhmm(hv_get_str(ev, "slot_end"), true);
    int64_t day = 0, today = 0;
    hv_get_int(ev, "day", &day);
    hv_get_int(ev, "today", &today);
    if (!is_number(number) || !name || cat < 0 || start < 0 || end <= start || day <= 0) return -1;
    book_prune(b, (int32_t)today);
    int idx = book_index(b, number);
    if (idx >= 0 && b->v[idx].state != APPT_CANCELLED) return -1;
    if (idx < 0) {
        if (b->n == b->cap) {
            b->cap = b->cap ? b->cap * 2 : 64;
            b->v = hk_realloc(b->v, b->cap * sizeof *b->v);
        }
        idx = (int)b->n++;
        strmap_put(&b->by_number, number, idx);
    }
    hk_appt *a = &b->v[idx];
    memset(a, 0, sizeof *a);
    snprintf(a->number, sizeof a->number, "%s", number);
    snprintf(a->name, sizeof a->name, "%s", name);
    snprintf(a->matter, sizeof a->matter, "%s", matter ? matter : "");
    const char *check = hv_get_str(ev, "check");
    snprintf(a->check, sizeof a->check, "%s", check ? check : "");
    a->cat = cat;
    a->day = (int32_t)day;
    a->start_min = start;
    a->end_min = end;
    a->state = APPT_BOOKED;
    return 0;
}

int hall_apply_appointment(hk_hall *h, const hv *ev)
{
    const char *name = hv_get_str(ev, "ev");
    if (!strcmp(name, "appointment.added")) return apply_added(h, ev);
    int idx = book_index(h->appts, hv_get_str(ev, "number"));
    if (idx < 0) return -1;
    hk_appt *a = &h->appts->v[idx];
    if (!strcmp(name, "appointment.checked_in")) {
        const char *code = hv_get_str(ev, "code");
        if (a->state != APPT_BOOKED || !code) return -1;
        a->state = APPT_CHECKED_IN;
        snprintf(a->code, sizeof a->code, "%s", code);
        return 0;
    }
    if (!strcmp(name, "appointment.released")) {
        if (a->state != APPT_BOOKED) return -1;
        a->state = APPT_RELEASED;
        return 0;
    }
    if (!strcmp(name, "appointment.cancelled")) {
        if (a->state != APPT_BOOKED) return -1;
        a->state = APPT_CANCELLED;
        return 0;
    }
    return 0;   /* an appointment event this version does not know changes nothing */
}

/* An optional string argument: NULL when absent or nil; *bad when present with another type. */
static const char *opt_str(const hv *req, const char *key, bool *bad)
{
    const hv *v = hv_get(req, key);
    if (!v || v->t == HV_NIL) return NULL;
    if (v->t != HV_STR || strlen(v->u.s.p) != v->u.s.n) { *bad = true; return NULL; }
    return v->u.s.p;
}

/* ---- check-in (ticket.issue {appointment}) ------------------------------------------------------- */

/* The failures of this device, with those older than the window forgotten. */
static hk_appt_fails *device_fails(hk_hall *h, const hk_session *s, hk_time now)
{
    hk_appt_book *b = h->appts;
    if (!b->fails) {
        b->nfails = h->cfg->ntokens + 1;
        b->fails = hk_realloc(NULL, b->nfails * sizeof *b->fails);
        memset(b->fails, 0, b->nfails * sizeof *b->fails);
    }
    hk_appt_fails *f = &b->fails[s->token >= 0 && (size_t)s->token < b->nfails ? s->token : 0];
    if (f->fails && now.ms - f->since >= HK_APPT_FAILS_WINDOW_MIN * 60000LL) f->fails = 0;
    return f;
}

int hall_appointment_check(hk_hall *h, const hk_session *sess, const char *number, const char *check,
                                   const char *catid, hk_time now, int *cat, char *msg, size_t len)
{
    hk_appt_fails *f = device_fails(h, sess, now);
    if (f->fails >= HK_APPT_FAILS_MAX) {
        snprintf(msg, len, "too many failed check-ins from this device: please ask at the service desk (服务台), "
                 "or try again in %d min", HK_APPT_FAILS_WINDOW_MIN);
        return HK_ERR_UNAVAILABLE;
    }
    const hk_appt *a = appt_find(h->appts, number);
    /* one answer for an unknown number and a wrong check code: a walk through numbers learns nothing.
     * The guide at the desk (staff, admin) sees the visitor and their booking: the number is enough. */
    bool factor = a && a->check[0] && !(sess->role & (HK_ROLE_STAFF | HK_ROLE_ADMIN));
    if (!a || (factor && (!check || strcasecmp(check, a->check) != 0))) {
        if (!f->fails++) f->since = now.ms;
        snprintf(msg, len, "no appointment matches that number and check code: check your booking (预约号, 手机号后四位)");
        return HK_ERR_NOT_FOUND;
    }
    char d[16], s[8], e[8];
    fmt_date(a->day, d, sizeof d);
    fmt_hhmm(a->start_min, s, sizeof s);
    fmt_hhmm(a->end_min, e, sizeof e);
    switch (a->state) {
    case APPT_CHECKED_IN:
        snprintf(msg, len, "appointment %s is already checked in: ticket %s", a->number, a->code);
        return HK_ERR_CONFLICT;
    case APPT_CANCELLED:
        snprintf(msg, len, "appointment %s was cancelled", a->number);
        return HK_ERR_CONFLICT;
    case APPT_RELEASED:
        snprintf(msg, len, "appointment %s (%s %s-%s) was missed and released: please take a normal ticket",
                 a->number, d, s, e);
        return HK_ERR_CONFLICT;
    case APPT_BOOKED:
        break;
    }
    if (catid && strcmp(catid, h->cfg->categories[a->cat].id) != 0) {
        snprintf(msg, len, "appointment %s is for category %s, not %s", a->number,
                 h->cfg->categories[a->cat].id, clip(catid).s);
        return HK_ERR_BAD_REQUEST;
    }
    hk_queue_policy_cfg pol = queue_policy(h->cfg);
    int64_t opens = abs_min(a->day, a->start_min) - pol.appointment_early_min;
    if (abs_min(now.day, now.min) < opens) {
        int32_t oday;
        int omin;
        char o[8], od[16];
        from_abs(opens, &oday, &omin);
        fmt_hhmm(omin, o, sizeof o);
        fmt_date(oday, od, sizeof od);
        if (a->day != now.day)
            snprintf(msg, len, "too early: appointment %s is on %s at %s-%s; check in from %s %s", a->number, d, s,
                     e, od, o);
        else
            snprintf(msg, len, "too early: appointment %s is at %s-%s; check in from %s", a->number, s, e, o);
        return HK_ERR_CONFLICT;
    }
    if (check_in_closed(h, a->day, a->end_min, now)) {
        snprintf(msg, len, "appointment %s (%s %s-%s) was missed: check-in closed %d min after the slot; "
                 "please take a normal ticket", a->number, d, s, e, pol.appointment_grace_min);
        return HK_ERR_CONFLICT;
    }
    *cat = a->cat;
    return HK_OK;
}

void hall_appointment_checked_in(hk_hall *h, hk_out *out, const char *number, const char *code, hk_time now)
{
    const hk_appt *a = appt_find(h->appts, number);
    hv *ev = hall_event("appointment.checked_in");
    hv_set(ev, "number", hv_str(number));
    hv_set(ev, "code", hv_str(code));
    if (a) hv_set(ev, "category", hv_str(h->cfg->categories[a->cat].id));
    hall_emit(h, out, ev, now.ms);
}

void hall_appointment_tick(hk_hall *h, hk_time now, hk_out *out)
{
    hk_appt_book *b = h->appts;
    /* releases happen on minute boundaries: look once a minute, not every tick */
    if (b->tick_day == now.day && b->tick_min == now.min) return;
    b->tick_day = now.day;
    b->tick_min = now.min;
    for (size_t i = 0; i < b->n; i++) {
        const hk_appt *a = &b->v[i];
        if (a->state != APPT_BOOKED || !check_in_closed(h, a->day, a->end_min, now)) continue;
        char d[16], s[8], e[8];
        fmt_date(a->day, d, sizeof d);
        fmt_hhmm(a->start_min, s, sizeof s);
        fmt_hhmm(a->end_min, e, sizeof e);
        hv *ev = hall_event("appointment.released");
        hv_set(ev, "number", hv_str(a->number));
        hv_set(ev, "category", hv_str(h->cfg->categories[a->cat].id));
        hv_set(ev, "date", hv_str(d));
        hv_set(ev, "slot_start", hv_str(s));
        hv_set(ev, "slot_end", hv_str(e));
        hall_emit(h, out, ev, now.ms);   /* applying it changes a's state only: i stays valid */
    }
}

hv *hall_view_appointments(const hk_hall *h, hk_time now)
{
    int n[4] = {0};
    for (size_t i = 0; i < h->appts->n; i++)
        if (h->appts->v[i].day == now.day) n[h->appts->v[i].state]++;
    hv *m = hv_map();
    hv_set(m, "booked", hv_int(n[APPT_BOOKED]));
    hv_set(m, "checked_in", hv_int(n[APPT_CHECKED_IN]));
    hv_set(m, "released", hv_int(n[APPT_RELEASED]));
    hv_set(m, "cancelled", hv_int(n[APPT_CANCELLED]));
    return m;
}

/* ---- commands ---------------------------------------------------------------------------------- */

/* "HH:MM" (today) or "YYYY-MM-DD HH:MM". */
static int parse_slot_time(const char *s, hk_time now, bool end, int32_t *day)
{
    if (!s) return -1;
    if (strlen(s) == 5) { *day = now.day; return appt_parse_hhmm(s, end); }
    if (strlen(s) != 16 || s[10] != ' ') return -1;
    char d[11];
    memcpy(d, s, 10);
    d[10] = 0;
    *day = appt_parse_date(d);
    return *day < 0 ? -1 : appt_parse_hhmm(s + 11, end);
}

void hall_cmd_appointment_add(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    (void)s;
    bool bad = false;
    appt_row r = {0};
    r.number = opt_str(req, "number", &bad);
    r.name = opt_str(req, "name", &bad);
    const char *catid = opt_str(req, "category", &bad);
    const char *ss = opt_str(req, "slot_start", &bad), *se = opt_str(req, "slot_end", &bad);
    r.matter = opt_str(req, "matter", &bad);
    const char *phone = opt_str(req, "phone", &bad), *idno = opt_str(req, "id_number", &bad);
    if ((phone || idno) && check_code(phone ? phone : idno, r.check) < 0) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "%s must end in 4 digits (the check code of check-in), got '%s'",
                       phone ? "phone" : "id_number", clip(phone ? phone : idno).s);
        return;
    }
    if (bad || !r.number || !r.name || !catid || !ss || !se) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST,
                  "appointment.add needs number, name, category, slot_start, slot_end (strings) and optionally matter");
        return;
    }
    int32_t d1 = 0, d2 = 0;
    r.start = parse_slot_time(ss, now, false, &d1);
    r.end = parse_slot_time(se, now, true, &d2);
    if (r.start < 0 || r.end < 0) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "%s must be HH:MM (today) or YYYY-MM-DD HH:MM, got '%s'",
                  r.start < 0 ? "slot_start" : "slot_end", clip(r.start < 0 ? ss : se).s);
        return;
    }
    if (strlen(se) == 5) d2 = d1;   /* an end given as HH:MM is on the start's day */
    if (d1 != d2) { hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "slot_start and slot_end must be on the same day"); return; }
    r.day = d1;
    char msg[256];
    int code = row_check(h, h->appts, &r, catid, now, msg, sizeof msg);
    if (code) { hall_reply_err(out, req, code, "%s", msg); return; }
    hall_emit(h, out, added_event(h, &r, "add", now), now.ms);
    hv_set(hall_reply_ok(out, req), "appointment", appt_view(h, appt_find(h->appts, r.number)));
}

void hall_cmd_appointment_cancel(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    (void)s;
    bool bad = false;
    const char *number = opt_str(req, "number", &bad);
    if (bad || !number) { hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "number (a string) is required"); return; }
    const hk_appt *a = appt_find(h->appts, number);
    if (!a) { hall_reply_err(out, req, HK_ERR_NOT_FOUND, "no appointment %s", clip(number).s); return; }
    if (a->state == APPT_CHECKED_IN) {
        hall_reply_err(out, req, HK_ERR_CONFLICT, "appointment %s is already checked in as ticket %s: the ticket stays in the queue",
                  a->number, a->code);
        return;
    }
    if (a->state != APPT_BOOKED) {
        hall_reply_err(out, req, HK_ERR_CONFLICT, "appointment %s is already %s", a->number, appt_state_name(a->state));
        return;
    }
    hv *ev = hall_event("appointment.cancelled");
    hv_set(ev, "number", hv_str(a->number));
    hv_set(ev, "category", hv_str(h->cfg->categories[a->cat].id));
    hall_emit(h, out, ev, now.ms);
    hv_set(hall_reply_ok(out, req), "appointment", appt_view(h, appt_find(h->appts, number)));
}

static int cmp_appt(const void *x, const void *y)
{
    const hk_appt *a = *(const hk_appt *const *)x, *b = *(const hk_appt *const *)y;
    if (a->day != b->day) return a->day < b->day ? -1 : 1;
    if (a->start_min != b->start_min) return a->start_min < b->start_min ? -1 : 1;
    return strcmp(a->number, b->number);
}

void hall_cmd_appointments_list(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    (void)s;
    bool bad = false;
    const char *date = opt_str(req, "date", &bad);
    int64_t offset = 0, limit = APPT_LIST_MAX;
    if (bad) { hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "date must be a string: YYYY-MM-DD or \"all\""); return; }
    if (hv_has(req, "offset") && (hv_get_int(req, "offset", &offset) < 0 || offset < 0)) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "offset must be a whole number >= 0");
        return;
    }
    if (hv_has(req, "limit") && (hv_get_int(req, "limit", &limit) < 0 || limit < 1 || limit > APPT_LIST_MAX)) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "limit must be a whole number from 1 to %d", APPT_LIST_MAX);
        return;
    }
    bool all = date && !strcmp(date, "all");
    int32_t day = now.day;
    if (date && !all && (day = appt_parse_date(date)) < 0) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "date must be YYYY-MM-DD or \"all\", got '%s'", clip(date).s);
        return;
    }
    const hk_appt_book *b = h->appts;
    const hk_appt **sel = hk_realloc(NULL, (b->n ? b->n : 1) * sizeof *sel);
    size_t n = 0;
    for (size_t i = 0; i < b->n; i++)
        if (all || b->v[i].day == day) sel[n++] = &b->v[i];
    qsort(sel, n, sizeof *sel, cmp_appt);
    hv *list = hv_arr();
    for (size_t i = (size_t)offset; i < n && i < (size_t)(offset + limit); i++) hv_push(list, appt_view(h, sel[i]));
    free(sel);
    char d[16];
    fmt_date(day, d, sizeof d);
    hv *r = hall_reply_ok(out, req);
    hv_set(r, "date", hv_str(all ? "all" : d));
    hv_set(r, "appointments", list);
    hv_set(r, "total", hv_int((int64_t)n));
    hv_set(r, "offset", hv_int(offset));
    hv_set(r, "more", hv_bool((size_t)(offset + limit) < n));
}

/* ---- import: CSV text, all or nothing ---------------------------------------------------------- */

#define CSV_COLS 8
static const char *const csv_header[CSV_COLS] = {"number", "name", "category", "date", "start", "end", "matter",
                                                 "phone"};

/* Splits one line (no newline) into at most CSV_COLS + 1 fields, in place in buf. RFC 4180
 * quoting ("a,b" and "" for a quote); spaces around an unquoted field are trimmed. Returns the
 * field count, or -1 with msg. */
static int csv_split(char *buf, char **f, char *msg, size_t len)
{
    int nf = 0;
    char *p = buf;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        char *field = p, *w = p;
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p) { snprintf(msg, len, "a quoted field is not closed (a \" is missing)"); return -1; }
                if (*p == '"' && p[1] == '"') { *w++ = '"'; p += 2; continue; }
                if (*p == '"') { p++; break; }
                *w++ = *p++;
            }
            while (*p == ' ' || *p == '\t') p++;
            if (*p && *p != ',') { snprintf(msg, len, "text after a closing quote in field %d", nf + 1); return -1; }
        } else {
            while (*p && *p != ',') {
                if (*p == '"') { snprintf(msg, len, "a \" inside an unquoted field %d (quote the whole field)", nf + 1); return -1; }
                *w++ = *p++;
            }
            while (w > field && (w[-1] == ' ' || w[-1] == '\t')) w--;
        }
        char sep = *p;
        *w = 0;
        if (nf > CSV_COLS) { snprintf(msg, len, "more than %d fields", CSV_COLS); return -1; }
        f[nf++] = field;
        if (!sep) return nf;
        p++;   /* past the comma */
    }
}

typedef struct {
    hv *errors;       /* [{line, msg}] */
    size_t nerrors, listed_bytes;
    char *msg;        /* the err reply's msg, growing */
    size_t msglen, msgcap;
} import_errs;

static void import_err(import_errs *e, long line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void import_err(import_errs *e, long line, const char *fmt, ...)
{
    char text[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    size_t tl = strlen(text);
    if (e->nerrors < APPT_IMPORT_ERRORS_MAX && e->listed_bytes + tl < APPT_IMPORT_ERRORS_BYTES) {
        e->listed_bytes += tl + 16;
        hv *m = hv_map();
        hv_set(m, "line", hv_int(line));
        hv_set(m, "msg", hv_str(text));
        hv_push(e->errors, m);
    }
    if (e->nerrors < APPT_IMPORT_ERRORS_SHOWN) {
        char row[360];
        int n = snprintf(row, sizeof row, "\nline %ld: %s", line, text);
        if (n > 0) {
            size_t need = e->msglen + (size_t)n + 1;
            if (need > e->msgcap) {
                e->msgcap = need * 2;
                e->msg = hk_realloc(e->msg, e->msgcap);
            }
            memcpy(e->msg + e->msglen, row, (size_t)n + 1);
            e->msglen += (size_t)n;
        }
    }
    e->nerrors++;
}

/* One data row: fields already split. Fills r (pointing into the fields) or reports errors. */
static bool import_row(const hk_hall *h, char **f, int nf, int ncols, long line, hk_time now, appt_row *r,
                       import_errs *e)
{
    if (nf != ncols) {
        import_err(e, line, "expected %d fields (%s,...), got %d", ncols, csv_header[0], nf);
        return false;
    }
    memset(r, 0, sizeof *r);
    r->number = f[0];
    r->name = f[1];
    r->matter = ncols >= 7 ? f[6] : NULL;
    bool ok = true;
    if (ncols == CSV_COLS && *f[7] && check_code(f[7], r->check) < 0) {
        import_err(e, line, "phone must end in 4 digits (the check code of check-in), got '%s'", clip(f[7]).s);
        ok = false;
    }
    r->day = appt_parse_date(f[3]);
    if (r->day < 0) { import_err(e, line, "date must be YYYY-MM-DD, got '%s'", clip(f[3]).s); ok = false; }
    r->start = appt_parse_hhmm(f[4], false);
    if (r->start < 0) { import_err(e, line, "start must be HH:MM, got '%s'", clip(f[4]).s); ok = false; }
    r->end = appt_parse_hhmm(f[5], true);
    if (r->end < 0) { import_err(e, line, "end must be HH:MM, got '%s'", clip(f[5]).s); ok = false; }
    if (!ok) return false;
    char msg[256];
    if (row_check(h, h->appts, r, f[2], now, msg, sizeof msg)) { import_err(e, line, "%s", msg); return false; }
    return true;
}

void hall_cmd_appointment_import(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    (void)s;
    const hv *csv = hv_get(req, "csv");
    if (!csv || csv->t != HV_STR) { hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "csv (the CSV text, a string) is required"); return; }
    if (strlen(csv->u.s.p) != csv->u.s.n) { hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "csv must be text: it contains a NUL byte"); return; }
    char *text = hk_realloc(NULL, csv->u.s.n + 1);
    memcpy(text, csv->u.s.p, csv->u.s.n + 1);
    char *p = text;
    if (!strncmp(p, "\xEF\xBB\xBF", 3)) p += 3;   /* the byte-order mark spreadsheet programs write */

    import_errs e = {.errors = hv_arr()};
    e.msg = hk_realloc(NULL, 1);
    e.msg[0] = 0;
    e.msgcap = 1;
    appt_row *rows = NULL;
    size_t nrows = 0, rcap = 0;
    strmap seen;
    strmap_init(&seen);
    int ncols = 0;
    long line = 0;
    bool too_many = false;
    while (p && *p) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        line++;
        size_t l = strlen(p);
        if (l && p[l - 1] == '\r') p[l - 1] = 0;
        char *f[CSV_COLS + 2];
        char msg[160];
        bool blank = p[strspn(p, " \t")] == 0;
        if (line == 1) {
            int nf = csv_split(p, f, msg, sizeof msg);
            bool hdr = nf >= CSV_COLS - 2 && nf <= CSV_COLS;   /* matter and phone are optional */
            for (int i = 0; hdr && i < nf; i++) hdr = !strcmp(f[i], csv_header[i]);
            if (!hdr) {
                import_err(&e, 1, "the first line must be the header number,name,category,date,start,end[,matter[,phone]]");
                break;
            }
            ncols = nf;
        } else if (!blank) {
            int nf = csv_split(p, f, msg, sizeof msg);
            if (nf < 0) {
                import_err(&e, line, "%s", msg);
            } else if (nrows >= HK_APPT_IMPORT_MAX_ROWS) {
                too_many = true;
            } else {
                if (nrows == rcap) {
                    rcap = rcap ? rcap * 2 : 64;
                    rows = hk_realloc(rows, rcap * sizeof *rows);
                }
                appt_row *r = &rows[nrows];
                if (import_row(h, f, nf, ncols, line, now, r, &e)) {
                    int first;
                    if (strmap_get(&seen, r->number, &first) == 0)
                        import_err(&e, line, "number %s is also on line %d", r->number, first);
                    else {
                        strmap_put(&seen, r->number, (int)line);
                        nrows++;
                    }
                }
            }
        }
        p = nl ? nl + 1 : NULL;
    }
    strmap_free(&seen);
    if (too_many)
        import_err(&e, line, "more than %d appointments in one import: split the file", HK_APPT_IMPORT_MAX_ROWS);
    if (!e.nerrors && line == 0) import_err(&e, 1, "the CSV is empty: expected the header number,name,category,date,start,end[,matter[,phone]]");
    if (!e.nerrors && nrows == 0) import_err(&e, line, "no appointments: the CSV has only its header");
    if (e.nerrors) {
        size_t cap = e.msglen + 160;
        char *msg = hk_realloc(NULL, cap);
        snprintf(msg, cap, "%zu error%s, nothing imported:%s%s", e.nerrors, e.nerrors == 1 ? "" : "s", e.msg,
                 e.nerrors > APPT_IMPORT_ERRORS_SHOWN ? "\n..." : "");
        hv_free(out->reply);
        out->reply = hall_err_reply(hv_get(req, "id"), HK_ERR_BAD_REQUEST, msg);
        hv_set(out->reply, "errors", e.errors);
        free(msg);
    } else {
        /* every row is good: now, and only now, the book changes */
        for (size_t i = 0; i < nrows; i++) hall_emit(h, out, added_event(h, &rows[i], "import", now), now.ms);
        hv_set(hall_reply_ok(out, req), "imported", hv_int((int64_t)nrows));
        hv_free(e.errors);
    }
    free(e.msg);
    free(rows);
    free(text);
}

/* ---- checkpoint (core/checkpoint.h) ------------------------------------------------------------ */

hv *appt_checkpoint(const hk_hall *h)
{
    const hk_appt_book *b = h->appts;
    hv *m = hv_map();
    hv_set(m, "pruned_day", hv_int(b->pruned_day));
    hv *list = hv_arr();
    for (size_t i = 0; i < b->n; i++) {
        const hk_appt *a = &b->v[i];
        hv *x = hv_map();
        hv_set(x, "number", hv_str(a->number));
        hv_set(x, "name", hv_str(a->name));
        hv_set(x, "matter", hv_str(a->matter));
        hv_set(x, "category", hv_str(h->cfg->categories[a->cat].id));
        hv_set(x, "day", hv_int(a->day));
        hv_set(x, "start_min", hv_int(a->start_min));
        hv_set(x, "end_min", hv_int(a->end_min));
        hv_set(x, "state", hv_str(appt_state_name(a->state)));
        hv_set(x, "code", hv_str(a->code));
        if (a->check[0]) hv_set(x, "check", hv_str(a->check));
        hv_push(list, x);
    }
    hv_set(m, "list", list);
    return m;
}

int appt_restore(hk_hall *h, const hv *m)
{
    hk_appt_book *b = h->appts;
    int64_t pruned;
    const hv *list = cp_arr(m, "list");
    if (cp_int(m, "pruned_day", &pruned) < 0 || !list) return -1;
    b->pruned_day = (int32_t)pruned;
    for (size_t i = 0; i < list->u.a.n; i++) {
        const hv *x = list->u.a.v[i];
        int64_t day, start, end;
        const char *number = cp_str(x, "number"), *name = cp_str(x, "name"), *matter = cp_str(x, "matter");
        const char *state = cp_str(x, "state"), *code = cp_str(x, "code");
        int st = -1;
        for (int k = APPT_BOOKED; state && k <= APPT_CANCELLED; k++)
            if (!strcmp(state, appt_state_name((appt_state)k))) st = k;
        if (!is_number(number) || !name || !matter || !code || st < 0 || !cp_str(x, "category") ||
            cp_int(x, "day", &day) < 0 || cp_int(x, "start_min", &start) < 0 || cp_int(x, "end_min", &end) < 0 ||
            start < 0 || end <= start || end > 1440 || book_index(b, number) >= 0)
            return -1;
        int cat = queue_cat_index(&h->q, cp_str(x, "category"));
        if (cat < 0) continue;   /* a category the configuration no longer has */
        if (b->n == b->cap) {
            b->cap = b->cap ? b->cap * 2 : 64;
            b->v = hk_realloc(b->v, b->cap * sizeof *b->v);
        }
        hk_appt *a = &b->v[b->n];
        memset(a, 0, sizeof *a);
        snprintf(a->number, sizeof a->number, "%s", number);
        snprintf(a->name, sizeof a->name, "%s", name);
        snprintf(a->matter, sizeof a->matter, "%s", matter);
        snprintf(a->code, sizeof a->code, "%s", code);
        const char *check = cp_str(x, "check");
        snprintf(a->check, sizeof a->check, "%s", check ? check : "");
        a->cat = cat;
        a->day = (int32_t)day;
        a->start_min = (int)start;
        a->end_min = (int)end;
        a->state = (appt_state)st;
        strmap_put(&b->by_number, a->number, (int)b->n++);
    }
    return 0;
}
