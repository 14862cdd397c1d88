/* cases.h: 四件管理 and 电子监察 (docs/cases.md). A ticket finished as 承诺件, 联办件 or 上报件
 * becomes a case with a deadline in working days of the hall; hall_tick warns of it at a part of
 * its limit and flags it overdue; staff close it. State changes only through case.* events. */
#ifndef HK_CASES_H
#define HK_CASES_H

#include "hall_int.h"

typedef struct hk_cases hk_cases;

#define CASE_RESULT_MAX 200
#define CASE_NAME_MAX 60          /* a partner department, the higher level, a missing material */

hk_cases *cases_new(void);
void cases_free(hk_cases *c);

/* The deadline of a limit of `days` working days counted from `opened`: the close of the hall on
 * the days-th working day after the opening day (the opening day does not count). A working day
 * is a weekday the configured hours open on (every day without hours); public holidays are not
 * known to the hall. Local time is taken from `opened` (a fixed UTC offset: China has no DST). */
int64_t cases_deadline(const hk_config *cfg, hk_time opened, int days);

/* ticket.finish: checks the outcome's optional arguments (matter, lead_window, partners, sent_to,
 * missing). HK_OK if they are fine, else an HK_ERR_*, with the message in why. */
int cases_check_finish(hk_hall *h, const char *outcome, const hv *req, char *why, size_t len);
/* Whether a finish opens a case: 承诺件 always, 联办件 and 上报件 when they name a matter. */
bool cases_outcome_opens(const char *outcome, const hv *req);
/* The id the next case will get (put into ticket.finished before case.opened is emitted). */
int cases_next_id(const hk_hall *h);
/* Emits case.opened for a ticket just finished with an outcome that opens a case. */
void cases_open(hk_hall *h, hk_out *out, hk_time now, const hk_ticket *t, const hk_win *w, const char *outcome,
                const hv *req);

/* Applies case.* events; returns 0, -1 if one makes no sense (unknown case). */
int cases_apply(hk_hall *h, const hv *ev, const char *name);
/* Emits case.warning and case.overdue when their time has come. */
void cases_tick(hk_hall *h, hk_time now, hk_out *out);
/* The daily checkpoint (core/checkpoint.h): every case, open or closed. cases_restore fills a fresh
 * hall's cases: 0, or -1 if malformed. */
hv *cases_checkpoint(const hk_hall *h);
int cases_restore(hk_hall *h, const hv *m);

/* {open, warning, overdue} for the staff/admin snapshot. */
hv *cases_summary(const hk_hall *h);

/* The configured matters and their limits, for the staff tablet's finish sheet (public data). */
void hall_cmd_matters_list(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);
void hall_cmd_case_close(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);
void hall_cmd_cases_list(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);
void hall_cmd_cases_stats(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);
void hall_cmd_cases_board(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);

#endif
