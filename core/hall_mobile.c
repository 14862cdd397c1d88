/* hall_mobile.c: phones following a ticket (docs/mobile.md): the visitor hello with a ticket's
 * own key, and ticket.get, the one view of a ticket a visitor may ask for. The key check is the
 * host's (hall_set_ticket_verifier): the secret it needs is not the hall's to hold. */
#include "hall_int.h"
#include "hall_mobile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hall_set_ticket_verifier(hk_hall *h, hk_ticket_verifier fn, void *ctx)
{
    h->verify_ticket = fn;
    h->verify_ticket_ctx = ctx;
}

/* A visitor session keeps its ticket as "CODE/DAY" in the session's staff field (a visitor has no
 * staff id): the code alone would name tomorrow's ticket of the same number once the day turns. */
static void visitor_set(hk_session *s, const char *code, int32_t day)
{
    snprintf(s->staff, sizeof s->staff, "%s/%d", code, (int)day);
}

static bool visitor_get(const hk_session *s, char *code, size_t len, int32_t *day)
{
    const char *slash = strchr(s->staff, '/');
    if (!slash || (size_t)(slash - s->staff) >= len) return false;
    memcpy(code, s->staff, (size_t)(slash - s->staff));
    code[slash - s->staff] = 0;
    *day = (int32_t)strtol(slash + 1, NULL, 10);
    return true;
}

/* What a phone shows: the ticket view plus the names a person reads (category, window), and
 * `position` (1 = next to be called) while it waits. Codes and names only: no personal data. */
static hv *phone_ticket(const hk_hall *h, const hk_ticket *t)
{
    hv *m = hall_view_ticket(h, t);
    hv_set(m, "category_name", hv_str(h->cfg->categories[t->cat].name));
    const hk_window_cfg *w = t->window ? hk_config_window(h->cfg, t->window) : NULL;
    hv_set(m, "window_name", w ? hv_str(w->name) : hv_nil());
    hv_set(m, "called_at", t->called_at ? hv_int(t->called_at) : hv_nil());
    hv_set(m, "recalls", hv_int(t->recalls));
    int64_t ahead = 0;
    hv_get_int(m, "ahead", &ahead);
    hv_set(m, "position", t->state == TK_WAITING ? hv_int(ahead + 1) : hv_int(0));
    hv_set(m, "day", hv_int(t->day));
    return m;
}

/* What a phone learns of an emergency: that there is one, its name, and whether it is a drill;
 * from the public view (silent incidents left out, as on the hall displays). */
static hv *phone_emergency(const hk_hall *h)
{
    hv *pub = hall_view_emergency(h, HK_ROLE_DISPLAY);
    bool active = false, drill = false;
    hv_get_bool(pub, "active", &active);
    hv_get_bool(pub, "drill", &drill);
    hv *m = hv_map();
    hv_set(m, "active", hv_bool(active));
    if (active) {
        hv_set(m, "name", hv_str(hv_get_str(pub, "name")));
        hv_set(m, "drill", hv_bool(drill));
    }
    hv_free(pub);
    return m;
}

/* "ticket:CODE:KEY": codes are what queue_next_code makes (letters and digits, < 16 bytes). */
static bool parse_ticket_token(const char *token, char *code, size_t clen, const char **key)
{
    const char *p = token + strlen(HALL_TICKET_TOKEN_PREFIX);
    const char *colon = strchr(p, ':');
    if (!colon || colon == p || (size_t)(colon - p) >= clen || !colon[1]) return false;
    for (const char *c = p; c < colon; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9'))) return false;
    memcpy(code, p, (size_t)(colon - p));
    code[colon - p] = 0;
    *key = colon + 1;
    return strlen(*key) <= 64;
}

bool hall_hello_visitor(hk_hall *h, hk_session *s, const hv *req, const char *token, hk_time now, hk_out *out)
{
    if (!token || strncmp(token, HALL_TICKET_TOKEN_PREFIX, strlen(HALL_TICKET_TOKEN_PREFIX)) != 0) return false;
    char code[16];
    const char *key = NULL;
    hk_ticket *t = NULL;
    bool good = parse_ticket_token(token, code, sizeof code, &key) && h->verify_ticket &&
                (t = queue_find(&h->q, code)) != NULL;
    /* an unknown code and a wrong key get the same answer (which codes exist is public anyway:
     * the screens show them) */
    if (good) good = h->verify_ticket(h->verify_ticket_ctx, h->cfg->hall_id, t->day, t->code, key);
    if (!good) {
        hall_reply_err(out, req, HK_ERR_UNAUTHENTICATED, "%s",
                       !h->verify_ticket ? "this hall does not accept ticket links"
                                         : "unknown ticket or wrong key: scan the ticket's QR code again");
        out->close_after = true;
        return true;
    }
    s->role = HK_ROLE_VISITOR;
    s->window = 0;
    s->token = 0;
    visitor_set(s, t->code, t->day);
    out->auth_role = HK_ROLE_VISITOR;
    hv *r = hall_reply_ok(out, req);
    hv_set(r, "role", hv_str("visitor"));
    hv *hall = hv_map();
    hv_set(hall, "id", hv_str(h->cfg->hall_id));
    hv_set(hall, "name", hv_str(h->cfg->hall_name));
    hv_set(r, "hall", hall);
    hv_set(r, "seq", hv_int((int64_t)h->seq));
    /* what the hall's public screens show, nothing more */
    hv_set(r, "state", hall_state(h, HK_ROLE_DISPLAY, now));
    hv_set(r, "ticket", phone_ticket(h, t));
    return true;
}

/* ticket.get {code}: a visitor sees its own ticket only (code may be left out); staff and admin
 * any ticket of the hall. */
void hall_cmd_ticket_get(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    (void)now;
    const hv *cv = hv_get(req, "code");
    if (cv && cv->t != HV_STR) { hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "%s", "code must be a string (a ticket code, A001)"); return; }
    const char *code = cv ? cv->u.s.p : NULL;
    hk_ticket *t = NULL;
    if (s->role == HK_ROLE_VISITOR) {
        char own[16];
        int32_t day = 0;
        if (!visitor_get(s, own, sizeof own, &day)) { hall_reply_err(out, req, HK_ERR_FORBIDDEN, "%s", "no ticket on this connection"); return; }
        if (code && strcmp(code, own) != 0) {
            hall_reply_err(out, req, HK_ERR_FORBIDDEN, "%s", "a ticket link shows its own ticket only");
            return;
        }
        t = queue_find(&h->q, own);
        if (!t || t->day != day) {
            hall_reply_err(out, req, HK_ERR_NOT_FOUND, "%s", "this ticket is no longer in the hall's queue (the day has closed)");
            return;
        }
    } else {
        if (!code) { hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "%s", "code (a ticket code, A001) is required"); return; }
        t = queue_find(&h->q, code);
        if (!t) {
            char msg[96];
            snprintf(msg, sizeof msg, "no ticket '%.16s' in the hall today", code);
            hall_reply_err(out, req, HK_ERR_NOT_FOUND, "%s", msg);
            return;
        }
    }
    hv *r = hall_reply_ok(out, req);
    hv_set(r, "ticket", phone_ticket(h, t));
    hv_set(r, "emergency", phone_emergency(h));
}
