/* test_qr_printer.c: the ticket printer's ESC/POS stream (io/printer/printer.c), the QR code (io/printer/qr.c),
 * the phone link's key (io/printer/ticket_key.c), the printer on a device file through the real loop,
 * and the visitor role of the hall (core/hall_mobile.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/hall.h"
#include "core/hall_mobile.h"
#include "io/config/config_load.h"
#include "io/printer/printer.h"
#include "io/printer/qr.h"
#include "io/printer/ticket_key.h"

static const uint8_t *find(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++)
        if (!memcmp(hay + i, needle, m)) return hay + i;
    return NULL;
}

/* ---- ESC/POS ---- */

static void test_escpos_init_and_text(void **state)
{
    (void)state;
    escpos e;
    escpos_init(&e);
    static const uint8_t init[] = {0x1b, 0x40, 0x1c, 0x26};
    assert_int_equal(e.n, 4);
    assert_memory_equal(e.p, init, 4);
    escpos_text(&e, "A001\n");
    assert_memory_equal(e.p + 4, "A001\n", 5);
    size_t at = e.n;
    escpos_text(&e, "示例");   /* GB18030: CA BE C0 FD */
    static const uint8_t gb[] = {0xca, 0xbe, 0xc0, 0xfd};
    assert_int_equal(e.n - at, 4);
    assert_memory_equal(e.p + at, gb, 4);
    at = e.n;
    escpos_size(&e, 4, 4);
    escpos_align(&e, 1);
    escpos_cut(&e);
    static const uint8_t tail[] = {0x1d, 0x21, 0x33, 0x1b, 0x61, 0x01, 0x1d, 0x56, 66, 0};
    assert_memory_equal(e.p + at, tail, sizeof tail);
    assert_false(e.oom);
    escpos_free(&e);
}

static void test_escpos_raster_header(void **state)
{
    (void)state;
    escpos e;
    escpos_init(&e);
    uint8_t bits[3 * 300];
    memset(bits, 0xaa, sizeof bits);
    escpos_raster(&e, bits, 3, 300);
    static const uint8_t hdr[] = {0x1d, 0x76, 0x30, 0x00, 3, 0, 300 & 0xff, 300 >> 8};
    assert_memory_equal(e.p + 4, hdr, sizeof hdr);
    assert_int_equal(e.n, 4 + sizeof hdr + sizeof bits);
    escpos_free(&e);
}

static void check_ticket(int width_mm)
{
    const char *url = "http://192.168.1.10:8080/t/A001?k=0123456789abcdef";
    printer_ticket t = {"示例政务服务中心", "A001", "社保医保", 3, 1763888400000LL, url, width_mm};
    uint8_t *b;
    size_t n;
    assert_int_equal(printer_ticket_escpos(&t, &b, &n), 0);
    assert_memory_equal(b, "\x1b\x40", 2);
    assert_non_null(find(b, n, "A001", 4));
    assert_non_null(find(b, n, "(3 ahead)", 9));
    /* the QR raster: its header gives the size libqrencode's matrix makes at the scale the
     * paper width allows, and the image is all there */
    qr_matrix m;
    assert_int_equal(qr_encode(url, &m), 0);
    int full = m.size + 8;
    int scale = printer_dots(width_mm) / 2 / full;
    scale = scale < 2 ? 2 : scale > 6 ? 6 : scale;
    int dots = full * scale, wb = (dots + 7) / 8;
    assert_true(dots <= printer_dots(width_mm));
    const uint8_t *h = find(b, n, "\x1d\x76\x30\x00", 4);
    assert_non_null(h);
    assert_int_equal(h[4] | h[5] << 8, wb);
    assert_int_equal(h[6] | h[7] << 8, dots);
    assert_true((size_t)(h + 8 - b) + (size_t)wb * (size_t)dots < n);
    /* ends with feed and cut */
    assert_memory_equal(b + n - 4, "\x1d\x56\x42\x00", 4);
    qr_free(&m);
    free(b);
}

static void test_ticket_bytes_58_and_80(void **state)
{
    (void)state;
    check_ticket(58);
    check_ticket(80);
}

static void test_ticket_without_link_has_no_raster(void **state)
{
    (void)state;
    printer_ticket t = {"Hall", "B012", "Cat", 0, 1763888400000LL, NULL, 80};
    uint8_t *b;
    size_t n;
    assert_int_equal(printer_ticket_escpos(&t, &b, &n), 0);
    assert_non_null(find(b, n, "B012", 4));
    assert_null(find(b, n, "\x1d\x76\x30", 3));
    free(b);
}

/* ---- QR ---- */

static void test_qr_matrix_svg_raster(void **state)
{
    (void)state;
    qr_matrix m;
    assert_int_equal(qr_encode("", &m), -1);
    assert_int_equal(qr_encode("http://10.0.0.1:8080/t/A001?k=0123456789abcdef", &m), 0);
    assert_true(m.size >= 21 && (m.size - 17) % 4 == 0);
    /* finder patterns: dark corners and the light ring inside them */
    assert_int_equal(m.dark[0], 1);
    assert_int_equal(m.dark[m.size - 1], 1);
    assert_int_equal(m.dark[(m.size - 1) * m.size], 1);
    assert_int_equal(m.dark[1 * m.size + 1], 0);
    assert_int_equal(m.dark[3 * m.size + 3], 1);
    char *svg = qr_svg(&m);
    char vb[64];
    snprintf(vb, sizeof vb, "viewBox=\"0 0 %d %d\"", m.size + 8, m.size + 8);
    assert_non_null(strstr(svg, "<svg"));
    assert_non_null(strstr(svg, vb));
    assert_non_null(strstr(svg, "M4 4h7v1h-7z"));   /* the top row of the top-left finder */
    assert_non_null(strstr(svg, "</svg>"));
    free(svg);
    uint8_t *bits;
    int wb, h;
    assert_int_equal(qr_raster(&m, 3, &bits, &wb, &h), 0);
    assert_int_equal(h, (m.size + 8) * 3);
    assert_int_equal(wb, (h + 7) / 8);
    for (int i = 0; i < wb * 12; i++) assert_int_equal(bits[i], 0);   /* quiet zone: 4 modules * 3 dots */
    int x = 12, y = 12;   /* the first dark module's first dot */
    assert_true(bits[y * wb + x / 8] & (0x80 >> (x % 8)));
    assert_false(bits[y * wb + 11 / 8] & (0x80 >> (11 % 8)));
    free(bits);
    qr_free(&m);
}

/* ---- the link key ---- */

static void test_ticket_key(void **state)
{
    (void)state;
    uint8_t secret[TICKET_KEY_SECRET_LEN], other[TICKET_KEY_SECRET_LEN];
    memset(secret, 7, sizeof secret);
    memset(other, 8, sizeof other);
    char k[TICKET_KEY_HEX_LEN + 1], k2[TICKET_KEY_HEX_LEN + 1];
    ticket_key_make(secret, "demo", 20261123, "A001", k);
    ticket_key_make(secret, "demo", 20261123, "A001", k2);
    assert_string_equal(k, k2);
    assert_int_equal(strlen(k), TICKET_KEY_HEX_LEN);
    assert_int_equal(strspn(k, "0123456789abcdef"), TICKET_KEY_HEX_LEN);
    assert_true(ticket_key_check(secret, "demo", 20261123, "A001", k));
    assert_false(ticket_key_check(secret, "demo", 20261124, "A001", k));   /* another day */
    assert_false(ticket_key_check(secret, "demo", 20261123, "A002", k));   /* another ticket */
    assert_false(ticket_key_check(secret, "demo2", 20261123, "A001", k));  /* another hall */
    assert_false(ticket_key_check(other, "demo", 20261123, "A001", k));    /* another secret */
    k2[0] = k2[0] == '0' ? '1' : '0';
    assert_false(ticket_key_check(secret, "demo", 20261123, "A001", k2));
    k2[0] = k[0];
    k2[TICKET_KEY_HEX_LEN - 1] = 0;
    assert_false(ticket_key_check(secret, "demo", 20261123, "A001", k2));   /* truncated */
    assert_false(ticket_key_check(secret, "demo", 20261123, "A001", ""));
    assert_false(ticket_key_check(secret, "demo", 20261123, "A001", NULL));
}

static void test_ticket_key_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/hk_mobile_XXXXXX";
    assert_non_null(mkdtemp(dir));
    uint8_t a[TICKET_KEY_SECRET_LEN], b[TICKET_KEY_SECRET_LEN];
    char err[256];
    assert_int_equal(ticket_key_load(dir, a, err, sizeof err), 0);
    assert_int_equal(ticket_key_load(dir, b, err, sizeof err), 0);
    assert_memory_equal(a, b, sizeof a);   /* made once, kept */
    char path[300];
    snprintf(path, sizeof path, "%s/mobile.key", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(truncate(path, 5), 0);
    assert_int_equal(ticket_key_load(dir, b, err, sizeof err), -1);
    assert_non_null(strstr(err, "32 bytes"));
    unlink(path);
    rmdir(dir);
}

/* ---- the printer on a device file, through the real loop ---- */

static int status_calls, status_active;
static char status_detail[200];

static void on_status(void *arg, bool active, const char *detail)
{
    (void)arg;
    status_calls++;
    status_active = active;
    snprintf(status_detail, sizeof status_detail, "%s", detail ? detail : "");
}

static void run_until(uv_loop_t *loop, int *calls, int want)
{
    for (int i = 0; i < 400 && *calls < want; i++) {
        uv_run(loop, UV_RUN_NOWAIT);
        usleep(5000);
    }
}

static void test_printer_device(void **state)
{
    (void)state;
    char dir[] = "/tmp/hk_printer_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char dev[300];
    snprintf(dev, sizeof dev, "%s/lp0", dir);
    hk_printer_cfg cfg = {dev, NULL, 58, 2000};
    uv_loop_t loop;
    uv_loop_init(&loop);
    status_calls = 0;
    printer *p = printer_new(&loop, &cfg, on_status, NULL);
    /* no device yet: the start-up probe reports the fault */
    run_until(&loop, &status_calls, 1);
    assert_int_equal(status_calls, 1);
    assert_true(status_active);
    assert_non_null(strstr(status_detail, "cannot open"));
    /* the device appears (a plain file stands in for it): the next ticket prints and clears it */
    FILE *f = fopen(dev, "w");
    fclose(f);
    printer_ticket t = {"Hall", "C007", "Cat", 1, 1763888400000LL, "http://h/t/C007?k=00", 58};
    uint8_t *b;
    size_t n;
    assert_int_equal(printer_ticket_escpos(&t, &b, &n), 0);
    assert_int_equal(printer_print(p, b, n), 0);
    run_until(&loop, &status_calls, 2);
    assert_int_equal(status_calls, 2);
    assert_false(status_active);
    struct stat st;
    assert_int_equal(stat(dev, &st), 0);
    assert_int_equal((size_t)st.st_size, n);
    /* a second ticket appends, with no fault report */
    assert_int_equal(printer_print(p, b, n), 0);
    for (int i = 0; i < 100; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        stat(dev, &st);
        if ((size_t)st.st_size == 2 * n) break;
        usleep(5000);
    }
    assert_int_equal((size_t)st.st_size, 2 * n);
    assert_int_equal(status_calls, 2);
    free(b);
    printer_close(p);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);   /* every handle and request is gone */
    unlink(dev);
    rmdir(dir);
}

/* ---- the visitor role (core) ---- */

static hk_config cfg;
static hk_hall *hall;
static int64_t next_id = 1;

static hk_time at(int64_t s)
{
    hk_time t = {1763888400000LL + s * 1000, 20251123, 10 * 60 + (int)(s / 60), 0};
    return t;
}

/* the host's check, as io/daemon/printing.c makes it, with a fixed secret */
static uint8_t test_secret[TICKET_KEY_SECRET_LEN];
static bool verifier(void *ctx, const char *hall_id, int32_t day, const char *code, const char *key)
{
    (void)ctx;
    return ticket_key_check(test_secret, hall_id, day, code, key);
}

static hv *cmd(hk_session *s, const char *t, const char *k1, const char *v1, hk_out *keep)
{
    hv *req = hv_map();
    hv_set(req, "t", hv_str(t));
    hv_set(req, "id", hv_int(next_id++));
    if (k1) hv_set(req, k1, hv_str(v1));
    hk_out out;
    hk_out_init(&out);
    hall_cmd(hall, s, req, at(60), &out);
    hv *r = out.reply;
    out.reply = NULL;
    if (keep) *keep = out;
    else hk_out_clear(&out);
    hv_free(req);
    return r;
}

static void expect(hv *r, const char *t, const char *code)
{
    assert_string_equal(hv_get_str(r, "t"), t);
    if (code) assert_string_equal(hv_get_str(r, "code"), code);
    hv_free(r);
}

static void test_visitor_role(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(config_load_string(config_demo_yaml, strlen(config_demo_yaml), "demo", &cfg, err, sizeof err), 0);
    hall = hall_new(&cfg);
    memset(test_secret, 3, sizeof test_secret);
    hk_session kiosk = {0}, staff = {0}, phone = {0}, other = {0};
    expect(cmd(&kiosk, "hello", "token", "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq", NULL), "ok", NULL);
    expect(cmd(&staff, "hello", "token", "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp", NULL), "ok", NULL);
    hk_out o;
    hv *r = cmd(&kiosk, "ticket.issue", "category", "A", &o);
    assert_string_equal(hv_get_str(hv_get(r, "ticket"), "code"), "A001");
    assert_string_equal(hv_get_str(o.events[0], "by"), "kiosk");   /* the printer's cue */
    hk_out_clear(&o);
    hv_free(r);
    expect(cmd(&kiosk, "ticket.issue", "category", "A", NULL), "ok", NULL);

    char key[TICKET_KEY_HEX_LEN + 1], tok[64];
    ticket_key_make(test_secret, "demo", 20251123, "A002", key);
    snprintf(tok, sizeof tok, "ticket:A002:%s", key);
    /* no verifier given: ticket links are refused */
    r = cmd(&phone, "hello", "token", tok, &o);
    assert_true(o.close_after);
    hk_out_clear(&o);
    expect(r, "err", "unauthenticated");
    hall_set_ticket_verifier(hall, verifier, NULL);
    /* a wrong key, a key of another ticket, a malformed token */
    char bad[64];
    snprintf(bad, sizeof bad, "ticket:A001:%s", key);
    expect(cmd(&other, "hello", "token", bad, NULL), "err", "unauthenticated");
    expect(cmd(&other, "hello", "token", "ticket:A002:0000000000000000", NULL), "err", "unauthenticated");
    expect(cmd(&other, "hello", "token", "ticket:a002", NULL), "err", "unauthenticated");
    expect(cmd(&other, "hello", "token", "ticket:Z999:0000000000000000", NULL), "err", "unauthenticated");
    assert_int_equal(other.role, 0);
    /* the right key */
    r = cmd(&phone, "hello", "token", tok, &o);
    assert_int_equal(o.auth_role, HK_ROLE_VISITOR);
    hk_out_clear(&o);
    assert_string_equal(hv_get_str(r, "role"), "visitor");
    const hv *t = hv_get(r, "ticket");
    assert_string_equal(hv_get_str(t, "code"), "A002");
    int64_t v;
    assert_int_equal(hv_get_int(t, "ahead", &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(hv_get_int(t, "position", &v), 0);
    assert_int_equal(v, 2);
    assert_non_null(hv_get(r, "state"));
    hv_free(r);
    /* what a visitor may not do */
    expect(cmd(&phone, "ticket.issue", "category", "A", NULL), "err", "forbidden");
    expect(cmd(&phone, "call.next", NULL, NULL, NULL), "err", "forbidden");
    expect(cmd(&phone, "window.open", "window", "1", NULL), "err", "forbidden");
    expect(cmd(&phone, "emergency.trigger", "playbook", "fire", NULL), "err", "forbidden");
    expect(cmd(&phone, "ticket.get", "code", "A001", NULL), "err", "forbidden");
    /* its own ticket, as it moves */
    hv *req = hv_map();
    hv_set(req, "t", hv_str("window.open"));
    hv_set(req, "id", hv_int(next_id++));
    hv_set(req, "window", hv_int(1));
    hk_out_init(&o);
    hall_cmd(hall, &staff, req, at(60), &o);
    hk_out_clear(&o);
    hv_free(req);
    expect(cmd(&staff, "call.next", NULL, NULL, NULL), "ok", NULL);
    r = cmd(&phone, "ticket.get", NULL, NULL, NULL);
    t = hv_get(r, "ticket");
    assert_int_equal(hv_get_int(t, "ahead", &v), 0);
    assert_int_equal(v, 0);
    assert_null(hv_get_str(t, "outcome"));
    hv_free(r);
    expect(cmd(&staff, "ticket.noshow", NULL, NULL, NULL), "ok", NULL);
    expect(cmd(&staff, "call.next", NULL, NULL, NULL), "ok", NULL);
    r = cmd(&phone, "ticket.get", "code", "A002", NULL);
    t = hv_get(r, "ticket");
    assert_string_equal(hv_get_str(t, "state"), "called");
    assert_string_equal(hv_get_str(t, "window_name"), "1号窗口");
    hv_free(r);
    /* staff may look any ticket up; a kiosk may not */
    expect(cmd(&staff, "ticket.get", "code", "A001", NULL), "ok", NULL);
    expect(cmd(&staff, "ticket.get", "code", "Z001", NULL), "err", "not_found");
    expect(cmd(&kiosk, "ticket.get", "code", "A001", NULL), "err", "forbidden");
    /* which events reach a phone (emergency.changed: the public view, silent incidents left out) */
    static const struct { const char *ev; bool visitor; } aud[] = {
        {"ticket.called", true}, {"queue.changed", true}, {"window.changed", true}, {"ticket.noshow", true},
        {"ticket.issued", false}, {"ticket.finished", false}, {"ticket.rated", false},
        {"emergency.changed", true}, {"fault", false}, {"gpio.changed", false}, {"alert.raised", false},
    };
    for (size_t i = 0; i < sizeof aud / sizeof *aud; i++) {
        hv *ev = hv_map();
        hv_set(ev, "ev", hv_str(aud[i].ev));
        assert_int_equal(!!(hall_event_audience(ev) & HK_ROLE_VISITOR), aud[i].visitor);
        assert_true(hall_event_audience(ev) & HK_ROLE_STAFF);
        hv_free(ev);
    }
    hall_free(hall);
    hk_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escpos_init_and_text),
        cmocka_unit_test(test_escpos_raster_header),
        cmocka_unit_test(test_ticket_bytes_58_and_80),
        cmocka_unit_test(test_ticket_without_link_has_no_raster),
        cmocka_unit_test(test_qr_matrix_svg_raster),
        cmocka_unit_test(test_ticket_key),
        cmocka_unit_test(test_ticket_key_file),
        cmocka_unit_test(test_printer_device),
        cmocka_unit_test(test_visitor_role),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
