/* ratings.h: 好差评 (docs/cases.md): the five levels of GB/T 39734, the reasons a bad rating must
 * give, its follow-up (DB43/T 2422.6 §8.3) and the satisfaction statistics (target 95 %). State
 * changes only through rating.* and followup.* events. */
#ifndef HK_RATINGS_H
#define HK_RATINGS_H

#include "hall_int.h"

typedef struct hk_ratings hk_ratings;

#define RATING_TEXT_MAX 300
#define RATING_RESOLUTION_MAX 500

hk_ratings *ratings_new(const hk_config *cfg);
void ratings_free(hk_ratings *r);

/* 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意; NULL outside 1..5. */
const char *ratings_level_name(int score);
/* The reasons a score of 1 or 2 must give: the configured ones or the defaults. */
size_t ratings_reasons(const hk_config *cfg, const char *const **out);

/* ticket.finish: emits rating.invited, which remembers who served the ticket for its rating. */
void ratings_invite(hk_hall *h, hk_out *out, hk_time now, const hk_ticket *t, const hk_win *w);
/* ticket.rate: checks reason and text for the score. HK_OK if fine, else an HK_ERR_* + why. */
int ratings_check(const hk_hall *h, int score, const hv *req, char *why, size_t len);
/* ticket.rate, after ticket.rated: emits rating.recorded and, for 1 and 2, followup.opened.
 * Returns the follow-up's id, or 0 for a good rating. */
int ratings_record(hk_hall *h, hk_out *out, hk_time now, const hk_ticket *t, int score, const hv *req);

int ratings_apply(hk_hall *h, const hv *ev, const char *name);
/* The daily checkpoint (core/checkpoint.h): invitations, ratings (grouped per day) and follow-ups.
 * ratings_restore fills a fresh hall's ratings: 0, or -1 if malformed. */
hv *ratings_checkpoint(const hk_hall *h);
int ratings_restore(hk_hall *h, const hv *m);
int ratings_open_followups(const hk_hall *h);

void hall_cmd_ratings_stats(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);
/* The levels and the reasons, for the rating device (any role: nothing in it is private). */
void hall_cmd_ratings_reasons(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);
void hall_cmd_followups_list(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);
void hall_cmd_followup_close(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out);

#endif
