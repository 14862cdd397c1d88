/* redis_url.h: the one parser of a Redis URL, for the daemon's store and for `hallctl city`. */
#ifndef HK_REDIS_URL_H
#define HK_REDIS_URL_H

#include <stddef.h>

typedef struct {
    char *path;             /* unix:///path: the socket; NULL for redis:// */
    char host[256];         /* a name, an address, or an IPv6 address (without its brackets) */
    int port, db;           /* 6379 and 0 when not given */
    char *user, *password;  /* NULL when not given */
} redis_url;

/* redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or unix:///path. 0, or -EINVAL with the reason in
 * err ("redis url ...: ..."). Free with redis_url_free either way. */
int redis_url_parse(redis_url *u, const char *url, char *err, size_t errlen);
void redis_url_free(redis_url *u);

#endif
