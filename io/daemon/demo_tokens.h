/* demo_tokens.h: the built-in demo hall's tokens are made at its first start, kept in
 * DATA/demo-tokens (mode 0600) and printed, so no two demo halls share published secrets. */
#ifndef HK_DEMO_TOKENS_H
#define HK_DEMO_TOKENS_H

#include <stddef.h>

#include "core/config.h"

/* Replaces every token of cfg by the one DATA/demo-tokens names for its role (and staff id),
 * making and saving the missing ones. 0, or -1 with a message in err. */
int demo_tokens_apply(hk_config *cfg, const char *data_dir, char *err, size_t errlen);
/* The token of the first config token with this role (and staff id if not NULL), or NULL. */
const char *demo_token_of(const hk_config *cfg, int role, const char *staff);

#endif
