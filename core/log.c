/* log.c: see log.h. Formats the line and passes it to the host's sink. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

static hk_log_sink log_sink;
static int log_max = HK_LOG_INFO;

void hk_log_set_sink(hk_log_sink sink, int max_level)
{
    log_sink = sink;
    log_max = max_level;
}

void hk_log(int level, const char *fmt, ...)
{
    if (!log_sink || level > log_max) return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* one event, one line: fold any newline a message carries */
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    log_sink(level, line);
}
