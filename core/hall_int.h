/* hall_int.h: the hall's internals shared by hall.c (state, events), hall_cmd.c (commands)
 * and hall_view.c (snapshots). Not for use outside core/. */
#ifndef HK_HALL_INT_H
#define HK_HALL_INT_H

#include "hall.h"
#include "emergency.h"
#include "queue.h"

enum { HK_WIN_CLOSED = 0, HK_WIN_OPEN = 1, HK_WIN_PAUSED = 2 };

typedef struct {
    const hk_window_cfg *cfg;
    int status;
    char staff[32];
    char reason[128];
    int current;             /* ticket index at the window, -1 = none */
} hk_win;

#define HK_RECENT_CALLS 10

typedef struct {
    char code[16];
    int window, cat;
    int64_t at;
    bool recall;
} hk_recent;

#define HK_MAX_FAULTS 32   /* redis, audio, printer, one per supervised output or input, ... */

/* Room for the host's handlers, by row of the command table (hall_cmd.c checks it fits). */
#define HK_CMD_ROWS 64

typedef struct {
    hk_host_cmd fn;
    void *arg;
} hk_host_slot;

typedef struct {
    char kind[80];           /* "redis", "audio", "output:door_main", ... */
    int grade;               /* 1 (I, most severe) .. 3 (III) */
    int64_t since;
    char detail[128];
} hk_fault;

struct hk_hall {
    const hk_config *cfg;
    uint64_t seq;
    hk_queue q;
    hk_win *wins; size_t nwins;
    hk_recent recent[HK_RECENT_CALLS];
    int nrecent;
    emergency *em;
    emergency_out eo;
    hv *em_public;           /* the emergency as public screens last saw it (emergency.changed `public`) */
    hk_fault faults[HK_MAX_FAULTS];
    int nfaults;
    hk_token_verifier verify_token;
    void *verify_token_arg;
    bool queues_dirty;       /* a queue.changed is owed at the next tick */
    int32_t open_day;        /* the local day the hall is in (YYYYMMDD), 0 before its first ticket */
    hv *checkpoint_parts;    /* day.checkpoint.part payloads awaiting their day.checkpoint (hall_checkpoint.c) */
    struct hk_posts *posts;  /* AB posts, check-ins and alerts (posts.c) */
    struct hk_appt_book *appts;   /* appointments (core/appointments.c) */
    struct hk_cases *cases;      /* 四件管理 (cases.c) */
    struct hk_ratings *ratings;  /* 好差评 (ratings.c) */
    /* hall_mobile.c: the host's check of a phone's key (an hk_ticket_verifier, hall_mobile.h) */
    bool (*verify_ticket)(void *ctx, const char *hall_id, int32_t day, const char *code, const char *key);
    void *verify_ticket_ctx;
    hk_host_slot host[HK_CMD_ROWS];   /* the host's handlers (hall_cmd_register), by table row */
};

/* The window with that id, or NULL; takes the id as sent (any 64-bit number), so a huge id is
 * not cut down to a small one that exists. */
hk_win *hall_window(hk_hall *h, int64_t id);
/* Closes the previous day when `now` is in a later one: emits day.closed (hall.c). */
void hall_roll_day(hk_hall *h, hk_out *out, hk_time now);
const char *hall_window_status_name(int status);
int hall_apply(hk_hall *h, const hv *ev);
hv *hall_event(const char *name);
void hall_emit(hk_hall *h, hk_out *out, hv *ev, int64_t at);

/* emergencies (hall_emergency.c) */
void hall_emergency_changed(hk_hall *h, hk_out *out, int64_t at);
int hall_apply_emergency(hk_hall *h, const hv *ev);
hv *hall_view_emergency(const hk_hall *h, int role);
/* HK_ERR_* for the queue while an emergency holds it: HK_OK = allowed */
int hall_queue_blocked(const hk_hall *h, bool issuing, bool appointment, char *msg, size_t len);

void hall_cmd_emergency_trigger(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);
void hall_cmd_emergency_ack(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);
void hall_cmd_emergency_clear(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);
void hall_cmd_emergency_report(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);
void hall_cmd_emergency_confirm(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);
void hall_cmd_emergency_playbooks(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);

#include "posts.h"
#include "appointments.h"
#include "cases.h"
#include "ratings.h"
/* phones (hall_mobile.c): hello with "ticket:CODE:KEY". false if the token is not of that form
 * (cmd_hello goes on); true once the reply (ok as visitor, or unauthenticated) is in out. */
bool hall_hello_visitor(hk_hall *h, hk_session *s, const hv *req, const char *token, hk_time now,
                        hk_out *out);
void hall_cmd_ticket_get(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);


/* views (hall_view.c) */
hv *hall_view_window(const hk_hall *h, const hk_win *w);
hv *hall_view_queues(const hk_hall *h);
hv *hall_view_ticket(const hk_hall *h, const hk_ticket *t);
hv *hall_view_ticket_ahead(const hk_hall *h, const hk_ticket *t, int ahead);
int64_t hall_est_wait_s(const hk_hall *h, int cat, int ahead);
bool hall_is_open(const hk_hall *h, hk_time now);
void hall_next_open(const hk_hall *h, hk_time now, char *buf, size_t len);

#endif
