/* idcard.h: the 18-digit resident identity number (居民身份证号码, GB 11643-1999) a kiosk reads
 * from a card: checked and turned into an age, never kept (docs/queue.md, ID-card priority).
 * Pure: today's date is passed in. */
#ifndef HK_IDCARD_H
#define HK_IDCARD_H

#include <stdint.h>

enum {
    IDCARD_ELENGTH = -1,    /* not 18 characters */
    IDCARD_ECHARS = -2,     /* not 17 digits and a digit or X */
    IDCARD_ECHECK = -3,     /* the check digit (ISO 7064 MOD 11-2) does not match */
    IDCARD_EDATE = -4,      /* characters 7-14 are not a birth date on or before today */
};

/* Checks id (NUL-terminated) and gives the birth date as YYYYMMDD. The last character may be X
 * (or x). today (YYYYMMDD) bounds the birth date. 0 or IDCARD_E*. */
int idcard_check(const char *id, int32_t today, int32_t *birth);

/* Full years from birth to today (both YYYYMMDD, birth <= today). One born on 29 February has
 * a birthday on 1 March in a common year. */
int idcard_age(int32_t birth, int32_t today);

/* What is wrong, for the bad_request message (never the number itself). */
const char *idcard_error(int rc);

#endif
