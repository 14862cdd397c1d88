/* hall_mobile.h: the phone's view of one ticket (docs/mobile.md). A phone has no configured
 * token: it says hello with "ticket:CODE:KEY", where KEY is a keyed hash of (hall, day, code)
 * that only the host can make (the secret lives in the data directory), so the host gives the
 * hall the check. Such a connection gets the visitor role: ticket.get for its own ticket and the
 * public events of the queue, nothing else. */
#ifndef HK_HALL_MOBILE_H
#define HK_HALL_MOBILE_H

#include "hall.h"

/* true if key is the right key for ticket code issued on day (YYYYMMDD) in hall hall_id.
 * Must take the same time however much of the key matches. */
typedef bool (*hk_ticket_verifier)(void *ctx, const char *hall_id, int32_t day, const char *code,
                                   const char *key);
/* Without one, ticket hellos are refused (unauthenticated). */
void hall_set_ticket_verifier(hk_hall *h, hk_ticket_verifier fn, void *ctx);

#define HALL_TICKET_TOKEN_PREFIX "ticket:"

#endif
