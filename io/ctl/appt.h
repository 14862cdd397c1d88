/* appt.h: `hallctl appointments ...` (docs/appointments.md): import a day's CSV, list,
 * add and cancel appointments. It holds its own short conversation with the daemon, because an
 * import sends a file and a list may take several pages. */
#ifndef HK_HALLCTL_APPT_H
#define HK_HALLCTL_APPT_H

#include <stdbool.h>

/* Largest CSV file `appointments import` sends: the request must fit one 64 KiB hall.v1 frame. */
#define HALLCTL_APPT_CSV_MAX 60000

/* argv: the words after "appointments". Returns hallctl's exit status: 0 ok, 1 the daemon
 * answered err, 2 usage error (before connecting), 3 connection failure. */
int hallctl_appt_main(const char *url, const char *token, bool json, int timeout_ms, int argc, char **argv);

#endif
