/* text.c: see text.h. The limits table is the only place a free-text field's length is set. */
#include "text.h"
#include "appointments.h"
#include "cases.h"
#include "config.h"
#include "emergency.h"
#include "ratings.h"
#include "utf8.h"

#include <stdio.h>
#include <string.h>

/* One row per field a command reads; cmd NULL = any command. The first matching row wins. A field
 * no command reads has no row: it is checked as text, bounded only by the frame (64 KiB). */
static const struct {
    const char *cmd, *field;
    size_t max;
    bool multiline;
} limits[] = {
    {"window.pause", "reason", 120, false},            /* shown on the window's screen */
    {"emergency.clear", "reason", 500, false},         /* the incident log and the consoles */
    {"emergency.confirm", "reason", 500, false},       /* a dismissed report: the incident log */
    {"emergency.report", "note", EMERGENCY_NOTE_MAX - 1, false},   /* kept with the report (emergency.h) */
    {"ticket.finish", "matter", HK_APPT_MATTER_MAX, false},
    {"ticket.finish", "missing", CASE_NAME_MAX, false},   /* each material of a 补正 notice */
    {"ticket.finish", "partners", CASE_NAME_MAX, false},
    {"ticket.finish", "sent_to", CASE_NAME_MAX, false},
    {"case.close", "result", CASE_RESULT_MAX, false},
    {"ticket.rate", "text", RATING_TEXT_MAX, false},
    {"followup.close", "resolution", RATING_RESOLUTION_MAX, false},
    {"appointment.add", "number", HK_APPT_NUMBER_MAX, false},
    {"appointment.add", "name", HK_APPT_NAME_MAX, false},
    {"appointment.add", "matter", HK_APPT_MATTER_MAX, false},
    {"appointment.import", "csv", 60 * 1024, true},     /* a whole file, checked again row by row */
    {"announce", "text", 300, false},                  /* io/daemon/speakers.c: 1..300 */
    /* names of things the hall configures, and other short words */
    {NULL, "reason", HK_TEXT_DEFAULT_MAX, false},      /* a rating's reason: one of the configured list */
    {NULL, "category", 64, false},
    {NULL, "playbook", 64, false},
    {NULL, "line", 64, false},
    {NULL, "code", 64, false},
    {NULL, "outcome", 64, false},
    {NULL, "appointment", HK_APPT_NUMBER_MAX, false},
    {NULL, "check", 16, false},
    {NULL, "phone", 32, false},
    {NULL, "id_number", 32, false},
    {NULL, "zones", 64, false},
    {NULL, "priority", 16, false},
    {NULL, "priority_reason", 16, false},
    {NULL, "status", 16, false},
    {NULL, "format", 16, false},
    {NULL, "slot_start", 32, false},
    {NULL, "slot_end", 32, false},
    {NULL, "t", 64, false},
};

size_t text_limit(const char *cmd, const char *field, bool *multiline)
{
    for (size_t i = 0; i < sizeof limits / sizeof *limits; i++) {
        if ((limits[i].cmd && strcmp(limits[i].cmd, cmd) != 0) || strcmp(limits[i].field, field) != 0) continue;
        if (multiline) *multiline = limits[i].multiline;
        return limits[i].max;
    }
    if (multiline) *multiline = false;
    return HK_TEXT_UNREAD_MAX;
}

/* The start of a refused value as printable text (anything else as '?'), for the message. */
static const char *echo(const unsigned char *p, size_t n, char *buf, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < size;) {
        size_t k = utf8_seq_len(p + i, n - i);
        bool shown = k > 1 ? !(k == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0) : k == 1 && p[i] >= 0x20 && p[i] != 0x7f;
        if (shown) { memcpy(buf + o, p + i, k); o += k; i += k; }
        else { buf[o++] = '?'; i += k ? k : 1; }
    }
    buf[o] = 0;
    return buf;
}

static int check_bytes(const unsigned char *p, size_t n, size_t max, bool multiline, const char *what,
                       char *why, size_t len)
{
    char shown[48];
    if (n > max) { snprintf(why, len, "%s is longer than %zu bytes", what, max); return -1; }
    for (size_t i = 0; i < n;) {
        bool space = multiline && (p[i] == '\n' || p[i] == '\r' || p[i] == '\t');
        if ((p[i] < 0x20 && !space) || p[i] == 0x7f) {
            snprintf(why, len, "%s must not contain control characters (byte 0x%02x at %zu): got '%s'", what, p[i], i,
                     echo(p, n, shown, sizeof shown));
            return -1;
        }
        size_t k = utf8_seq_len(p + i, n - i);
        /* C1 controls (U+0080..U+009F) move a terminal as much as ESC does */
        if (k == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0) {
            snprintf(why, len, "%s must not contain control characters (U+%04X at %zu): got '%s'", what, p[i + 1], i,
                     echo(p, n, shown, sizeof shown));
            return -1;
        }
        if (!k) {
            snprintf(why, len, "%s is not valid UTF-8 (at byte %zu): got '%s'", what, i, echo(p, n, shown, sizeof shown));
            return -1;
        }
        i += k;
    }
    return 0;
}

int text_check(const hv *v, size_t max, bool multiline, const char *what, char *why, size_t len)
{
    if (!v || v->t != HV_STR) { snprintf(why, len, "%s must be a string", what); return -1; }
    if (v->u.s.n == 0) { snprintf(why, len, "%s must not be empty", what); return -1; }
    return check_bytes((const unsigned char *)v->u.s.p, v->u.s.n, max, multiline, what, why, len);
}

static int check_value(const char *cmd, const char *field, const hv *v, int depth, char *why, size_t len)
{
    if (depth > 16) return 0;   /* the codec refuses deeper frames already */
    if (v->t == HV_STR) {
        bool ml;
        size_t max = text_limit(cmd, field, &ml);
        return check_bytes((const unsigned char *)v->u.s.p, v->u.s.n, max, ml, field, why, len);
    }
    if (v->t == HV_ARR) {
        for (size_t i = 0; i < v->u.a.n; i++)
            if (check_value(cmd, field, v->u.a.v[i], depth + 1, why, len) < 0) return -1;
        return 0;
    }
    if (v->t != HV_MAP) return 0;
    for (size_t i = 0; i < v->u.m.n; i++) {
        const char *key = v->u.m.v[i].key;
        if (check_bytes((const unsigned char *)key, strlen(key), HK_TEXT_KEY_MAX, false, "a key", why, len) < 0)
            return -1;
        if (check_value(cmd, key, v->u.m.v[i].val, depth + 1, why, len) < 0) return -1;
    }
    return 0;
}

int text_check_request(const char *cmd, const hv *req, char *why, size_t len)
{
    return check_value(cmd, "request", req, 0, why, len);
}
