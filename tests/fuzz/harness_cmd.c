/* harness_cmd.c: the command dispatcher (core/hall_cmd.c) on arbitrary requests from
 * authenticated sessions, with time advancing through hall_tick, checked by replaying what the
 * hall emitted into a second hall. The input format is in harness.h (fuzz_cmd). */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hall_mobile.h"
#include "core/report.h"
#include "io/config/config_load.h"
#include "core/codec/codec.h"

/* The full hall: every section the core reads (posts, alerts, queue fairness, appointments,
 * matters, supervision, rating), hours with a lunch break and a 03:00 rollover, and thresholds
 * low enough that minutes of simulated time raise alerts and case warnings. The same text is
 * the config corpus seed seed_full.yaml (tests/fuzz/make_fuzz_corpora.py, FULL). */
static const char full_yaml[] =
    "hall: { id: full, name: 全功能大厅 }\n"
    "http: { listen: \"0.0.0.0:8080\", rate_per_connection: 500, rate_per_token: 5000 }\n"
    "redis: { url: \"redis://127.0.0.1:6379/0\" }\n"
    "hours:\n"
    "  - { days: [mon, tue, wed, thu, fri], open: [\"08:30-12:00\", \"13:30-17:30\"] }\n"
    "  - { days: [sat], open: [\"09:00-12:00\"] }\n"
    "tokens:\n"
    "  - { token: \"kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq\",   role: kiosk }\n"
    "  - { token: \"display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj\",   role: display }\n"
    "  - { token: \"staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp\",   role: staff, staff: \"0001\" }\n"
    "  - { token: \"staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez\",   role: staff, staff: \"0002\" }\n"
    "  - { token: \"staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD\",   role: staff, staff: \"0003\" }\n"
    "  - { token: \"security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u\",  role: security }\n"
    "  - { token: \"admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6\",     role: admin }\n"
    "staff:\n"
    "  - { id: \"0001\", name: 张三, title: 综合受理员 }\n"
    "  - { id: \"0002\", name: 李四, title: 综合受理员 }\n"
    "  - { id: \"0003\", name: 王五, title: 帮办代办员 }\n"
    "categories:\n"
    "  - { id: A, name: 社保医保, weight: 1.0, alert_wait_min: 2, alert_length: 3 }\n"
    "  - { id: B, name: 不动产登记, weight: 1.0, alert_length: 2 }\n"
    "  - { id: C, name: 帮办代办, weight: 2.0 }\n"
    "  - { id: D, name: 企业开办, weight: 1.0, alert_wait_min: 30 }\n"
    "windows:\n"
    "  - { id: 1, name: 1号窗口, categories: [A, B], zone: hall, posts: { a: \"0001\", b: \"0002\" } }\n"
    "  - { id: 2, name: 2号窗口, categories: [C, A], zone: hall, posts: { a: \"0002\", b: \"0003\" } }\n"
    "  - { id: 3, name: 3号窗口, categories: [B, D], zone: hall, posts: { a: \"0003\", b: \"0001\" } }\n"
    "  - { id: 4, name: 4号窗口, categories: [D, C, A], zone: hall }\n"
    "work: { rollover: \"03:00\", checkin_before_min: 10, away_alert_min: 2, empty_alert_min: 1 }\n"
    "queue: { priority_max_in_row: 2, normal_max_wait_min: 5, appointment_early_min: 30, appointment_grace_min: 5 }\n"
    "matters:\n"
    "  - { id: yb-transfer, name: 医保关系转移接续, category: A, promised_days: 1, legal_days: 2 }\n"
    "  - { id: bdc-first,   name: 不动产首次登记,   category: B, promised_days: 7, legal_days: 30 }\n"
    "  - { id: qy-license,  name: 企业设立登记,     category: D, promised_days: 2 }\n"
    "supervision: { warn_fraction: 0.5, default_days: 1 }\n"
    "rating: { reasons: [服务态度不好, 办事效率低, 其他], target: 0.9 }\n"
    "mobile: { public_url: \"https://paidui.example.gov.cn/\" }\n"
    "printer: { tcp: \"127.0.0.1:9100\", width_mm: 58, timeout_ms: 800 }\n"
    "gpio:\n"
    "  backend: sim\n"
    "  lines:\n"
    "    - { name: fire_panel, chip: gpiochip0, offset: 17, dir: in, active_low: true, debounce_ms: 50 }\n"
    "    - { name: door_main,  chip: gpiochip0, offset: 22, dir: out, normal: 0, safe: 1 }\n"
    "audio:\n"
    "  sink: none\n"
    "  voice: cmn\n"
    "  template: \"请{code}号到{window}办理\"\n"
    "  window_templates: [ { window: 4, template: \"请{code}号到二楼{window}办理\" } ]\n"
    "  repeat: 2\n"
    "  digits: yao\n"
    "  second_language: en\n"
    "  second_template: \"Number {code}, window {window_id}.\"\n"
    "  evac_tone_s: 8\n"
    "emergency:\n"
    "  playbooks:\n"
    "    - id: fire\n"
    "      name: 火警\n"
    "      triggers: [ { gpio: fire_panel, value: 1 } ]\n"
    "      steps:\n"
    "        - { do: gpio, line: door_main, value: 1 }\n"
    "        - { do: queue_freeze }\n"
    "        - { do: display, mode: evacuation }\n"
    "    - id: mass_incident\n"
    "      name: 群体性事件\n"
    "      silent: true\n"
    "      steps:\n"
    "        - { do: alert, text: 大厅发生聚集, roles: [security, admin] }\n";

/* The configs are loaded once: they are only read, and every input gets a fresh hall. */
static const hk_config *load_config(bool full)
{
    static hk_config cfg[2];
    static bool loaded[2];
    if (!loaded[full]) {
        char err[256];
        const char *text = full ? full_yaml : config_demo_yaml;
        if (config_load_string(text, strlen(text), full ? "full" : "demo", &cfg[full], err, sizeof err))
            fuzz_fail("%s config: %s", full ? "full" : "demo", err);
        loaded[full] = true;
    }
    return &cfg[full];
}

/* Local time in the hall (UTC+8, no daylight saving) of a wall clock. */
static hk_time at_ms(int64_t ms)
{
    int64_t local = ms / 1000 + 8 * 3600;
    int64_t days = local / 86400, sod = local % 86400;
    /* days since 1970-01-01 to a civil date (H. Hinnant's algorithm) */
    int64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9, y = yoe + era * 400 + (m <= 2);
    hk_time t = {ms, (int32_t)(y * 10000 + m * 100 + d), (int32_t)(sod / 60), (int32_t)((days + 3) % 7)};
    return t;
}

/* Monday 2025-11-24 10:00 local, plus s seconds */
#define T0_MS 1763949600000LL
static hk_time at(int64_t s) { return at_ms(T0_MS + s * 1000); }

/* A phone's key for a ticket: the harness accepts "good" for every ticket, so the fuzzer can
 * say hello as a visitor of any code that exists ("ticket:A001:good"). */
static bool verify_ticket(void *ctx, const char *hall_id, int32_t day, const char *code, const char *key)
{
    (void)ctx, (void)hall_id, (void)day, (void)code;
    return !strcmp(key, "good");
}

static int64_t next_id;

/* A setup step that must succeed: the scenes are fixed, so a failure is a regression. */
static void step(hk_hall *h, hk_session *s, const char *t, hv *args, hk_time now, hv *log)
{
    hv *req = args ? args : hv_map();
    hv_set(req, "t", hv_str(t));
    hv_set(req, "id", hv_int(next_id++));
    hk_out out;
    hk_out_init(&out);
    hall_cmd(h, s, req, now, &out);
    const char *rt = out.reply ? hv_get_str(out.reply, "t") : NULL;
    if (!rt || strcmp(rt, "ok")) fuzz_dump("setup reply", out.reply);
    FUZZ_CHECK(rt && !strcmp(rt, "ok"), "setup step %s failed", t);
    fuzz_take(&out, log);
    hv_free(req);
}

static hv *arg(const char *k, hv *v)
{
    hv *m = hv_map();
    hv_set(m, k, v);
    return m;
}

/* Runs one request of the input as the hub would, and checks the reply's framing. */
static void run_request(hk_hall *h, hk_session *s, const hv *req, hk_time now, hv *log)
{
    hk_out out;
    hk_out_init(&out);
    hall_cmd(h, s, req, now, &out);
    /* host rows (gpio.*, incidents.list, report.*) have no handler here: err unavailable */
    FUZZ_CHECK(out.reply, "hall_cmd gave no reply");
    const hv *id = hv_get(req, "id");
    const hv *rid = hv_get(out.reply, "id");
    if (out.reply && id && id->t == HV_INT && id->u.i >= 0 && hv_get_str(req, "t"))
        FUZZ_CHECK(rid && hv_equal(id, rid), "reply id differs from the request's");
#ifdef FUZZ_TRACE   /* to see what an input does (docs/reliability.md, "Files") */
    fuzz_dump("request", req);
    fuzz_dump("reply", out.reply);
    for (size_t i = 0; i < out.nevents; i++) fuzz_dump("  event", out.events[i]);
#endif
    fuzz_take(&out, log);
}

/* The length of the msgpack object at p (at most n bytes), or 0 if there is none: only the
 * framing is read, and every count must fit in the bytes left, so nothing large is trusted. */
static size_t mp_len(const uint8_t *p, size_t n, int depth)
{
    if (!n || depth > CODEC_MAX_DEPTH + 1) return 0;
    uint8_t c = p[0];
    uint64_t len = 0, items = 0;   /* payload bytes after the head, or objects that follow */
    size_t head = 1;
    if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3) return 1;
    if ((c & 0xf0) == 0x80) items = 2u * (c & 0x0f);
    else if ((c & 0xf0) == 0x90) items = c & 0x0f;
    else if ((c & 0xe0) == 0xa0) len = c & 0x1f;
    else {
        static const struct { uint8_t c, lenbytes, fixed, mult; } f[] = {
            {0xc4, 1, 0, 0}, {0xc5, 2, 0, 0}, {0xc6, 4, 0, 0},            /* bin */
            {0xc7, 1, 1, 0}, {0xc8, 2, 1, 0}, {0xc9, 4, 1, 0},            /* ext: + type */
            {0xca, 0, 4, 0}, {0xcb, 0, 8, 0},                             /* float */
            {0xcc, 0, 1, 0}, {0xcd, 0, 2, 0}, {0xce, 0, 4, 0}, {0xcf, 0, 8, 0},
            {0xd0, 0, 1, 0}, {0xd1, 0, 2, 0}, {0xd2, 0, 4, 0}, {0xd3, 0, 8, 0},
            {0xd4, 0, 2, 0}, {0xd5, 0, 3, 0}, {0xd6, 0, 5, 0}, {0xd7, 0, 9, 0}, {0xd8, 0, 17, 0},
            {0xd9, 1, 0, 0}, {0xda, 2, 0, 0}, {0xdb, 4, 0, 0},            /* str */
            {0xdc, 2, 0, 1}, {0xdd, 4, 0, 1}, {0xde, 2, 0, 2}, {0xdf, 4, 0, 2},   /* array, map */
        };
        size_t i = 0;
        while (i < sizeof f / sizeof *f && f[i].c != c) i++;
        if (i == sizeof f / sizeof *f) return 0;   /* 0xc1 */
        if (n < 1u + f[i].lenbytes) return 0;
        uint64_t v = 0;
        for (unsigned b = 0; b < f[i].lenbytes; b++) v = v << 8 | p[1 + b];
        head = 1u + f[i].lenbytes;
        if (f[i].mult) items = v * f[i].mult;
        else len = v + f[i].fixed;
    }
    if (len > n - head || items > n - head) return 0;
    size_t off = head + (size_t)len;
    for (uint64_t k = 0; k < items; k++) {
        size_t l = mp_len(p + off, n - off, depth + 1);
        if (!l) return 0;
        off += l;
    }
    return off;
}

static void local_of(int64_t ms, int32_t *day, int *minute)
{
    hk_time t = at_ms(ms);
    *day = t.day;
    *minute = t.min;
}

/* report.day and hallctl fold the persisted events into the daily report (core/report.c): the first
 * and the last day of the run must fold, and its tree, CSV and HTML must build and be well formed. */
static void check_report(const hk_config *cfg, const hv *log, int32_t day)
{
    report *r = report_new(day, local_of);
    FUZZ_CHECK(r, "report_new");
    report_set_hall(r, cfg->hall_id, cfg->hall_name);
    for (size_t i = 0; i < cfg->ncategories; i++) report_name_category(r, cfg->categories[i].id, cfg->categories[i].name);
    for (size_t i = 0; i < cfg->nwindows; i++) report_name_window(r, cfg->windows[i].id, cfg->windows[i].name);
    for (size_t i = 0; i < cfg->nstaff; i++) report_name_staff(r, cfg->staff[i].id, cfg->staff[i].name);
    for (size_t i = 0; i < log->u.a.n; i++) report_add(r, log->u.a.v[i]);
    hv *tree = report_tree(r);
    uint8_t *buf = NULL;
    size_t len = 0;
    FUZZ_CHECK(tree && codec_encode(tree, 0, &buf, &len) == 0, "report tree of %d does not encode", (int)day);
    free(buf);
    hv_free(tree);
    char *csv = report_csv(r, &len);
    FUZZ_CHECK(csv && csv[len] == 0 && len > 3, "report CSV of %d", (int)day);
    free(csv);
    char *html = report_html(r, &len);
    FUZZ_CHECK(html && html[len] == 0 && strstr(html, "</html>"), "report HTML of %d", (int)day);
    free(html);
    report_free(r);
}

#define MAX_OPS 48
#define MAX_TICKS 400
#define MAX_ADVANCE_S (4 * 86400)

static const char *const role_tokens[] = {"admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6", "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp", "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq"};

int fuzz_cmd(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int role_i = data[0] % 3, scene = (data[0] / 3) % 4;
    bool next_day = (data[0] / 12) % 2, full = (data[0] / 24) % 2;
    const hk_config *cfg = load_config(full);
    next_id = 1;

    /* the first request: the whole rest of the input, or the first object of a script */
    size_t first = mp_len(data + 1, size - 1, 0);
    if (!first) first = size - 1;
    hv *req = NULL;
    int rc = codec_decode(data + 1, first, &req);
    if (rc) {   /* what the hub answers to an undecodable frame */
        hv *r = hall_err_reply(NULL, HK_ERR_BAD_REQUEST, codec_strerror(rc));
        FUZZ_CHECK(r && !strcmp(hv_get_str(r, "t"), "err"), "hall_err_reply shape");
        hv_free(r);
        return 0;
    }

    hk_hall *h = hall_new(cfg);
    FUZZ_CHECK(h, "hall_new on the %s config", full ? "full" : "demo");
    hall_set_ticket_verifier(h, verify_ticket, NULL);
    hv *log = hv_arr();
    /* sessions a script can switch to: 0 the input's, 1 a kiosk, 2 the scene's staff (0001),
     * 3 security (said hello in the drill scene), 4-7 not yet authenticated */
    hk_session ss[8];
    memset(ss, 0, sizeof ss);
    hk_session *me = &ss[0], *kiosk = &ss[1], *staff = &ss[2], *security = &ss[3];
    step(h, me, "hello", arg("token", hv_str(role_tokens[role_i])), at(0), log);
    step(h, kiosk, "hello", arg("token", hv_str("kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")), at(0), log);
    hk_session *desk = role_i == 1 ? me : staff;   /* the staff session of the scene */
    if (role_i != 1) step(h, desk, "hello", arg("token", hv_str("staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")), at(0), log);
    if (full && scene >= 1) {
        /* two bookings: one whose check-in is open now, one this afternoon */
        hk_session admin = {0};
        step(h, &admin, "hello", arg("token", hv_str("admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")), at(0), log);
        static const char *const appts[][4] = {{"APT1", "A", "10:00", "10:30"}, {"APT2", "B", "14:00", "14:30"}};
        for (size_t i = 0; i < 2; i++) {
            hv *a = arg("number", hv_str(appts[i][0]));
            hv_set(a, "name", hv_str("预约人"));
            hv_set(a, "category", hv_str(appts[i][1]));
            hv_set(a, "slot_start", hv_str(appts[i][2]));
            hv_set(a, "slot_end", hv_str(appts[i][3]));
            step(h, &admin, "appointment.add", a, at(0), log);
        }
    }
    if (scene >= 1) {
        static const char *const cats[] = {"A", "A", "B", "C", "D", "B"};
        for (size_t i = 0; i < sizeof cats / sizeof *cats; i++)
            step(h, kiosk, "ticket.issue", arg("category", hv_str(cats[i])), at(1 + (int64_t)i), log);
    }
    if (scene >= 2) {
        if (full) step(h, desk, "staff.checkin", arg("window", hv_int(1)), at(9), log);
        step(h, desk, "window.open", arg("window", hv_int(1)), at(10), log);
        step(h, desk, "call.next", NULL, at(11), log);
    }
    if (scene >= 3) {
        step(h, security, "hello", arg("token", hv_str("security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u")), at(12), log);
        hv *r = hv_map();
        hv_set(r, "t", hv_str("emergency.trigger"));
        hv_set(r, "id", hv_int(next_id++));
        hv_set(r, "playbook", hv_str("fire"));
        hv_set(r, "drill", hv_bool(true));
        hk_out out;
        hk_out_init(&out);
        hall_cmd(h, security, r, at(12), &out);
        FUZZ_CHECK(out.reply && !strcmp(hv_get_str(out.reply, "t"), "ok"), "setup drill failed");
        fuzz_take(&out, log);
        hv_free(r);
    }

    /* the input's request, as the hub runs it */
    int64_t ms = T0_MS + 20000;
    run_request(h, me, req, at_ms(ms), log);
    hv_free(req);

    /* the script: each further object is one step (harness.h) */
    size_t off = 1 + first;
    int ticks = 0;
    hk_session *cur = me;
    for (int ops = 0; off < size && ops < MAX_OPS; ops++) {
        size_t l = mp_len(data + off, size - off, 0);
        if (!l) break;
        const uint8_t *p = data + off;
        off += l;
        if (p[0] <= 0x7f || (p[0] >= 0xcc && p[0] <= 0xd3) || p[0] >= 0xe0) {   /* an integer */
            int64_t v = 0;
            if (p[0] <= 0x7f) v = p[0];
            else if (p[0] >= 0xe0) v = (int8_t)p[0];
            else {
                uint64_t u = 0;
                for (size_t b = 1; b < l; b++) u = u << 8 | p[b];
                unsigned bits = 8u * (unsigned)(l - 1);
                if (p[0] >= 0xd0 && bits < 64 && (u >> (bits - 1)) & 1) u |= ~0ULL << bits;   /* sign */
                v = (int64_t)u;
            }
            if (v <= 0) {   /* switch session */
                cur = &ss[(size_t)((0 - (uint64_t)v) % 8)];
                continue;
            }
            /* advance the clock by v seconds, ticking once a minute or so (capped) */
            int64_t adv = v > MAX_ADVANCE_S ? v % MAX_ADVANCE_S + 1 : v;
            int64_t target = ms + adv * 1000;
            int64_t stride = adv / 60 > 60 ? adv / 60 * 1000 : 60000;
            while (ms < target) {
                ms = ticks < MAX_TICKS && ms + stride < target ? ms + stride : target;
                ticks++;
                hk_out out;
                hk_out_init(&out);
                hall_tick(h, at_ms(ms), &out);
#ifdef FUZZ_TRACE
                for (size_t i = 0; i < out.nevents; i++) fuzz_dump("  tick event", out.events[i]);
#endif
                fuzz_take(&out, log);
            }
            continue;
        }
        if (p[0] == 0xc2 || p[0] == 0xc3) {   /* false, true: the fire panel's input line */
            hk_out out;
            hk_out_init(&out);
            hall_input(h, "fire_panel", p[0] == 0xc3, at_ms(ms), &out);
            fuzz_take(&out, log);
            continue;
        }
        hv *obj = NULL;
        if (p[0] >= 0xa0 && p[0] <= 0xbf) {   /* a string: hello with it as the token */
            char tok[64];
            size_t n = l - 1 < sizeof tok - 1 ? l - 1 : sizeof tok - 1;
            memcpy(tok, p + 1, n);
            tok[n] = 0;
            if (strlen(tok) != n) continue;
            obj = hv_map();
            hv_set(obj, "t", hv_str("hello"));
            hv_set(obj, "id", hv_int(next_id++));
            hv_set(obj, "token", hv_str(tok));
        } else if (codec_decode(p, l, &obj)) {
            continue;   /* not a map: the hub would refuse it (covered by the first request) */
        } else if (!hv_has(obj, "id")) {
            hv_set(obj, "id", hv_int(next_id++));   /* the first request covers a missing id */
        }
        run_request(h, cur, obj, at_ms(ms), log);
        hv_free(obj);
    }

    hk_time end = at_ms(next_day ? ms + 86400000LL : ms + 1000);
    hk_out out;
    hk_out_init(&out);
    hall_tick(h, end, &out);
    fuzz_take(&out, log);

    fuzz_replay_check(cfg, h, log, end);
    check_report(cfg, log, at(0).day);
    if (end.day != at(0).day) check_report(cfg, log, end.day);
    hv_free(log);
    hall_free(h);
    return 0;
}
