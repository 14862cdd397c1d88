/* config_load.h: reads a hall's YAML configuration (contract.md) into core/config.h's hk_config.
 * Strict: unknown keys, wrong types, missing required keys and dangling references are errors
 * reported as "FILE:LINE: what is wrong". */
#ifndef HK_CONFIG_LOAD_H
#define HK_CONFIG_LOAD_H

#include <stddef.h>

#include "core/config.h"

/* 0 on success (out filled, free with hk_config_free), -1 with a message in err. */
int config_load_file(const char *path, hk_config *out, char *err, size_t errlen);
/* name is used in messages in place of a file name. */
int config_load_string(const char *yaml, size_t len, const char *name, hk_config *out,
                       char *err, size_t errlen);

/* The built-in demo hall (used when no --config is given), as YAML text. */
extern const char config_demo_yaml[];

#endif
