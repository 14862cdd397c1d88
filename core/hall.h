/* hall.h: the hall's live state and the hall.v1 request/response model, as pure logic.
 * Every change is an event: a command validates, then emits events; emitting applies an event
 * to the state (hall_apply), the same function that replays persisted events at start-up, so a
 * restarted hall is rebuilt exactly. Time is passed in; nothing here reads a clock or does I/O. */
#ifndef HK_HALL_H
#define HK_HALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "emergency.h"
#include "errors.h"
#include "val.h"

typedef struct {
    int64_t ms;     /* wall clock, milliseconds since the epoch */
    int32_t day;    /* local calendar day as YYYYMMDD */
    int32_t min;    /* minute of the local day, 0..1439 */
    int32_t wday;   /* 0 = Monday .. 6 = Sunday */
} hk_time;

/* One connection's view: who it is and which window it acts for. Not durable. */
typedef struct {
    int role;           /* HK_ROLE_*, 0 until hello succeeds */
    char staff[32];     /* staff id for the staff role */
    int window;         /* window the connection acts for (window.open), 0 = none */
    int token;          /* index + 1 of the config token it said hello with, 0 = none */
} hk_session;

/* What one command produced. reply is the whole reply map ({t: ok|err, id, ...});
 * events are already applied and carry seq and at. close_after: close the connection once
 * the reply is sent (a failed hello). */
typedef struct {
    hv *reply;
    hv **events;
    size_t nevents, cap;
    bool close_after;
    int auth_role;      /* set by a successful hello: the role the connection now has */
    const hv *req;          /* the request (borrowed, NULL for a tick): the host's hooks may read
                             * its options, e.g. ticket.issue {qr: true} (io/daemon/printing.c) */
} hk_out;

typedef struct hk_hall hk_hall;

hk_hall *hall_new(const hk_config *cfg);   /* cfg is borrowed and must outlive the hall */
void hall_free(hk_hall *h);

/* How hello checks a presented token (n bytes) against a configured one (the host's handles
 * hashed tokens: io/config/token.c). Without one, plain secrets are compared byte for byte in
 * constant time. */
typedef bool (*hk_token_verifier)(void *arg, const char *stored, const uint8_t *presented, size_t n);
void hall_set_token_verifier(hk_hall *h, hk_token_verifier fn, void *arg);

/* Replays one persisted event (as emitted, with seq). Returns 0, or -1 if it makes no sense
 * for this configuration (logged by the caller and skipped). */
int hall_replay(hk_hall *h, const hv *event);

/* Runs one request. Never fails: errors become {t: err, code, msg} replies. */
void hall_cmd(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);

/* A command the host runs itself (GPIO lines, speakers, incident log, reports, health). Its row,
 * with its roles, is in the one table of core/hall_cmd.c, which checks the role and then calls
 * the handler the host registered; the handler fills out->reply and may add events. */
typedef void (*hk_host_cmd)(void *arg, const hk_session *s, const hv *req, hk_time now, hk_out *out);
/* At start: gives the host row `name` its handler. Returns 0, or -1 if the table has no host row
 * of that name (a new command gets its row in the table first). A host row without a handler
 * answers err unavailable. */
int hall_cmd_register(hk_hall *h, const char *name, hk_host_cmd fn, void *arg);
/* Row i of the table (tests: the role matrix): its name, its HK_ROLE_* mask and whether the
 * host runs it; NULL past the last row. */
const char *hall_cmd_row(size_t i, int *roles, bool *host);

/* Builds an err reply {t: err, id, code, msg} (id may be NULL: a frame that could not be
 * decoded); code is an HK_ERR_* (errors.h), sent as its word. */
hv *hall_err_reply(const hv *id, int code, const char *msg);
/* Replies, for every command handler, the hall's and the host's: {t: ok, id} (returned, to add
 * fields to) and {t: err, id, code, msg} with code an HK_ERR_* and a printf-style message. Both
 * replace any reply already in out. */
hv *hall_reply_ok(hk_out *out, const hv *req);
void hall_reply_err(hk_out *out, const hv *req, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Snapshot for hello and state.get, filtered for the role (no personal data for display/kiosk). */
hv *hall_state(const hk_hall *h, int role, hk_time now);

uint64_t hall_seq(const hk_hall *h);
void hall_set_seq(hk_hall *h, uint64_t seq);   /* after restore: seq continues from the store */
const hk_config *hall_config(const hk_hall *h);

/* Periodic work (every HALL_TICK_MS): the coalesced queue.changed, and later day rollover and
 * load checks. May emit events. */
#define HALL_TICK_MS 200
void hall_tick(hk_hall *h, hk_time now, hk_out *out);

void hk_out_init(hk_out *o);
void hk_out_clear(hk_out *o);   /* frees reply and events */

/* An input line's debounced value: emits gpio.changed and, when it starts or changes an
 * incident, emergency.changed. The caller sets the outputs (hall_outputs) before persisting. */
void hall_input(hk_hall *h, const char *line, int value, hk_time now, hk_out *out);
/* At start: the levels of every configured line (index as cfg->gpio_lines, -1 unknown). */
void hall_input_levels(hk_hall *h, const int *levels, size_t n, hk_time now, hk_out *out);
/* An output line was driven to a new value: emits gpio.changed. */
void hall_output_changed(hk_hall *h, const char *line, int value, hk_time now, hk_out *out);
/* What the host found when it drove an output (emergency_output_result): the gpio steps on that
 * line are marked done or failed (emergency.changed when that changes anything), and a fault of
 * kind "output:LINE" is raised while it fails (since_ms: when it started failing) and ended when
 * it works again. why: what failed ("cannot set: Input/output error", "feedback door_lock reads
 * 0, expected 1"). */
void hall_output_result(hk_hall *h, const char *line, bool ok, const char *why, int64_t since_ms,
                        hk_time now, hk_out *out);
/* What the emergency state wants of the outputs, the queue and the screens. */
const emergency_out *hall_outputs(const hk_hall *h);
/* The version of an event that a connection of `role` may see, or NULL if it may see it as is
 * (public roles: an emergency.changed loses silent incidents, a ticket.finished its outcome;
 * core/audience.c). Caller frees. */
hv *hall_event_for_role(const hv *event, int role);

/* A fault of the hall's own systems (kind "redis": the store is unreachable), graded by how
 * long it has lasted (DB43/T 2422.4 §6.3: III < 20 min, II < 1 h, I beyond). active=false ends
 * it. Emits a `fault` event when the fault starts, changes grade or ends; nothing otherwise. */
void hall_fault(hk_hall *h, const char *kind, bool active, int64_t since_ms, const char *detail,
                hk_time now, hk_out *out);

/* The speakers began or ended an announcement (io/audio/audio.c): emits announce.started or
 * announce.finished {text, zone, priority (call|notice|emergency), truncated}. */
void hall_announce(hk_hall *h, hk_out *out, bool started, const char *text, const char *zone,
                   const char *priority, bool truncated, hk_time now);

/* The HK_ROLE_* mask of the connections that may receive this event: the table of core/audience.c,
 * fail-closed (a name without a row reaches staff, security and admin only). An emergency.changed
 * with `public: false` (it changed only silent incidents) reaches none of display, kiosk, visitor. */
int hall_event_audience(const hv *event);

#endif
