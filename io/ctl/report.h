/* report.h: `hallctl report` and `hallctl archive` (io/ctl/report.c, docs/reports.md). */
#ifndef HK_HALLCTL_REPORT_H
#define HK_HALLCTL_REPORT_H

#include <stdbool.h>

/* pos[0] is "report" or "archive", the rest its words (DAY, csv|html|json, --out DIR or DIR).
 * Returns hallctl's exit status (0 ok, 1 err, 2 usage, 3 connection). */
int hallctl_report_run(int npos, char **pos, const char *url, const char *token, int timeout_ms, bool json);

/* The whole command line, for hallctl's main before its own option parsing, so the report's own
 * options (--csv, --html, --out DIR) are accepted: claims says whether the command is ours. */
bool hallctl_report_claims(int argc, char **argv);
int hallctl_report_main(int argc, char **argv);

#endif
