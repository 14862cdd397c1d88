/* test_emergency.c: the emergency state machine (core/emergency.c) and the built-in playbooks
 * (core/playbooks.c): resolution against the config, input edges, latching, clearing, drills,
 * several incidents at once, outputs, persistence round trip, checklists, fault grading. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/emergency.h"
#include "core/val.h"
#include "io/config/config_load.h"

#define T0 1700000000000LL
#define TEAM (HK_ROLE_STAFF | HK_ROLE_SECURITY | HK_ROLE_ADMIN)

/* A hall with every conventional line of the built-in playbooks, plus a UPS input. */
static const char full_head[] =
    "hall: { id: full, name: 全线路大厅 }\n"
    "tokens:\n"
    "  - { token: \"admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6\", role: admin }\n"
    "categories:\n"
    "  - { id: A, name: 社保医保 }\n"
    "windows:\n"
    "  - { id: 1, name: 1号窗口, categories: [A] }\n"
    "gpio:\n"
    "  backend: sim\n"
    "  lines:\n"
    "    - { name: fire_panel,     chip: gpiochip0, offset: 17, dir: in }\n"
    "    - { name: ups_on_battery, chip: gpiochip0, offset: 18, dir: in }\n"
    "    - { name: door_main,      chip: gpiochip0, offset: 22, dir: out, normal: 0, safe: 1 }\n"
    "    - { name: power_nonfire,  chip: gpiochip0, offset: 23, dir: out, normal: 1, safe: 0 }\n"
    "    - { name: hvac_fans,      chip: gpiochip0, offset: 24, dir: out, normal: 1, safe: 0 }\n"
    "    - { name: siren,          chip: gpiochip0, offset: 25, dir: out, normal: 0, safe: 0 }\n"
    "    - { name: windows_open,   chip: gpiochip0, offset: 26, dir: out, normal: 0, safe: 0 }\n"
    "    - { name: backup_power,   chip: gpiochip0, offset: 27, dir: out, normal: 0, safe: 0 }\n"
    "    - { name: water_valve,    chip: gpiochip0, offset: 5,  dir: out, normal: 1, safe: 1 }\n";

static hk_config *load(const char *yaml)
{
    hk_config *c = calloc(1, sizeof *c);
    char err[512] = "";
    if (config_load_string(yaml, strlen(yaml), "test", c, err, sizeof err) != 0) fail_msg("config: %s", err);
    return c;
}

static hk_config *load_full(const char *emergency_yaml)
{
    char buf[8192];
    snprintf(buf, sizeof buf, "%s%s", full_head, emergency_yaml ? emergency_yaml : "");
    return load(buf);
}

static void unload(hk_config *c)
{
    hk_config_free(c);
    free(c);
}

static int line_of(const hk_config *c, const char *name)
{
    for (size_t i = 0; i < c->ngpio_lines; i++)
        if (strcmp(c->gpio_lines[i].name, name) == 0) return (int)i;
    fail_msg("no line %s", name);
    return -1;
}

static int want(const hk_config *c, const emergency_out *o, const char *name) { return o->gpio[line_of(c, name)]; }

static const hk_playbook_cfg *pb(const emergency *e, const char *id)
{
    int i = emergency_playbook_index(e, id);
    assert_true(i >= 0);
    return emergency_playbook(e, (size_t)i);
}

static const emergency_incident *inc(const emergency *e, const char *id)
{
    return emergency_incident_at(e, (size_t)emergency_playbook_index(e, id));
}

static bool has_step(const hk_playbook_cfg *p, const char *what, const char *line)
{
    for (size_t k = 0; k < p->nsteps; k++)
        if (!strcmp(p->steps[k].do_, what) && (!line || (p->steps[k].line && !strcmp(p->steps[k].line, line))))
            return true;
    return false;
}

static bool has_checklist(const hk_playbook_cfg *p, const char *text)
{
    for (size_t k = 0; k < p->nsteps; k++)
        if (!strcmp(p->steps[k].do_, "checklist") && p->steps[k].text && !strcmp(p->steps[k].text, text))
            return true;
    return false;
}

static int step_index(const hk_playbook_cfg *p, const char *what, size_t nth)
{
    for (size_t k = 0; k < p->nsteps; k++)
        if (!strcmp(p->steps[k].do_, what) && nth-- == 0) return (int)k;
    fail_msg("no %s step", what);
    return -1;
}

/* ---- built-ins ---- */

static void test_builtins_exist_and_resolve(void **state)
{
    (void)state;
    static const struct { const char *id, *name; int severity; bool silent; } want_pb[] = {
        { "fire", "火警", 100, false },
        { "suspicious_object", "可疑物品", 85, false },
        { "explosion_gas", "爆炸/有毒气体", 95, false },
        { "mass_incident", "群体性事件", 10, true },
        { "illness", "突发疾病/受伤", 30, false },
        { "earthquake", "地震", 90, false },
        { "extreme_weather", "极端天气", 50, false },
        { "epidemic", "疫情", 40, false },
        { "network_fault", "网络/信息系统故障", 15, false },
        { "power_failure", "停电", 60, false },
        { "water_failure", "停水", 20, false },
        { "public_security", "治安事件", 25, true },
        { "flood", "水灾", 80, false },
    };
    static const char *const conventional[] = { "door_main", "power_nonfire", "hvac_fans", "siren",
                                                "windows_open", "backup_power", "water_valve" };
    size_t n = sizeof want_pb / sizeof want_pb[0];
    assert_int_equal(playbook_builtin_count(), n);
    for (size_t i = 0; i < n; i++) {
        const hk_playbook_cfg *b = playbook_builtin_find(want_pb[i].id);
        assert_non_null(b);
        assert_string_equal(b->name, want_pb[i].name);
        assert_int_equal(b->severity, want_pb[i].severity);
        assert_int_equal(b->silent, want_pb[i].silent);
        assert_true(b->nsteps > 0);
        for (size_t k = 0; k < b->nsteps; k++) {
            if (strcmp(b->steps[k].do_, "gpio")) continue;
            bool known = false;
            for (size_t c = 0; c < sizeof conventional / sizeof conventional[0]; c++)
                known |= !strcmp(conventional[c], b->steps[k].line);
            assert_true(known);
        }
    }
    assert_null(playbook_builtin_find("nope"));
    assert_null(playbook_builtin(n));

    /* The demo hall: fire is overridden by the config, the rest are built-ins resolved against
     * its five lines (no windows_open, backup_power, water_valve, ups_on_battery). */
    hk_config *c = load(config_demo_yaml);
    emergency *e = emergency_new(c);
    assert_non_null(e);
    assert_int_equal(emergency_playbook_count(e), n);
    for (size_t i = 0; i < n; i++) {
        const hk_playbook_cfg *p = pb(e, want_pb[i].id);
        assert_string_equal(p->name, want_pb[i].name);
        assert_int_equal(p->severity, want_pb[i].severity);   /* fire: the override keeps 100 */
        assert_int_equal(p->silent, want_pb[i].silent);
        for (size_t k = 0; k < p->nsteps; k++)
            if (!strcmp(p->steps[k].do_, "gpio")) {
                int l = line_of(c, p->steps[k].line);
                assert_int_equal(c->gpio_lines[l].dir, HK_GPIO_OUT);
            }
    }
    assert_int_equal(pb(e, "fire")->nsteps, 7);   /* the demo's own fire playbook */
    assert_true(has_step(pb(e, "explosion_gas"), "gpio", "hvac_fans"));
    assert_false(has_step(pb(e, "explosion_gas"), "gpio", "windows_open"));
    assert_false(has_step(pb(e, "power_failure"), "gpio", "backup_power"));
    assert_int_equal(pb(e, "power_failure")->ntriggers, 0);
    assert_false(has_step(pb(e, "earthquake"), "gpio", "water_valve"));
    /* nothing skipped in silence: an output the hall lacks is a checklist item for a person, in
     * the step's place, so the built-in keeps every step */
    for (size_t i = 1; i < n; i++)
        assert_int_equal(pb(e, want_pb[i].id)->nsteps, playbook_builtin_find(want_pb[i].id)->nsteps);
    assert_true(has_checklist(pb(e, "explosion_gas"), "手动开启窗户通风"));
    assert_true(has_checklist(pb(e, "power_failure"), "手动启用备用电源"));
    assert_true(has_checklist(pb(e, "earthquake"), "手动关闭供水总阀"));
    assert_false(has_checklist(pb(e, "earthquake"), "手动启动警报"));   /* the demo wires a siren */
    assert_int_equal(pb(e, "power_failure")->steps[0].do_[0], 'c');     /* in the step's place */
    assert_true(has_step(pb(e, "earthquake"), "gpio", "siren"));
    assert_int_equal(emergency_playbook_index(e, "nope"), -1);
    emergency_free(e);
    unload(c);

    /* A hall with every line keeps every built-in step and both built-in triggers. */
    c = load_full(NULL);
    e = emergency_new(c);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(pb(e, want_pb[i].id)->nsteps, playbook_builtin_find(want_pb[i].id)->nsteps);
    assert_int_equal(pb(e, "fire")->ntriggers, 1);
    assert_string_equal(pb(e, "fire")->triggers[0].gpio, "fire_panel");
    assert_int_equal(pb(e, "power_failure")->ntriggers, 1);
    assert_string_equal(pb(e, "power_failure")->triggers[0].gpio, "ups_on_battery");
    hv *list = emergency_playbooks_hv(e);
    assert_int_equal(list->u.a.n, n);
    hv_free(list);
    emergency_free(e);
    unload(c);
}

static void test_config_adds_and_overrides(void **state)
{
    (void)state;
    hk_config *c = load_full(
        "emergency:\n"
        "  playbooks:\n"
        "    - id: mass_incident\n"
        "      name: 群访\n"
        "      silent: true\n"
        "      severity: 12\n"
        "      steps: [ { do: alert, text: 请到场 } ]\n"
        "    - id: lockdown\n"
        "      name: 封闭\n"
        "      severity: 7\n"
        "      steps: [ { do: gpio, line: door_main, value: 0 } ]\n");
    emergency *e = emergency_new(c);
    assert_int_equal(emergency_playbook_count(e), playbook_builtin_count() + 1);
    assert_string_equal(pb(e, "mass_incident")->name, "群访");
    assert_int_equal(pb(e, "mass_incident")->severity, 12);
    assert_int_equal(pb(e, "mass_incident")->nsteps, 1);
    assert_int_equal(pb(e, "lockdown")->severity, 7);
    assert_int_equal(emergency_playbook_index(e, "lockdown"), (int)playbook_builtin_count());
    emergency_free(e);
    unload(c);
}

/* ---- fire from the panel input ---- */

static void test_fire_from_input(void **state)
{
    (void)state;
    hk_config *c = load(config_demo_yaml);
    emergency *e = emergency_new(c);
    emergency_out o;
    assert_int_equal(emergency_out_init(e, &o), 0);

    emergency_outputs(e, &o);
    assert_int_equal(want(c, &o, "door_main"), 0);
    assert_int_equal(want(c, &o, "power_nonfire"), 1);
    assert_int_equal(want(c, &o, "siren"), 0);
    assert_int_equal(want(c, &o, "fire_panel"), -1);
    assert_int_equal(o.nactive, 0);
    assert_int_equal(o.primary, -1);
    assert_false(o.frozen);
    assert_int_equal(o.display, EMERGENCY_DISPLAY_NORMAL);
    assert_int_equal(o.audience, 0);
    assert_int_equal(o.nannounce, 0);

    bool changed = false;
    assert_int_equal(emergency_input(e, "door_main", 1, T0, &changed), EMERGENCY_EBADREQ);   /* an output */
    assert_int_equal(emergency_input(e, "nope", 1, T0, &changed), EMERGENCY_ENOTFOUND);
    assert_int_equal(emergency_input(e, "fire_panel", 0, T0, &changed), 0);
    assert_false(changed);
    assert_int_equal(emergency_input(e, "fire_panel", 1, T0 + 10, &changed), 0);
    assert_true(changed);

    emergency_outputs(e, &o);
    assert_int_equal(want(c, &o, "door_main"), 1);
    assert_int_equal(want(c, &o, "power_nonfire"), 0);
    assert_int_equal(want(c, &o, "siren"), 1);
    assert_int_equal(want(c, &o, "hvac_fans"), 1);   /* fire does not name it: normal */
    assert_int_equal(o.gpio_owner[line_of(c, "door_main")], emergency_playbook_index(e, "fire"));
    assert_int_equal(o.gpio_owner[line_of(c, "hvac_fans")], -1);
    assert_true(o.frozen);
    assert_int_equal(o.display, EMERGENCY_DISPLAY_EVACUATION);
    assert_string_equal(emergency_display_name(o.display), "evacuation");
    assert_false(o.drill);
    assert_int_equal(o.audience, HK_ROLE_ANY);
    assert_int_equal(o.primary, emergency_playbook_index(e, "fire"));
    assert_int_equal(o.nannounce, 1);
    assert_true(o.announce[0]->loop);
    assert_non_null(strstr(o.announce[0]->text, "火警"));
    assert_int_equal(o.occupancy_cap, -1);

    const emergency_incident *f = inc(e, "fire");
    assert_true(f->active);
    assert_false(f->drill);
    assert_false(f->latched);
    assert_int_equal(f->started_at, T0 + 10);
    assert_string_equal(f->triggered_by, "gpio:fire_panel");

    hv *h = emergency_to_hv(e);
    bool b = false;
    assert_int_equal(hv_get_bool(h, "active", &b), 0);
    assert_true(b);
    assert_string_equal(hv_get_str(h, "playbook"), "fire");
    assert_string_equal(hv_get_str(h, "name"), "火警");
    assert_string_equal(hv_get_str(h, "triggered_by"), "gpio:fire_panel");
    const hv *steps = hv_get(h, "steps");
    assert_int_equal(steps->u.a.n, 7);
    assert_string_equal(hv_get_str(steps->u.a.v[0], "do"), "gpio");
    assert_string_equal(hv_get_str(steps->u.a.v[0], "line"), "door_main");
    int64_t v = 0;
    assert_int_equal(hv_get_int(steps->u.a.v[0], "done_at", &v), 0);
    assert_int_equal(v, T0 + 10);
    assert_int_equal(hv_get(steps->u.a.v[6], "done_at")->t, HV_NIL);   /* checklist pending */
    assert_int_equal(hv_get(h, "incidents")->u.a.n, 1);
    hv_free(h);

    /* the same input again changes nothing */
    assert_int_equal(emergency_input(e, "fire_panel", 1, T0 + 20, &changed), 0);
    assert_false(changed);
    assert_int_equal(inc(e, "fire")->started_at, T0 + 10);

    emergency_out_free(&o);
    emergency_free(e);
    unload(c);
}

static void test_latched_and_clear(void **state)
{
    (void)state;
    hk_config *c = load(config_demo_yaml);
    emergency *e = emergency_new(c);
    emergency_out o;
    emergency_out_init(e, &o);
    bool changed = false;
    emergency_input(e, "fire_panel", 1, T0, &changed);

    const char *input = NULL;
    const char *msg = NULL;
    int rc = emergency_clear(e, NULL, HK_ROLE_SECURITY, "security", "误报", &input);
    assert_int_equal(rc, EMERGENCY_EINPUT);
    assert_string_equal(input, "fire_panel");
    assert_string_equal(emergency_strerror(rc, &msg), "conflict");
    assert_non_null(msg);
    assert_true(inc(e, "fire")->active);

    /* the input drops back: still active, now latched */
    emergency_input(e, "fire_panel", 0, T0 + 1000, &changed);
    assert_true(changed);
    assert_true(inc(e, "fire")->active);
    assert_true(inc(e, "fire")->latched);
    emergency_outputs(e, &o);
    assert_int_equal(want(c, &o, "door_main"), 1);
    assert_true(o.frozen);
    emergency_input(e, "fire_panel", 0, T0 + 2000, &changed);
    assert_false(changed);

    /* who may clear, and only with a reason */
    assert_int_equal(emergency_clear(e, NULL, HK_ROLE_STAFF, "staff 0001", "ok", NULL), EMERGENCY_EFORBIDDEN);
    assert_int_equal(emergency_clear(e, NULL, HK_ROLE_DISPLAY, "display", "ok", NULL), EMERGENCY_EFORBIDDEN);
    assert_int_equal(emergency_clear(e, NULL, HK_ROLE_ADMIN, "admin", "", NULL), EMERGENCY_EBADREQ);
    assert_int_equal(emergency_clear(e, NULL, HK_ROLE_ADMIN, "admin", "  ", NULL), EMERGENCY_EBADREQ);
    assert_int_equal(emergency_clear(e, NULL, HK_ROLE_ADMIN, "admin", NULL, NULL), EMERGENCY_EBADREQ);
    assert_int_equal(emergency_clear(e, "water_failure", HK_ROLE_ADMIN, "admin", "x", NULL), EMERGENCY_ENOTFOUND);
    assert_true(inc(e, "fire")->active);

    assert_int_equal(emergency_clear(e, "fire", HK_ROLE_SECURITY, "security", "消防确认为误报", NULL), 0);
    assert_false(inc(e, "fire")->active);
    assert_int_equal(emergency_active_count(e), 0);
    emergency_outputs(e, &o);
    assert_int_equal(want(c, &o, "door_main"), 0);
    assert_int_equal(want(c, &o, "power_nonfire"), 1);
    assert_int_equal(want(c, &o, "siren"), 0);
    assert_false(o.frozen);
    assert_int_equal(o.display, EMERGENCY_DISPLAY_NORMAL);
    assert_int_equal(o.nannounce, 0);
    assert_int_equal(o.audience, 0);
    assert_int_equal(emergency_clear(e, NULL, HK_ROLE_ADMIN, "admin", "again", NULL), EMERGENCY_ENOTFOUND);

    hv *h = emergency_to_hv(e);
    bool b = true;
    assert_int_equal(hv_get_bool(h, "active", &b), 0);
    assert_false(b);
    assert_int_equal(hv_get(h, "incidents")->u.a.n, 0);
    hv_free(h);

    /* a new edge starts a new incident */
    emergency_input(e, "fire_panel", 1, T0 + 5000, &changed);
    assert_true(changed);
    assert_int_equal(inc(e, "fire")->started_at, T0 + 5000);

    emergency_out_free(&o);
    emergency_free(e);
    unload(c);
}

/* ---- drills ---- */

static void test_drill_then_real(void **state)
{
    (void)state;
    hk_config *c = load(config_demo_yaml);
    emergency *e = emergency_new(c);
    emergency_out o;
    emergency_out_init(e, &o);

    assert_int_equal(emergency_trigger(e, "fire", true, HK_ROLE_STAFF, "staff 0001", T0), EMERGENCY_EFORBIDDEN);
    assert_int_equal(emergency_trigger(e, "nope", true, HK_ROLE_ADMIN, "admin", T0), EMERGENCY_ENOTFOUND);
    assert_int_equal(emergency_trigger(e, "fire", true, HK_ROLE_SECURITY, "security", T0), 0);
    assert_int_equal(emergency_trigger(e, "fire", true, HK_ROLE_SECURITY, "security", T0 + 1), EMERGENCY_ECONFLICT);
    assert_true(inc(e, "fire")->drill);
    assert_true(inc(e, "fire")->latched);          /* nothing holds it but the latch */
    assert_string_equal(inc(e, "fire")->triggered_by, "security");
    emergency_outputs(e, &o);
    assert_true(o.drill);
    assert_int_equal(want(c, &o, "door_main"), 1);  /* a drill rehearses the real steps */
    assert_true(o.frozen);

    int chk = step_index(pb(e, "fire"), "checklist", 0);
    assert_int_equal(emergency_ack(e, NULL, chk, HK_ROLE_SECURITY, "security", T0 + 100), 0);
    assert_int_equal(inc(e, "fire")->steps[chk].ack_at, T0 + 100);

    /* the real panel takes over at once: real, fresh steps, new start */
    bool changed = false;
    emergency_input(e, "fire_panel", 1, T0 + 200, &changed);
    assert_true(changed);
    const emergency_incident *f = inc(e, "fire");
    assert_true(f->active);
    assert_false(f->drill);
    assert_int_equal(f->started_at, T0 + 200);
    assert_string_equal(f->triggered_by, "gpio:fire_panel");
    assert_int_equal(f->steps[chk].ack_at, 0);
    assert_int_equal(f->steps[chk].done_at, 0);
    assert_int_equal(f->steps[0].done_at, T0 + 200);
    emergency_outputs(e, &o);
    assert_false(o.drill);
    assert_int_equal(want(c, &o, "door_main"), 1);

    /* no drill while real, no second real */
    assert_int_equal(emergency_trigger(e, "fire", true, HK_ROLE_ADMIN, "admin", T0 + 300), EMERGENCY_ECONFLICT);
    assert_int_equal(emergency_trigger(e, "fire", false, HK_ROLE_ADMIN, "admin", T0 + 300), EMERGENCY_ECONFLICT);
    assert_false(inc(e, "fire")->drill);

    /* a real command also takes over a drill */
    assert_int_equal(emergency_trigger(e, "earthquake", true, HK_ROLE_ADMIN, "admin", T0 + 400), 0);
    assert_int_equal(emergency_trigger(e, "earthquake", false, HK_ROLE_SECURITY, "security", T0 + 500), 0);
    assert_false(inc(e, "earthquake")->drill);
    assert_int_equal(inc(e, "earthquake")->started_at, T0 + 500);

    emergency_out_free(&o);
    emergency_free(e);
    unload(c);
}

static void test_real_outranks_drill(void **state)
{
    (void)state;
    hk_config *c = load_full(
        "emergency:\n"
        "  playbooks:\n"
        "    - id: lockdown\n"
        "      name: 封闭大门\n"
        "      severity: 200\n"
        "      steps: [ { do: gpio, line: door_main, value: 0 }, { do: display, mode: notice, text: 封闭 } ]\n");
    emergency *e = emergency_new(c);
    emergency_out o;
    emergency_out_init(e, &o);

    /* both real: lockdown (200) outranks fire (100) on the door it names */
    emergency_trigger(e, "fire", false, HK_ROLE_ADMIN, "admin", T0);
    emergency_trigger(e, "lockdown", false, HK_ROLE_ADMIN, "admin", T0 + 1);
    emergency_outputs(e, &o);
    assert_int_equal(want(c, &o, "door_main"), 0);
    assert_int_equal(o.gpio_owner[line_of(c, "door_main")], emergency_playbook_index(e, "lockdown"));
    assert_int_equal(want(c, &o, "siren"), 1);   /* the union: fire's other lines still apply */
    assert_int_equal(o.primary, emergency_playbook_index(e, "lockdown"));
    assert_int_equal(o.display, EMERGENCY_DISPLAY_NOTICE);
    assert_string_equal(o.display_text, "封闭");
    assert_true(o.frozen);                        /* fire freezes, whoever is primary */
    assert_int_equal(o.announce_from, emergency_playbook_index(e, "fire"));

    /* lockdown as a drill: the real fire outranks it */
    emergency_clear(e, "lockdown", HK_ROLE_ADMIN, "admin", "done", NULL);
    emergency_trigger(e, "lockdown", true, HK_ROLE_ADMIN, "admin", T0 + 2);
    emergency_outputs(e, &o);
    assert_int_equal(o.primary, emergency_playbook_index(e, "fire"));
    assert_int_equal(want(c, &o, "door_main"), 1);
    assert_false(o.drill);
    assert_int_equal(o.display, EMERGENCY_DISPLAY_EVACUATION);
    assert_int_equal(o.nactive, 2);
    assert_int_equal(o.active[1], emergency_playbook_index(e, "lockdown"));

    emergency_out_free(&o);
    emergency_free(e);
    unload(c);
}

/* ---- several incidents: a silent one and a public one ---- */

/* A built-in step whose output is not wired is a checklist item that a person acknowledges;
 * public_security is silent: the team is alerted, the public sees nothing, the queue runs. */
static void test_manual_steps_and_public_security(void **state)
{
    (void)state;
    hk_config *c = load(config_demo_yaml);
    emergency *e = emergency_new(c);
    emergency_out o;
    emergency_out_init(e, &o);
    assert_int_equal(emergency_trigger(e, "explosion_gas", true, HK_ROLE_SECURITY, "security", T0), 0);
    const hk_playbook_cfg *p = pb(e, "explosion_gas");
    int k = -1;
    for (size_t i = 0; i < p->nsteps; i++)
        if (p->steps[i].text && !strcmp(p->steps[i].text, "手动开启窗户通风")) k = (int)i;
    assert_true(k >= 0);
    assert_int_equal(inc(e, "explosion_gas")->steps[k].done_at, 0);   /* pending, never "done" */
    assert_int_equal(emergency_ack(e, "explosion_gas", k, HK_ROLE_SECURITY, "security", T0 + 5000), 0);
    assert_int_equal(inc(e, "explosion_gas")->steps[k].ack_at, T0 + 5000);
    assert_int_equal(emergency_clear(e, "explosion_gas", HK_ROLE_SECURITY, "security", "演练结束", NULL), 0);

    int ps = emergency_playbook_index(e, "public_security");
    assert_int_equal(emergency_trigger(e, "public_security", false, HK_ROLE_SECURITY, "security", T0), 0);
    emergency_outputs(e, &o);
    assert_int_equal(o.primary, ps);
    assert_int_equal(o.primary_public, -1);
    assert_int_equal(o.audience, TEAM);
    assert_false(o.frozen);
    assert_int_equal(o.display, EMERGENCY_DISPLAY_NORMAL);
    assert_int_equal(o.nannounce, 0);
    assert_int_equal(o.nalerts, 1);
    assert_true(has_checklist(pb(e, "public_security"), "保存现场监控录像"));
    emergency_out_free(&o);
    emergency_free(e);
    unload(c);
}

/* Outputs are verified: a gpio step on a line with feedback is pending until the host says the
 * feedback followed; a failed set or feedback makes it failed, never done; restored as it was. */
static void test_output_results(void **state)
{
    (void)state;
    hk_config *c = load(
        "hall: { id: fb, name: 反馈 }\n"
        "tokens:\n"
        "  - { token: \"admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6\", role: admin }\n"
        "categories:\n"
        "  - { id: A, name: 社保医保 }\n"
        "windows:\n"
        "  - { id: 1, name: 1号窗口, categories: [A] }\n"
        "gpio:\n"
        "  lines:\n"
        "    - { name: fire_panel, chip: gpiochip0, offset: 17, dir: in }\n"
        "    - { name: door_lock,  chip: gpiochip0, offset: 18, dir: in }\n"
        "    - { name: door_main,  chip: gpiochip0, offset: 22, dir: out, normal: 0, safe: 1, feedback: door_lock, feedback_ms: 500 }\n"
        "    - { name: siren,      chip: gpiochip0, offset: 25, dir: out }\n");
    assert_string_equal(c->gpio_lines[2].feedback, "door_lock");
    assert_int_equal(c->gpio_lines[2].feedback_ms, 500);
    assert_int_equal(c->gpio_lines[3].feedback_ms, 2000);
    emergency *e = emergency_new(c);
    const hk_playbook_cfg *p = pb(e, "fire");
    int door = -1, siren = -1;
    for (size_t k = 0; k < p->nsteps; k++) {
        if (p->steps[k].line && !strcmp(p->steps[k].line, "door_main")) door = (int)k;
        if (p->steps[k].line && !strcmp(p->steps[k].line, "siren")) siren = (int)k;
    }
    assert_true(door >= 0 && siren >= 0);
    assert_int_equal(emergency_trigger(e, "fire", false, HK_ROLE_SECURITY, "security", T0), 0);
    const emergency_incident *in = inc(e, "fire");
    assert_int_equal(in->steps[door].done_at, 0);      /* waits for its feedback */
    assert_int_equal(in->steps[siren].done_at, T0);    /* no feedback: done when set */
    bool changed = false;
    assert_int_equal(emergency_output_result(e, "door_main", false, "feedback door_lock reads 0, expected 1",
                                             T0 + 500, &changed), 0);
    assert_true(changed);
    assert_int_equal(in->steps[door].done_at, 0);
    assert_int_equal(in->steps[door].failed_at, T0 + 500);
    assert_string_equal(in->steps[door].failed, "feedback door_lock reads 0, expected 1");
    emergency_output_result(e, "door_main", false, "again", T0 + 900, &changed);
    assert_false(changed);                               /* already failed: nothing new */
    assert_int_equal(emergency_output_result(e, "siren", false, "cannot set to 1: Input/output error", T0 + 10,
                                             &changed), 0);
    assert_true(changed);
    assert_int_equal(in->steps[siren].done_at, 0);       /* failed: never shown as done */

    /* the record carries it, and a restart restores it */
    hv *full = emergency_to_hv(e);
    const hv *st = hv_get(full, "steps")->u.a.v[door];
    assert_string_equal(hv_get_str(st, "failed"), "feedback door_lock reads 0, expected 1");
    emergency *e2 = emergency_new(c);
    assert_int_equal(emergency_restore_hv(e2, full), 0);
    assert_int_equal(inc(e2, "fire")->steps[door].failed_at, T0 + 500);
    assert_int_equal(inc(e2, "fire")->steps[door].done_at, 0);
    emergency_free(e2);
    hv_free(full);

    /* the feedback follows late: done then, the failure kept as history */
    assert_int_equal(emergency_output_result(e, "door_main", true, NULL, T0 + 3000, &changed), 0);
    assert_true(changed);
    assert_int_equal(in->steps[door].done_at, T0 + 3000);
    assert_int_equal(in->steps[door].failed_at, T0 + 500);
    assert_int_equal(emergency_output_result(e, "fire_panel", true, NULL, T0, &changed), EMERGENCY_ENOTFOUND);
    emergency_free(e);
    unload(c);

    /* a feedback must be an input of this hall */
    hk_config bad = {0};
    char err[512] = "";
    static const char y[] =
        "hall: { id: fb, name: 反馈 }\n"
        "categories: [ { id: A, name: 社保医保 } ]\n"
        "windows: [ { id: 1, name: 1号窗口, categories: [A] } ]\n"
        "tokens: [ { token: \"admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6\", role: admin } ]\n"
        "gpio:\n"
        "  lines:\n"
        "    - { name: siren, chip: gpiochip0, offset: 25, dir: out }\n"
        "    - { name: door_main, chip: gpiochip0, offset: 22, dir: out, feedback: siren }\n";
    assert_int_not_equal(config_load_string(y, strlen(y), "test", &bad, err, sizeof err), 0);
    assert_non_null(strstr(err, "test:8:"));
    assert_non_null(strstr(err, "'feedback' of gpio line 'door_main' must name an input line"));
    hk_config_free(&bad);
}

/* GB 50116's AND of two independent alarms: triggers_required: 2 starts only when both agree. */
static void test_two_input_confirmation(void **state)
{
    (void)state;
    hk_config *c = load(
        "hall: { id: and, name: 双输入 }\n"
        "tokens:\n"
        "  - { token: \"admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6\", role: admin }\n"
        "categories:\n"
        "  - { id: A, name: 社保医保 }\n"
        "windows:\n"
        "  - { id: 1, name: 1号窗口, categories: [A] }\n"
        "gpio:\n"
        "  lines:\n"
        "    - { name: smoke_a, chip: gpiochip0, offset: 5, dir: in }\n"
        "    - { name: smoke_b, chip: gpiochip0, offset: 6, dir: in }\n"
        "    - { name: trouble, chip: gpiochip0, offset: 7, dir: in, fault_contact: true }\n"
        "    - { name: loop, chip: gpiochip0, offset: 8, dir: in, expect: 1, heartbeat_ms: 30000 }\n"
        "    - { name: door_main, chip: gpiochip0, offset: 22, dir: out }\n"
        "emergency:\n"
        "  playbooks:\n"
        "    - id: smoke\n"
        "      triggers: [ { gpio: smoke_a }, { gpio: smoke_b } ]\n"
        "      triggers_required: 2\n"
        "      steps: [ { do: gpio, line: door_main, value: 1 } ]\n");
    assert_true(c->gpio_lines[2].fault_contact);
    assert_false(c->gpio_lines[1].has_expect);
    assert_true(c->gpio_lines[3].has_expect);
    assert_int_equal(c->gpio_lines[3].expect, 1);
    assert_int_equal(c->gpio_lines[3].heartbeat_ms, 30000);
    emergency *e = emergency_new(c);
    bool changed = false;
    int levels[] = {1, 0, 0, 1, -1};
    emergency_input_levels(e, levels, 5, T0, &changed);
    assert_false(inc(e, "smoke")->active);               /* one detector is not enough */
    assert_int_equal(emergency_input(e, "smoke_b", 1, T0 + 10, &changed), 0);
    assert_true(changed);
    assert_true(inc(e, "smoke")->active);
    assert_string_equal(inc(e, "smoke")->triggered_by, "gpio:smoke_b");
    emergency_free(e);
    unload(c);

    /* more required than it has triggers: refused with the line */
    hk_config bad = {0};
    char err[512] = "";
    static const char y[] =
        "hall: { id: and, name: 双输入 }\n"
        "categories: [ { id: A, name: 社保医保 } ]\n"
        "windows: [ { id: 1, name: 1号窗口, categories: [A] } ]\n"
        "tokens: [ { token: \"admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6\", role: admin } ]\n"
        "gpio:\n"
        "  lines: [ { name: smoke_a, chip: gpiochip0, offset: 5, dir: in } ]\n"
        "emergency:\n"
        "  playbooks:\n"
        "    - id: smoke\n"
        "      triggers: [ { gpio: smoke_a } ]\n"
        "      triggers_required: 2\n";
    assert_int_not_equal(config_load_string(y, strlen(y), "test", &bad, err, sizeof err), 0);
    assert_non_null(strstr(err, "test:11:"));
    assert_non_null(strstr(err, "'triggers_required' in playbook 'smoke' is 2, but it has 1 trigger(s)"));
    hk_config_free(&bad);
}

/* Staff report what they discover: fire starts at once, a suspicious object waits for security,
 * extreme weather is not theirs to report; pending reports survive a restore, public views drop them. */
static void test_staff_reports(void **state)
{
    (void)state;
    hk_config *c = load(config_demo_yaml);
    emergency *e = emergency_new(c);
    int64_t id = 0;
    assert_int_equal(emergency_report(e, "extreme_weather", "staff 0001", NULL, T0, &id), EMERGENCY_EFORBIDDEN);
    assert_int_equal(emergency_report(e, "nope", "staff 0001", NULL, T0, &id), EMERGENCY_ENOTFOUND);
    assert_int_equal(emergency_report(e, "suspicious_object", "staff 0001 1号窗口", "大厅东侧无人背包", T0, &id), 0);
    assert_true(id > 0);
    assert_false(inc(e, "suspicious_object")->active);
    int64_t again = 0;
    assert_int_equal(emergency_report(e, "suspicious_object", "staff 0002", NULL, T0 + 5, &again), 0);
    assert_int_equal(again, id);                         /* one report per playbook waits */
    assert_int_equal(emergency_report_count(e), 1);
    hv *full = emergency_to_hv(e);
    const hv *reps = hv_get(full, "reports");
    assert_non_null(reps);
    assert_string_equal(hv_get_str(reps->u.a.v[0], "note"), "大厅东侧无人背包");
    hv *disp = emergency_hv_for_role(full, HK_ROLE_DISPLAY);
    assert_null(hv_get(disp, "reports"));
    hv_free(disp);
    emergency *e2 = emergency_new(c);
    assert_int_equal(emergency_restore_hv(e2, full), 0);
    assert_int_equal(emergency_report_count(e2), 1);
    emergency_free(e2);
    hv_free(full);
    const char *pbid = NULL;
    assert_int_equal(emergency_report_resolve(e, id, true, HK_ROLE_STAFF, "staff", T0, &pbid), EMERGENCY_EFORBIDDEN);
    assert_int_equal(emergency_report_resolve(e, id + 99, true, HK_ROLE_SECURITY, "security", T0, &pbid), EMERGENCY_ENOTFOUND);
    assert_int_equal(emergency_report_resolve(e, id, true, HK_ROLE_SECURITY, "security", T0 + 60000, &pbid), 0);
    assert_string_equal(pbid, "suspicious_object");
    assert_true(inc(e, "suspicious_object")->active);
    assert_false(inc(e, "suspicious_object")->drill);
    assert_non_null(strstr(inc(e, "suspicious_object")->triggered_by, "staff 0001"));
    assert_int_equal(emergency_report_count(e), 0);
    /* fire: at once, as real */
    assert_int_equal(emergency_report(e, "fire", "staff 0003 3号窗口", NULL, T0 + 70000, &id), 1);
    assert_true(inc(e, "fire")->active);
    assert_string_equal(inc(e, "fire")->triggered_by, "staff 0003 3号窗口");
    assert_int_equal(emergency_report(e, "fire", "staff 0003", NULL, T0 + 70001, &id), EMERGENCY_ECONFLICT);
    emergency_free(e);
    unload(c);
}

static void test_silent_and_fire(void **state)
{
    (void)state;
    hk_config *c = load(config_demo_yaml);
    emergency *e = emergency_new(c);
    emergency_out o;
    emergency_out_init(e, &o);
    int mass = emergency_playbook_index(e, "mass_incident"), fire = emergency_playbook_index(e, "fire");

    assert_int_equal(emergency_trigger(e, "mass_incident", false, HK_ROLE_SECURITY, "security", T0), 0);
    emergency_outputs(e, &o);
    assert_int_equal(o.primary, mass);
    assert_int_equal(o.primary_public, -1);
    assert_int_equal(o.audience, TEAM);
    assert_int_equal(emergency_audience(e, (size_t)mass), TEAM);
    assert_false(o.frozen);
    assert_int_equal(o.display, EMERGENCY_DISPLAY_NORMAL);
    assert_int_equal(o.nannounce, 0);
    assert_int_equal(o.nalerts, 1);
    assert_int_equal(o.alerts[0]->roles, TEAM);
    assert_int_equal(want(c, &o, "door_main"), 0);

    hv *full = emergency_to_hv(e);
    hv *disp = emergency_hv_for_role(full, HK_ROLE_DISPLAY);
    bool b = true;
    assert_int_equal(hv_get_bool(disp, "active", &b), 0);
    assert_false(b);
    assert_int_equal(hv_get(disp, "incidents")->u.a.n, 0);
    hv *sec = emergency_hv_for_role(full, HK_ROLE_SECURITY);
    assert_true(hv_equal(sec, full));
    assert_string_equal(hv_get_str(full, "playbook"), "mass_incident");
    hv_free(disp);
    hv_free(sec);
    hv_free(full);

    bool changed = false;
    emergency_input(e, "fire_panel", 1, T0 + 1000, &changed);
    emergency_outputs(e, &o);
    assert_int_equal(o.nactive, 2);
    assert_int_equal(o.active[0], fire);
    assert_int_equal(o.active[1], mass);
    assert_int_equal(o.primary, fire);
    assert_int_equal(o.primary_public, fire);
    assert_int_equal(o.audience, HK_ROLE_ANY);
    assert_int_equal(emergency_audience(e, (size_t)fire), HK_ROLE_ANY);
    assert_true(o.frozen);
    assert_int_equal(o.display, EMERGENCY_DISPLAY_EVACUATION);
    assert_int_equal(o.nalerts, 1);
    assert_int_equal(emergency_primary(e, false), fire);
    assert_int_equal(emergency_primary(e, true), fire);

    full = emergency_to_hv(e);
    assert_string_equal(hv_get_str(full, "playbook"), "fire");
    const hv *list = hv_get(full, "incidents");
    assert_int_equal(list->u.a.n, 2);
    assert_string_equal(hv_get_str(list->u.a.v[0], "playbook"), "fire");
    assert_string_equal(hv_get_str(list->u.a.v[1], "playbook"), "mass_incident");
    disp = emergency_hv_for_role(full, HK_ROLE_KIOSK);
    assert_string_equal(hv_get_str(disp, "playbook"), "fire");
    assert_int_equal(hv_get(disp, "incidents")->u.a.n, 1);
    hv_free(disp);
    hv_free(full);

    /* with no playbook named, ack and clear act on the primary (fire) */
    emergency_input(e, "fire_panel", 0, T0 + 2000, &changed);
    assert_int_equal(emergency_clear(e, NULL, HK_ROLE_ADMIN, "admin", "处置完毕", NULL), 0);
    assert_false(inc(e, "fire")->active);
    assert_true(inc(e, "mass_incident")->active);
    emergency_outputs(e, &o);
    assert_int_equal(o.audience, TEAM);
    assert_false(o.frozen);
    assert_int_equal(want(c, &o, "door_main"), 0);

    emergency_out_free(&o);
    emergency_free(e);
    unload(c);
}

/* ---- epidemic: occupancy ---- */

static void test_epidemic_cap(void **state)
{
    (void)state;
    hk_config *c = load(config_demo_yaml);
    emergency *e = emergency_new(c);
    emergency_out o;
    emergency_out_init(e, &o);
    emergency_trigger(e, "epidemic", false, HK_ROLE_ADMIN, "admin", T0);
    emergency_outputs(e, &o);
    assert_int_equal(o.occupancy_cap, 20);
    assert_false(o.appointments_only);
    assert_false(o.frozen);
    assert_int_equal(o.display, EMERGENCY_DISPLAY_NOTICE);
    assert_non_null(o.display_text);
    assert_int_equal(o.nannounce, 1);
    assert_string_equal(o.announce[0]->do_, "notice");
    assert_int_equal(want(c, &o, "door_main"), 0);
    emergency_clear(e, "epidemic", HK_ROLE_ADMIN, "admin", "解除", NULL);
    emergency_outputs(e, &o);
    assert_int_equal(o.occupancy_cap, -1);
    emergency_out_free(&o);
    emergency_free(e);
    unload(c);

    /* a hall's own epidemic plan: appointments only plus a cap; severity kept from the built-in */
    c = load_full(
        "emergency:\n"
        "  playbooks:\n"
        "    - id: epidemic\n"
        "      name: 疫情\n"
        "      steps:\n"
        "        - { do: occupancy, mode: appointments_only }\n"
        "        - { do: occupancy, cap: 8 }\n"
        "        - { do: occupancy, cap: 12 }\n");
    e = emergency_new(c);
    emergency_out_init(e, &o);
    assert_int_equal(pb(e, "epidemic")->severity, 40);
    emergency_trigger(e, "epidemic", true, HK_ROLE_ADMIN, "admin", T0);
    emergency_outputs(e, &o);
    assert_true(o.appointments_only);
    assert_int_equal(o.occupancy_cap, 8);
    assert_true(o.drill);
    assert_int_equal(o.display, EMERGENCY_DISPLAY_NORMAL);
    emergency_out_free(&o);
    emergency_free(e);
    unload(c);
}

/* ---- checklist ---- */

static void test_checklist_ack(void **state)
{
    (void)state;
    hk_config *c = load(config_demo_yaml);
    emergency *e = emergency_new(c);
    int chk = step_index(pb(e, "fire"), "checklist", 0);
    assert_int_equal(emergency_ack(e, NULL, chk, HK_ROLE_ADMIN, "admin", T0), EMERGENCY_ENOTFOUND);
    emergency_trigger(e, "fire", false, HK_ROLE_ADMIN, "admin", T0);
    assert_int_equal(emergency_ack(e, NULL, chk, HK_ROLE_STAFF, "staff 0001", T0 + 1), EMERGENCY_EFORBIDDEN);
    assert_int_equal(emergency_ack(e, NULL, 0, HK_ROLE_ADMIN, "admin", T0 + 1), EMERGENCY_EBADREQ);   /* gpio */
    assert_int_equal(emergency_ack(e, NULL, 99, HK_ROLE_ADMIN, "admin", T0 + 1), EMERGENCY_ENOTFOUND);
    assert_int_equal(emergency_ack(e, NULL, -1, HK_ROLE_ADMIN, "admin", T0 + 1), EMERGENCY_ENOTFOUND);
    assert_int_equal(emergency_ack(e, "water_failure", 0, HK_ROLE_ADMIN, "admin", T0 + 1), EMERGENCY_ENOTFOUND);
    assert_int_equal(inc(e, "fire")->steps[chk].done_at, 0);
    assert_int_equal(emergency_ack(e, "fire", chk, HK_ROLE_SECURITY, "security", T0 + 5000), 0);
    assert_int_equal(inc(e, "fire")->steps[chk].done_at, T0 + 5000);
    assert_int_equal(inc(e, "fire")->steps[chk].ack_at, T0 + 5000);
    assert_string_equal(inc(e, "fire")->steps[chk].ack_by, "security");
    assert_int_equal(emergency_ack(e, NULL, chk, HK_ROLE_ADMIN, "admin", T0 + 6000), EMERGENCY_ECONFLICT);
    assert_string_equal(inc(e, "fire")->steps[chk].ack_by, "security");

    hv *h = emergency_to_hv(e);
    const hv *s = hv_get(h, "steps")->u.a.v[chk];
    int64_t v = 0;
    assert_string_equal(hv_get_str(s, "do"), "checklist");
    assert_string_equal(hv_get_str(s, "text"), "拨打119报警");
    assert_string_equal(hv_get_str(s, "ack_by"), "security");
    assert_int_equal(hv_get_int(s, "ack_at", &v), 0);
    assert_int_equal(v, T0 + 5000);
    hv_free(h);

    /* who is cut at a character boundary, never inside one */
    char who[200] = "";
    for (int i = 0; i < 40; i++) strcat(who, "张");
    emergency_trigger(e, "water_failure", false, HK_ROLE_ADMIN, who, T0);
    size_t n = strlen(inc(e, "water_failure")->triggered_by);
    assert_true(n < EMERGENCY_WHO_MAX);
    assert_int_equal(n % 3, 0);
    emergency_free(e);
    unload(c);
}

/* ---- persistence ---- */

static void assert_same_outputs(const emergency_out *a, const emergency_out *b)
{
    assert_int_equal(a->ngpio, b->ngpio);
    assert_memory_equal(a->gpio, b->gpio, a->ngpio * sizeof *a->gpio);
    assert_int_equal(a->nactive, b->nactive);
    assert_memory_equal(a->active, b->active, a->nactive * sizeof *a->active);
    assert_int_equal(a->primary, b->primary);
    assert_int_equal(a->primary_public, b->primary_public);
    assert_int_equal(a->drill, b->drill);
    assert_int_equal(a->frozen, b->frozen);
    assert_int_equal(a->display, b->display);
    assert_int_equal(a->occupancy_cap, b->occupancy_cap);
    assert_int_equal(a->appointments_only, b->appointments_only);
    assert_int_equal(a->nannounce, b->nannounce);
    assert_int_equal(a->announce_from, b->announce_from);
    assert_int_equal(a->audience, b->audience);
}

static void test_restore_from_hv(void **state)
{
    (void)state;
    hk_config *c = load_full(NULL);
    emergency *e = emergency_new(c);
    bool changed = false;
    emergency_trigger(e, "mass_incident", false, HK_ROLE_SECURITY, "security", T0);
    emergency_trigger(e, "fire", true, HK_ROLE_ADMIN, "admin", T0 + 10);
    emergency_input(e, "ups_on_battery", 1, T0 + 20, &changed);
    emergency_trigger(e, "epidemic", true, HK_ROLE_ADMIN, "admin", T0 + 30);
    emergency_ack(e, "power_failure", step_index(pb(e, "power_failure"), "checklist", 1), HK_ROLE_SECURITY,
                  "security", T0 + 40);
    emergency_input(e, "ups_on_battery", 0, T0 + 50, &changed);   /* latched now */
    assert_true(inc(e, "power_failure")->latched);
    emergency_out o1, o2;
    emergency_out_init(e, &o1);
    emergency_outputs(e, &o1);
    assert_int_equal(want(c, &o1, "backup_power"), 1);
    hv *full = emergency_to_hv(e);

    emergency *r = emergency_new(c);
    emergency_trigger(r, "water_failure", false, HK_ROLE_ADMIN, "admin", T0);   /* replaced by restore */
    assert_int_equal(emergency_restore_hv(r, full), 0);
    emergency_out_init(r, &o2);
    emergency_outputs(r, &o2);
    assert_same_outputs(&o1, &o2);
    assert_false(inc(r, "water_failure")->active);
    hv *again = emergency_to_hv(r);
    assert_true(hv_equal(full, again));
    hv_free(again);

    /* the restored latch holds: clear works once nothing holds the input */
    assert_int_equal(emergency_clear(r, "power_failure", HK_ROLE_ADMIN, "admin", "来电", NULL), 0);

    /* the object as an event carries more keys (t, ev, seq, at): still restores */
    hv *ev = hv_dup(full);
    hv_set(ev, "t", hv_str("ev"));
    hv_set(ev, "seq", hv_int(42));
    assert_int_equal(emergency_restore_hv(r, ev), 0);
    emergency_outputs(r, &o2);
    assert_same_outputs(&o1, &o2);
    hv_free(ev);

    /* a playbook that no longer exists is skipped and counted */
    hv *odd = hv_dup(full);
    hv *first = hv_get(odd, "incidents")->u.a.v[0];
    hv_set(first, "playbook", hv_str("gone"));
    assert_int_equal(emergency_restore_hv(r, odd), 1);
    assert_int_equal(emergency_active_count(r), emergency_active_count(e) - 1);
    hv_free(odd);

    /* malformed objects leave nothing active */
    hv *bad = hv_map();
    hv_set(bad, "incidents", hv_int(3));
    assert_int_equal(emergency_restore_hv(r, bad), EMERGENCY_EBADREQ);
    assert_int_equal(emergency_active_count(r), 0);
    hv_free(bad);
    assert_int_equal(emergency_restore_hv(r, NULL), EMERGENCY_EBADREQ);

    /* and an inactive object clears */
    assert_int_equal(emergency_restore_hv(r, full), 0);
    assert_int_equal(emergency_active_count(r), emergency_active_count(e));
    emergency *empty = emergency_new(c);
    hv *off = emergency_to_hv(empty);
    assert_int_equal(emergency_restore_hv(r, off), 0);
    assert_int_equal(emergency_active_count(r), 0);
    hv_free(off);
    emergency_free(empty);

    /* inputs read before the restore decide the latch; unread ones keep the persisted latch */
    emergency *held = emergency_new(c);
    emergency_input(held, "fire_panel", 1, T0, &changed);
    hv *fire_held = emergency_to_hv(held);
    assert_false(inc(held, "fire")->latched);
    emergency *r2 = emergency_new(c);
    assert_int_equal(emergency_restore_hv(r2, fire_held), 0);
    assert_false(inc(r2, "fire")->latched);
    emergency_input(r2, "fire_panel", 0, T0 + 1, &changed);
    assert_true(changed);
    assert_true(inc(r2, "fire")->latched);
    assert_int_equal(emergency_restore_hv(r2, fire_held), 0);
    assert_true(inc(r2, "fire")->latched);
    hv_free(fire_held);
    emergency_free(r2);
    emergency_free(held);

    hv_free(full);
    emergency_out_free(&o1);
    emergency_out_free(&o2);
    emergency_free(r);
    emergency_free(e);
    unload(c);
}

/* ---- start-up levels and the UPS ---- */

static void test_input_levels_at_start(void **state)
{
    (void)state;
    hk_config *c = load_full(NULL);
    emergency *e = emergency_new(c);
    int levels[16];
    for (size_t i = 0; i < c->ngpio_lines; i++) levels[i] = -1;
    bool changed = true;
    emergency_input_levels(e, levels, c->ngpio_lines, T0, &changed);
    assert_false(changed);
    levels[line_of(c, "fire_panel")] = 0;
    levels[line_of(c, "ups_on_battery")] = 1;
    levels[line_of(c, "door_main")] = 1;   /* outputs are ignored */
    emergency_input_levels(e, levels, c->ngpio_lines, T0, &changed);
    assert_true(changed);
    assert_false(inc(e, "fire")->active);
    assert_true(inc(e, "power_failure")->active);
    assert_false(inc(e, "power_failure")->drill);
    assert_string_equal(inc(e, "power_failure")->triggered_by, "gpio:ups_on_battery");
    emergency_out o;
    emergency_out_init(e, &o);
    emergency_outputs(e, &o);
    assert_int_equal(want(c, &o, "backup_power"), 1);
    assert_int_equal(want(c, &o, "water_valve"), 1);
    assert_false(o.frozen);
    const char *input = NULL;
    assert_int_equal(emergency_clear(e, NULL, HK_ROLE_ADMIN, "admin", "x", &input), EMERGENCY_EINPUT);
    assert_string_equal(input, "ups_on_battery");

    /* earthquake on a hall with a water valve cuts the water */
    emergency_trigger(e, "earthquake", false, HK_ROLE_ADMIN, "admin", T0 + 1);
    emergency_outputs(e, &o);
    assert_int_equal(want(c, &o, "water_valve"), 0);
    assert_int_equal(o.primary, emergency_playbook_index(e, "earthquake"));
    emergency_out_free(&o);
    emergency_free(e);
    unload(c);
}

/* ---- fault grading and error words ---- */

static void test_fault_grade(void **state)
{
    (void)state;
    const int64_t min = 60 * 1000;
    assert_int_equal(emergency_fault_grade(0), 0);
    assert_int_equal(emergency_fault_grade(-5), 0);
    assert_int_equal(emergency_fault_grade(1), 3);
    assert_int_equal(emergency_fault_grade(20 * min - 1), 3);
    assert_int_equal(emergency_fault_grade(20 * min), 2);
    assert_int_equal(emergency_fault_grade(60 * min - 1), 2);
    assert_int_equal(emergency_fault_grade(60 * min), 1);
    assert_int_equal(emergency_fault_grade(24 * 60 * min), 1);
    assert_string_equal(emergency_fault_grade_name(1), "I");
    assert_string_equal(emergency_fault_grade_name(2), "II");
    assert_string_equal(emergency_fault_grade_name(3), "III");
    assert_string_equal(emergency_fault_grade_name(0), "none");
    assert_string_equal(emergency_fault_grade_zh(1), "重大");
    assert_string_equal(emergency_fault_grade_zh(3), "一般");

    assert_string_equal(emergency_strerror(0, NULL), "ok");
    assert_string_equal(emergency_strerror(EMERGENCY_ENOTFOUND, NULL), "not_found");
    assert_string_equal(emergency_strerror(EMERGENCY_ECONFLICT, NULL), "conflict");
    assert_string_equal(emergency_strerror(EMERGENCY_EFORBIDDEN, NULL), "forbidden");
    assert_string_equal(emergency_strerror(EMERGENCY_EBADREQ, NULL), "bad_request");
    assert_string_equal(emergency_strerror(EMERGENCY_EINPUT, NULL), "conflict");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtins_exist_and_resolve),
        cmocka_unit_test(test_config_adds_and_overrides),
        cmocka_unit_test(test_manual_steps_and_public_security),
        cmocka_unit_test(test_output_results),
        cmocka_unit_test(test_two_input_confirmation),
        cmocka_unit_test(test_staff_reports),
        cmocka_unit_test(test_fire_from_input),
        cmocka_unit_test(test_latched_and_clear),
        cmocka_unit_test(test_drill_then_real),
        cmocka_unit_test(test_real_outranks_drill),
        cmocka_unit_test(test_silent_and_fire),
        cmocka_unit_test(test_epidemic_cap),
        cmocka_unit_test(test_checklist_ack),
        cmocka_unit_test(test_restore_from_hv),
        cmocka_unit_test(test_input_levels_at_start),
        cmocka_unit_test(test_fault_grade),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
