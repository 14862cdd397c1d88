/* redis_url.c: see redis_url.h. */
#include "redis_url.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

static char *url_strndup(const char *p, size_t n)
{
    char *s = hk_malloc(n + 1);
    memcpy(s, p, n);
    s[n] = 0;
    return s;
}

int redis_url_parse(redis_url *u, const char *url, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    if (!strncmp(url, "unix://", 7)) {
        if (url[7] != '/') {
            snprintf(err, errlen, "redis url %s: unix:// needs an absolute path", url);
            return -EINVAL;
        }
        u->path = hk_strdup(url + 7);
        return 0;
    }
    if (strncmp(url, "redis://", 8) != 0) {
        snprintf(err, errlen, "redis url %s: expected redis://HOST:PORT/DB or unix:///path", url);
        return -EINVAL;
    }
    const char *p = url + 8;
    const char *at = strchr(p, '@'), *slash = strchr(p, '/');
    if (at && (!slash || at < slash)) {       /* [user]:password@ */
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (!colon) {
            snprintf(err, errlen, "redis url %s: credentials must be [USER]:PASSWORD@", url);
            return -EINVAL;
        }
        if (colon > p) u->user = url_strndup(p, (size_t)(colon - p));
        u->password = url_strndup(colon + 1, (size_t)(at - colon - 1));
        p = at + 1;
    }
    const char *hend;
    if (*p == '[') {
        hend = strchr(p, ']');
        if (!hend || (size_t)(hend - p - 1) >= sizeof u->host) goto bad;
        memcpy(u->host, p + 1, (size_t)(hend - p - 1));
        hend++;
    } else {
        hend = p + strcspn(p, ":/");
        if (hend == p || (size_t)(hend - p) >= sizeof u->host) goto bad;
        memcpy(u->host, p, (size_t)(hend - p));
    }
    u->port = 6379;
    if (*hend == ':') {
        char *e;
        long port = strtol(hend + 1, &e, 10);
        if (e == hend + 1 || port < 1 || port > 65535) goto bad;
        u->port = (int)port;
        hend = e;
    }
    if (*hend == '/' && hend[1]) {
        char *e;
        long db = strtol(hend + 1, &e, 10);
        if (e == hend + 1 || *e || db < 0 || db > 1000000) goto bad;
        u->db = (int)db;
    } else if (*hend && strcmp(hend, "/") != 0) {
        goto bad;
    }
    return 0;
bad:
    snprintf(err, errlen, "redis url %s: expected redis://HOST:PORT/DB", url);
    return -EINVAL;
}

void redis_url_free(redis_url *u)
{
    free(u->path);
    free(u->user);
    free(u->password);
    memset(u, 0, sizeof *u);
}
