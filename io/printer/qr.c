/* qr.c: QR codes with libqrencode, drawn as SVG (kiosk screen) or as a printer raster. */
#include "qr.h"

#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QR_QUIET 4   /* modules of white border the standard asks for */

int qr_encode(const char *text, qr_matrix *out)
{
    memset(out, 0, sizeof *out);
    if (!text || !*text || strlen(text) > 2000) return -1;
    QRcode *q = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
    if (!q) return -1;
    out->size = q->width;
    out->dark = malloc((size_t)q->width * (size_t)q->width);
    if (!out->dark) {
        QRcode_free(q);
        return -1;
    }
    /* libqrencode's bytes carry flags in the upper bits; bit 0 is the module's colour */
    for (int i = 0; i < q->width * q->width; i++) out->dark[i] = q->data[i] & 1;
    QRcode_free(q);
    return 0;
}

void qr_free(qr_matrix *m)
{
    free(m->dark);
    memset(m, 0, sizeof *m);
}

char *qr_svg(const qr_matrix *m)
{
    int full = m->size + 2 * QR_QUIET;
    /* one path of horizontal runs: "M x y h n v1 h-n z" is at most ~28 bytes a run */
    size_t cap = 256 + (size_t)m->size * (size_t)m->size * 14;
    char *s = malloc(cap);
    if (!s) return NULL;
    size_t n = (size_t)snprintf(s, cap,
                                "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                                "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
                                "<path fill=\"#000\" d=\"",
                                full, full, full, full);
    for (int y = 0; y < m->size; y++) {
        for (int x = 0; x < m->size;) {
            if (!m->dark[y * m->size + x]) { x++; continue; }
            int run = 1;
            while (x + run < m->size && m->dark[y * m->size + x + run]) run++;
            n += (size_t)snprintf(s + n, cap - n, "M%d %dh%dv1h-%dz", x + QR_QUIET, y + QR_QUIET, run, run);
            x += run;
        }
    }
    snprintf(s + n, cap - n, "\"/></svg>");
    return s;
}

int qr_raster(const qr_matrix *m, int scale, uint8_t **bits, int *width_bytes, int *height)
{
    if (scale < 1 || m->size < 1) return -1;
    int dots = (m->size + 2 * QR_QUIET) * scale;
    int wb = (dots + 7) / 8;
    uint8_t *b = calloc((size_t)wb * (size_t)dots, 1);
    if (!b) return -1;
    for (int y = 0; y < dots; y++) {
        int my = y / scale - QR_QUIET;
        if (my < 0 || my >= m->size) continue;
        for (int x = 0; x < dots; x++) {
            int mx = x / scale - QR_QUIET;
            if (mx >= 0 && mx < m->size && m->dark[my * m->size + mx])
                b[y * wb + x / 8] |= (uint8_t)(0x80 >> (x % 8));
        }
    }
    *bits = b;
    *width_bytes = wb;
    *height = dots;
    return 0;
}
