/* hub.h: the request pipeline between the WebSocket clients, the hall (core/) and the store.
 * A frame is decoded, run through hall_cmd, its events are appended to the store and to the
 * local journal, and only when they are durable are the events broadcast and the reply sent.
 * Durable means: confirmed by Redis; or, when Redis is down or has not answered within
 * HUB_REDIS_GRACE_MS, fsync'd in the local journal (replayed into Redis later). Replies and
 * broadcasts leave in the order the commands ran, so no client sees a later state before an
 * earlier one is durable. */
#ifndef HK_HUB_H
#define HK_HUB_H

#include <uv.h>

#include "core/hall.h"
#include "io/store/journal.h"
#include "io/store/store.h"
#include "web/server.h"

typedef struct hub hub;

#define HUB_REDIS_GRACE_MS 250

hub *hub_new(uv_loop_t *loop, hk_hall *hall, store *st, journal *jr);
/* The handlers to pass to server_new, with the hub as their argument. */
const server_handlers *hub_handlers(void);
void hub_set_server(hub *hb, server *srv);

/* Called after every change of the hall, before anything is persisted or sent: the host sets
 * the outputs the emergency state wants (the path that never waits) and may add events to out. */
typedef void (*hub_outputs_fn)(void *arg, hk_out *out);
void hub_set_outputs(hub *hb, hub_outputs_fn fn, void *arg);

/* Called for each event named in names (a NULL-terminated list) once it is durable and has been
 * sent to the clients: what happens in the hall after a change is known to hold (a call is
 * announced on the speakers when the screens show it). */
typedef void (*hub_delivered_fn)(void *arg, const hv *event);
void hub_set_delivered(hub *hb, const char *const *names, hub_delivered_fn fn, void *arg);

/* Runs the hall's periodic work and sends what it emits. */
void hub_tick(hub *hb);

/* Emits events that did not come from a client (start-up, faults, GPIO): persisted, then broadcast. */
void hub_publish(hub *hb, hk_out *out);

size_t hub_pending(const hub *hb);
/* Stops the hub's timer (shutdown); the hub is freed with hub_free after the loop has run. */
void hub_stop(hub *hb);
void hub_free(hub *hb);

#endif
