/* test_config_audio.c: the optional `audio:` keys of issue 5 (io/config/config_load.c): zones, templates,
 * repeat, digits, second language, sounder length; strict checking with FILE:LINE messages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/config/config_load.h"

#define BASE                                                     \
    "hall: { id: h1 }\n"                                         \
    "tokens: [ { token: k.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj0Sa, role: kiosk } ]\n"                    \
    "categories: [ { id: A, name: 甲 } ]\n"                      \
    "windows:\n"                                                 \
    "  - { id: 1, name: 1号窗口, categories: [A], zone: hall }\n" \
    "  - { id: 2, name: 2号窗口, categories: [A], zone: upstairs }\n" \
    "audio:\n"

static int load(const char *yaml, hk_config *c, char *err, size_t len)
{
    memset(c, 0, sizeof *c);
    return config_load_string(yaml, strlen(yaml), "t.yaml", c, err, len);
}

static void test_defaults(void **st)
{
    (void)st;
    hk_config c;
    char err[256];
    assert_int_equal(load(BASE "  sink: none\n", &c, err, sizeof err), 0);
    assert_string_equal(c.audio.sink, "none");
    assert_int_equal(c.audio.nzones, 0);
    assert_int_equal(c.audio.repeat, 2);
    assert_int_equal(c.audio.digits, 0);
    assert_int_equal(c.audio.evac_tone_s, 10);
    assert_string_equal(c.audio.template_, "");
    assert_string_equal(c.audio.second_language, "");
    hk_config_free(&c);
}

static void test_all_keys(void **st)
{
    (void)st;
    hk_config c;
    char err[256];
    const char *y = BASE
        "  sink: file\n"
        "  path: ann.wav\n"
        "  voice: cmn\n"
        "  template: \"请{code}号到{window}\"\n"
        "  window_templates: [ { window: 2, template: \"请{code}号到二楼{window_id}号窗口\" } ]\n"
        "  repeat: 3\n"
        "  digits: yao\n"
        "  second_language: en\n"
        "  second_template: \"Number {code}, window {window_id}\"\n"
        "  evac_tone_s: 12\n"
        "  zones:\n"
        "    - { id: hall }\n"
        "    - { id: upstairs, sink: alsa, device: \"hw:1,0\" }\n";
    assert_int_equal(load(y, &c, err, sizeof err), 0);
    assert_int_equal(c.audio.nzones, 2);
    assert_string_equal(c.audio.zones[0].id, "hall");
    assert_string_equal(c.audio.zones[0].sink, "file");
    assert_string_equal(c.audio.zones[0].target, "ann.wav");    /* the audio-wide path */
    assert_string_equal(c.audio.zones[1].sink, "alsa");
    assert_string_equal(c.audio.zones[1].target, "hw:1,0");
    assert_string_equal(c.audio.template_, "请{code}号到{window}");
    assert_int_equal(c.audio.nwindow_templates, 1);
    assert_int_equal(c.audio.window_templates[0].window, 2);
    assert_int_equal(c.audio.repeat, 3);
    assert_int_equal(c.audio.digits, 1);
    assert_string_equal(c.audio.second_language, "en");
    assert_int_equal(c.audio.evac_tone_s, 12);
    hk_config_free(&c);
}

static void bad(const char *extra, const char *want)
{
    hk_config c;
    char err[256] = "", y[2048];
    snprintf(y, sizeof y, BASE "%s", extra);
    assert_int_equal(load(y, &c, err, sizeof err), -1);
    if (!strstr(err, want))
        fail_msg("error '%s' does not contain '%s'", err, want);
    hk_config_free(&c);
}

static void test_strict(void **st)
{
    (void)st;
    bad("  sink: file\n  volume: 3\n", "t.yaml:9: unknown key 'volume' in audio");
    bad("  repeat: 0\n", "'repeat' in audio must be an integer from 1 to 5");
    bad("  repeat: 6\n", "from 1 to 5");
    bad("  evac_tone_s: 5\n", "'evac_tone_s' in audio must be an integer from 8 to 20");
    bad("  digits: one\n", "'digits' in audio must be ling or yao");
    bad("  template: \"请到{window}\"\n", "must contain {code}");
    bad("  template: \"请{code}{room}\"\n", "unknown placeholder");
    bad("  template: \"请{code}}\"\n", "without its '{'");
    bad("  second_template: \"{code}\"\n", "needs 'second_language'");
    bad("  zones: [ { id: hall } ]\n", "window 2's zone 'upstairs' is not among the audio zones");
    bad("  zones: [ { id: hall }, { id: upstairs }, { id: hall } ]\n", "audio zone 'hall' is listed twice");
    bad("  zones: [ { id: hall, speakers: 3 }, { id: upstairs } ]\n", "unknown key 'speakers' in audio zone");
    bad("  zones: [ { sink: none } ]\n", "missing required key 'id' in audio zone");
    bad("  zones: [ { id: hall, sink: pulse }, { id: upstairs } ]\n", "'sink' in audio zone must be file, alsa or none");
    bad("  zones: [ { id: hall, sink: none, path: x }, { id: upstairs } ]\n", "'path' in audio zone is only for sink file");
    bad("  zones: [ { id: hall, sink: file, device: x }, { id: upstairs } ]\n", "'device' in audio zone is only for sink alsa");
    bad("  zones: []\n", "'zones' in audio must list 1 to 16 zones");
    bad("  window_templates: [ { window: 7, template: \"{code}\" } ]\n", "no window 7");
    bad("  window_templates: [ { window: 1 } ]\n", "missing required key 'template'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_all_keys),
        cmocka_unit_test(test_strict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
