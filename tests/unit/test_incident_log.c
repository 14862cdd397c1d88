/* test_incident_log.c: the incident log (io/store/incident_log.c) and its daemon glue
 * (io/daemon/incidents.c): canonical form as Python writes it, append/reopen/verify, tamper
 * detection (a changed byte, a deleted line, a re-hashed record, a torn tail), the chain_broken
 * note, and records derived from a real hall's events (drill, ack, real input, clear). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/hall.h"
#include "core/val.h"
#include "io/config/config_load.h"
#include "io/daemon/incidents.h"
#include "io/store/incident_log.h"

#define T0 1700000000000LL

static char *mkdir_tmp(void)
{
    char *d = strdup("/tmp/hk-incidents-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static void rm_tmp(char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, INCIDENT_LOG_FILE);
    unlink(path);
    rmdir(dir);
    free(dir);
}

static char *log_path(const char *dir)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, INCIDENT_LOG_FILE);
    return path;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 20);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = 0;
    fclose(f);
    return buf;
}

static void spit(const char *path, const char *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
}

/* Start of line i (0-based) in buf. */
static char *line_at(char *buf, int i)
{
    char *p = buf;
    while (i-- > 0) p = strchr(p, '\n') + 1;
    return p;
}

static void write_records(const char *dir, int n, uv_loop_t *loop)
{
    char err[256];
    incident_log *l = incident_log_open(loop, dir, err, sizeof err);
    assert_non_null(l);
    for (int i = 0; i < n; i++) {
        hv *d = hv_map();
        hv_set(d, "step", hv_int(i));
        hv_set(d, "text", hv_str("拨打119报警"));
        assert_true(incident_log_append(l, T0 + i, i == 0 ? "drill_started" : "step_done", "fire", true,
                                        i == 0 ? "security" : "hallkeeper", d) > 0);
    }
    incident_log_close(l);
    if (loop) uv_run(loop, UV_RUN_DEFAULT);
}

static void expect_verify(const char *dir, int want_rc, uint64_t want_bad)
{
    uint64_t count, bad;
    char msg[256];
    int rc = incident_log_verify(log_path(dir), &count, &bad, msg, sizeof msg);
    if (rc != want_rc || bad != want_bad) fail_msg("verify: rc %d bad %llu (%s), expected rc %d bad %llu", rc,
                                                   (unsigned long long)bad, msg, want_rc, (unsigned long long)want_bad);
}

/* ---- the record format ------------------------------------------------------------------------- */

static void test_canon_matches_python(void **state)
{
    (void)state;
    hv *r = hv_map();
    hv_set(r, "n", hv_int(1));
    hv_set(r, "at", hv_int(5));
    hv_set(r, "kind", hv_str("k"));
    hv_set(r, "playbook", hv_nil());
    hv_set(r, "drill", hv_bool(false));
    hv_set(r, "who", hv_str("安保 \"x\"\n\t\x01\x7f\b\f\r\\"));
    hv *d = hv_map(), *a = hv_arr();
    hv_push(a, hv_int(1));
    hv_push(a, hv_int(-2));
    hv_push(a, hv_bool(true));
    hv_push(a, hv_nil());
    hv_set(d, "a", a);
    hv_set(d, "b", hv_str("/é"));
    hv_set(r, "detail", d);
    hv_set(r, "prev", hv_str("000"));
    hv_set(r, "hash", hv_str("ignored"));
    /* json.dumps(r_without_hash, separators=(",", ":"), ensure_ascii=False) and its sha256 */
    const char *want = "{\"n\":1,\"at\":5,\"kind\":\"k\",\"playbook\":null,\"drill\":false,"
                       "\"who\":\"安保 \\\"x\\\"\\n\\t\\u0001\x7f\\b\\f\\r\\\\\","
                       "\"detail\":{\"a\":[1,-2,true,null],\"b\":\"/é\"},\"prev\":\"000\"}";
    size_t n;
    char *c = incident_canon(r, &n);
    assert_string_equal(c, want);
    assert_int_equal(n, strlen(want));
    char hex[65];
    assert_int_equal(incident_hash(r, hex), 0);
    assert_string_equal(hex, "76a103a2b1a92b7a03283a465077033f723a7d54b41c1638bedba3c40039e38e");

    /* the parser reads it back to the same tree (hash dropped by canon anyway) */
    char err[128];
    hv *back = incident_json_parse(c, n, err, sizeof err);
    assert_non_null(back);
    size_t n2;
    char *c2 = incident_canon(back, &n2);
    assert_string_equal(c2, want);
    free(c);
    free(c2);
    hv_free(back);
    hv_free(r);
}

static void test_json_parse(void **state)
{
    (void)state;
    char err[128];
    const char *ok = " {\"a\" : [ 1 , 2.5e1, \"\\u00e9\\ud83d\\ude00\\/\" ] , \"b\":{}, \"c\":-0} ";
    hv *v = incident_json_parse(ok, strlen(ok), err, sizeof err);
    assert_non_null(v);
    const hv *a = hv_get(v, "a");
    assert_int_equal(a->u.a.n, 3);
    assert_int_equal(a->u.a.v[0]->u.i, 1);
    assert_true(a->u.a.v[1]->t == HV_FLOAT && a->u.a.v[1]->u.f == 25.0);
    assert_string_equal(a->u.a.v[2]->u.s.p, "é\xf0\x9f\x98\x80/");
    hv_free(v);
    const char *bad[] = {"", "{", "{\"a\":}", "{\"a\":1,}", "[1 2]", "\"\x01\"", "01", "{\"a\":1} x", "\"\xff\"",
                         "tru", "{\"a\":\"b}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        hv *x = incident_json_parse(bad[i], strlen(bad[i]), err, sizeof err);
        if (x) fail_msg("parsed invalid JSON #%zu: %s", i, bad[i]);
    }
}

/* ---- the file ----------------------------------------------------------------------------------- */

static void test_append_reopen_verify(void **state)
{
    (void)state;
    char *dir = mkdir_tmp();
    uv_loop_t loop;
    uv_loop_init(&loop);
    write_records(dir, 5, &loop);   /* fdatasync through the thread pool */
    expect_verify(dir, 0, 0);

    char err[256];
    incident_log *l = incident_log_open(NULL, dir, err, sizeof err);
    assert_non_null(l);
    assert_int_equal(incident_log_count(l), 5);
    assert_int_equal(incident_log_next_n(l), 6);
    assert_true(incident_log_verified(l, NULL, NULL));
    hv *last = incident_log_record(l, 4);
    char head[65];
    snprintf(head, sizeof head, "%s", incident_log_head_hash(l));
    assert_string_equal(hv_get_str(last, "hash"), head);
    assert_string_equal(hv_get_str(last, "kind"), "step_done");
    assert_true(hv_get(last, "drill")->u.b);
    hv_free(last);
    hv *first = incident_log_record(l, 0);
    assert_string_equal(hv_get_str(first, "prev"), INCIDENT_ZERO_HASH);
    hv_free(first);

    /* numbering and chain continue; a float in detail becomes a string */
    hv *d = hv_set(hv_map(), "x", hv_float(0.1));
    assert_int_equal(incident_log_append(l, T0 + 9, "fault_raised", NULL, false, "hallkeeper", d), 6);
    hv *r6 = incident_log_record(l, 5);
    assert_int_equal(hv_get(r6, "n")->u.i, 6);
    assert_string_equal(hv_get_str(r6, "prev"), head);
    assert_true(hv_get(r6, "playbook")->t == HV_NIL);
    assert_true(hv_get(hv_get(r6, "detail"), "x")->t == HV_STR);
    hv_free(r6);
    incident_log_close(l);
    expect_verify(dir, 0, 0);

    /* every line is the canonical text plus the hash */
    size_t len;
    char *buf = slurp(log_path(dir), &len);
    char *nl = strchr(buf, '\n');
    *nl = 0;
    hv *r1 = incident_json_parse(buf, (size_t)(nl - buf), NULL, 0);
    char *canon = incident_canon(r1, NULL);
    size_t cl = strlen(canon) - 1;   /* without its closing brace */
    assert_int_equal(strncmp(buf, canon, cl), 0);
    assert_int_equal(strncmp(buf + cl, ",\"hash\":\"", 9), 0);
    assert_string_equal(buf + cl + 9 + 64, "\"}");
    free(canon);
    hv_free(r1);
    free(buf);

    uv_loop_close(&loop);
    rm_tmp(dir);
}

static void test_tamper_byte(void **state)
{
    (void)state;
    char *dir = mkdir_tmp();
    write_records(dir, 5, NULL);
    size_t len;
    char *buf = slurp(log_path(dir), &len);
    char *l3 = line_at(buf, 2);
    char *t = strstr(l3, "\"at\":");
    t[strlen("\"at\":") + 12] ^= 1;   /* one digit of record 3's time */
    spit(log_path(dir), buf, len);
    expect_verify(dir, 1, 3);
    free(buf);
    rm_tmp(dir);
}

static void test_tamper_delete_line(void **state)
{
    (void)state;
    char *dir = mkdir_tmp();
    write_records(dir, 5, NULL);
    size_t len;
    char *buf = slurp(log_path(dir), &len);
    char *l2 = line_at(buf, 1), *l3 = line_at(buf, 2);
    memmove(l2, l3, len - (size_t)(l3 - buf));
    spit(log_path(dir), buf, len - (size_t)(l3 - l2));
    expect_verify(dir, 1, 2);

    /* deleting the first line: record 1 is missing */
    unlink(log_path(dir));
    write_records(dir, 5, NULL);
    free(buf);
    buf = slurp(log_path(dir), &len);
    l2 = line_at(buf, 1);
    spit(log_path(dir), l2, len - (size_t)(l2 - buf));
    expect_verify(dir, 1, 1);
    free(buf);
    rm_tmp(dir);
}

/* Changing a record and recomputing its own hash still breaks the link of the next one. */
static void test_tamper_rehash(void **state)
{
    (void)state;
    char *dir = mkdir_tmp();
    write_records(dir, 5, NULL);
    size_t len;
    char *buf = slurp(log_path(dir), &len);
    char *l3 = line_at(buf, 2), *l4 = line_at(buf, 3);
    hv *r = incident_json_parse(l3, (size_t)(l4 - l3 - 1), NULL, 0);
    assert_non_null(r);
    hv_set(r, "who", hv_str("nobody"));
    char hex[65];
    incident_hash(r, hex);
    hv_set(r, "hash", hv_str(hex));
    char *canon = incident_canon(r, NULL);
    char out[1 << 16];
    int n = snprintf(out, sizeof out, "%.*s%.*s,\"hash\":\"%s\"}\n%s", (int)(l3 - buf), buf,
                     (int)strlen(canon) - 1, canon, hex, l4);
    spit(log_path(dir), out, (size_t)n);
    expect_verify(dir, 1, 4);
    free(canon);
    hv_free(r);
    free(buf);
    rm_tmp(dir);
}

/* Opening a broken log: loud, noted once in a chain_broken record, numbering continues. */
static void test_open_broken_noted_once(void **state)
{
    (void)state;
    char *dir = mkdir_tmp();
    write_records(dir, 4, NULL);
    size_t len;
    char *buf = slurp(log_path(dir), &len);
    char *l2 = line_at(buf, 1), *l3 = line_at(buf, 2);
    memmove(l2, l3, len - (size_t)(l3 - buf));   /* record 2 deleted */
    spit(log_path(dir), buf, len - (size_t)(l3 - l2));
    free(buf);

    char err[256];
    incident_log *l = incident_log_open(NULL, dir, err, sizeof err);
    assert_non_null(l);
    uint64_t bad;
    assert_false(incident_log_verified(l, &bad, NULL));
    assert_int_equal(bad, 2);
    assert_int_equal(incident_log_count(l), 4);   /* 3 left + the note */
    hv *note = incident_log_record(l, 3);
    assert_string_equal(hv_get_str(note, "kind"), "chain_broken");
    assert_int_equal(hv_get(note, "n")->u.i, 5);
    assert_int_equal(hv_get(hv_get(note, "detail"), "bad_n")->u.i, 2);
    hv_free(note);
    incident_log_close(l);

    l = incident_log_open(NULL, dir, err, sizeof err);
    assert_int_equal(incident_log_count(l), 4);   /* not noted again */
    assert_int_equal(incident_log_next_n(l), 6);
    incident_log_close(l);
    expect_verify(dir, 1, 2);
    rm_tmp(dir);
}

/* A last line cut short (power lost mid-write) is kept as evidence and reported. */
static void test_torn_tail(void **state)
{
    (void)state;
    char *dir = mkdir_tmp();
    write_records(dir, 3, NULL);
    size_t len;
    char *buf = slurp(log_path(dir), &len);
    spit(log_path(dir), buf, len - 20);
    expect_verify(dir, 1, 3);
    char err[256];
    incident_log *l = incident_log_open(NULL, dir, err, sizeof err);
    assert_int_equal(incident_log_count(l), 4);
    assert_int_equal(incident_log_next_n(l), 5);   /* the torn line may have been record 3: not reused */
    assert_false(incident_log_verified(l, NULL, NULL));
    hv *note = incident_log_record(l, 3);
    assert_string_equal(hv_get_str(note, "kind"), "chain_broken");
    assert_int_equal(hv_get(note, "n")->u.i, 4);
    hv *two = incident_log_record(l, 1);
    assert_string_equal(hv_get_str(note, "prev"), hv_get_str(two, "hash"));   /* linked to the last good one */
    hv_free(two);
    hv_free(note);
    incident_log_close(l);
    free(buf);
    rm_tmp(dir);
}

/* ---- records derived from a real hall --------------------------------------------------------- */

typedef struct {
    hk_config cfg;
    hk_hall *hall;
    hk_session sec;
    hk_incidents *in;
    int64_t now;
    int64_t id;
} fixture;

static hk_time tnow(fixture *f)
{
    hk_time t = {f->now, 20240105, 600, 4};
    f->now += 1000;
    return t;
}

static hv *last_em;   /* the last emergency.changed, to restore a hall as after a restart */

static void fx_observe(fixture *f, hk_out *out)
{
    incidents_observe(f->in, out);
    for (size_t i = 0; i < out->nevents; i++) {
        const char *n = hv_get_str(out->events[i], "ev");
        if (n && !strcmp(n, "emergency.changed")) {
            hv_free(last_em);
            last_em = hv_dup(out->events[i]);
        }
    }
}

static void fx_cmd(fixture *f, hv *req, const char *want)
{
    hv_set(req, "id", hv_int(++f->id));
    hk_out out;
    hk_out_init(&out);
    hall_cmd(f->hall, &f->sec, req, tnow(f), &out);
    const char *t = hv_get_str(out.reply, "t");
    if (!t || strcmp(t, want) != 0)
        fail_msg("%s -> %s (%s)", hv_get_str(req, "t"), t ? t : "?", hv_get_str(out.reply, "msg"));
    fx_observe(f, &out);
    hk_out_clear(&out);
    hv_free(req);
}

static void fx_input(fixture *f, const char *line, int value)
{
    hk_out out;
    hk_out_init(&out);
    hall_input(f->hall, line, value, tnow(f), &out);
    fx_observe(f, &out);
    hk_out_clear(&out);
}

static void fx_open(fixture *f, const char *dir)
{
    memset(f, 0, sizeof *f);
    char err[512];
    if (config_load_string(config_demo_yaml, strlen(config_demo_yaml), "demo", &f->cfg, err, sizeof err) < 0)
        fail_msg("config: %s", err);
    f->hall = hall_new(&f->cfg);
    f->sec.role = HK_ROLE_SECURITY;
    f->now = T0;
    f->in = incidents_open(NULL, dir, err, sizeof err);
    assert_non_null(f->in);
    assert_int_equal(hall_cmd_register(f->hall, "incidents.list", incidents_cmd_list, f->in), 0);
}

static void fx_close(fixture *f)
{
    incidents_close(f->in);
    hall_free(f->hall);
    hk_config_free(&f->cfg);
}

static hv *req(const char *t) { return hv_set(hv_map(), "t", hv_str(t)); }

/* The kinds of the log, joined by spaces, step_done runs collapsed to "step_done*N". */
static void kinds(incident_log *l, char *out, size_t len)
{
    out[0] = 0;
    int run = 0;
    for (size_t i = 0; i <= incident_log_count(l); i++) {
        hv *r = i < incident_log_count(l) ? incident_log_record(l, i) : NULL;
        const char *k = r ? hv_get_str(r, "kind") : "";
        if (r && !strcmp(k, "step_done")) { run++; hv_free(r); continue; }
        if (run) snprintf(out + strlen(out), len - strlen(out), "%sstep_done*%d", *out ? " " : "", run);
        run = 0;
        if (r) snprintf(out + strlen(out), len - strlen(out), "%s%s", *out ? " " : "", k);
        hv_free(r);
    }
}

static void test_derived_from_hall(void **state)
{
    (void)state;
    char *dir = mkdir_tmp();
    fixture f;
    fx_open(&f, dir);
    fx_cmd(&f, hv_set(hv_set(req("emergency.trigger"), "playbook", hv_str("fire")), "drill", hv_bool(true)), "ok");
    fx_cmd(&f, hv_set(req("emergency.ack"), "step", hv_int(6)), "ok");
    fx_input(&f, "fire_panel", 1);
    fx_input(&f, "fire_panel", 0);
    fx_cmd(&f, hv_set(req("emergency.clear"), "reason", hv_str("消防确认为误报")), "ok");
    fx_input(&f, "fire_panel", 1);   /* a new real fire ... */
    fx_input(&f, "fire_panel", 0);
    incident_log *l = incidents_log(f.in);
    char k[1024];
    kinds(l, k, sizeof k);
    assert_string_equal(k, "drill_started step_done*6 checklist_ack input_changed drill_became_real step_done*6 "
                           "input_changed cleared triggered step_done*6 input_changed");

    hv *r = incident_log_record(l, 0);
    assert_string_equal(hv_get_str(r, "playbook"), "fire");
    assert_true(hv_get(r, "drill")->u.b);
    assert_string_equal(hv_get_str(r, "who"), "security");
    assert_string_equal(hv_get_str(hv_get(r, "detail"), "name"), "火警");
    assert_true(hv_get_int(hv_get(r, "detail"), "seq", &(int64_t){0}) == 0);
    hv_free(r);
    r = incident_log_record(l, 7);   /* the ack */
    assert_string_equal(hv_get_str(r, "who"), "security");
    assert_int_equal(hv_get(hv_get(r, "detail"), "step")->u.i, 6);
    assert_string_equal(hv_get_str(hv_get(r, "detail"), "text"), "拨打119报警");
    assert_int_equal(hv_get(hv_get(r, "detail"), "after_ms")->u.i, 1000);
    hv_free(r);
    r = incident_log_record(l, 9);   /* real takes over */
    assert_string_equal(hv_get_str(r, "kind"), "drill_became_real");
    assert_false(hv_get(r, "drill")->u.b);
    assert_string_equal(hv_get_str(r, "who"), "gpio:fire_panel");
    hv_free(r);
    r = incident_log_record(l, 17);
    assert_string_equal(hv_get_str(r, "kind"), "cleared");
    assert_string_equal(hv_get_str(r, "who"), "security");
    assert_string_equal(hv_get_str(hv_get(r, "detail"), "reason"), "消防确认为误报");
    assert_true(hv_get(hv_get(r, "detail"), "duration_ms")->u.i > 0);
    hv_free(r);
    size_t total = incident_log_count(l);
    fx_close(&f);
    expect_verify(dir, 0, 0);

    /* a restart during the incident: the open fire is known from the log, nothing is logged twice */
    fx_open(&f, dir);
    assert_int_equal(hall_replay(f.hall, last_em), 0);
    fx_input(&f, "fire_panel", 1);
    fx_cmd(&f, hv_set(req("emergency.ack"), "step", hv_int(6)), "ok");
    kinds(incidents_log(f.in), k, sizeof k);
    assert_int_equal(incident_log_count(incidents_log(f.in)), total + 2);   /* the input edge and the ack */
    assert_string_equal(k + strlen(k) - strlen("input_changed input_changed checklist_ack"),
                        "input_changed input_changed checklist_ack");
    fx_close(&f);
    hv_free(last_em);
    last_em = NULL;
    rm_tmp(dir);
}

static void test_list_command(void **state)
{
    (void)state;
    char *dir = mkdir_tmp();
    write_records(dir, 7, NULL);
    fixture f;
    fx_open(&f, dir);
    hk_out out;
    hk_out_init(&out);
    hv *q = hv_set(hv_set(hv_set(req("incidents.list"), "id", hv_int(3)), "limit", hv_int(3)), "since_n", hv_int(2));
    incidents_cmd_list(f.in, &f.sec, q, (hk_time){0}, &out);
    assert_string_equal(hv_get_str(out.reply, "t"), "ok");
    const hv *recs = hv_get(out.reply, "records");
    assert_int_equal(recs->u.a.n, 3);
    assert_int_equal(hv_get(recs->u.a.v[0], "n")->u.i, 3);
    assert_true(hv_get(out.reply, "more")->u.b);
    assert_true(hv_get(out.reply, "verified")->u.b);
    assert_int_equal(hv_get(out.reply, "head_n")->u.i, 7);
    assert_string_equal(hv_get_str(out.reply, "head_hash"), incident_log_head_hash(incidents_log(f.in)));
    /* the client can check a page against the record before it */
    hv *before = incident_log_record(incidents_log(f.in), 1);
    uint64_t bad;
    char msg[256];
    assert_int_equal(incident_chain_check(recs->u.a.v, recs->u.a.n, 3, hv_get_str(before, "hash"), &bad, msg,
                                          sizeof msg), 0);
    hv_free(before);
    hk_out_clear(&out);
    hv_free(q);

    hk_out_init(&out);
    q = hv_set(req("incidents.list"), "limit", hv_str("lots"));
    incidents_cmd_list(f.in, &f.sec, q, (hk_time){0}, &out);
    assert_string_equal(hv_get_str(out.reply, "code"), "bad_request");
    hk_out_clear(&out);
    hv_free(q);

    hk_out_init(&out);
    q = hv_set(req("incidents.list"), "since_n", hv_int(100));
    incidents_cmd_list(f.in, &f.sec, q, (hk_time){0}, &out);
    assert_int_equal(hv_get(out.reply, "records")->u.a.n, 0);
    assert_false(hv_get(out.reply, "more")->u.b);
    hk_out_clear(&out);
    hv_free(q);
    fx_close(&f);
    rm_tmp(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canon_matches_python),
        cmocka_unit_test(test_json_parse),
        cmocka_unit_test(test_append_reopen_verify),
        cmocka_unit_test(test_tamper_byte),
        cmocka_unit_test(test_tamper_delete_line),
        cmocka_unit_test(test_tamper_rehash),
        cmocka_unit_test(test_open_broken_noted_once),
        cmocka_unit_test(test_torn_tail),
        cmocka_unit_test(test_derived_from_hall),
        cmocka_unit_test(test_list_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
