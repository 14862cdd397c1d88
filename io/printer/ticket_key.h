/* ticket_key.h: the key of a ticket's phone link (docs/mobile.md): the first 8 bytes, in hex, of
 * HMAC-SHA-256(secret, "HALL\nDAY\nCODE"), with a per-hall secret of 32 random bytes kept in
 * DATA/mobile.key. It names one ticket of one day: nothing else can be read with it. */
#ifndef HK_TICKET_KEY_H
#define HK_TICKET_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TICKET_KEY_SECRET_LEN 32
#define TICKET_KEY_HEX_LEN 16   /* 64 bits: guessing is capped by the hello penalty per address */

/* Reads DATA/mobile.key, or makes it (mode 0600) on the first start. 0, or -1 with a reason. */
int ticket_key_load(const char *data_dir, uint8_t secret[TICKET_KEY_SECRET_LEN], char *err, size_t errlen);

/* out gets TICKET_KEY_HEX_LEN hex digits and a NUL. */
void ticket_key_make(const uint8_t secret[TICKET_KEY_SECRET_LEN], const char *hall_id, int32_t day,
                     const char *code, char out[TICKET_KEY_HEX_LEN + 1]);

/* Constant time in the key's content. */
bool ticket_key_check(const uint8_t secret[TICKET_KEY_SECRET_LEN], const char *hall_id, int32_t day,
                      const char *code, const char *key);

#endif
