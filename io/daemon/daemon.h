/* daemon.h: the daemon's own state, shared by the files of the hallkeeper program (main.c the
 * command line and shutdown, startup.c the start-up steps, restore.c the day at start,
 * host_cmds.c host commands, speakers.c, lines.c). Not a library interface. */
#ifndef HK_HALLKEEPER_H
#define HK_HALLKEEPER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "core/hall.h"
#include "hub.h"
#include "web/server.h"
#include "io/audio/audio.h"
#include "io/store/em_journal.h"
#include "lines.h"
#include "incidents.h"
#include "io/store/journal.h"
#include "io/store/redis_child.h"
#include "io/store/store.h"

#define HK_VERSION "0.1.0"

typedef struct {
    uv_loop_t loop;
    hk_config cfg;
    const char *config_path;
    char data_dir[1024];
    const char *listen;
    const char *pages;
    redis_child *rc;
    store *st;
    hk_hall *hall;
    hub *hb;
    server *srv;
    hk_lines *lines;
    hk_incidents *incidents;
    audio *speakers;
    int64_t audio_fault_since;
    em_journal *journal;
    journal *events;         /* every event, fsync'd, for when Redis is away */
    uint64_t redis_down_since;   /* ms, 0 = up */
    size_t journal_replayed;
    uint64_t restored_seq;   /* the last seq Redis had at the restore */
    int32_t journal_day;     /* the local day the events journal holds */
    hv *journal_ev;          /* the last emergency.changed of the local journal, if any */
    uint64_t journal_seq, em_seq;
    uint64_t cp_seq;         /* where the latest day.checkpoint series starts (journal compaction) */
    struct { size_t n; uint64_t first, last; int whole; } local;   /* the events journal at start */
    uv_timer_t local_timer;  /* restore.c: start from the local copy if Redis is not up by then */
    int restore_started, from_local, reconciled, top_inflight;
    char conflict[320];      /* Redis holds another history: why, while it is not merged */
    uint64_t conflict_since;
    uv_signal_t sigterm, sigint;
    uv_timer_t tick;
    uv_timer_t watchdog;     /* pings systemd while the loop turns (WatchdogSec) */
    int watchdog_on;
    int exit_code;
    int stopping;
    int test_clock;
    unsigned ticks;
    uint64_t started_ms;     /* uv_now at start, for health's uptime */          /* --test-clock: admins may move the hall's clock (tests only) */
    size_t replayed, skipped;
} daemon_t;

/* startup.c: the start-up steps main() runs in order; each 0, or the exit code (reason on stderr) */
int startup_config(daemon_t *d);    /* configuration, data directory, a free port */
int startup_hall(daemon_t *d);      /* the hall, phone links, GPIO lines */
int startup_emergency(daemon_t *d); /* an emergency of the local journal re-applied at once */
int startup_store(daemon_t *d);     /* the embedded or external Redis, the store, the events journal */
void daemon_start_serving(daemon_t *d);        /* the day is restored: clients, ticks, ready */
void daemon_check_redis_fault(daemon_t *d);   /* raises, regrades or ends the redis faults */

/* restore.c: the day at start, from Redis or from the local copy (docs/redis.md) */
void restore_begin(daemon_t *d);               /* after the store and the journal are open */
void restore_on_link(daemon_t *d, int up);     /* the store's link came up or went down */
void restore_note_event(daemon_t *d, uint64_t seq, const hv *ev);   /* tracks the latest checkpoint */

/* host_cmds.c: gives every host row of the command table its handler (before serving).
 * Returns 0, or -1 if the table lacks one of them (logged). */
int daemon_cmds_register(daemon_t *d);

/* speakers.c: the speakers */
void daemon_speakers_open(daemon_t *d);        /* after the restore; logs and goes on without */
void daemon_on_delivered(void *arg, const hv *ev);   /* hub_delivered_fn: a durable ticket.called is spoken */
/* hk_host_cmd (arg = the daemon): the announce command */
void daemon_announce(void *arg, const hk_session *s, const hv *req, hk_time now, hk_out *out);

#endif
