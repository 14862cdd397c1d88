/* log.c: see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int log_level = HK_LOG_INFO;
static int log_journal;     /* stderr is connected to journald: use <N> prefixes, no timestamps */

void hk_log_init(void)
{
    log_journal = getenv("JOURNAL_STREAM") != NULL;
    const char *lv = getenv("HALL_LOG_LEVEL");
    if (lv) {
        if (!strcmp(lv, "debug")) log_level = HK_LOG_DEBUG;
        else if (!strcmp(lv, "info")) log_level = HK_LOG_INFO;
        else if (!strcmp(lv, "notice")) log_level = HK_LOG_NOTICE;
        else if (!strcmp(lv, "warn")) log_level = HK_LOG_WARN;
        else if (!strcmp(lv, "err")) log_level = HK_LOG_ERR;
    }
}

void hk_log(int level, const char *fmt, ...)
{
    if (level > log_level) return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* one event, one line: fold any newline a message carries */
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    if (log_journal) {
        fprintf(stderr, "<%d>%s\n", level, line);
    } else {
        static const char *words[] = {"", "", "", "ERROR", "WARN", "NOTICE", "INFO", "DEBUG"};
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        fprintf(stderr, "%02d:%02d:%02d.%03ld %s %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
                ts.tv_nsec / 1000000, words[level], line);
    }
}
