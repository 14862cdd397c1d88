/* idcard.c: resident identity numbers (core/idcard.h): GB 11643-1999 check digit and birth date. */
#include "idcard.h"

#include <stdbool.h>
#include <string.h>

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool valid_date(int32_t ymd)
{
    static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;
    if (y < 1850 || m < 1 || m > 12 || d < 1)
        return false;
    return d <= mdays[m - 1] + (m == 2 && leap(y));
}

int idcard_check(const char *id, int32_t today, int32_t *birth)
{
    /* ISO 7064 MOD 11-2: weight of position i is 2^(17-i) mod 11; "10X98765432"[sum mod 11] */
    static const int weight[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
    static const char check[] = "10X98765432";
    if (!id || strlen(id) != 18)
        return IDCARD_ELENGTH;
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        if (id[i] < '0' || id[i] > '9')
            return IDCARD_ECHARS;
        sum += (id[i] - '0') * weight[i];
    }
    char last = id[17] == 'x' ? 'X' : id[17];
    if (!((last >= '0' && last <= '9') || last == 'X'))
        return IDCARD_ECHARS;
    if (last != check[sum % 11])
        return IDCARD_ECHECK;
    int32_t b = 0;
    for (int i = 6; i < 14; i++)
        b = b * 10 + (id[i] - '0');
    if (!valid_date(b) || b > today)
        return IDCARD_EDATE;
    *birth = b;
    return 0;
}

int idcard_age(int32_t birth, int32_t today)
{
    int age = today / 10000 - birth / 10000;
    if (today % 10000 < birth % 10000)     /* (month, day) before the birthday: 29 Feb -> 1 Mar */
        age--;
    return age;
}

const char *idcard_error(int rc)
{
    switch (rc) {
    case IDCARD_ELENGTH: return "id_number must be 18 characters (a resident identity card number)";
    case IDCARD_ECHARS: return "id_number must be 17 digits and a digit or X";
    case IDCARD_ECHECK: return "id_number's check digit does not match: the number was misread";
    case IDCARD_EDATE: return "id_number's birth date (characters 7 to 14) is not a valid date";
    default: return "id_number is not valid";
    }
}
