/* qr.h: QR codes of a ticket's phone link (docs/mobile.md), with libqrencode: a module matrix,
 * an SVG for the kiosk screen and a 1-bit raster for the ESC/POS printer (io/printer/printer.c). */
#ifndef HK_QR_H
#define HK_QR_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int size;           /* modules a side, without the quiet zone */
    uint8_t *dark;      /* size * size, row-major: 1 = dark module */
} qr_matrix;

/* Encodes text (error correction M: a creased or smudged ticket still scans). 0, or -1 for text
 * that is empty or too long for a QR code (more than ~2 KB). */
int qr_encode(const char *text, qr_matrix *out);
void qr_free(qr_matrix *m);

/* An SVG document (malloc'd, NUL-terminated) drawing m with a quiet zone of 4 modules; it scales
 * to any box (viewBox, crisp edges). NULL if out of memory. */
char *qr_svg(const qr_matrix *m);

/* A 1-bit raster of m for a thermal printer: each module `scale` dots a side, a quiet zone of 4
 * modules, rows of *width_bytes bytes, the leftmost dot in the top bit, 1 = black. 0 or -1. */
int qr_raster(const qr_matrix *m, int scale, uint8_t **bits, int *width_bytes, int *height);

#endif
