/* fs.h: file-system helpers every program of the hall shares. */
#ifndef HK_FS_H
#define HK_FS_H

#include <sys/types.h>

/* mkdir -p: creates dir and its missing parents with mode. 0, or -errno (errno is set too). */
int hk_mkdirs(const char *dir, mode_t mode);

#endif
