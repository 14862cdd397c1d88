/* audience.h: who receives each event the hall emits, in one fail-closed table (an event without
 * a row reaches staff, security and admin only), the view a public connection gets of it, and
 * the numbering that lets every receiver see a lost event: `prev` (docs/protocol.md "Numbering"). */
#ifndef HK_AUDIENCE_H
#define HK_AUDIENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "val.h"

/* The hall's own people, and the connections anyone in the hall can hold. */
#define HK_ROLE_PEOPLE (HK_ROLE_STAFF | HK_ROLE_SECURITY | HK_ROLE_ADMIN)
#define HK_ROLE_PUBLIC (HK_ROLE_DISPLAY | HK_ROLE_KIOSK | HK_ROLE_VISITOR)

/* Every role a connection can hold, in a fixed order (the slots of audience_views). */
#define HK_NROLES 6
extern const int hk_roles[HK_NROLES];
int audience_role_slot(int role);   /* index in hk_roles, or -1 */

/* Whether the table has a row for this event name (the unit test checks every emitted name). */
bool audience_known(const char *name);
/* One row of the table by index (NULL past the end), for docs and tests: its name and roles. */
const char *audience_row(size_t i, int *roles);

/* Per role, the seq of the last event sent to it. Zeroed at start: the first event then sets
 * every role's last to its own seq - 1 (nothing meant for anyone was sent since start). */
typedef struct {
    uint64_t last[HK_NROLES];
} hk_numbering;

/* One encoding of an event: the map `ev` (owned) goes to connections of `roles`. */
typedef struct {
    int roles;
    hv *ev;
} hk_view;

/* The views of one emitted event, in emission order: one per group of roles that see the same
 * map, each with `prev`, the seq of the previous event sent to that role. Roles outside the event's audience get none. Returns the
 * number of views (<= HK_NROLES) and advances n. */
size_t audience_views(hk_numbering *n, const hv *event, hk_view views[HK_NROLES]);

#endif
