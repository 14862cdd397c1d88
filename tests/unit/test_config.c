/* test_config.c: the YAML loader (io/config/config_load.c) and core/config.c lookups: the demo hall, the
 * contract's example, defaults, hours, HALL_REDIS_URL, and bad configs with their FILE:LINE. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "io/config/config_load.h"

/* contract.md "Configuration (YAML)", copied verbatim. */
static const char contract_yaml[] =
    "hall: { id: demo, name: 示例政务服务中心 }\n"
    "http: { listen: \"0.0.0.0:8080\" }          # also serves the web pages; TLS keys optional: tls_cert, tls_key\n"
    "redis: { url: \"redis://127.0.0.1:6379/0\" } # omit for the embedded default\n"
    "hours:                                    # local time; tickets are not issued outside them\n"
    "  - { days: [mon, tue, wed, thu, fri], open: [\"09:00-12:00\", \"13:00-17:00\"] }\n"
    "tokens:                                   # shared secrets for devices and people; store hashes where you can\n"
    "  - { token: \"kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq\",   role: kiosk }\n"
    "  - { token: \"display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj\",   role: display }\n"
    "  - { token: \"staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp\",   role: staff, staff: \"0001\" }\n"
    "  - { token: \"security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u\",  role: security }\n"
    "  - { token: \"admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6\",     role: admin }\n"
    "staff:\n"
    "  - { id: \"0001\", name: 张三, title: 综合受理员 }\n"
    "categories:                               # 业务类别; code letter prefixes ticket numbers: A001\n"
    "  - { id: A, name: 社保医保, weight: 1.0 }\n"
    "  - { id: B, name: 不动产登记, weight: 1.0 }\n"
    "  - { id: C, name: 帮办代办, weight: 2.0 }\n"
    "windows:\n"
    "  - { id: 1, name: 1号窗口, categories: [A, B], zone: hall }   # ordered: the window prefers A\n"
    "  - { id: 2, name: 2号窗口, categories: [C, A], zone: hall }\n"
    "gpio:\n"
    "  backend: sim                           # or gpiod\n"
    "  lines:\n"
    "    - { name: fire_panel,   chip: gpiochip0, offset: 17, dir: in,  active_low: true, debounce_ms: 50 }\n"
    "    - { name: door_main,    chip: gpiochip0, offset: 22, dir: out, normal: 0, safe: 1 }  # 1 = released\n"
    "    - { name: power_nonfire, chip: gpiochip0, offset: 23, dir: out, normal: 1, safe: 0 }\n"
    "    - { name: hvac_fans,    chip: gpiochip0, offset: 24, dir: out, normal: 1, safe: 0 }\n"
    "    - { name: siren,        chip: gpiochip0, offset: 25, dir: out, normal: 0, safe: 0 }\n"
    "audio:\n"
    "  sink: file                             # or alsa (device: \"default\"), or none\n"
    "  path: announcements.wav\n"
    "  voice: cmn                             # calling language; more may be listed\n"
    "emergency:\n"
    "  playbooks:                             # built-in defaults exist for every incident in domain.md\n"
    "    - id: fire\n"
    "      name: 火警\n"
    "      triggers: [ { gpio: fire_panel, value: 1 } ]\n"
    "      steps:\n"
    "        - { do: gpio, line: door_main, value: 1 }\n"
    "        - { do: gpio, line: power_nonfire, value: 0 }\n"
    "        - { do: gpio, line: siren, value: 1 }\n"
    "        - { do: queue_freeze }\n"
    "        - { do: display, mode: evacuation }\n"
    "        - { do: announce, text: 各位办事群众请注意，现在发生火警，请听从工作人员指挥，沿疏散指示标志有序撤离。, loop: true }\n"
    "        - { do: checklist, text: 拨打119报警 }\n";

/* A minimal valid hall; bad configs below append to it from line 8 on. */
#define BASE                                       \
    "hall: { id: h1 }\n"                           \
    "tokens:\n"                                    \
    "  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk }\n"              \
    "categories:\n"                                \
    "  - { id: A, name: 甲 }\n"                    \
    "windows:\n"                                   \
    "  - { id: 1, name: W1, categories: [A] }\n"

/* BASE without tokens (lines 1..5); tokens come from line 6 on. */
#define NOTOK                                      \
    "hall: { id: h1 }\n"                           \
    "categories:\n"                                \
    "  - { id: A, name: 甲 }\n"                    \
    "windows:\n"                                   \
    "  - { id: 1, name: W1, categories: [A] }\n"

/* BASE plus gpio lines (lines 8..12) for trigger/step cases, playbooks from line 13. */
#define GPIO                                                          \
    "gpio:\n"                                                         \
    "  lines:\n"                                                      \
    "    - { name: fire, chip: c0, offset: 1, dir: in }\n"            \
    "    - { name: door, chip: c0, offset: 2, dir: out, safe: 1 }\n"  \
    "emergency:\n"                                                    \
    "  playbooks:\n"

static int setup(void **state)
{
    unsetenv("HALL_REDIS_URL");
    return 0;
}

static int load(const char *yaml, hk_config *c, char *err, size_t errlen)
{
    return config_load_string(yaml, strlen(yaml), "hall.yaml", c, err, errlen);
}

static void test_demo(void **state)
{
    hk_config c;
    char err[512] = "";
    int rc = config_load_string(config_demo_yaml, strlen(config_demo_yaml), "demo", &c, err, sizeof err);
    if (rc)
        fail_msg("demo: %s", err);
    assert_string_equal(c.hall_id, "demo");
    assert_string_equal(c.hall_name, "示例政务服务中心");
    assert_string_equal(c.listen, "127.0.0.1:8080");
    assert_null(c.redis_url);
    assert_true(c.hours_set);
    assert_int_equal(c.nhours, 1);
    assert_int_equal(c.hours[0].days, 0x7f);
    assert_int_equal(c.hours[0].nspans, 1);
    assert_int_equal(c.hours[0].spans[0].open_min, 0);
    assert_int_equal(c.hours[0].spans[0].close_min, 24 * 60);
    assert_int_equal(c.ntokens, 7);
    assert_int_equal(c.nstaff, 3);
    assert_int_equal(c.ncategories, 4);
    assert_int_equal(c.nwindows, 4);
    assert_int_equal(c.ngpio_lines, 5);
    assert_int_equal(c.nplaybooks, 1);

    const char *toks[] = { "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq", "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj", "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp", "staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez",
                           "staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD", "security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u", "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6" };
    for (size_t i = 0; i < 7; i++) {
        size_t j = 0;
        while (j < c.ntokens && strcmp(c.tokens[j].token, toks[i]))
            j++;
        assert_true(j < c.ntokens);
    }
    const hk_staff_cfg *s = hk_config_staff(&c, "0002");
    assert_non_null(s);
    assert_string_equal(s->name, "李四");
    assert_string_equal(s->title, "综合受理员");
    s = hk_config_staff(&c, "0003");
    assert_non_null(s);
    assert_string_equal(s->name, "王五");
    assert_string_equal(s->title, "帮办代办员");
    assert_null(hk_config_staff(&c, "0004"));

    const hk_category_cfg *d = hk_config_category(&c, "D");
    assert_non_null(d);
    assert_string_equal(d->name, "企业开办");
    assert_true(d->weight == 1.0);
    assert_true(hk_config_category(&c, "C")->weight == 2.0);

    const hk_window_cfg *w = hk_config_window(&c, 4);
    assert_non_null(w);
    assert_string_equal(w->name, "4号窗口");
    assert_int_equal(w->ncategories, 3);
    assert_string_equal(w->categories[0], "D");
    assert_string_equal(w->categories[1], "C");
    assert_string_equal(w->categories[2], "A");
    assert_string_equal(w->zone, "hall");
    w = hk_config_window(&c, 3);
    assert_non_null(w);
    assert_string_equal(w->name, "3号窗口");
    assert_int_equal(w->ncategories, 2);
    assert_string_equal(w->categories[0], "B");
    assert_string_equal(w->categories[1], "D");
    assert_null(hk_config_window(&c, 5));

    assert_string_equal(c.gpio_backend, "sim");
    assert_string_equal(c.audio.sink, "file");
    assert_string_equal(c.audio.path, "announcements.wav");
    assert_int_equal(c.audio.nvoices, 1);
    assert_string_equal(c.audio.voices[0], "cmn");
    assert_string_equal(c.playbooks[0].id, "fire");
    assert_int_equal(c.playbooks[0].nsteps, 7);
    hk_config_free(&c);
    assert_null(c.hall_id);
    assert_int_equal(c.ncategories, 0);
}

static void test_contract_example(void **state)
{
    hk_config c;
    char err[512] = "";
    if (load(contract_yaml, &c, err, sizeof err))
        fail_msg("contract example: %s", err);
    assert_string_equal(c.hall_id, "demo");
    assert_string_equal(c.redis_url, "redis://127.0.0.1:6379/0");
    assert_true(c.hours_set);
    assert_int_equal(c.nhours, 1);
    assert_int_equal(c.hours[0].days, 0x1f);
    assert_int_equal(c.hours[0].nspans, 2);
    assert_int_equal(c.hours[0].spans[0].open_min, 9 * 60);
    assert_int_equal(c.hours[0].spans[0].close_min, 12 * 60);
    assert_int_equal(c.hours[0].spans[1].open_min, 13 * 60);
    assert_int_equal(c.hours[0].spans[1].close_min, 17 * 60);

    assert_int_equal(c.ntokens, 5);
    assert_int_equal(c.tokens[2].role, HK_ROLE_STAFF);
    assert_string_equal(c.tokens[2].staff, "0001");
    assert_null(c.tokens[0].staff);
    assert_int_equal(c.tokens[0].role, HK_ROLE_KIOSK);
    assert_int_equal(c.tokens[4].role, HK_ROLE_ADMIN);

    assert_int_equal(c.ncategories, 3);
    assert_true(c.categories[2].weight == 2.0);
    assert_int_equal(c.nwindows, 2);
    assert_int_equal(c.windows[1].id, 2);
    assert_string_equal(c.windows[1].categories[0], "C");

    assert_int_equal(c.ngpio_lines, 5);
    const hk_gpio_line_cfg *g = &c.gpio_lines[0];
    assert_string_equal(g->name, "fire_panel");
    assert_string_equal(g->chip, "gpiochip0");
    assert_int_equal(g->offset, 17);
    assert_int_equal(g->dir, HK_GPIO_IN);
    assert_true(g->active_low);
    assert_int_equal(g->debounce_ms, 50);
    g = &c.gpio_lines[1];
    assert_int_equal(g->dir, HK_GPIO_OUT);
    assert_int_equal(g->normal, 0);
    assert_int_equal(g->safe, 1);
    assert_false(g->active_low);
    assert_int_equal(c.gpio_lines[2].normal, 1);
    assert_int_equal(c.gpio_lines[2].safe, 0);

    assert_int_equal(c.nplaybooks, 1);
    const hk_playbook_cfg *p = &c.playbooks[0];
    assert_string_equal(p->name, "火警");
    assert_false(p->silent);
    assert_int_equal(p->severity, 0);
    assert_int_equal(p->ntriggers, 1);
    assert_string_equal(p->triggers[0].gpio, "fire_panel");
    assert_int_equal(p->triggers[0].value, 1);
    assert_int_equal(p->nsteps, 7);
    assert_string_equal(p->steps[0].do_, "gpio");
    assert_string_equal(p->steps[0].line, "door_main");
    assert_int_equal(p->steps[0].value, 1);
    assert_int_equal(p->steps[1].value, 0);
    assert_string_equal(p->steps[3].do_, "queue_freeze");
    assert_string_equal(p->steps[4].mode, "evacuation");
    assert_string_equal(p->steps[5].do_, "announce");
    assert_true(p->steps[5].loop);
    assert_non_null(strstr(p->steps[5].text, "火警"));
    assert_int_equal(p->steps[5].nzones, 0);
    assert_string_equal(p->steps[6].text, "拨打119报警");
    hk_config_free(&c);
}

static void test_defaults(void **state)
{
    hk_config c;
    char err[512] = "";
    if (load(BASE, &c, err, sizeof err))
        fail_msg("base: %s", err);
    assert_string_equal(c.hall_name, "h1");         /* name defaults to the id */
    assert_string_equal(c.listen, "0.0.0.0:8080");
    assert_null(c.tls_cert);
    assert_null(c.tls_key);
    assert_null(c.redis_url);
    assert_false(c.hours_set);
    assert_int_equal(c.nhours, 0);
    assert_int_equal(c.nstaff, 0);
    assert_true(c.categories[0].weight == 1.0);
    assert_string_equal(c.windows[0].zone, "hall");
    assert_string_equal(c.gpio_backend, "sim");
    assert_int_equal(c.ngpio_lines, 0);
    assert_string_equal(c.audio.sink, "file");
    assert_string_equal(c.audio.path, "announcements.wav");
    assert_string_equal(c.audio.device, "default");
    assert_int_equal(c.audio.nvoices, 1);
    assert_string_equal(c.audio.voices[0], "cmn");
    assert_int_equal(c.nplaybooks, 0);
    hk_config_free(&c);
    hk_config_free(&c);                             /* a freed config frees again harmlessly */
}

static void test_full_options(void **state)
{
    static const char y[] = BASE
        "http: { listen: \"[::1]:8443\", tls_cert: /etc/c.pem, tls_key: /etc/k.pem }\n"
        "audio: { sink: alsa, device: \"hw:1\", voice: [cmn, yue] }\n"
        "gpio:\n"
        "  backend: gpiod\n"
        "  lines:\n"
        "    - { name: smoke, chip: c0, offset: 1, dir: in, debounce_ms: 0 }\n"
        "    - { name: door, chip: c0, offset: 2, dir: out, normal: 1 }\n"
        "    - { name: door2, chip: c1, offset: 2, dir: out }\n"
        "emergency:\n"
        "  playbooks:\n"
        "    - id: mass_incident\n"
        "      silent: true\n"
        "      severity: 5\n"
        "      steps:\n"
        "        - { do: alert, text: 请安保到场, roles: [security, admin] }\n"
        "        - { do: alert, text: 默认角色 }\n"
        "        - { do: occupancy, cap: 30 }\n"
        "        - { do: occupancy, mode: appointments_only }\n"
        "        - { do: notice, text: 停水, zones: [hall, lobby] }\n"
        "        - { do: display, mode: notice, text: 请注意 }\n"
        "    - id: smoke_alarm\n"
        "      triggers: [ { gpio: smoke } ]\n";
    hk_config c;
    char err[512] = "";
    if (load(y, &c, err, sizeof err))
        fail_msg("%s", err);
    assert_string_equal(c.listen, "[::1]:8443");
    assert_string_equal(c.tls_cert, "/etc/c.pem");
    assert_string_equal(c.audio.sink, "alsa");
    assert_string_equal(c.audio.device, "hw:1");
    assert_int_equal(c.audio.nvoices, 2);
    assert_string_equal(c.audio.voices[1], "yue");
    assert_string_equal(c.gpio_backend, "gpiod");
    assert_int_equal(c.gpio_lines[0].debounce_ms, 0);
    assert_int_equal(c.gpio_lines[1].normal, 1);
    assert_int_equal(c.gpio_lines[1].safe, 1);      /* safe defaults to normal */
    assert_int_equal(c.gpio_lines[2].safe, 0);
    const hk_playbook_cfg *p = &c.playbooks[0];
    assert_string_equal(p->name, "mass_incident");  /* name defaults to the id */
    assert_true(p->silent);
    assert_int_equal(p->severity, 5);
    assert_int_equal(p->steps[0].roles, HK_ROLE_SECURITY | HK_ROLE_ADMIN);
    assert_int_equal(p->steps[1].roles, HK_ROLE_STAFF | HK_ROLE_SECURITY | HK_ROLE_ADMIN);
    assert_string_equal(p->steps[2].mode, "cap");
    assert_int_equal(p->steps[2].cap, 30);
    assert_string_equal(p->steps[3].mode, "appointments_only");
    assert_int_equal(p->steps[4].nzones, 2);
    assert_string_equal(p->steps[4].zones[1], "lobby");
    assert_string_equal(p->steps[5].text, "请注意");
    assert_int_equal(c.playbooks[1].triggers[0].value, 1); /* trigger value defaults to 1 */
    hk_config_free(&c);
}

static void test_hours(void **state)
{
    static const char y[] = BASE
        "hours:\n"
        "  - { days: [mon, wed, sun], open: [\"08:30-11:45\", \"13:00-24:00\"] }\n"
        "  - { days: [sat], open: [\"00:00-00:01\"] }\n";
    hk_config c;
    char err[512] = "";
    if (load(y, &c, err, sizeof err))
        fail_msg("%s", err);
    assert_true(c.hours_set);
    assert_int_equal(c.nhours, 2);
    assert_int_equal(c.hours[0].days, (1 << 0) | (1 << 2) | (1 << 6));
    assert_int_equal(c.hours[0].nspans, 2);
    assert_int_equal(c.hours[0].spans[0].open_min, 8 * 60 + 30);
    assert_int_equal(c.hours[0].spans[0].close_min, 11 * 60 + 45);
    assert_int_equal(c.hours[0].spans[1].close_min, 1440);
    assert_int_equal(c.hours[1].days, 1 << 5);
    assert_int_equal(c.hours[1].spans[0].open_min, 0);
    assert_int_equal(c.hours[1].spans[0].close_min, 1);
    hk_config_free(&c);
}

static void test_env_redis_url(void **state)
{
    hk_config c;
    char err[512] = "";
    setenv("HALL_REDIS_URL", "unix:///run/hk/redis.sock", 1);
    assert_int_equal(load(BASE, &c, err, sizeof err), 0);
    assert_string_equal(c.redis_url, "unix:///run/hk/redis.sock");
    hk_config_free(&c);
    assert_int_equal(load(contract_yaml, &c, err, sizeof err), 0);     /* overrides redis.url */
    assert_string_equal(c.redis_url, "unix:///run/hk/redis.sock");
    hk_config_free(&c);
    setenv("HALL_REDIS_URL", "", 1);                                    /* empty: not set */
    assert_int_equal(load(contract_yaml, &c, err, sizeof err), 0);
    assert_string_equal(c.redis_url, "redis://127.0.0.1:6379/0");
    hk_config_free(&c);
    setenv("HALL_REDIS_URL", "localhost:6379", 1);
    assert_int_equal(load(BASE, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "HALL_REDIS_URL"));
    assert_null(c.hall_id);
    unsetenv("HALL_REDIS_URL");
}

static void test_roles(void **state)
{
    assert_int_equal(hk_role_parse("kiosk"), HK_ROLE_KIOSK);
    assert_int_equal(hk_role_parse("display"), HK_ROLE_DISPLAY);
    assert_int_equal(hk_role_parse("staff"), HK_ROLE_STAFF);
    assert_int_equal(hk_role_parse("security"), HK_ROLE_SECURITY);
    assert_int_equal(hk_role_parse("admin"), HK_ROLE_ADMIN);
    assert_int_equal(hk_role_parse("Admin"), 0);
    assert_int_equal(hk_role_parse(""), 0);
    assert_int_equal(hk_role_parse(NULL), 0);
    for (int r = HK_ROLE_KIOSK; r <= HK_ROLE_ADMIN; r <<= 1)
        assert_int_equal(hk_role_parse(hk_role_name(r)), r);
    assert_string_equal(hk_role_name(0), "none");
    assert_string_equal(hk_role_name(HK_ROLE_KIOSK | HK_ROLE_ADMIN), "none");
}

/* ---- bad configs: each gives "hall.yaml:LINE: ..." with a telling message ---- */

static const struct bad {
    const char *yaml;
    int line;
    const char *msg;
} bad[] = {
    /* unknown keys, exactly the documented message */
    { "hall: { id: h1 }\n"
      "tokens:\n"
      "  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk }\n"
      "categories:\n"
      "  - { id: A, name: 甲 }\n"
      "windows:\n"
      "  - { id: 1, name: W1, categories: [A], colour: red }\n",
      7, "unknown key 'colour' in window (expected id, name, categories, zone, posts)" },
    { BASE "colour: red\n", 8, "unknown key 'colour' in configuration" },
    { BASE "hall: { id: h2 }\n", 8, "duplicate key 'hall'" },
    /* required keys */
    { "tokens:\n  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk }\ncategories:\n  - { id: A, name: a }\n"
      "windows:\n  - { id: 1, name: W, categories: [A] }\n", 1, "missing required key 'hall'" },
    { "hall: { name: x }\ntokens:\n  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk }\ncategories:\n  - { id: A, name: a }\n"
      "windows:\n  - { id: 1, name: W, categories: [A] }\n", 1, "missing required key 'id' in hall" },
    { "hall: { id: h1 }\ntokens:\n  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk }\ncategories: []\n"
      "windows:\n  - { id: 1, name: W, categories: [A] }\n", 4, "at least one category" },
    { "hall: { id: h1 }\ntokens:\n  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk }\ncategories:\n  - { id: A, name: a }\n",
      1, "missing required key 'windows'" },
    { "hall: { id: h1 }\ncategories:\n  - { id: A, name: a }\n"
      "windows:\n  - { id: 1, name: W, categories: [A] }\n", 1, "missing required key 'tokens'" },
    { "hall: { id: h1 }\ntokens:\n  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk }\ncategories:\n  - { id: A, name: a }\n"
      "windows:\n  - { id: 1, name: W, categories: [] }\n", 7, "'categories' in window must list at least one" },
    /* hall id */
    { "hall: { id: \"h 1\" }\n", 1, "'id' in hall must be 1 to 32 of" },
    { "hall: { id: abcdefghijabcdefghijabcdefghijabc }\n", 1, "'id' in hall must be 1 to 32 of" },
    /* wrong types */
    { "hall: [h1]\n", 1, "hall must be a mapping, got a list" },
    { "hall: { id: h1 }\ntokens:\n  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk }\ncategories: { id: A }\n"
      "windows:\n  - { id: 1, name: W, categories: [A] }\n", 4, "'categories' must be a list" },
    { "hall: { id: h1 }\ntokens:\n  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk }\ncategories:\n  - { id: A, name: a }\n"
      "windows:\n  - { id: \"1\", name: W, categories: [A] }\n", 7, "'id' in window must be an integer >= 1" },
    { "- just\n- a list\n", 1, "configuration must be a mapping" },
    /* categories */
    { "hall: { id: h1 }\ntokens:\n  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk }\ncategories:\n  - { id: A, name: a }\n"
      "  - { id: A, name: b }\nwindows:\n  - { id: 1, name: W, categories: [A] }\n", 6, "duplicate category id 'A'" },
    { "hall: { id: h1 }\ntokens:\n  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk }\ncategories:\n  - { id: a, name: a }\n", 5,
      "'id' in category must be 1 or 2 upper-case letters" },
    { "hall: { id: h1 }\ntokens:\n  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk }\ncategories:\n  - { id: ABC, name: a }\n", 5,
      "'id' in category must be 1 or 2 upper-case letters" },
    { "hall: { id: h1 }\ntokens:\n  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk }\ncategories:\n  - { id: A, name: a,\n"
      "      weight: 0 }\n", 6, "'weight' in category must be a number > 0, got '0'" },
    { "hall: { id: h1 }\ntokens:\n  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk }\ncategories:\n  - { id: A, name: a, weight: -1.5 }\n",
      5, "must be a number > 0, got '-1.5'" },
    { "hall: { id: h1 }\ntokens:\n  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk }\ncategories:\n  - { id: A, name: a, weight: heavy }\n",
      5, "must be a number > 0, got 'heavy'" },
    /* windows */
    { "hall: { id: h1 }\ntokens:\n  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk }\ncategories:\n  - { id: A, name: a }\n"
      "windows:\n  - { id: 0, name: W, categories: [A] }\n", 7, "'id' in window must be an integer >= 1, got '0'" },
    { "hall: { id: h1 }\ntokens:\n  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk }\ncategories:\n  - { id: A, name: a }\n"
      "windows:\n  - { id: 1, name: W, categories: [A] }\n  - { id: 1, name: V, categories: [A] }\n", 8,
      "duplicate window id 1" },
    { "hall: { id: h1 }\ntokens:\n  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk }\ncategories:\n  - { id: A, name: a }\n"
      "windows:\n  - id: 1\n    name: W\n    categories:\n      - A\n      - Z\n", 11,
      "window 1 names unknown category 'Z'" },
    /* tokens and staff */
    { NOTOK "tokens:\n  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: janitor }\n", 7,
      "'role' in token must be one of kiosk, display, staff, security, admin, got 'janitor'" },
    { NOTOK "staff:\n  - { id: \"0001\", name: 张三 }\ntokens:\n  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: staff, staff: \"0002\" }\n",
      9, "token names unknown staff id '0002'" },
    { NOTOK "tokens:\n  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk }\n  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: admin }\n", 8,
      "duplicate token" },
    { BASE "staff:\n  - { id: \"0001\", name: 张三 }\n  - { id: \"0001\", name: 李四 }\n", 10,
      "duplicate staff id '0001'" },
    { NOTOK "tokens:\n  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: staff }\n", 7, "token with role staff needs 'staff'" },
    { NOTOK "tokens:\n  - { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk, staff: \"0001\" }\n", 7, "'staff' in token applies to role staff only" },
    { NOTOK "tokens: []\n", 6, "'tokens' must list at least one token" },
    /* hours */
    { BASE "hours:\n  - { days: [mon], open: [\"9:00-12:00\"] }\n", 9, "'9:00-12:00' is not a span HH:MM-HH:MM" },
    { BASE "hours:\n  - { days: [mon], open: [\"12:00-09:00\"] }\n", 9, "span '12:00-09:00' must open before it closes" },
    { BASE "hours:\n  - { days: [mon], open: [\"10:00-10:00\"] }\n", 9, "must open before it closes" },
    { BASE "hours:\n  - { days: [monday], open: [\"09:00-12:00\"] }\n", 9, "'monday' is not a day" },
    { BASE "hours:\n  - { days: [mon], open: [\"24:00-24:00\"] }\n", 9, "is not a span" },
    { BASE "hours:\n  - { days: [mon], open: [\"09:00-24:30\"] }\n", 9, "is not a span" },
    { BASE "hours:\n  - { days: [mon], open: [\"09:00-12:60\"] }\n", 9, "is not a span" },
    { BASE "hours:\n  - { days: [mon],\n      open: [\"09:00-12:00\", \"11:00-13:00\"] }\n", 10,
      "starts before the previous span ends" },
    { BASE "hours:\n  - { days: [mon, mon], open: [\"09:00-12:00\"] }\n", 9, "lists 'mon' twice" },
    { BASE "hours: []\n", 8, "'hours' must list at least one entry" },
    /* http and redis */
    { BASE "http: { listen: \"8080\" }\n", 8, "'listen' in http must be HOST:PORT" },
    { BASE "http: { listen: \"0.0.0.0:0\" }\n", 8, "port from 1 to 65535, got '0.0.0.0:0'" },
    { BASE "http: { listen: \"0.0.0.0:65536\" }\n", 8, "'listen' in http must be HOST:PORT" },
    { BASE "http: { listen: \":8080\" }\n", 8, "'listen' in http must be HOST:PORT" },
    { BASE "http:\n  tls_cert: /c.pem\n", 9, "'tls_cert' and 'tls_key' in http must be given together" },
    { BASE "redis: { url: \"localhost:6379\" }\n", 8, "'url' in redis must be redis://" },
    /* gpio */
    { BASE "gpio: { backend: wiringpi }\n", 8, "'backend' in gpio must be sim or gpiod, got 'wiringpi'" },
    { BASE "gpio:\n  lines:\n    - { name: a, chip: c0, offset: 1, dir: both }\n", 10,
      "'dir' in gpio line must be in or out, got 'both'" },
    { BASE "gpio:\n  lines:\n    - { name: a, chip: c0, offset: 1, dir: in }\n"
           "    - { name: a, chip: c0, offset: 2, dir: in }\n", 11, "duplicate gpio line name 'a'" },
    { BASE "gpio:\n  lines:\n    - { name: a, chip: c0, offset: 1, dir: in }\n"
           "    - { name: b, chip: c0, offset: 1, dir: out }\n", 11, "c0 offset 1, already used by line 'a'" },
    { BASE "gpio:\n  lines:\n    - { name: a, chip: c0, offset: 1, dir: in, active_low: yes }\n", 10,
      "'active_low' in gpio line must be true or false, got 'yes'" },
    { BASE "gpio:\n  lines:\n    - { name: a, chip: c0, offset: 1, dir: in, safe: 1 }\n", 10,
      "'safe' in gpio line applies to dir: out only" },
    { BASE "gpio:\n  lines:\n    - { name: a, chip: c0, offset: 1, dir: out, normal: 2 }\n", 10,
      "'normal' in gpio line must be an integer from 0 to 1, got '2'" },
    { BASE "gpio:\n  lines:\n    - { name: a, chip: c0, offset: -1, dir: in }\n", 10,
      "'offset' in gpio line must be an integer from 0 to 65535" },
    /* audio */
    { BASE "audio: { sink: pulse }\n", 8, "'sink' in audio must be file, alsa or none, got 'pulse'" },
    { BASE "audio:\n  voice: []\n", 9, "'voice' in audio must name at least one voice" },
    /* playbooks, triggers and steps */
    { BASE GPIO "    - { id: p, steps: [ { do: gpio, line: lamp, value: 1 } ] }\n", 14,
      "gpio step names unknown line 'lamp'" },
    { BASE GPIO "    - { id: p, steps: [ { do: gpio, line: fire, value: 1 } ] }\n", 14,
      "gpio step sets line 'fire', which is an input" },
    { BASE GPIO "    - id: p\n      triggers: [ { gpio: door, value: 1 } ]\n", 15,
      "trigger uses gpio line 'door', which is an output" },
    { BASE GPIO "    - id: p\n      triggers:\n        - { gpio: smoke }\n", 16,
      "trigger names unknown gpio line 'smoke'" },
    { BASE GPIO "    - id: p\n      steps:\n        - { do: dance }\n", 16, "'do' in step must be one of gpio," },
    { BASE GPIO "    - id: p\n      steps:\n        - { do: checklist, text: x, loop: true }\n", 16,
      "key 'loop' does not apply to do: checklist (it takes text)" },
    { BASE GPIO "    - id: p\n      steps:\n        - { do: announce }\n", 16, "missing required key 'text' in announce step" },
    { BASE GPIO "    - id: p\n      steps:\n        - { do: alert, text: x, roles: [guard] }\n", 16,
      "unknown role 'guard'" },
    { BASE GPIO "    - id: p\n      steps:\n        - { do: display, mode: party }\n", 16,
      "'mode' in display step must be evacuation, notice or normal" },
    { BASE GPIO "    - id: p\n      steps:\n        - { do: occupancy }\n", 16, "missing required key 'cap' in occupancy step" },
    { BASE GPIO "    - { id: p }\n    - { id: p }\n", 15, "duplicate playbook id 'p'" },
    { BASE GPIO "    - { id: p, colour: red }\n", 14, "unknown key 'colour' in playbook (expected id, name, silent," },
    /* YAML itself */
    { "hall: { id: h1 \n", 2, "YAML syntax error" },
    { "hall: { id: h1 }\n  tokens: x\n", 2, "YAML syntax error" },
    { BASE "---\nhall: { id: h2 }\n", 9, "more than one YAML document" },
    { BASE "http: { listen: \"\xff\xfe\" }\n", 8, "must be UTF-8" },
};

static void test_bad_configs(void **state)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hk_config c;
        char err[512] = "";
        char prefix[64];
        snprintf(prefix, sizeof prefix, "hall.yaml:%d: ", bad[i].line);
        int rc = load(bad[i].yaml, &c, err, sizeof err);
        if (rc != -1)
            fail_msg("case %zu (%s) loaded", i, bad[i].msg);
        if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, bad[i].msg))
            fail_msg("case %zu: want \"%s...%s\", got \"%s\"", i, prefix, bad[i].msg, err);
        if (getenv("HK_TEST_VERBOSE"))
            print_message("%s\n", err);
        assert_null(c.hall_id);     /* freed and zeroed on failure */
        assert_int_equal(c.ncategories, 0);
    }
}

static void test_files(void **state)
{
    hk_config c;
    char err[512] = "";
    char dir[] = "/tmp/hk_test_config_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];

    snprintf(path, sizeof path, "%s/missing.yaml", dir);
    assert_int_equal(config_load_file(path, &c, err, sizeof err), -1);
    assert_true(strncmp(err, path, strlen(path)) == 0);
    assert_non_null(strstr(err, "cannot open"));

    snprintf(path, sizeof path, "%s/empty.yaml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(config_load_file(path, &c, err, sizeof err), -1);
    char want[256];
    snprintf(want, sizeof want, "%s:1: empty configuration", path);
    assert_true(strncmp(err, want, strlen(want)) == 0);

    f = fopen(path, "w");
    assert_non_null(f);
    fputs("# only a comment\n\n", f);
    fclose(f);
    assert_int_equal(config_load_file(path, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "empty configuration"));

    snprintf(path, sizeof path, "%s/hall.yaml", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(BASE "  - { id: 2, name: W2, categories: [A], colour: red }\n", f);
    fclose(f);
    assert_int_equal(config_load_file(path, &c, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:8: unknown key 'colour' in window (expected id, name, categories, zone, posts)", path);
    assert_string_equal(err, want);

    f = fopen(path, "w");
    assert_non_null(f);
    fputs(config_demo_yaml, f);
    fclose(f);
    if (config_load_file(path, &c, err, sizeof err))
        fail_msg("%s", err);
    assert_int_equal(c.nwindows, 4);
    hk_config_free(&c);

    unlink(path);
    snprintf(path, sizeof path, "%s/empty.yaml", dir);
    unlink(path);
    rmdir(dir);
}

/* A tiny error buffer truncates the message but never overflows. */
static void test_small_err_buffer(void **state)
{
    hk_config c;
    char err[8];
    memset(err, 'x', sizeof err);
    assert_int_equal(load(BASE "colour: red\n", &c, err, sizeof err), -1);
    assert_int_equal(err[7], 0);
    assert_int_equal(load(BASE "colour: red\n", &c, NULL, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_demo, setup),
        cmocka_unit_test_setup(test_contract_example, setup),
        cmocka_unit_test_setup(test_defaults, setup),
        cmocka_unit_test_setup(test_full_options, setup),
        cmocka_unit_test_setup(test_hours, setup),
        cmocka_unit_test_setup(test_env_redis_url, setup),
        cmocka_unit_test(test_roles),
        cmocka_unit_test_setup(test_bad_configs, setup),
        cmocka_unit_test_setup(test_files, setup),
        cmocka_unit_test_setup(test_small_err_buffer, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
