/* log.h: one event a line on stderr, journald-friendly ("<N>" priority prefixes when stderr is
 * the journal, plain "LEVEL" words otherwise). */
#ifndef HK_LOG_H
#define HK_LOG_H

enum { HK_LOG_ERR = 3, HK_LOG_WARN = 4, HK_LOG_NOTICE = 5, HK_LOG_INFO = 6, HK_LOG_DEBUG = 7 };

void hk_log_init(void);                 /* reads JOURNAL_STREAM and HALL_LOG_LEVEL */
void hk_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) hk_log(HK_LOG_ERR, __VA_ARGS__)
#define log_warn(...) hk_log(HK_LOG_WARN, __VA_ARGS__)
#define log_notice(...) hk_log(HK_LOG_NOTICE, __VA_ARGS__)
#define log_info(...) hk_log(HK_LOG_INFO, __VA_ARGS__)
#define log_debug(...) hk_log(HK_LOG_DEBUG, __VA_ARGS__)

#endif
