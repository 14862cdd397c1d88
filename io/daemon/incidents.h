/* incidents.h: the daemon's glue between the hall's events and the incident log
 * (incident_log.h). Incident records are derived from the emergency.changed events (by diffing
 * each emergency object against the one seen before) and from input edges during an incident;
 * incidents.list serves them to security and admin. Part of the hallkeeper program. */
#ifndef HK_HALLKEEPER_INCIDENTS_H
#define HK_HALLKEEPER_INCIDENTS_H

#include <uv.h>

#include "core/hall.h"
#include "io/store/incident_log.h"

typedef struct hk_incidents hk_incidents;

#define INCIDENTS_LIST_DEFAULT 200
#define INCIDENTS_LIST_MAX 1000
/* A page of incidents.list stays well under the 64 KiB frame clients accept. */
#define INCIDENTS_LIST_BYTES (40 * 1024)

/* Opens DATA/incidents.log and rebuilds, from its records, which incidents are open, so that
 * a restart does not log them again. */
hk_incidents *incidents_open(uv_loop_t *loop, const char *data_dir, char *err, size_t errlen);
/* From the hub's outputs hook, after the outputs are set: logs what the events of one change
 * mean for the incidents (out may be NULL: nothing to do). */
void incidents_observe(hk_incidents *in, const hk_out *out);
/* hk_host_cmd (arg = the incidents): the command incidents.list {since_n?, limit?}; fills
 * out->reply with {records, verified, head_hash, head_n, more}. */
void incidents_cmd_list(void *arg, const hk_session *s, const hv *req, hk_time now, hk_out *out);
incident_log *incidents_log(hk_incidents *in);
void incidents_close(hk_incidents *in);

#endif
