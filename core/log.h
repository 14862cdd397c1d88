/* log.h: the one logging interface of every part (core, gpio, web, io). A part formats its line
 * and hands it to the sink the host installed; core itself never writes anywhere. With no sink
 * set (unit tests), lines are dropped. The daemon's sink is io/base/log.c: one event a line on
 * stderr, journald-friendly. */
#ifndef HK_LOG_H
#define HK_LOG_H

enum { HK_LOG_ERR = 3, HK_LOG_WARN = 4, HK_LOG_NOTICE = 5, HK_LOG_INFO = 6, HK_LOG_DEBUG = 7 };

/* Receives one formatted line (no newline) at its syslog level. */
typedef void (*hk_log_sink)(int level, const char *line);

void hk_log_set_sink(hk_log_sink sink, int max_level);
void hk_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* io/base/log.c: installs the stderr sink; reads JOURNAL_STREAM and HALL_LOG_LEVEL. */
void hk_log_init(void);

#define log_err(...) hk_log(HK_LOG_ERR, __VA_ARGS__)
#define log_warn(...) hk_log(HK_LOG_WARN, __VA_ARGS__)
#define log_notice(...) hk_log(HK_LOG_NOTICE, __VA_ARGS__)
#define log_info(...) hk_log(HK_LOG_INFO, __VA_ARGS__)
#define log_debug(...) hk_log(HK_LOG_DEBUG, __VA_ARGS__)

#endif
