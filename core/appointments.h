/* appointments.h: appointments (预约, DB43/T 2422.3 §6.3–6.4) booked on the hall's platform and
 * checked in at a kiosk (docs/appointments.md). Like the rest of the hall, every change is an
 * event (appointment.added / .checked_in / .released / .cancelled) applied by
 * hall_apply_appointment, so a restarted hall rebuilds the book exactly. Names are personal
 * data: they appear only in appointment.* events and appointments.list, which reach staff and
 * admin connections only. */
#ifndef HK_APPOINTMENTS_H
#define HK_APPOINTMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hall.h"
#include "strmap.h"

#define HK_APPT_NUMBER_MAX 32     /* bytes: 1..32 of A-Z a-z 0-9 _ - */
#define HK_APPT_NAME_MAX 64       /* bytes of UTF-8 */
#define HK_APPT_MATTER_MAX 128    /* bytes of UTF-8 */
#define HK_APPT_IMPORT_MAX_ROWS 2000
#define HK_APPT_CHECK_LEN 4       /* the check code: the last 4 digits (or characters) of phone or ID */
#define HK_APPT_FAILS_MAX 5       /* failed check-ins of one device ... */
#define HK_APPT_FAILS_WINDOW_MIN 10   /* ... within this many minutes, then it is refused for as long */

typedef enum { APPT_BOOKED, APPT_CHECKED_IN, APPT_RELEASED, APPT_CANCELLED } appt_state;

typedef struct {
    char number[HK_APPT_NUMBER_MAX + 1];
    char name[HK_APPT_NAME_MAX + 1];
    char matter[HK_APPT_MATTER_MAX + 1];
    int cat;                  /* index into cfg->categories */
    int32_t day;              /* YYYYMMDD of the slot */
    int start_min, end_min;   /* minutes of that local day, start < end <= 1440 */
    appt_state state;
    char code[16];            /* the ticket it checked in as */
    char check[HK_APPT_CHECK_LEN + 1];   /* the second factor of check-in, "" = none (number alone) */
} hk_appt;

/* Failed check-ins of one device (token), for the per-device limit. Not durable. */
typedef struct { int fails; int64_t since; } hk_appt_fails;

typedef struct hk_appt_book {
    hk_appt *v;
    size_t n, cap;
    strmap by_number;         /* number -> index */
    int32_t pruned_day;       /* finished appointments of days before this one are forgotten */
    int32_t tick_day, tick_min;   /* the minute hall_appointment_tick last looked (a cache) */
    hk_appt_fails *fails;     /* [cfg->ntokens + 1], by hk_session.token */
    size_t nfails;
} hk_appt_book;

hk_appt_book *appt_book_new(void);
void appt_book_free(hk_appt_book *b);
const hk_appt *appt_find(const hk_appt_book *b, const char *number);
const char *appt_state_name(appt_state s);

/* "HH:MM" -> minutes (0..1440; 24:00 only with allow_2400), or -1. */
int appt_parse_hhmm(const char *s, bool allow_2400);
/* "YYYY-MM-DD" -> YYYYMMDD of a real calendar day, or -1. */
int32_t appt_parse_date(const char *s);

/* ---- the hall's side (core/appointments.c) ---- */

/* Applies one appointment.* event. Returns 0, or -1 if it makes no sense here. */
int hall_apply_appointment(hk_hall *h, const hv *ev);

/* May appointment `number` check in at `now` with the check code `check` (NULL: none given)?
 * catid, when given, must be its category. Returns HK_OK with *cat set, or an HK_ERR_* with
 * a message for the visitor. An unknown number and a wrong check code (asked of a kiosk, not of
 * staff at the desk) get the same answer, and a device (s->token) with HK_APPT_FAILS_MAX of them in
 * HK_APPT_FAILS_WINDOW_MIN minutes is refused for that long. */
int hall_appointment_check(hk_hall *h, const hk_session *s, const char *number, const char *check,
                            const char *catid, hk_time now, int *cat, char *msg, size_t len);
/* Emits appointment.checked_in {number, code}: the ticket `code` was issued for it. */
void hall_appointment_checked_in(hk_hall *h, hk_out *out, const char *number, const char *code, hk_time now);

/* Releases booked appointments whose check-in closed (slot end + grace): appointment.released. */
void hall_appointment_tick(hk_hall *h, hk_time now, hk_out *out);

/* The daily checkpoint (core/checkpoint.h): the book. appt_restore fills a fresh hall's book (its
 * queue already restored): 0, or -1 if malformed. */
hv *appt_checkpoint(const hk_hall *h);
int appt_restore(hk_hall *h, const hv *m);

/* Today's counts for the state snapshot: no names, so every role may see it. */
hv *hall_view_appointments(const hk_hall *h, hk_time now);

void hall_cmd_appointment_add(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);
void hall_cmd_appointment_import(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);
void hall_cmd_appointment_cancel(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);
void hall_cmd_appointments_list(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);

#endif
