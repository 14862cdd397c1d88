/* posts.h: staff on duty and the hall's work rules (docs/config.md "work", docs/protocol.md
 * "Staff posts and alerts"): AB posts and check-in, the alerts a manager or a B post must act on
 * (late check-in, A away, an empty window, load), the duty board, and the business day with its
 * configured rollover time. Pure logic like the rest of core/; events change the state. */
#ifndef HK_POSTS_H
#define HK_POSTS_H

#include "hall_int.h"

typedef struct hk_posts hk_posts;

hk_posts *posts_new(const hk_hall *h);
void posts_free(hk_posts *p);

/* Applies staff.checked_in, staff.checked_out, alert.raised, alert.cleared. */
int posts_apply(hk_hall *h, const hv *ev);
/* The time-based rules (hall_tick): raises and clears alerts, checks out yesterday's staff. */
void posts_tick(hk_hall *h, hk_time now, hk_out *out);

/* The business day `now` belongs to, as YYYYMMDD, with work.rollover = R: a day starts at R.
 * R before noon: the day is named by the date it starts on (R = 03:00: 01:00 on the 24th is still
 * the 23rd); R from noon on: by the date it ends on (R = 20:00: 21:00 on the 23rd is the 24th). */
int32_t posts_business_day(const hk_config *cfg, hk_time now);
/* Closes the previous business day when `now` is in a later one: emits day.closed with the day's
 * summary (issued/served/noshow per category, waits, service times). Same effect as
 * hall_roll_day at midnight, at the configured time instead. */
void posts_roll_day(hk_hall *h, hk_out *out, hk_time now);
/* The day.closed summary fields for the day the hall is in (h->open_day), added to ev. */
void posts_day_summary(const hk_hall *h, hv *ev);

/* The daily checkpoint (core/checkpoint.h): check-ins and alerts. posts_restore fills a fresh
 * hall's posts (its queue already restored): 0, or -1 if malformed. */
hv *posts_checkpoint(const hk_hall *h);
int posts_restore(hk_hall *h, const hv *m);

/* snapshot part: the active alerts (for staff, security and admin only) */
hv *posts_view_alerts(const hk_hall *h);

/* A staff member may act at a window with posts configured only when they hold one of its posts:
 * -1 with the forbidden reply in out otherwise, else 0 (also for a window without posts). */
int posts_may_serve(hk_hall *h, const hk_session *s, int window, const hv *req, hk_out *out);

void posts_cmd_checkin(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);
void posts_cmd_checkout(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);
void posts_cmd_alerts_list(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);
void posts_cmd_alert_ack(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);
void posts_cmd_duty_get(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);

#endif
