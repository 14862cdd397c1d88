/* errors.c: the table of the protocol's error words (errors.h). */
#include "errors.h"

static const struct {
    int code;
    const char *word, *meaning;
} words[] = {
    {HK_ERR_UNAUTHENTICATED, "unauthenticated", "no hello yet, or a wrong token or ticket link (a failed hello closes the connection)"},
    {HK_ERR_FORBIDDEN, "forbidden", "the connection's role may not do this, or a configured policy narrows the role"},
    {HK_ERR_BAD_REQUEST, "bad_request", "the frame or its arguments are malformed, missing or out of range, or the command is unknown"},
    {HK_ERR_NOT_FOUND, "not_found", "no such category, window, ticket, playbook, line, zone, appointment, case or follow-up"},
    {HK_ERR_CONFLICT, "conflict", "the hall's state does not allow it now (a window not open, a ticket already served, a trigger still active)"},
    {HK_ERR_QUEUE_EMPTY, "queue_empty", "call.next: no one is waiting for the window's categories"},
    {HK_ERR_CLOSED, "closed", "the hall is outside its opening hours: tickets are issued again when it opens"},
    {HK_ERR_FROZEN, "frozen", "an emergency holds the queue or the speakers"},
    {HK_ERR_UNAVAILABLE, "unavailable", "the hall cannot do it now: a rate or occupancy limit, Redis away, no speakers, not in this build; try again later"},
};

#define NWORDS (sizeof words / sizeof *words)

const char *hk_err_word(int code)
{
    for (size_t i = 0; i < NWORDS; i++)
        if (words[i].code == code) return words[i].word;
    return "bad_request";
}

const char *hk_err_meaning(int code)
{
    for (size_t i = 0; i < NWORDS; i++)
        if (words[i].code == code) return words[i].meaning;
    return "an error outside the table of words";
}

int hk_err_row(size_t i) { return i < NWORDS ? words[i].code : 0; }
