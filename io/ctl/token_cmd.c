/* token_cmd.c: see token_cmd.h. */
#include "token_cmd.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "io/config/token.h"

#define TOKEN_CMD_USAGE "usage: hallctl token new ROLE [STAFF-ID] | hallctl token hash ID.SECRET\n"

static int token_cmd_new(const char *role, const char *staff)
{
    int r = hk_role_parse(role);
    if (!r || r == HK_ROLE_VISITOR) {
        fprintf(stderr, "hallctl: ROLE must be one of kiosk, display, staff, security, admin, got '%s'\n", role);
        return 2;
    }
    if ((r == HK_ROLE_STAFF) != (staff != NULL)) {
        fputs(r == HK_ROLE_STAFF ? "hallctl: a staff token needs the staff id: hallctl token new staff 0001\n"
                                 : "hallctl: only a staff token takes a staff id\n", stderr);
        return 2;
    }
    /* the id names the token in the config and selects its hash; random so two are never alike */
    unsigned char rnd[2];
    if (sodium_init() < 0) return 1;
    randombytes_buf(rnd, sizeof rnd);
    char id[TOKEN_ID_MAX + 1], tok[128], hash[256];
    snprintf(id, sizeof id, "%s-%.12s%s%02x%02x", role, staff ? staff : "", staff ? "-" : "", rnd[0], rnd[1]);
    const char *why = "cannot make a token";
    if (token_new(id, tok, sizeof tok) < 0 || token_hash(tok, hash, sizeof hash, &why) < 0) {
        fprintf(stderr, "hallctl: %s\n", why);
        return 1;
    }
    printf("token: %s\nhash:  %s\nconfig line (tokens:):\n  - { token: \"%s\", role: %s%s%s%s }\n", tok, hash, hash,
           role, staff ? ", staff: \"" : "", staff ? staff : "", staff ? "\"" : "");
    return 0;
}

int ctl_token_main(int argc, char **argv)
{
    if (argc >= 3 && argc <= 4 && !strcmp(argv[1], "new")) return token_cmd_new(argv[2], argc == 4 ? argv[3] : NULL);
    if (argc == 3 && !strcmp(argv[1], "hash") && *argv[2]) {
        char h[256];
        const char *why;
        if (token_hash(argv[2], h, sizeof h, &why) < 0) {
            fprintf(stderr, "hallctl: %s\n", why);
            return 1;
        }
        puts(h);
        return 0;
    }
    fputs(TOKEN_CMD_USAGE, stderr);
    return 2;
}
