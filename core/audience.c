/* audience.c: the audience table of every event the hall emits, the public view of an event, and
 * the per-role numbering (audience.h). The hub sends what this file decides; nothing else in the
 * daemon chooses who gets an event. */
#include "audience.h"
#include "emergency.h"
#include "hall.h"

#include <string.h>

const int hk_roles[HK_NROLES] = {HK_ROLE_KIOSK, HK_ROLE_DISPLAY, HK_ROLE_STAFF, HK_ROLE_SECURITY,
                                 HK_ROLE_ADMIN, HK_ROLE_VISITOR};

int audience_role_slot(int role)
{
    for (int i = 0; i < HK_NROLES; i++)
        if (hk_roles[i] == role) return i;
    return -1;
}

#define SCREENS (HK_ROLE_ANY | HK_ROLE_VISITOR)   /* hall screens, kiosks, phones and people */
#define OFFICE (HK_ROLE_STAFF | HK_ROLE_ADMIN)

/* Fields a public connection (display, kiosk, visitor) does not get of an event it receives. */
static const char *const finished_private[] = {"outcome", "matter", "missing", "case", NULL};
static const char *const issued_private[] = {"priority_reason", NULL};

/* One row per event name, exact. Public screens get ticket codes and the hall's own state only;
 * phones (visitor, docs/mobile.md) only what moves a ticket along. docs/protocol.md "Audience"
 * shows this table; keep the two the same. */
static const struct {
    const char *name;
    int roles;
    const char *const *private_fields;
} rows[] = {
    {"ticket.issued", HK_ROLE_ANY, issued_private},
    {"ticket.called", SCREENS, NULL},
    {"ticket.started", SCREENS, NULL},
    {"ticket.noshow", SCREENS, NULL},
    {"ticket.transferred", SCREENS, NULL},
    {"ticket.finished", HK_ROLE_ANY, finished_private},   /* the rating device asks for its rating */
    {"ticket.rated", HK_ROLE_ANY, NULL},                   /* code and score: no free text */
    {"window.changed", SCREENS, NULL},
    {"queue.changed", SCREENS, NULL},
    {"day.closed", SCREENS, NULL},
    /* public connections get the view without silent incidents, and nothing of a change that
     * touched only silent ones (`public: false`, audience_of) */
    {"emergency.changed", SCREENS, NULL},
    {"announce.started", HK_ROLE_ANY, NULL},   /* what the hall's speakers say aloud */
    {"announce.finished", HK_ROLE_ANY, NULL},
    {"gpio.changed", HK_ROLE_PEOPLE, NULL},
    {"fault", HK_ROLE_PEOPLE, NULL},
    {"staff.checked_in", HK_ROLE_PEOPLE, NULL},
    {"staff.checked_out", HK_ROLE_PEOPLE, NULL},
    {"alert.raised", HK_ROLE_PEOPLE, NULL},
    {"alert.cleared", HK_ROLE_PEOPLE, NULL},
    {"appointment.added", OFFICE, NULL},
    {"appointment.checked_in", OFFICE, NULL},
    {"appointment.released", OFFICE, NULL},
    {"appointment.cancelled", OFFICE, NULL},
    {"case.opened", OFFICE, NULL},
    {"case.warning", OFFICE, NULL},
    {"case.overdue", OFFICE, NULL},
    {"case.closed", OFFICE, NULL},
    {"rating.invited", HK_ROLE_ANY, NULL},   /* code, window, staff id: as window.changed shows */
    {"rating.recorded", OFFICE, NULL},   /* a rating's reason and free text */
    {"followup.opened", OFFICE, NULL},
    {"followup.closed", OFFICE, NULL},
    {"day.checkpoint", 0, NULL},        /* for persistence only, never pushed */
    {"day.checkpoint.part", 0, NULL},
};
#define NROWS (sizeof rows / sizeof *rows)

static int row_of(const char *name)
{
    for (size_t i = 0; name && i < NROWS; i++)
        if (!strcmp(name, rows[i].name)) return (int)i;
    return -1;
}

bool audience_known(const char *name) { return row_of(name) >= 0; }

const char *audience_row(size_t i, int *roles)
{
    if (i >= NROWS) return NULL;
    if (roles) *roles = rows[i].roles;
    return rows[i].name;
}

int hall_event_audience(const hv *event)
{
    const char *name = hv_get_str(event, "ev");
    int r = row_of(name);
    if (r < 0) return HK_ROLE_PEOPLE;   /* fail-closed */
    bool pub = true;
    if (!strcmp(name, "emergency.changed") && hv_get_bool(event, "public", &pub) == 0 && !pub)
        return rows[r].roles & ~HK_ROLE_PUBLIC;
    return rows[r].roles;
}

hv *hall_event_for_role(const hv *event, int role)
{
    if (!(role & HK_ROLE_PUBLIC)) return NULL;
    const char *name = hv_get_str(event, "ev");
    int r = row_of(name);
    if (r < 0) return NULL;
    if (!strcmp(name, "emergency.changed")) {
        hv *pub = emergency_hv_for_role(event, role);
        /* the envelope is the same event, whatever the role */
        static const char *const envelope[] = {"t", "ev", "seq", "at", "public", "cleared_by", "reason"};
        for (size_t i = 0; i < sizeof envelope / sizeof *envelope; i++) {
            const hv *v = hv_get(event, envelope[i]);
            if (v) hv_set(pub, envelope[i], hv_dup(v));
        }
        return pub;
    }
    if (!rows[r].private_fields) return NULL;
    hv *pub = hv_map();
    for (size_t i = 0; i < event->u.m.n; i++) {
        const char *key = event->u.m.v[i].key;
        bool priv = false;
        for (const char *const *f = rows[r].private_fields; *f && !priv; f++) priv = !strcmp(*f, key);
        if (!priv) hv_set(pub, key, hv_dup(event->u.m.v[i].val));
    }
    return pub;
}

size_t audience_views(hk_numbering *n, const hv *event, hk_view views[HK_NROLES])
{
    int64_t seq = 0;
    hv_get_int(event, "seq", &seq);
    bool fresh = true;
    for (int i = 0; i < HK_NROLES; i++) fresh &= n->last[i] == 0;
    if (fresh && seq > 0)
        for (int i = 0; i < HK_NROLES; i++) n->last[i] = (uint64_t)seq - 1;
    int audience = hall_event_audience(event);
    size_t nv = 0;
    for (int i = 0; i < HK_NROLES; i++) {
        int role = hk_roles[i];
        if (!(audience & role)) continue;
        hv *v = hall_event_for_role(event, role);
        if (!v) v = hv_dup(event);
        hv_set(v, "prev", hv_int((int64_t)n->last[i]));
        n->last[i] = (uint64_t)seq;
        size_t k = 0;
        while (k < nv && !hv_equal(views[k].ev, v)) k++;   /* roles that see the same map share it */
        if (k < nv) {
            views[k].roles |= role;
            hv_free(v);
        } else {
            views[nv].roles = role;
            views[nv++].ev = v;
        }
    }
    return nv;
}
