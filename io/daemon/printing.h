/* printing.h: the daemon's glue for phones and the ticket printer (docs/mobile.md,
 * docs/printer.md): the ticket link secret and its check, the link and QR code in ticket.issue
 * replies, printing kiosk tickets once durable, and the "printer" fault. */
#ifndef HK_HALLKEEPER_PRINTER_H
#define HK_HALLKEEPER_PRINTER_H

#include "daemon.h"

/* At start, before any client: loads (or makes) DATA/mobile.key, gives the hall the ticket key
 * check, opens the printer when one is configured. 0, or -1 with a reason. */
int daemon_mobile_open(daemon_t *d, char *err, size_t errlen);
/* hub outputs hook: a ticket.issue reply gets the phone link (url, path) and, for a kiosk, the
 * QR code as SVG (qr_svg). */
void daemon_mobile_outputs(daemon_t *d, hk_out *out);
/* Once an event is durable and sent (hub_delivered_fn, arg = daemon): a ticket.issued is
 * printed when a kiosk issued it; other events are not the printer's. */
void daemon_mobile_delivered(void *arg, const hv *ev);
/* At shutdown, before the last loop runs. */
void daemon_mobile_close(daemon_t *d);

/* The phone link of a ticket: "BASE/t/CODE?k=KEY" into out (path only when base is NULL). */
void daemon_mobile_link(daemon_t *d, const char *code, int32_t day, bool absolute, char *out, size_t len);

#endif
