/* queue.h: tickets, per-category waiting lines, and the call policy (docs/queue.md).
 * Pure data structure: the hall (hall.c) decides when to change it, from events. */
#ifndef HK_QUEUE_H
#define HK_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "strmap.h"
#include "val.h"

typedef enum { TK_WAITING, TK_CALLED, TK_SERVING, TK_DONE, TK_NOSHOW } tk_state;

typedef struct {
    char code[16];
    int cat;                 /* index into cfg->categories */
    bool priority;
    int32_t day;             /* YYYYMMDD the ticket was issued on */
    int64_t issued_at, called_at, started_at, finished_at;   /* ms */
    int window;              /* window now (or last) handling it, 0 = none */
    int target_window;       /* transferred to a window: only that window calls it */
    tk_state state;
    char outcome[32];
    int score;               /* rating 1..5, 0 = not rated */
    int recalls;
    uint64_t order;          /* waiting-line order: position of issue; kept on transfer */
} hk_ticket;

/* A waiting line: ticket indexes sorted by order. */
typedef struct { int *v; size_t n, cap; } hk_line;

#define HK_SERVICE_SAMPLES 20

typedef struct {
    hk_line normal, priority;
    /* Priority calls of this category in a row that overtook a waiting normal ticket (the
     * fairness cap, docs/queue.md). Kept by queue_remove_waiting, so replay rebuilds it. */
    int prio_streak;
    int next_number;          /* next ticket number today */
    int32_t day;              /* the day next_number counts */
    int64_t service_ms[HK_SERVICE_SAMPLES];   /* recent service durations, ring */
    int nservice, service_pos;
} hk_catq;

typedef struct {
    const hk_config *cfg;
    hk_ticket *tickets; size_t ntickets, cap;
    strmap by_code;           /* code -> newest ticket with that code */
    hk_catq *cats;            /* one per category */
    hk_line direct;           /* tickets transferred to a specific window */
    uint64_t next_order;
} hk_queue;

void queue_init(hk_queue *q, const hk_config *cfg);
void queue_free(hk_queue *q);

int queue_cat_index(const hk_queue *q, const char *id);      /* -1 if unknown */
const char *queue_state_name(tk_state s);                      /* "waiting", "called", ... */
hk_ticket *queue_find(hk_queue *q, const char *code);          /* newest ticket with the code */
int queue_ticket_index(const hk_queue *q, const hk_ticket *t);

/* The code the next ticket of category cat gets on day (A001, A002, ...; restarts each day). */
void queue_next_code(const hk_queue *q, int cat, int32_t day, char *code, size_t len);
/* How many numbers of category cat `day` has used (categories[].daily_cap counts them). */
int queue_numbers_used(const hk_queue *q, int cat, int32_t day);

/* Adds a waiting ticket (from a ticket.issued event). Returns its index, or -1 if the code
 * is already taken on that day. */
int queue_add(hk_queue *q, const char *code, int cat, bool priority, int32_t day, int64_t issued_at);

/* A waiting ticket leaves its line because it is called (ticket.called): the fairness
 * counters of the call policy see it. */
void queue_remove_waiting(hk_queue *q, int idx);
/* A waiting ticket leaves its line for any other reason: the call policy's counters are not
 * touched. */
void queue_withdraw(hk_queue *q, int idx);
void queue_requeue(hk_queue *q, int idx);     /* back into its category's line (or direct) */

/* How many waiting tickets would be called before a ticket of cat with this priority. */
int queue_ahead(const hk_queue *q, int cat, bool priority);
int queue_waiting(const hk_queue *q, int cat, bool priority_only);

/* The configured fairness and appointment settings, defaults filled in. */
hk_queue_policy_cfg queue_policy(const hk_config *cfg);

/* The call policy (docs/queue.md): which waiting ticket window w (its config) calls next at
 * now_ms, or -1 if none. In order: tickets transferred to w; the oldest normal head that has
 * waited normal_max_wait_min or more; the best-scoring priority head of a category that has not
 * reached priority_max_in_row (for one that has, its normal head instead); the best normal head. */
int queue_pick(const hk_queue *q, const hk_window_cfg *w, int64_t now_ms);

/* Forgets the finished (done, no-show) tickets of days before `day`: their memory is released
 * and their codes are no longer found. Waiting, called and serving tickets stay whatever their
 * day (extended service). remap[old index] = new index or -1, for the caller's own references
 * (windows); remap must hold q->ntickets ints. Returns how many tickets were forgotten. */
size_t queue_forget_before(hk_queue *q, int32_t day, int *remap);

/* The daily checkpoint (core/checkpoint.h): tickets, the categories' numbering, fairness and
 * service-time counters. queue_restore fills a fresh queue: 0, or -1 if malformed; *remap (malloc'd,
 * *nremap entries) gives the new index of the checkpoint's i-th ticket, -1 for one left out. */
hv *queue_checkpoint(const hk_queue *q);
int queue_restore(hk_queue *q, const hv *m, int **remap, size_t *nremap);

void queue_record_service(hk_queue *q, int cat, int64_t ms);
int64_t queue_avg_service_ms(const hk_queue *q, int cat);   /* default 5 min with no sample */

#endif
