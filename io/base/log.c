/* log.c: the daemon's and hallctl's log sink (core/log.h): one event a line on stderr, "<N>"
 * priority prefixes when stderr is the journal, a time and a LEVEL word otherwise. */
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int log_journal;     /* stderr is connected to journald: use <N> prefixes, no timestamps */

static void log_stderr(int level, const char *line)
{
    if (log_journal) {
        fprintf(stderr, "<%d>%s\n", level, line);
        return;
    }
    static const char *words[] = {"", "", "", "ERROR", "WARN", "NOTICE", "INFO", "DEBUG"};
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tm);
    fprintf(stderr, "%02d:%02d:%02d.%03ld %s %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
            ts.tv_nsec / 1000000, words[level], line);
}

void hk_log_init(void)
{
    int level = HK_LOG_INFO;
    log_journal = getenv("JOURNAL_STREAM") != NULL;
    const char *lv = getenv("HALL_LOG_LEVEL");
    if (lv) {
        if (!strcmp(lv, "debug")) level = HK_LOG_DEBUG;
        else if (!strcmp(lv, "info")) level = HK_LOG_INFO;
        else if (!strcmp(lv, "notice")) level = HK_LOG_NOTICE;
        else if (!strcmp(lv, "warn")) level = HK_LOG_WARN;
        else if (!strcmp(lv, "err")) level = HK_LOG_ERR;
    }
    hk_log_set_sink(log_stderr, level);
}
