/* checkpoint.h: the daily checkpoint (docs/streams.md "day.checkpoint"). Right after day.closed the
 * hall writes its whole durable state as events, so a restart replays from the latest checkpoint
 * instead of from the first event the hall ever had. Each module turns its part of the state into
 * a value tree (X_checkpoint) and back (X_restore, on a fresh hall, -1 if malformed); this file
 * declares the hall's own pairs and the helpers the modules share. The orchestration (emitting,
 * splitting into frames, applying) is core/hall_checkpoint.c. */
#ifndef HK_CHECKPOINT_H
#define HK_CHECKPOINT_H

#include "hall_int.h"

/* The events: day.checkpoint.part (the items of long lists, when the state does not fit one
 * frame) then day.checkpoint (everything else, and the number of parts before it). */
#define HK_CHECKPOINT_EV "day.checkpoint"
#define HK_CHECKPOINT_PART_EV "day.checkpoint.part"

/* Called by hall_roll_day once day.closed is emitted. The events are not applied live (the hall
 * already is that state); they reset the hall only when replayed. */
void hall_checkpoint_emit(hk_hall *h, hk_out *out, hk_time now);
/* hall_apply of day.checkpoint and day.checkpoint.part: 0, or -1 for a malformed checkpoint (the
 * hall is then left exactly as it was). */
int hall_checkpoint_apply(hk_hall *h, const hv *ev, const char *name);
/* Builds the complete checkpoint state of a hall (for tests and hall_checkpoint_emit). */
hv *hall_checkpoint_state(const hk_hall *h);
/* Restores a complete state (as hall_checkpoint_state gives it) into h: 0, or -1 if malformed
 * (h unchanged). */
int hall_checkpoint_restore_state(hk_hall *h, const hv *state);

/* hall.c: open_day, windows, recent calls and faults. remap[i] is the new index of the i-th
 * ticket of the checkpoint (-1: not restored); windows refer to tickets by that index. */
hv *hall_core_checkpoint(const hk_hall *h);
int hall_core_restore(hk_hall *h, const hv *m, const int *remap, size_t nremap);
/* hall_emergency.c: the emergency state machine's incidents */
hv *hall_emergency_checkpoint(const hk_hall *h);
int hall_emergency_restore(hk_hall *h, const hv *m);

/* Reading a checkpoint: a required field that is missing or of another type makes it malformed. */
int cp_int(const hv *m, const char *key, int64_t *out);          /* 0 or -1 */
const char *cp_str(const hv *m, const char *key);                /* NULL unless a string */
int cp_bool(const hv *m, const char *key, bool *out);            /* 0 or -1 */
const hv *cp_arr(const hv *m, const char *key);                  /* NULL unless an array */
const hv *cp_map(const hv *m, const char *key);                  /* NULL unless a map */

#endif
