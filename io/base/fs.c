/* fs.c: see fs.h. */
#include "fs.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

int hk_mkdirs(const char *dir, mode_t mode)
{
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) {
        errno = ENAMETOOLONG;
        return -ENAMETOOLONG;
    }
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(p, mode) < 0 && errno != EEXIST) return -errno;
        *s = '/';
    }
    if (mkdir(p, mode) < 0 && errno != EEXIST) return -errno;
    return 0;
}
