/* test_roles.c: the role matrix, generated from the one command table (hall_cmd_row): every row
 * as every role. An allowed role is never refused as forbidden or unauthenticated, any other role
 * gets forbidden, no role at all gets unauthenticated, and no row answers "unknown command". The
 * host rows run the handler the host registered, and only for the roles their row allows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/hall.h"
#include "core/hall_mobile.h"
#include "io/config/config_load.h"

static const struct { int role; const char *token; } roles[] = {
    {HK_ROLE_KIOSK, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq"},     {HK_ROLE_DISPLAY, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj"},
    {HK_ROLE_STAFF, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp"},     {HK_ROLE_SECURITY, "security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u"},
    {HK_ROLE_ADMIN, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6"},       {HK_ROLE_VISITOR, NULL},   /* a phone's ticket link */
};
#define NROLES (sizeof roles / sizeof *roles)

static hk_config cfg;
static hk_hall *hall;
static int64_t next_id;
static const char *host_ran;   /* the host row whose handler ran last */

static hk_time at(void)
{
    hk_time t = {1763888400000LL, 20251123, 10 * 60, 0};   /* a Monday at 10:00: the hall is open */
    return t;
}

static hv *run(hk_session *s, const char *cmd, const char *token)
{
    hv *req = hv_map();
    hv_set(req, "t", hv_str(cmd));
    hv_set(req, "id", hv_int(next_id++));
    if (token) hv_set(req, "token", hv_str(token));
    hk_out out;
    hk_out_init(&out);
    hall_cmd(hall, s, req, at(), &out);
    hv *r = out.reply;
    out.reply = NULL;
    hk_out_clear(&out);
    hv_free(req);
    assert_non_null(r);
    return r;
}

static void host_handler(void *arg, const hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    (void)s;
    (void)now;
    host_ran = arg;
    out->reply = hv_map();
    hv_set(out->reply, "t", hv_str("ok"));
    hv_set(out->reply, "id", hv_dup(hv_get(req, "id")));
}

static bool any_key(void *ctx, const char *hall_id, int32_t day, const char *code, const char *key)
{
    (void)ctx, (void)hall_id, (void)day, (void)code, (void)key;
    return true;
}

static hk_session login(size_t r)
{
    hk_session s = {0};
    char token[64];
    if (roles[r].token) {
        snprintf(token, sizeof token, "%s", roles[r].token);
    } else {   /* a visitor holds a ticket: the kiosk issues one first */
        hk_session k = login(0);
        hv *t = hv_map();
        hv_set(t, "t", hv_str("ticket.issue"));
        hv_set(t, "id", hv_int(next_id++));
        hv_set(t, "category", hv_str("A"));
        hk_out out;
        hk_out_init(&out);
        hall_cmd(hall, &k, t, at(), &out);
        assert_string_equal(hv_get_str(out.reply, "t"), "ok");
        snprintf(token, sizeof token, "ticket:%s:key", hv_get_str(hv_get(out.reply, "ticket"), "code"));
        hk_out_clear(&out);
        hv_free(t);
    }
    hv *r2 = run(&s, "hello", token);
    assert_string_equal(hv_get_str(r2, "t"), "ok");
    hv_free(r2);
    assert_int_equal(s.role, roles[r].role);
    return s;
}

static int setup(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(config_load_string(config_demo_yaml, strlen(config_demo_yaml), "demo", &cfg, err, sizeof err), 0);
    hall = hall_new(&cfg);
    hall_set_ticket_verifier(hall, any_key, NULL);
    next_id = 1;
    const char *name;
    bool host;
    for (size_t i = 0; (name = hall_cmd_row(i, NULL, &host)); i++)   /* the host gives its rows a handler */
        assert_int_equal(hall_cmd_register(hall, name, host_handler, (void *)name), host ? 0 : -1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hall_free(hall);
    hk_config_free(&cfg);
    return 0;
}

static bool unknown(const hv *r)
{
    const char *msg = hv_get_str(r, "msg");
    return msg && strstr(msg, "unknown command");
}

/* Every row as every role, and before hello. */
static void test_matrix(void **state)
{
    (void)state;
    const char *name;
    int allowed;
    bool host;
    size_t rows = 0;
    for (size_t i = 0; (name = hall_cmd_row(i, &allowed, &host)); i++, rows++) {
        hk_session none = {0};
        hv *r = run(&none, name, NULL);
        if (strcmp(hv_get_str(r, "code"), "unauthenticated") != 0 || unknown(r))
            fail_msg("%s before hello -> %s %s", name, hv_get_str(r, "code"), hv_get_str(r, "msg"));
        hv_free(r);
        for (size_t k = 0; k < NROLES; k++) {
            hk_session s = login(k);
            host_ran = NULL;
            r = run(&s, name, NULL);
            const char *t = hv_get_str(r, "t"), *code = hv_get_str(r, "code");
            const char *role = hk_role_name(roles[k].role);
            if (unknown(r)) fail_msg("%s as %s -> unknown command", name, role);
            if (allowed & roles[k].role) {
                if (!strcmp(t, "err") && (!strcmp(code, "forbidden") || !strcmp(code, "unauthenticated")))
                    fail_msg("%s as %s -> err %s %s (its row allows it)", name, role, code, hv_get_str(r, "msg"));
                if (host && host_ran != name) fail_msg("%s as %s: the host's handler did not run", name, role);
            } else {
                if (strcmp(t, "err") != 0 || strcmp(code, "forbidden") != 0)
                    fail_msg("%s as %s -> %s %s (its row: forbidden)", name, role, t, code ? code : "");
                if (host_ran) fail_msg("%s as %s: the host's handler ran for a forbidden role", name, role);
            }
            hv_free(r);
        }
    }
    assert_true(rows >= 45);
}

/* The commands and roles of contract.md's table: none may leave the table or change its roles. */
static void test_contract_rows(void **state)
{
    (void)state;
    static const struct { const char *name; int roles; } contract[] = {
        {"state.get", HK_ROLE_ANY}, {"ticket.issue", HK_ROLE_KIOSK | HK_ROLE_STAFF | HK_ROLE_ADMIN},
        {"window.open", HK_ROLE_STAFF}, {"window.close", HK_ROLE_STAFF}, {"window.pause", HK_ROLE_STAFF},
        {"window.resume", HK_ROLE_STAFF}, {"call.next", HK_ROLE_STAFF}, {"call.recall", HK_ROLE_STAFF},
        {"ticket.start", HK_ROLE_STAFF}, {"ticket.noshow", HK_ROLE_STAFF}, {"ticket.finish", HK_ROLE_STAFF},
        {"ticket.transfer", HK_ROLE_STAFF}, {"ticket.rate", HK_ROLE_STAFF | HK_ROLE_KIOSK},
        {"emergency.trigger", HK_ROLE_SECURITY | HK_ROLE_ADMIN}, {"emergency.ack", HK_ROLE_SECURITY | HK_ROLE_ADMIN},
        {"emergency.clear", HK_ROLE_SECURITY | HK_ROLE_ADMIN},
        {"emergency.playbooks", HK_ROLE_STAFF | HK_ROLE_SECURITY | HK_ROLE_ADMIN},
        {"gpio.list", HK_ROLE_SECURITY | HK_ROLE_ADMIN}, {"gpio.sim.set", HK_ROLE_ADMIN},
    };
    for (size_t c = 0; c < sizeof contract / sizeof *contract; c++) {
        const char *name;
        int r = 0;
        size_t i = 0;
        while ((name = hall_cmd_row(i, &r, NULL)) && strcmp(name, contract[c].name) != 0) i++;
        if (!name) fail_msg("contract.md's %s has no row in the command table", contract[c].name);
        if (r != contract[c].roles) fail_msg("%s: roles %#x in the table, %#x in contract.md", name, r, contract[c].roles);
    }
}

/* A host row without a handler answers unavailable; a hall row cannot be taken over. */
static void test_register(void **state)
{
    (void)state;
    hk_hall *bare = hall_new(&cfg);
    assert_int_equal(hall_cmd_register(bare, "no.such.command", host_handler, NULL), -1);
    assert_int_equal(hall_cmd_register(bare, "call.next", host_handler, NULL), -1);
    hk_hall *keep = hall;
    hall = bare;
    hk_session s = login(4);
    hv *r = run(&s, "gpio.list", NULL);
    assert_string_equal(hv_get_str(r, "code"), "unavailable");
    hv_free(r);
    r = run(&s, "no.such.command", NULL);
    assert_string_equal(hv_get_str(r, "code"), "bad_request");
    assert_true(unknown(r));
    hv_free(r);
    hall = keep;
    hall_free(bare);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_matrix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contract_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_register, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
