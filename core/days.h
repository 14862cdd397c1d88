/* days.h: calendar arithmetic on local days written YYYYMMDD (proleptic Gregorian, H. Hinnant's
 * days_from_civil / civil_from_days). Pure: the hall's rules that count days (rollover, case
 * deadlines, appointment windows, retention) all use these. */
#ifndef HK_DAYS_H
#define HK_DAYS_H

#include <stdint.h>

int64_t hk_day_number(int32_t ymd);          /* days since 1970-01-01 */
int32_t hk_day_of(int64_t days);             /* the YYYYMMDD of a day number */
int32_t hk_day_add(int32_t ymd, int64_t delta);
int hk_day_wday(int64_t days);               /* 0 = Monday .. 6 = Sunday */

#endif
