/* demo_tokens.c: see demo_tokens.h. The file holds one "KEY TOKEN" line per token, KEY being the
 * role, or staff:ID for a staff member; a test harness may write it before the first start. */
#include "demo_tokens.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "io/config/token.h"

static void token_key(const hk_token_cfg *t, char *key, size_t len)
{
    if (t->staff) snprintf(key, len, "staff:%s", t->staff);
    else snprintf(key, len, "%s", hk_role_name(t->role));
}

/* The id of a new token: its key with ':' as '-' ("staff-0001"). */
static void token_id(const char *key, char *id, size_t len)
{
    snprintf(id, len, "%s", key);
    for (char *p = id; *p; p++)
        if (*p == ':') *p = '-';
}

static int demo_tokens_save(const hk_config *cfg, const char *path, char *err, size_t errlen)
{
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    fputs("# the demo hall's tokens, made at its first start; delete this file for new ones\n", f);
    for (size_t i = 0; i < cfg->ntokens; i++) {
        char key[64];
        token_key(&cfg->tokens[i], key, sizeof key);
        fprintf(f, "%s %s\n", key, cfg->tokens[i].token);
    }
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int demo_tokens_apply(hk_config *cfg, const char *data_dir, char *err, size_t errlen)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/demo-tokens", data_dir);
    size_t made = 0;
    bool *found = calloc(cfg->ntokens + 1, sizeof *found);
    if (!found) { snprintf(err, errlen, "out of memory"); return -1; }
    FILE *f = fopen(path, "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            char key[64], tok[300];
            if (line[0] == '#' || sscanf(line, "%63s %299s", key, tok) != 2) continue;
            const char *why;
            for (size_t i = 0; i < cfg->ntokens; i++) {
                char k[64];
                token_key(&cfg->tokens[i], k, sizeof k);
                if (found[i] || strcmp(k, key)) continue;
                if (token_check(tok, &why) < 0) {
                    snprintf(err, errlen, "%s: the token for %s: %s", path, key, why);
                    fclose(f);
                    free(found);
                    return -1;
                }
                free(cfg->tokens[i].token);
                cfg->tokens[i].token = strdup(tok);
                found[i] = true;
                break;
            }
        }
        fclose(f);
    }
    for (size_t i = 0; i < cfg->ntokens; i++) {
        if (found[i]) continue;
        char key[64], id[64], tok[128];
        token_key(&cfg->tokens[i], key, sizeof key);
        token_id(key, id, sizeof id);
        if (token_new(id, tok, sizeof tok) < 0) {
            snprintf(err, errlen, "cannot make a token for %s", key);
            free(found);
            return -1;
        }
        free(cfg->tokens[i].token);
        cfg->tokens[i].token = strdup(tok);
        made++;
    }
    free(found);
    if (made && demo_tokens_save(cfg, path, err, errlen) < 0) return -1;
    if (made) log_notice("demo hall: made %zu new tokens in %s (kept for the next starts)", made, path);
    return 0;
}

const char *demo_token_of(const hk_config *cfg, int role, const char *staff)
{
    for (size_t i = 0; i < cfg->ntokens; i++)
        if (cfg->tokens[i].role == role && (!staff || (cfg->tokens[i].staff && !strcmp(cfg->tokens[i].staff, staff))))
            return cfg->tokens[i].token;
    return NULL;
}
