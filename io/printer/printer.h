/* printer.h: the kiosk's ticket printer (docs/printer.md). Two halves: escpos_* builds the byte
 * stream of a ticket (ESC/POS, the thermal printers' language: text in GB18030, the QR code as a
 * GS v 0 raster), and printer_* sends it to a device file or a network printer on the libuv
 * loop without ever blocking it, with a time-out, reporting when the printer fails and when it
 * works again. */
#ifndef HK_PRINTER_H
#define HK_PRINTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/config.h"

/* ---- the byte stream ---- */

typedef struct {
    uint8_t *p;
    size_t n, cap;
    bool oom;           /* a failed allocation: the stream is incomplete, do not print it */
} escpos;

void escpos_init(escpos *e);              /* empty buffer + ESC @ (reset) + FS & (Chinese mode) */
void escpos_free(escpos *e);
void escpos_bytes(escpos *e, const void *p, size_t n);
void escpos_align(escpos *e, int align);  /* ESC a: 0 left, 1 centre, 2 right */
void escpos_size(escpos *e, int w, int h);/* GS !: character width and height, 1..8 times */
void escpos_bold(escpos *e, bool on);     /* ESC E */
void escpos_text(escpos *e, const char *utf8);   /* converted to GB18030; a line ends with "\n" */
void escpos_feed(escpos *e, int lines);   /* ESC d */
/* GS v 0: a 1-bit image, rows of width_bytes bytes (top bit leftmost, 1 = black). */
void escpos_raster(escpos *e, const uint8_t *bits, int width_bytes, int height);
void escpos_cut(escpos *e);               /* GS V 66: feed to the cutter and cut */

typedef struct {
    const char *hall_name;
    const char *code;
    const char *category_name;
    int ahead;              /* people waiting before this ticket */
    int64_t issued_at_ms;   /* printed as local time */
    const char *url;        /* the phone link; NULL: no QR code */
    int width_mm;           /* 58 or 80 */
} printer_ticket;

/* The whole ticket, ready to send. 0, or -1 (out of memory). *out is malloc'd. */
int printer_ticket_escpos(const printer_ticket *t, uint8_t **out, size_t *len);

/* Dots a line of the paper: 384 at 58 mm, 576 at 80 mm (203 dpi heads). */
int printer_dots(int width_mm);

/* ---- the device ---- */

typedef struct printer printer;

/* active: printing failed (detail says why), called at every failure while the printer is away
 * so the caller can regrade the fault; !active: it works again (once, after failures). */
typedef void (*printer_status_fn)(void *arg, bool active, const char *detail);

printer *printer_new(uv_loop_t *loop, const hk_printer_cfg *cfg, printer_status_fn fn, void *arg);
/* Queues one job (copied). -1 when the queue is full (the printer is far behind). */
int printer_print(printer *p, const uint8_t *data, size_t len);
/* Drops waiting jobs and closes every handle; freed once the loop has run the closes. */
void printer_close(printer *p);

#define PRINTER_QUEUE_MAX 16
#define PRINTER_PROBE_MS 5000   /* while failing: how often it checks whether the printer is back */

#endif
