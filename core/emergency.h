/* emergency.h: the emergency state machine (docs/emergency.md), pure logic: no I/O, no clock
 * reads (time in ms since the epoch is passed in), libc only. The daemon feeds it input edges and
 * authorised commands, then sets the GPIO lines from emergency_outputs() BEFORE it persists or
 * notifies anything (contract "Emergencies: the rules no option may weaken").
 *
 * Playbooks. Every incident of domain.md has a built-in playbook (core/playbooks.c, prefix
 * playbook_). emergency_new() resolves them against the config: a config playbook with the same
 * id replaces the built-in one (keeping the built-in severity when the config gives none, i.e. 0);
 * new ids are added after the built-ins. A built-in gpio step naming a line that is not a
 * configured output becomes a checklist item for a person (playbook_manual_text: "手动关闭空调风机"),
 * acknowledged like any other: nothing is skipped in silence. Built-in triggers naming a line that
 * is not a configured input are dropped (fire: fire_panel=1, power_failure: ups_on_battery=1);
 * those playbooks are then started from the console.
 *
 * Incidents. Several may be active at once, at most one per playbook. Rank: a real incident
 * outranks any drill; then higher severity; then the earlier start; then playbook order. The
 * highest-ranked incident is the "primary"; the highest-ranked non-silent one is the public
 * primary, shown on screens and owning the speakers. Rules:
 *  - latched: an input dropping back never ends an incident; only emergency_clear() does, by
 *    security/admin with a non-empty reason, and only while no trigger input of its playbook is
 *    still at its trigger value (EMERGENCY_EINPUT, naming the line).
 *  - a real trigger (input or command) of a playbook active as a drill turns it real at once:
 *    it restarts as a real incident (step states reset: a drill's acknowledged "call 119" is no
 *    real call) and the outputs are recomputed. A drill of a playbook active for real is refused
 *    (EMERGENCY_ECONFLICT). Drills apply the same steps as real incidents.
 *  - input triggers always start real incidents, never drills.
 *  - silent incidents (mass_incident) drive their gpio steps and alerts only: they are not shown
 *    to display/kiosk roles, not announced, and do not freeze or limit the queue.
 * Allocation: everything the input-edge path and emergency_outputs() touch is allocated by
 * emergency_new() / emergency_out_init(); they never call malloc. */
#ifndef HK_EMERGENCY_H
#define HK_EMERGENCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "errors.h"
#include "val.h"

/* Error returns (0 = success): the protocol's codes (errors.h) where they say it all, and one
 * finer code of its own; emergency_err() maps each to the protocol's code and a sentence. */
enum {
    EMERGENCY_ENOTFOUND = HK_ERR_NOT_FOUND,    /* unknown playbook/line, nothing active, no such step */
    EMERGENCY_ECONFLICT = HK_ERR_CONFLICT,     /* already active, drill while real, step already acked */
    EMERGENCY_EFORBIDDEN = HK_ERR_FORBIDDEN,   /* role is not security or admin */
    EMERGENCY_EBADREQ = HK_ERR_BAD_REQUEST,    /* empty reason, step is not a checklist, bad value */
    EMERGENCY_EINPUT = -64,                    /* conflict: clear refused, a trigger input is still active */
};

/* The protocol's code (HK_ERR_*, HK_OK for 0) and, if msg is not NULL, an English sentence for
 * the err reply's msg; emergency_strerror gives the code's word ("ok" for 0). */
int emergency_err(int code, const char **msg);
const char *emergency_strerror(int code, const char **msg);

/* ---- built-in playbooks (core/playbooks.c) ---- */
size_t playbook_builtin_count(void);
const hk_playbook_cfg *playbook_builtin(size_t i);          /* NULL if i is out of range */
const hk_playbook_cfg *playbook_builtin_find(const char *id); /* NULL if not a built-in id */
/* The checklist text for doing a conventional output step by hand, or NULL if the line is not one
 * of the built-ins' conventional lines. */
const char *playbook_manual_text(const char *line, int value);

/* ---- the state machine ---- */
#define EMERGENCY_WHO_MAX 64    /* triggered_by / ack_by, truncated to fit */

#define EMERGENCY_FAIL_MAX 128  /* why an output step failed, truncated to fit */

typedef struct {
    int64_t done_at;            /* 0 = pending (checklist steps until acknowledged, gpio steps on a
                                 * line with feedback until the feedback follows) */
    int64_t ack_at;             /* checklist: when acknowledged, else 0 */
    char ack_by[EMERGENCY_WHO_MAX];
    int64_t failed_at;          /* gpio: when the set failed or the feedback did not follow, else 0 */
    char failed[EMERGENCY_FAIL_MAX];
} emergency_step_state;

typedef struct {
    bool active;
    bool drill;
    bool latched;               /* no trigger input holds it now: only a clear ends it */
    int64_t started_at;
    char triggered_by[EMERGENCY_WHO_MAX];   /* "gpio:fire_panel", "security", "staff 0001" */
    emergency_step_state *steps;            /* one per step of its playbook */
} emergency_incident;

typedef struct emergency emergency;

/* cfg is borrowed and must outlive the state machine. NULL only if out of memory. */
emergency *emergency_new(const hk_config *cfg);
void emergency_free(emergency *e);

/* The resolved playbooks (built-ins, overridden or not, then the config's new ids). */
size_t emergency_playbook_count(const emergency *e);
const hk_playbook_cfg *emergency_playbook(const emergency *e, size_t i);
int emergency_playbook_index(const emergency *e, const char *id);   /* -1 if unknown */
/* The incident slot of playbook i (inc->active says whether it is active); NULL if out of range. */
const emergency_incident *emergency_incident_at(const emergency *e, size_t i);
size_t emergency_active_count(const emergency *e);
/* Playbook index of the highest-ranked active incident (public_only: non-silent), or -1. */
int emergency_primary(const emergency *e, bool public_only);

/* An authorised command (emergency.trigger). role: HK_ROLE_*; only security and admin may.
 * who: becomes triggered_by. 0, EMERGENCY_ENOTFOUND, _ECONFLICT (already active the same way,
 * or a drill while real), _EFORBIDDEN. A real trigger of an active drill converts it (0). */
int emergency_trigger(emergency *e, const char *playbook, bool drill, int role, const char *who, int64_t now);

/* Acknowledges checklist step `step` of playbook (NULL = the primary incident).
 * 0, _ENOTFOUND (not active, step out of range), _EBADREQ (not a checklist step),
 * _ECONFLICT (already acknowledged), _EFORBIDDEN. */
int emergency_ack(emergency *e, const char *playbook, int step, int role, const char *who, int64_t now);

/* Ends the incident of playbook (NULL = the primary incident). reason must be non-empty.
 * 0, _ENOTFOUND, _EBADREQ, _EFORBIDDEN, or _EINPUT with *input (if not NULL) set to the name of
 * a trigger line still at its trigger value (a pointer into the config). */
int emergency_clear(emergency *e, const char *playbook, int role, const char *who, const char *reason,
                    const char **input);

/* An input line's new logical value (after debounce). Starts, as real, every playbook with a
 * trigger {line, value}; turns such drills real; updates `latched`. *changed (may be NULL) is set
 * to whether the emergency state changed (then recompute outputs and emit emergency.changed).
 * 0, _ENOTFOUND (no such line), _EBADREQ (an output line, or value not 0/1). No malloc. */
int emergency_input(emergency *e, const char *line, int value, int64_t now, bool *changed);

/* ---- reports by staff (emergency.report) ---- */
#define EMERGENCY_REPORTS_MAX 16
#define EMERGENCY_NOTE_MAX 192

typedef struct {
    int64_t id;                 /* > 0, unique for the life of the state machine (its `at` + n) */
    int playbook;               /* index */
    int64_t at;
    char by[EMERGENCY_WHO_MAX]; /* "staff 0001 1号窗口" */
    char note[EMERGENCY_NOTE_MAX];
} emergency_report_state;

/* A staff member reports an incident of playbook (who: the person and where). By the playbook's
 * `report`: HK_REPORT_NOW starts it at once, as real (returns 1); HK_REPORT_CONFIRM keeps it as a
 * pending report for security to confirm or dismiss (returns 0, *id set); HK_REPORT_NONE:
 * EMERGENCY_EFORBIDDEN. Also EMERGENCY_ENOTFOUND, EMERGENCY_ECONFLICT (already active for real,
 * or too many reports waiting). */
int emergency_report(emergency *e, const char *playbook, const char *who, const char *note, int64_t now, int64_t *id);
/* Security's answer to a pending report: confirm starts its playbook as real (triggered_by names
 * the reporter), dismiss drops it. EMERGENCY_EFORBIDDEN (not security/admin), _ENOTFOUND (no such
 * report). *playbook (may be NULL) is set to the report's playbook id. */
int emergency_report_resolve(emergency *e, int64_t id, bool confirm, int role, const char *who, int64_t now,
                             const char **playbook);
size_t emergency_report_count(const emergency *e);

/* What the host found when it drove output `line` (a configured output): ok = set and, where the
 * line has a feedback input, confirmed by it; !ok = the set failed or the feedback did not follow
 * (why says which). Every gpio step of an active incident on that line is marked: done when ok
 * (a failed step confirmed later is done then, and keeps its failed_at), failed and never done when
 * not. Steps on lines without feedback are done at the start, until a failure says otherwise.
 * *changed as below. 0 or EMERGENCY_ENOTFOUND. No malloc. */
int emergency_output_result(emergency *e, const char *line, bool ok, const char *why, int64_t now, bool *changed);

/* At start: levels[i] is the logical value of cfg->gpio_lines[i] (-1 unknown; outputs ignored).
 * An input already at a trigger value starts its playbook at once. Same *changed as above. */
void emergency_input_levels(emergency *e, const int *levels, size_t n, int64_t now, bool *changed);

/* ---- outputs: the desired state, a pure function of the active incidents ---- */
enum { EMERGENCY_DISPLAY_NORMAL = 0, EMERGENCY_DISPLAY_NOTICE = 1, EMERGENCY_DISPLAY_EVACUATION = 2 };
const char *emergency_display_name(int display);   /* "normal", "notice", "evacuation" */

typedef struct {
    int *gpio;                  /* per cfg->gpio_lines index: the value wanted; -1 for input lines.
                                 * Union of the active incidents' gpio steps; a line named by several
                                 * takes the highest-ranked one's value; others get their `normal`. */
    int *gpio_owner;            /* per line: playbook index deciding it, -1 = normal */
    size_t ngpio;
    int *active;                /* playbook indices of the active incidents, highest rank first */
    size_t nactive;
    int primary;                /* highest-ranked incident, -1 none */
    int primary_public;         /* highest-ranked non-silent incident, -1 none */
    bool drill;                 /* primary_public is a drill: screens and speakers must say so */
    bool frozen;                /* a non-silent active incident has a queue_freeze step */
    int display;                /* EMERGENCY_DISPLAY_*: from the highest-ranked non-silent incident
                                 * with a display step (a notice step alone means notice) */
    const char *display_text;   /* that step's text, or NULL */
    int display_from;           /* playbook index the display comes from, -1 */
    int occupancy_cap;          /* waiting tickets allowed (smallest cap of non-silent incidents), -1 none */
    bool appointments_only;     /* a non-silent incident has occupancy mode appointments_only */
    const hk_step_cfg **announce;   /* announce and notice steps (text, loop, zones) of the highest-
                                     * ranked non-silent incident having any: it owns the speakers */
    size_t nannounce;
    int announce_from;          /* playbook index owning the speakers, -1 */
    const hk_step_cfg **alerts; /* alert steps of all active incidents (each names its roles) */
    size_t nalerts;
    int audience;               /* HK_ROLE_* mask who may see the emergency: 0 when none is active,
                                 * staff|security|admin when only silent ones are, else HK_ROLE_ANY */
} emergency_out;

/* Sizes out's arrays for e's config and playbooks (the only allocation); 0 or -1 out of memory. */
int emergency_out_init(const emergency *e, emergency_out *out);
void emergency_out_free(emergency_out *out);
/* Fills out from the current state. No malloc; out must come from emergency_out_init(e). */
void emergency_outputs(const emergency *e, emergency_out *out);

/* Who may see an incident of playbook i: HK_ROLE_ANY, or staff|security|admin if it is silent. */
int emergency_audience(const emergency *e, size_t i);

/* ---- persistence and views ---- */
/* The full `emergency` object (state snapshot and emergency.changed payload):
 * {active, playbook, name, drill, silent, severity, started_at, triggered_by, latched,
 *  steps: [{do, text?, line?, value?, mode?, loop?, zones?, roles?, cap?, done_at (nil = pending),
 *           ack_by?, ack_at?}],
 *  incidents: [the same fields per active incident, highest rank first]}
 * The top-level fields are those of incidents[0]; with nothing active: {active: false, incidents: []}. */
hv *emergency_to_hv(const emergency *e);
/* A copy of a full object for a connection of `role`: display and kiosk lose silent incidents
 * (the top level then describes the first remaining one, or active: false). */
hv *emergency_hv_for_role(const hv *full, int role);
/* Rebuilds the state from a full object (replacing the current state). Returns the number of
 * incidents skipped because their playbook no longer exists (>= 0), or EMERGENCY_EBADREQ if the
 * object is malformed (then the state is left empty). Step states are kept where the step at
 * that index still has the same `do`. */
int emergency_restore_hv(emergency *e, const hv *obj);
/* emergency.playbooks reply: [{id, name, silent, severity, triggers: [{gpio, value}], steps: [...]}] */
hv *emergency_playbooks_hv(const emergency *e);

/* ---- network / information-system fault grading, DB43/T 2422.4 §6.3.1.2 ---- */
/* 0 = no fault (duration <= 0), 3 = grade III (< 20 min), 2 = grade II (< 1 h), 1 = grade I (>= 1 h).
 * Grade I is the most severe (China's convention: I 重大 > II 较大 > III 一般). */
int emergency_fault_grade(int64_t duration_ms);
const char *emergency_fault_grade_name(int grade);  /* "I", "II", "III", or "none" */
const char *emergency_fault_grade_zh(int grade);    /* "重大", "较大", "一般", or "" */

#endif
