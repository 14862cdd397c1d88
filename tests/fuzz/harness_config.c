/* harness_config.c: the YAML config loader (io/config/config_load.c) on arbitrary text, and the hall
 * built from whatever it accepts. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/config/config_load.h"

static hv *request(const char *t, int64_t id)
{
    hv *r = hv_map();
    hv_set(r, "t", hv_str(t));
    hv_set(r, "id", hv_int(id));
    return r;
}

static void run(hk_hall *h, hk_session *s, hv *req, hk_time now, hv *log)
{
    hk_out out;
    hk_out_init(&out);
    hall_cmd(h, s, req, now, &out);
    FUZZ_CHECK(out.reply, "hall_cmd gave no reply");
    fuzz_take(&out, log);
    hv_free(req);
}

/* What a loaded config must support: commands over its categories, windows and playbooks,
 * input levels at start, and replay of all of it. Loops are capped: the input is at most a
 * few KiB, but a list may still be long. */
static void exercise(const hk_config *cfg)
{
    hk_hall *h = hall_new(cfg);
    FUZZ_CHECK(h, "a config that loads does not build a hall");
    hk_time now = {1763949600000LL, 20251124, 600, 0};
    hv *log = hv_arr();
    int64_t id = 1;

    hk_out out;
    int levels[64];
    size_t nl = cfg->ngpio_lines < 64 ? cfg->ngpio_lines : 64;
    for (size_t i = 0; i < nl; i++) levels[i] = (int)(i % 3) - 1;   /* unknown, 0, 1, ... */
    hk_out_init(&out);
    hall_input_levels(h, levels, nl, now, &out);
    fuzz_take(&out, log);

    hk_session admin = {.role = HK_ROLE_ADMIN};
    for (size_t i = 0; i < cfg->ncategories && i < 16; i++) {
        hv *r = request("ticket.issue", id++);
        hv_set(r, "category", hv_str(cfg->categories[i].id));
        run(h, &admin, r, now, log);
    }
    hk_session staff = {.role = HK_ROLE_STAFF};
    if (cfg->nstaff) snprintf(staff.staff, sizeof staff.staff, "%s", cfg->staff[0].id);
    if (cfg->nwindows) {
        hv *r = request("window.open", id++);
        hv_set(r, "window", hv_int(cfg->windows[0].id));
        run(h, &staff, r, now, log);
        run(h, &staff, request("call.next", id++), now, log);
    }
    run(h, &staff, request("emergency.playbooks", id++), now, log);
    for (size_t i = 0; i < cfg->nplaybooks && i < 16; i++) {
        hv *r = request("emergency.trigger", id++);
        hv_set(r, "playbook", hv_str(cfg->playbooks[i].id));
        hv_set(r, "drill", hv_bool(i % 2));
        run(h, &admin, r, now, log);
    }
    run(h, &admin, request("state.get", id++), now, log);
    fuzz_replay_check(cfg, h, log, now);
    hv_free(log);
    hall_free(h);
}

int fuzz_config(const uint8_t *data, size_t size)
{
    /* the loader gets its own copy, freed before the config is used: a config that kept a
     * pointer into the text would be caught by ASan */
    char *text = malloc(size ? size : 1);
    FUZZ_CHECK(text, "out of memory");
    if (size) memcpy(text, data, size);
    hk_config cfg;
    memset(&cfg, 0, sizeof cfg);
    char err[256];
    memset(err, 'x', sizeof err);
    int rc = config_load_string(text, size, "fuzz", &cfg, err, sizeof err);
    free(text);
    FUZZ_CHECK(rc == 0 || rc == -1, "config_load_string returned %d", rc);
    if (rc) {
        FUZZ_CHECK(memchr(err, '\0', sizeof err), "error message not terminated");
        FUZZ_CHECK(!strncmp(err, "fuzz:", 5) && strlen(err) > 6, "error message '%s' lacks NAME:LINE:", err);
        return 0;
    }
    exercise(&cfg);
    hk_config_free(&cfg);
    return 0;
}
