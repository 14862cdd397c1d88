/* hallctl.c: the operator's command-line client over hall.v1 (docs/hallctl.md).
 * Each run is one connection: connect, hello, one or two requests, print, close. Arguments are
 * checked before connecting, so a usage error never touches the hall. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/utf8.h"
#include "core/val.h"
#include "core/codec/codec.h"
#include "core/log.h"
#include "io/store/incident_log.h"
#include "appt.h"
#include "city.h"
#include "client.h"
#include "report.h"
#include "json.h"
#include "io/base/clock.h"
#include "io/config/token.h"
#include "token_cmd.h"
#include "wsclient.h"

#define CTL_DEFAULT_URL "ws://127.0.0.1:8080/ws"
#define CTL_SUBPROTOCOL "hall.v1"

enum { CTL_EXIT_OK = 0, CTL_EXIT_ERR = 1, CTL_EXIT_USAGE = 2, CTL_EXIT_CONN = 3, CTL_EXIT_SIGNAL = 130 };

static const char ctl_usage_text[] =
    "usage: hallctl [--url URL] [--token TOKEN] [--json] [--timeout SEC] COMMAND [ARGS]\n"
    "\n"
    "  --url URL       daemon endpoint (env HALL_URL; default " CTL_DEFAULT_URL ")\n"
    "  --token TOKEN   device or staff token (env HALL_TOKEN)\n"
    "  --cafile FILE   for wss:// URLs: the CA certificate(s) the daemon's must chain to (env HALL_CAFILE;\n"
    "                  default: the system's CAs)\n"
    "  --json          print each reply (or event) as one JSON line\n"
    "  --timeout SEC   how long to wait to connect and for each reply (default 5)\n"
    "\n"
    "commands:\n"
    "  state                              the hall: windows, queues, recent calls, emergency\n"
    "  ticket CATEGORY [--priority]       issue a ticket\n"
    "  call WINDOW                        call the next ticket to WINDOW (staff token)\n"
    "  recall WINDOW | start WINDOW | noshow WINDOW | resume WINDOW | close WINDOW\n"
    "  finish WINDOW OUTCOME              OUTCOME: 即办件 承诺件 联办件 上报件 补正 不予受理\n"
    "  pause WINDOW [REASON]\n"
    "  transfer WINDOW CATEGORY|WINDOW2   hand the current ticket to a category or a window\n"
    "  rate CODE SCORE [REASON [TEXT]]    SCORE 1..5 (5 = 非常满意); 1 and 2 need a REASON\n"
    "  announce TEXT [ZONE ...]           a spoken notice on the speakers (all zones by default)\n"
    "  health                             ok or degraded (Redis, faults); exit 1 when degraded\n"
    "  gpio list                          the GPIO lines and their values\n"
    "  gpio set LINE 0|1                  drive a simulated line (sim backend, admin)\n"
    "  emergency trigger PLAYBOOK [--drill] | emergency ack STEP | emergency clear REASON\n"
    "  emergency playbooks | emergency status\n"
    "  incidents [--since N]              the incident log as a timeline (security, admin)\n"
    "  incidents verify                   check the incident log's hash chain\n"
    "  incidents report [--playbook ID]   post-incident report: each incident's steps, times, clear\n"
    "                                     (incidents ... --file DATA/incidents.log: offline, no daemon)\n"
    "  checkin WINDOW | checkout          staff at their A/B post (staff token)\n"
    "  alerts | alert ack ID | duty       managers' alerts; the staff-on-duty board\n"
    "  appointments import FILE.csv | list | add ... | cancel NUMBER   预约 (docs/appointments.md)\n"
    "  cases [active|overdue|all|stats|board] | case close CASE RESULT   四件管理 (docs/cases.md)\n"
    "  followups [open|closed|all] | followup close ID RESOLUTION | ratings [window|staff|category|day]\n"
    "                                     (the lists fetch every page; --limit N sets the page size)\n"
    "  report [DAY] [--csv|--html]        the day's report (admin; docs/reports.md)\n"
    "  archive DAY --out DIR              a day's events, report and SHA-256 manifest (admin)\n"
    "  city --redis URL HALL [HALL ...]   several halls' streams through a consumer group (no daemon;\n"
    "                                     docs/streams.md); --count N stops after N updates\n"
    "  token new ROLE                     print a fresh random token and its hash for the config (local)\n"
    "  token hash ID.SECRET               print the Argon2id hash of a token for the config (local)\n"
    "  watch [--count N]                  print pushed events until Ctrl-C (or N events)\n"
    "  raw COMMAND [KEY=VALUE ...]        send any request; VALUE is an int, true/false, or a string\n"
    "\n"
    "exit status: 0 ok, 1 the daemon answered err (or: incident log broken), 2 usage error,\n"
    "             3 connection failure\n";

/* ---- options and the plan of requests -------------------------------------------------------- */

typedef enum {
    OUT_STATE, OUT_TICKET_ISSUED, OUT_TICKET, OUT_WINDOW, OUT_GPIO_LIST, OUT_GPIO_LINE,
    OUT_EMERGENCY, OUT_EMERGENCY_STATUS, OUT_PLAYBOOKS, OUT_RAW, OUT_WATCH, OUT_HEALTH,
    OUT_INCIDENTS, OUT_INCIDENTS_VERIFY, OUT_INCIDENTS_REPORT,
} ctl_out;

typedef struct {
    const char *t;   /* command name */
    hv *args;        /* map of arguments, owned */
} ctl_req;

typedef struct {
    const char *url, *token;
    const char *cafile;        /* --cafile: for wss:// */
    bool json, priority, drill, timeout_given;
    int timeout_ms;
    long count;          /* watch: stop after this many events; 0 = until interrupted */
    int64_t since;       /* incidents: records after this number */
    bool since_given;
    const char *playbook, *file;   /* incidents report --playbook; incidents --file (offline) */
    const char *redis;             /* city: the Redis URL (--redis) */
    int npos;
    char **pos;          /* positional arguments, command first */
    ctl_req req[2];      /* window.open + the command, or just the command */
    int nreq;
    ctl_out out;
    bool empty_ok;       /* call.next: queue_empty is an answer, not a failure */
    const char *pages;   /* cases/followups lists: the reply's array, fetched page by page */
    int limit;           /* --limit: the page size for those lists (0 = 500, the most a page holds) */
} ctl_opts;

static int ctl_degraded;     /* health answered "degraded": exit 1 */

static int ctl_usage_error(const char *fmt, const char *arg)
{
    fputs("hallctl: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n\n", stderr);
    fputs(ctl_usage_text, stderr);
    return CTL_EXIT_USAGE;
}

/* A positive int within int range, or -1. */
static int ctl_parse_uint(const char *s, long max)
{
    if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9) return -1;
    long v = strtol(s, NULL, 10);
    return v > max ? -1 : (int)v;
}

static bool ctl_is_int(const char *s, int64_t *out)
{
    const char *d = (*s == '-' || *s == '+') ? s + 1 : s;
    if (!*d || strspn(d, "0123456789") != strlen(d)) return false;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno == ERANGE) return false;
    *out = v;
    return true;
}

static void ctl_add_req(ctl_opts *o, const char *t, hv *args)
{
    o->req[o->nreq].t = t;
    o->req[o->nreq].args = args ? args : hv_map();
    o->nreq++;
}

/* ---- the table of subcommands ----------------------------------------------------------------- */

/* Which options a subcommand takes (the rest are a usage error), and how it is planned. */
enum {
    CTL_F_PRIORITY = 1, CTL_F_COUNT = 2, CTL_F_DRILL = 4, CTL_F_FILE = 8, CTL_F_SINCE = 16, CTL_F_PLAYBOOK = 32,
    CTL_F_LIMIT = 64,
    CTL_F_WINDOW = 128,     /* a[1] is a WINDOW: window.open first (idempotent for the same staff) */
    CTL_F_EMPTY_OK = 256,   /* call.next: queue_empty is an answer, not a failure */
    CTL_F_FAMILY = 512,     /* the first word alone or with an unknown second: its usage is the error */
};

/* Builds the request's arguments (and may name the request, set o->pages): 0 or a usage error. */
typedef int (*ctl_build_fn)(ctl_opts *o, char **a, const char **t, hv **args);

typedef struct {
    const char *name;   /* the first word, or the first two ("gpio list") */
    int min, max;       /* how many words may follow the first */
    const char *usage;  /* "usage: hallctl USAGE" when their number is wrong */
    const char *t;      /* the request, or NULL (build names it, or the run needs none) */
    ctl_out out;
    unsigned flags;     /* CTL_F_* */
    ctl_build_fn build; /* NULL: no arguments */
} ctl_sub;

/* A window number, or minus the usage error. */
static int ctl_window_arg(const char *s, const char *what)
{
    int w = ctl_parse_uint(s, INT_MAX);
    return w < 1 ? -ctl_usage_error("%s: WINDOW must be a window number", what) : w;
}

static int ctl_b_ticket(ctl_opts *o, char **a, const char **t, hv **args)
{
    (void)t;
    *args = hv_set(hv_map(), "category", hv_str(a[1]));
    if (o->priority) hv_set(*args, "priority", hv_str("priority"));
    return 0;
}

static int ctl_b_finish(ctl_opts *o, char **a, const char **t, hv **args)
{
    (void)o, (void)t;
    *args = hv_set(hv_map(), "outcome", hv_str(a[2]));
    return 0;
}

static int ctl_b_transfer(ctl_opts *o, char **a, const char **t, hv **args)
{
    (void)o, (void)t;
    int w2 = ctl_parse_uint(a[2], INT_MAX);
    *args = w2 > 0 ? hv_set(hv_map(), "window", hv_int(w2)) : hv_set(hv_map(), "category", hv_str(a[2]));
    return 0;
}

static int ctl_b_pause(ctl_opts *o, char **a, const char **t, hv **args)
{
    (void)t;
    *args = hv_map();
    if (o->npos > 2) hv_set(*args, "reason", hv_str(a[2]));
    return 0;
}

static int ctl_b_rate(ctl_opts *o, char **a, const char **t, hv **args)
{
    (void)t;
    int s = ctl_parse_uint(a[2], 1000);
    if (s < 0) return ctl_usage_error("%s", "rate: SCORE must be a number 1..5");
    *args = hv_set(hv_set(hv_map(), "code", hv_str(a[1])), "score", hv_int(s));
    /* Which scores need a reason, and which reasons exist, is the daemon's rule (rating.reasons
     * in the config): its error lists them, so hallctl only passes the words on. */
    if (o->npos > 3) hv_set(*args, "reason", hv_str(a[3]));
    if (o->npos > 4) hv_set(*args, "text", hv_str(a[4]));
    return 0;
}

static int ctl_b_announce(ctl_opts *o, char **a, const char **t, hv **args)
{
    (void)t;
    hv *zones = hv_arr();
    for (int i = 2; i < o->npos; i++) hv_push(zones, hv_str(a[i]));
    *args = hv_set(hv_set(hv_map(), "text", hv_str(a[1])), "zones", zones);
    return 0;
}

static int ctl_b_gpio_set(ctl_opts *o, char **a, const char **t, hv **args)
{
    (void)o, (void)t;
    if (strcmp(a[3], "0") != 0 && strcmp(a[3], "1") != 0) return ctl_usage_error("%s", "gpio set: value must be 0 or 1");
    *args = hv_set(hv_set(hv_map(), "line", hv_str(a[2])), "value", hv_int(a[3][0] - '0'));
    return 0;
}

static int ctl_b_trigger(ctl_opts *o, char **a, const char **t, hv **args)
{
    (void)t;
    *args = hv_set(hv_set(hv_map(), "playbook", hv_str(a[2])), "drill", hv_bool(o->drill));
    return 0;
}

static int ctl_b_ack(ctl_opts *o, char **a, const char **t, hv **args)
{
    (void)o, (void)t;
    int step = ctl_parse_uint(a[2], INT_MAX);
    if (step < 0) return ctl_usage_error("%s", "emergency ack: STEP must be a step index (0, 1, ...)");
    *args = hv_set(hv_map(), "step", hv_int(step));
    return 0;
}

static int ctl_b_clear(ctl_opts *o, char **a, const char **t, hv **args)
{
    (void)o, (void)t;
    *args = hv_set(hv_map(), "reason", hv_str(a[2]));
    return 0;
}

/* The timeline: "incidents" alone (verify and report have rows of their own). */
static int ctl_b_incidents(ctl_opts *o, char **a, const char **t, hv **args)
{
    (void)a, (void)t, (void)args;
    return o->npos > 1 ? ctl_usage_error("%s", "usage: hallctl incidents [verify|report] ...") : 0;
}

static int ctl_b_checkin(ctl_opts *o, char **a, const char **t, hv **args)
{
    (void)o, (void)t;
    int w = ctl_window_arg(a[1], "checkin");
    if (w < 0) return -w;
    *args = hv_set(hv_map(), "window", hv_int(w));
    return 0;
}

/* alert ack ID, case close CASE RESULT, followup close ID RESOLUTION: a positive id in a[2], or
 * minus the usage error. */
static int ctl_close_id(const char *s, const char *usage)
{
    int id = ctl_parse_uint(s, INT_MAX);
    return id < 1 ? -ctl_usage_error("usage: hallctl %s", usage) : id;
}

static int ctl_b_alert_ack(ctl_opts *o, char **a, const char **t, hv **args)
{
    (void)o, (void)t;
    int id = ctl_close_id(a[2], "alert ack ID");
    if (id < 0) return -id;
    *args = hv_set(hv_map(), "alert", hv_int(id));
    return 0;
}

static int ctl_b_case_close(ctl_opts *o, char **a, const char **t, hv **args)
{
    (void)o, (void)t;
    int id = ctl_close_id(a[2], "case close CASE RESULT");
    if (id < 0) return -id;
    *args = hv_set(hv_set(hv_map(), "case", hv_int(id)), "result", hv_str(a[3]));
    return 0;
}

static int ctl_b_followup_close(ctl_opts *o, char **a, const char **t, hv **args)
{
    (void)o, (void)t;
    int id = ctl_close_id(a[2], "followup close ID RESOLUTION");
    if (id < 0) return -id;
    *args = hv_set(hv_set(hv_map(), "followup", hv_int(id)), "resolution", hv_str(a[3]));
    return 0;
}

static int ctl_b_cases(ctl_opts *o, char **a, const char **t, hv **args)
{
    (void)t;
    *args = hv_set(hv_map(), "status", hv_str(o->npos > 1 ? a[1] : "active"));
    o->pages = "cases";   /* every page, not only the first (ctl_request_pages) */
    return 0;
}

static int ctl_b_followups(ctl_opts *o, char **a, const char **t, hv **args)
{
    (void)t;
    *args = hv_set(hv_map(), "status", hv_str(o->npos > 1 ? a[1] : "open"));
    o->pages = "followups";
    return 0;
}

static int ctl_b_ratings(ctl_opts *o, char **a, const char **t, hv **args)
{
    (void)t;
    if (o->npos > 1) *args = hv_set(hv_map(), "by", hv_str(a[1]));
    return 0;
}

static int ctl_b_raw(ctl_opts *o, char **a, const char **t, hv **args)
{
    hv *m = hv_map();
    for (int i = 2; i < o->npos; i++) {
        const char *eq = strchr(a[i], '=');
        if (!eq || eq == a[i]) { hv_free(m); return ctl_usage_error("raw: expected KEY=VALUE, got \"%s\"", a[i]); }
        size_t kl = (size_t)(eq - a[i]);
        if ((kl == 1 && a[i][0] == 't') || (kl == 2 && strncmp(a[i], "id", 2) == 0)) {
            hv_free(m);
            return ctl_usage_error("%s", "raw: t and id are set by hallctl");
        }
        const char *v = eq + 1;
        int64_t iv;
        hv *val = ctl_is_int(v, &iv) ? hv_int(iv)
                  : strcmp(v, "true") == 0 ? hv_bool(true)
                  : strcmp(v, "false") == 0 ? hv_bool(false)
                  : hv_str(v);
        hv_setn(m, a[i], kl, val);
    }
    *t = a[1];
    *args = m;
    return 0;
}

#define CTL_INCIDENTS_USAGE "incidents [verify|report] [--since N] [--playbook ID] [--file PATH]"
#define CTL_CASES_USAGE "cases [active|open|warning|overdue|closed|all|stats|board]"

/* Every subcommand that talks to the daemon over one connection (ctl_run_own has the others). */
static const ctl_sub ctl_subs[] = {
    {"state", 0, 0, "state", "state.get", OUT_STATE, 0, NULL},
    {"ticket", 1, 1, "ticket CATEGORY [--priority]", "ticket.issue", OUT_TICKET_ISSUED, CTL_F_PRIORITY, ctl_b_ticket},
    {"call", 1, 1, "call WINDOW", "call.next", OUT_TICKET, CTL_F_WINDOW | CTL_F_EMPTY_OK, NULL},
    {"recall", 1, 1, "recall|start|noshow WINDOW", "call.recall", OUT_TICKET, CTL_F_WINDOW, NULL},
    {"start", 1, 1, "recall|start|noshow WINDOW", "ticket.start", OUT_TICKET, CTL_F_WINDOW, NULL},
    {"noshow", 1, 1, "recall|start|noshow WINDOW", "ticket.noshow", OUT_TICKET, CTL_F_WINDOW, NULL},
    {"finish", 2, 2, "finish WINDOW OUTCOME", "ticket.finish", OUT_TICKET, CTL_F_WINDOW, ctl_b_finish},
    {"transfer", 2, 2, "transfer WINDOW CATEGORY|WINDOW2", "ticket.transfer", OUT_TICKET, CTL_F_WINDOW,
     ctl_b_transfer},
    {"pause", 1, 2, "pause WINDOW [REASON]", "window.pause", OUT_WINDOW, CTL_F_WINDOW, ctl_b_pause},
    {"resume", 1, 1, "resume|close WINDOW", "window.resume", OUT_WINDOW, CTL_F_WINDOW, NULL},
    {"close", 1, 1, "resume|close WINDOW", "window.close", OUT_WINDOW, CTL_F_WINDOW, NULL},
    {"rate", 2, 4, "rate CODE SCORE [REASON [TEXT]]", "ticket.rate", OUT_TICKET, 0, ctl_b_rate},
    {"health", 0, 0, "health", "health", OUT_HEALTH, 0, NULL},
    {"announce", 1, INT_MAX, "announce TEXT [ZONE ...]", "announce", OUT_RAW, 0, ctl_b_announce},
    {"gpio list", 1, 1, "gpio list", "gpio.list", OUT_GPIO_LIST, 0, NULL},
    {"gpio set", 3, 3, "gpio set LINE 0|1", "gpio.sim.set", OUT_GPIO_LINE, 0, ctl_b_gpio_set},
    {"gpio", 0, 0, "gpio list | gpio set LINE 0|1", NULL, OUT_RAW, CTL_F_FAMILY, NULL},
    {"emergency trigger", 2, 2, "emergency trigger PLAYBOOK [--drill]", "emergency.trigger", OUT_EMERGENCY,
     CTL_F_DRILL, ctl_b_trigger},
    {"emergency ack", 2, 2, "emergency ack STEP", "emergency.ack", OUT_EMERGENCY, 0, ctl_b_ack},
    {"emergency clear", 2, 2, "emergency clear REASON", "emergency.clear", OUT_EMERGENCY, 0, ctl_b_clear},
    {"emergency playbooks", 1, 1, "emergency playbooks", "emergency.playbooks", OUT_PLAYBOOKS, 0, NULL},
    {"emergency status", 1, 1, "emergency status", "state.get", OUT_EMERGENCY_STATUS, 0, NULL},
    {"emergency", 0, 0, "emergency trigger|ack|clear|playbooks|status ...", NULL, OUT_RAW, CTL_F_FAMILY, NULL},
    {"incidents verify", 0, 1, CTL_INCIDENTS_USAGE, NULL, OUT_INCIDENTS_VERIFY, CTL_F_FILE, NULL},
    {"incidents report", 0, 1, CTL_INCIDENTS_USAGE, NULL, OUT_INCIDENTS_REPORT, CTL_F_FILE | CTL_F_PLAYBOOK, NULL},
    {"incidents", 0, 1, CTL_INCIDENTS_USAGE, NULL, OUT_INCIDENTS, CTL_F_FILE | CTL_F_SINCE, ctl_b_incidents},
    {"watch", 0, 0, "watch [--count N]", NULL, OUT_WATCH, CTL_F_COUNT, NULL},
    {"checkin", 1, 1, "checkin WINDOW", "staff.checkin", OUT_RAW, 0, ctl_b_checkin},   /* core/posts.c */
    {"checkout", 0, 0, "checkout | alerts | duty", "staff.checkout", OUT_RAW, 0, NULL},
    {"alerts", 0, 0, "checkout | alerts | duty", "alerts.list", OUT_RAW, 0, NULL},
    {"duty", 0, 0, "checkout | alerts | duty", "duty.get", OUT_RAW, 0, NULL},
    {"alert ack", 2, 2, "alert ack ID", "alert.ack", OUT_RAW, 0, ctl_b_alert_ack},
    {"alert", 2, 2, "alert ack ID", NULL, OUT_RAW, CTL_F_FAMILY, NULL},
    {"cases stats", 0, 1, CTL_CASES_USAGE, "cases.stats", OUT_RAW, 0, NULL},   /* 四件管理 (docs/cases.md) */
    {"cases board", 0, 1, CTL_CASES_USAGE, "cases.board", OUT_RAW, 0, NULL},
    {"cases", 0, 1, CTL_CASES_USAGE, "cases.list", OUT_RAW, CTL_F_LIMIT, ctl_b_cases},
    {"case close", 3, 3, "case close CASE RESULT", "case.close", OUT_RAW, 0, ctl_b_case_close},
    {"case", 3, 3, "case close CASE RESULT", NULL, OUT_RAW, CTL_F_FAMILY, NULL},
    {"followup close", 3, 3, "followup close ID RESOLUTION", "followup.close", OUT_RAW, 0, ctl_b_followup_close},
    {"followup", 3, 3, "followup close ID RESOLUTION", NULL, OUT_RAW, CTL_F_FAMILY, NULL},
    {"followups", 0, 1, "followups [open|closed|all]", "followups.list", OUT_RAW, CTL_F_LIMIT, ctl_b_followups},
    {"ratings", 0, 1, "ratings [window|staff|category|day]", "ratings.stats", OUT_RAW, 0, ctl_b_ratings},
    {"raw", 1, INT_MAX, "raw COMMAND [KEY=VALUE ...]", NULL, OUT_RAW, 0, ctl_b_raw},
};

/* The row for the words given: two words before one ("gpio list" before "gpio"), or NULL. */
static const ctl_sub *ctl_find_sub(const ctl_opts *o)
{
    size_t n0 = strlen(o->pos[0]);
    for (int two = 1; two >= 0; two--) {
        for (size_t i = 0; i < sizeof ctl_subs / sizeof ctl_subs[0]; i++) {
            const char *name = ctl_subs[i].name, *sp = strchr(name, ' ');
            if (two != (sp != NULL)) continue;
            if (!two && strcmp(name, o->pos[0]) == 0) return &ctl_subs[i];
            if (two && o->npos > 1 && (size_t)(sp - name) == n0 && strncmp(name, o->pos[0], n0) == 0 &&
                strcmp(sp + 1, o->pos[1]) == 0)
                return &ctl_subs[i];
        }
    }
    return NULL;
}

/* Each option belongs to some subcommands only. */
static int ctl_check_options(const ctl_opts *o, const ctl_sub *s)
{
    unsigned f = s ? s->flags : 0;
    if (o->priority && !(f & CTL_F_PRIORITY)) return ctl_usage_error("%s", "--priority is only for ticket");
    if (o->count && !(f & CTL_F_COUNT)) return ctl_usage_error("%s", "--count is only for watch");
    if (o->redis) return ctl_usage_error("%s", "--redis is only for city");
    if (o->drill && !(f & CTL_F_DRILL)) return ctl_usage_error("%s", "--drill is only for emergency trigger");
    if (o->file && !(f & CTL_F_FILE)) return ctl_usage_error("%s", "--file is only for incidents");
    if (o->since_given && !(f & CTL_F_SINCE && o->npos == 1))
        return ctl_usage_error("%s", "--since is only for incidents (the timeline)");
    if (o->playbook && !(f & CTL_F_PLAYBOOK)) return ctl_usage_error("%s", "--playbook is only for incidents report");
    if (o->limit && !(f & CTL_F_LIMIT))
        return ctl_usage_error("%s", "--limit is only for the cases and followups lists");
    return 0;
}

/* Turns the positional arguments into requests through ctl_subs; a usage error returns
 * CTL_EXIT_USAGE. */
static int ctl_plan(ctl_opts *o)
{
    if (o->npos == 0) return ctl_usage_error("%s", "missing COMMAND");
    const ctl_sub *s = ctl_find_sub(o);
    int r = ctl_check_options(o, s);
    if (r) return r;
    if (!s) return ctl_usage_error("unknown command \"%s\"", o->pos[0]);
    if (s->flags & CTL_F_FAMILY || o->npos - 1 < s->min || o->npos - 1 > s->max)
        return ctl_usage_error("usage: hallctl %s", s->usage);
    const char *t = s->t;
    hv *args = NULL;
    if (s->build && (r = s->build(o, o->pos, &t, &args))) return r;
    if (s->flags & CTL_F_WINDOW) {
        int w = ctl_window_arg(o->pos[1], o->pos[0]);
        if (w < 0) { hv_free(args); return -w; }
        ctl_add_req(o, "window.open", hv_set(hv_map(), "window", hv_int(w)));
    }
    if (t) ctl_add_req(o, t, args);
    else hv_free(args);
    o->empty_ok = s->flags & CTL_F_EMPTY_OK;
    o->out = s->out;
    return 0;
}

/* Options may appear anywhere; "--" ends them. Returns 0, CTL_EXIT_USAGE, or -1 for --help. */
static int ctl_parse_args(int argc, char **argv, ctl_opts *o)
{
    o->pos = hk_calloc((size_t)argc + 1, sizeof *o->pos);
    bool opts_done = false;
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        if (opts_done || arg[0] != '-' || arg[1] == '\0' || (arg[1] != '-' && arg[1] != 'h')) {
            o->pos[o->npos++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) { opts_done = true; continue; }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) return -1;

        /* --name VALUE or --name=VALUE */
        char name[32];
        const char *val = NULL, *eq = strchr(arg, '=');
        size_t nl = eq ? (size_t)(eq - arg) : strlen(arg);
        if (nl >= sizeof name) return ctl_usage_error("unknown option %s", arg);
        memcpy(name, arg, nl);
        name[nl] = '\0';
        bool takes = strcmp(name, "--url") == 0 || strcmp(name, "--redis") == 0 || strcmp(name, "--token") == 0 ||
                     strcmp(name, "--cafile") == 0 ||
                     strcmp(name, "--timeout") == 0 || strcmp(name, "--count") == 0 ||
                     strcmp(name, "--since") == 0 || strcmp(name, "--playbook") == 0 || strcmp(name, "--file") == 0 ||
                     strcmp(name, "--limit") == 0;
        if (takes) {
            if (eq) val = eq + 1;
            else if (i + 1 < argc) val = argv[++i];
            else return ctl_usage_error("%s needs a value", name);
        } else if (eq) {
            return ctl_usage_error("%s takes no value", name);
        }
        if (strcmp(name, "--url") == 0) {
            o->url = val;
        } else if (strcmp(name, "--redis") == 0) {
            o->redis = val;
        } else if (strcmp(name, "--token") == 0) {
            o->token = val;
        } else if (strcmp(name, "--cafile") == 0) {
            o->cafile = val;
        } else if (strcmp(name, "--timeout") == 0) {
            char *end;
            double s = strtod(val, &end);
            if (end == val || *end || !(s > 0) || s > 86400) return ctl_usage_error("bad --timeout \"%s\" (seconds)", val);
            o->timeout_ms = (int)ceil(s * 1000);
            o->timeout_given = true;
        } else if (strcmp(name, "--count") == 0) {
            int n = ctl_parse_uint(val, INT_MAX);
            if (n < 1) return ctl_usage_error("bad --count \"%s\"", val);
            o->count = n;
        } else if (strcmp(name, "--since") == 0) {
            int n = ctl_parse_uint(val, INT_MAX);
            if (n < 0) return ctl_usage_error("bad --since \"%s\" (a record number)", val);
            o->since = n;
            o->since_given = true;
        } else if (strcmp(name, "--limit") == 0) {
            int n = ctl_parse_uint(val, 500);
            if (n < 1) return ctl_usage_error("bad --limit \"%s\" (a page size from 1 to 500)", val);
            o->limit = n;
        } else if (strcmp(name, "--playbook") == 0) {
            o->playbook = val;
        } else if (strcmp(name, "--file") == 0) {
            o->file = val;
        } else if (strcmp(name, "--json") == 0) {
            o->json = true;
        } else if (strcmp(name, "--priority") == 0) {
            o->priority = true;
        } else if (strcmp(name, "--drill") == 0) {
            o->drill = true;
        } else {
            return ctl_usage_error("unknown option %s", arg);
        }
    }
    return 0;
}

/* ---- JSON output ------------------------------------------------------------------------------ */

static void ctl_json_line(const hv *v)
{
    hv_json(stdout, v);
    fputc('\n', stdout);
    fflush(stdout);
}

/* ---- text output helpers ---------------------------------------------------------------------- */

/* Terminal columns of a UTF-8 string: CJK and fullwidth forms take two. */
static int ctl_width(const char *s)
{
    int w = 0;
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t l = utf8_seq_len(p + i, n - i);
        if (l == 0) { w++; i++; continue; }
        uint32_t cp = l == 1 ? p[i] : l == 2 ? (p[i] & 0x1fu) : l == 3 ? (p[i] & 0x0fu) : (p[i] & 0x07u);
        for (size_t k = 1; k < l; k++) cp = cp << 6 | (p[i + k] & 0x3fu);
        bool wide = (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
                    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
                    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
                    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x20000 && cp <= 0x3fffd);
        w += wide ? 2 : 1;
        i += l;
    }
    return w;
}

/* Prints s left-aligned in `cols` terminal columns. */
static void ctl_pad(const char *s, int cols)
{
    fputs(s, stdout);
    for (int w = ctl_width(s); w < cols; w++) fputc(' ', stdout);
}

static const char *ctl_s(const hv *m, const char *key, const char *dflt)
{
    const char *s = hv_get_str(m, key);
    return s ? s : dflt;
}

static int64_t ctl_i(const hv *m, const char *key, int64_t dflt)
{
    int64_t v;
    return hv_get_int(m, key, &v) == 0 ? v : dflt;
}

static bool ctl_b(const hv *m, const char *key)
{
    bool b = false;
    hv_get_bool(m, key, &b);
    return b;
}

static const hv *ctl_typed(const hv *m, const char *key, hv_type t)
{
    const hv *v = hv_get(m, key);
    return v && v->t == t ? v : NULL;
}

/* Local wall-clock time of a millisecond timestamp, HH:MM:SS. */
static const char *ctl_clock(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms <= 0 || !localtime_r(&t, &tm)) { snprintf(buf, len, "--:--:--"); return buf; }
    strftime(buf, len, "%H:%M:%S", &tm);
    return buf;
}

/* Minutes for an estimated wait, rounded up so "0 min" means no wait at all. */
static int64_t ctl_minutes(int64_t s) { return s <= 0 ? 0 : (s + 59) / 60; }

static bool ctl_has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return true;
    return false;
}

/* A scalar as text; containers as compact JSON. */
static void ctl_text_value(const hv *v)
{
    if (!v || v->t == HV_NIL) fputs("-", stdout);
    else if (v->t == HV_STR && strlen(v->u.s.p) == v->u.s.n && !ctl_has_control(v->u.s.p)) fputs(v->u.s.p, stdout);
    else hv_json(stdout, v);   /* quoted, so a newline in a value cannot break the layout */
}

/* A YAML-like indented dump of any value, for `raw`. */
static void ctl_dump(const hv *v, int indent);

static bool ctl_is_scalar(const hv *v)
{
    return !v || (v->t != HV_ARR && v->t != HV_MAP) || (v->t == HV_ARR && v->u.a.n == 0) ||
           (v->t == HV_MAP && v->u.m.n == 0);
}

static void ctl_dump_entry(const char *lead, const hv *v, int indent)
{
    if (ctl_is_scalar(v)) {
        printf("%s ", lead);
        ctl_text_value(v);
        fputc('\n', stdout);
    } else {
        printf("%s\n", lead);
        ctl_dump(v, indent + 2);
    }
}

static void ctl_dump(const hv *v, int indent)
{
    char lead[256];
    if (v->t == HV_MAP) {
        for (size_t i = 0; i < v->u.m.n; i++) {
            snprintf(lead, sizeof lead, "%*s%s:", indent, "", v->u.m.v[i].key);
            ctl_dump_entry(lead, v->u.m.v[i].val, indent);
        }
    } else if (v->t == HV_ARR) {
        for (size_t i = 0; i < v->u.a.n; i++) {
            snprintf(lead, sizeof lead, "%*s-", indent, "");
            ctl_dump_entry(lead, v->u.a.v[i], indent);
        }
    } else {
        printf("%*s", indent, "");
        ctl_text_value(v);
        fputc('\n', stdout);
    }
}

/* ---- the hall as text ------------------------------------------------------------------------- */

/* The hello state, kept to turn category and window ids into names. */
static const hv *ctl_hall_state;

static const char *ctl_category_name(const char *id)
{
    const hv *cats = ctl_typed(ctl_hall_state, "categories", HV_ARR);
    for (size_t i = 0; id && cats && i < cats->u.a.n; i++)
        if (strcmp(ctl_s(cats->u.a.v[i], "id", ""), id) == 0) return ctl_s(cats->u.a.v[i], "name", id);
    const hv *q = hv_get(ctl_typed(ctl_hall_state, "queues", HV_MAP), id ? id : "");
    return q ? ctl_s(q, "name", id) : (id ? id : "?");
}

static const char *ctl_window_name(int64_t id)
{
    const hv *wins = ctl_typed(ctl_hall_state, "windows", HV_ARR);
    for (size_t i = 0; wins && i < wins->u.a.n; i++)
        if (ctl_i(wins->u.a.v[i], "id", -1) == id) return ctl_s(wins->u.a.v[i], "name", "");
    return "";
}

static void ctl_print_window(const hv *w, bool table)
{
    int64_t id = ctl_i(w, "id", 0);
    const char *status = ctl_s(w, "status", "?");
    if (table) {
        printf("  %2" PRId64 "  ", id);
        ctl_pad(ctl_s(w, "name", ""), 10);
        fputs("  ", stdout);
        ctl_pad(status, 6);
    } else {
        printf("window %" PRId64 " %s  %s", id, ctl_s(w, "name", ""), status);
    }
    const char *staff = hv_get_str(w, "staff");
    if (staff) printf("  staff %s %s", staff, ctl_s(w, "staff_name", ""));
    if (strcmp(status, "paused") == 0 && hv_get_str(w, "pause_reason"))
        printf("  (%s)", hv_get_str(w, "pause_reason"));
    const hv *cur = ctl_typed(w, "current", HV_MAP);
    if (cur) {
        printf("  now %s %s", ctl_s(cur, "code", "?"), ctl_s(cur, "state", ""));
        int64_t recalls = ctl_i(cur, "recalls", 0);
        if (recalls) printf(" (recalled %" PRId64 "x)", recalls);
    }
    fputc('\n', stdout);
}

static void ctl_print_emergency(const hv *e)
{
    if (!e || !ctl_b(e, "active")) { printf("emergency: none\n"); return; }
    char tb[16];
    printf("emergency: ACTIVE %s %s%s%s", ctl_s(e, "playbook", "?"), ctl_s(e, "name", ""),
           ctl_b(e, "drill") ? "  [DRILL]" : "", ctl_b(e, "silent") ? "  [silent]" : "");
    if (ctl_i(e, "started_at", 0) > 0) printf("  since %s", ctl_clock(ctl_i(e, "started_at", 0), tb, sizeof tb));
    fputc('\n', stdout);
    const hv *steps = ctl_typed(e, "steps", HV_ARR);
    for (size_t i = 0; steps && i < steps->u.a.n; i++) {
        const hv *s = steps->u.a.v[i];
        printf("  step %zu: %s", i, ctl_s(s, "do", "?"));
        for (size_t k = 0; s->t == HV_MAP && k < s->u.m.n; k++) {
            const char *key = s->u.m.v[k].key;
            if (strcmp(key, "do") == 0 || strcmp(key, "done_at") == 0) continue;
            printf(" %s=", key);
            ctl_text_value(s->u.m.v[k].val);
        }
        int64_t done = ctl_i(s, "done_at", 0);
        if (done) printf("  done %s", ctl_clock(done, tb, sizeof tb));
        else printf("  pending");
        fputc('\n', stdout);
    }
}

static void ctl_print_state(const hv *st)
{
    char tb[16];
    const hv *hall = ctl_typed(st, "hall", HV_MAP);
    printf("%s (%s)  %s\n", ctl_s(hall, "name", "?"), ctl_s(hall, "id", "?"),
           ctl_b(st, "open") ? "open" : "closed (outside opening hours)");

    printf("windows:\n");
    const hv *wins = ctl_typed(st, "windows", HV_ARR);
    for (size_t i = 0; wins && i < wins->u.a.n; i++) ctl_print_window(wins->u.a.v[i], true);

    printf("queues:\n");
    const hv *qs = ctl_typed(st, "queues", HV_MAP);
    for (size_t i = 0; qs && i < qs->u.m.n; i++) {
        const hv *q = qs->u.m.v[i].val;
        printf("  %s  ", qs->u.m.v[i].key);
        ctl_pad(ctl_s(q, "name", ""), 12);
        printf("  waiting %3" PRId64, ctl_i(q, "waiting", 0));
        int64_t pri = ctl_i(q, "priority_waiting", 0);
        if (pri) printf(" (priority %" PRId64 ")", pri);
        printf("  est %" PRId64 " min\n", ctl_minutes(ctl_i(q, "est_wait_s", 0)));
    }

    printf("recent calls:\n");
    const hv *rc = ctl_typed(st, "recent_calls", HV_ARR);
    if (!rc || rc->u.a.n == 0) printf("  none\n");
    for (size_t i = 0; rc && i < rc->u.a.n; i++) {
        const hv *c = rc->u.a.v[i];
        printf("  %s  ", ctl_clock(ctl_i(c, "at", 0), tb, sizeof tb));
        ctl_pad(ctl_s(c, "code", "?"), 5);
        printf("  -> window %" PRId64 " %s%s\n", ctl_i(c, "window", 0), ctl_s(c, "window_name", ""),
               ctl_b(c, "recall") ? "  (recall)" : "");
    }
    ctl_print_emergency(ctl_typed(st, "emergency", HV_MAP));
}

static void ctl_print_ticket(const hv *t, bool issued)
{
    const char *code = ctl_s(t, "code", "?");
    const char *cat = ctl_category_name(hv_get_str(t, "category"));
    if (issued) {
        printf("%s  %s  ahead %" PRId64 "  est %" PRId64 " min%s\n", code, cat, ctl_i(t, "ahead", 0),
               ctl_minutes(ctl_i(t, "est_wait_s", 0)),
               strcmp(ctl_s(t, "priority", ""), "priority") == 0 ? "  (priority)" : "");
        return;
    }
    printf("%s  %s", code, cat);
    const char *state = hv_get_str(t, "state");
    if (state) printf("  %s", state);
    int64_t w = ctl_i(t, "window", 0);
    if (w) {
        const char *wn = ctl_window_name(w);
        printf("  window %" PRId64 "%s%s", w, *wn ? " " : "", wn);
    }
    if (hv_get_str(t, "outcome")) printf("  outcome %s", hv_get_str(t, "outcome"));
    if (ctl_i(t, "score", 0)) printf("  score %" PRId64, ctl_i(t, "score", 0));
    fputc('\n', stdout);
}

static void ctl_print_gpio_line(const hv *l, int namew)
{
    fputs("  ", stdout);
    ctl_pad(ctl_s(l, "name", "?"), namew);
    printf("  %-4s %" PRId64 "\n", ctl_s(l, "dir", "?"), ctl_i(l, "value", -1));
}

static void ctl_print_reply(const ctl_opts *o, const hv *reply)
{
    if (o->json) {
        if (o->out == OUT_EMERGENCY_STATUS) ctl_json_line(hv_get(ctl_typed(reply, "state", HV_MAP), "emergency"));
        else ctl_json_line(reply);
        return;
    }
    switch (o->out) {
    case OUT_STATE: ctl_print_state(ctl_typed(reply, "state", HV_MAP)); break;
    case OUT_EMERGENCY_STATUS: ctl_print_emergency(ctl_typed(ctl_typed(reply, "state", HV_MAP), "emergency", HV_MAP)); break;
    case OUT_TICKET_ISSUED: ctl_print_ticket(ctl_typed(reply, "ticket", HV_MAP), true); break;
    case OUT_TICKET: ctl_print_ticket(ctl_typed(reply, "ticket", HV_MAP), false); break;
    case OUT_WINDOW: ctl_print_window(ctl_typed(reply, "window", HV_MAP), false); break;
    case OUT_EMERGENCY: ctl_print_emergency(ctl_typed(reply, "emergency", HV_MAP)); break;
    case OUT_GPIO_LIST: {
        const hv *lines = ctl_typed(reply, "lines", HV_ARR);
        int namew = 4;
        for (size_t i = 0; lines && i < lines->u.a.n; i++) {
            int w = ctl_width(ctl_s(lines->u.a.v[i], "name", "?"));
            if (w > namew) namew = w;
        }
        fputs("  ", stdout);
        ctl_pad("NAME", namew);
        printf("  DIR  VALUE\n");
        for (size_t i = 0; lines && i < lines->u.a.n; i++) ctl_print_gpio_line(lines->u.a.v[i], namew);
        break;
    }
    case OUT_GPIO_LINE: {
        const hv *l = hv_get(reply, "line");
        if (l && l->t == HV_MAP) ctl_print_gpio_line(l, 0);
        else printf("%s = %s\n", l && l->t == HV_STR ? l->u.s.p : o->pos[2], o->pos[3]);
        break;
    }
    case OUT_PLAYBOOKS: {
        const hv *pbs = ctl_typed(reply, "playbooks", HV_ARR);
        for (size_t i = 0; pbs && i < pbs->u.a.n; i++) {
            const hv *p = pbs->u.a.v[i];
            const hv *steps = ctl_typed(p, "steps", HV_ARR);
            printf("  ");
            ctl_pad(ctl_s(p, "id", "?"), 18);
            ctl_pad(ctl_s(p, "name", ""), 14);
            printf("  %zu steps%s\n", steps ? steps->u.a.n : 0, ctl_b(p, "silent") ? "  [silent]" : "");
        }
        break;
    }
    case OUT_HEALTH:
        printf("%s: redis %s, %" PRId64 " clients, seq %" PRId64 ", up %" PRId64 " s%s\n", ctl_s(reply, "status", "?"),
               ctl_b(reply, "redis_up") ? "up" : "DOWN", ctl_i(reply, "clients", 0), ctl_i(reply, "seq", 0),
               ctl_i(reply, "uptime_s", 0), ctl_b(reply, "emergency_active") ? ", EMERGENCY ACTIVE" : "");
        for (size_t i = 0; ctl_typed(reply, "faults", HV_ARR) && i < ctl_typed(reply, "faults", HV_ARR)->u.a.n; i++) {
            const hv *f = ctl_typed(reply, "faults", HV_ARR)->u.a.v[i];
            printf("  fault %s grade %s: %s\n", ctl_s(f, "kind", "?"), ctl_s(f, "grade", "?"), ctl_s(f, "detail", ""));
        }
        if (strcmp(ctl_s(reply, "status", ""), "ok") != 0) ctl_degraded = 1;
        break;
    case OUT_RAW: ctl_dump(reply, 0); break;
    case OUT_WATCH: case OUT_INCIDENTS: case OUT_INCIDENTS_VERIFY: case OUT_INCIDENTS_REPORT: break;
    }
    fflush(stdout);
}

/* One event a line: time, seq, name, then the other fields. */
static void ctl_print_event(const hv *ev)
{
    char tb[16];
    printf("%s  #%" PRId64 "  %s", ctl_clock(ctl_i(ev, "at", 0), tb, sizeof tb), ctl_i(ev, "seq", 0),
           ctl_s(ev, "ev", "?"));
    for (size_t i = 0; i < ev->u.m.n; i++) {
        const char *k = ev->u.m.v[i].key;
        if (!strcmp(k, "t") || !strcmp(k, "ev") || !strcmp(k, "seq") || !strcmp(k, "at")) continue;
        printf("  %s=", k);
        ctl_text_value(ev->u.m.v[i].val);
    }
    fputc('\n', stdout);
    fflush(stdout);
}

/* ---- incidents: the timeline, the chain check and the report (docs/incidents.md) --------------- */

typedef struct { hv **v; size_t n, cap; } ctl_recs;

static void ctl_recs_push(ctl_recs *r, hv *v)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->v = hk_realloc(r->v, r->cap * sizeof *r->v);
    }
    r->v[r->n++] = v;
}

static void ctl_recs_free(ctl_recs *r)
{
    for (size_t i = 0; i < r->n; i++) hv_free(r->v[i]);
    free(r->v);
    r->v = NULL;
    r->n = r->cap = 0;
}

/* Local date and time of a millisecond timestamp. */
static const char *ctl_datetime(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms <= 0 || !localtime_r(&t, &tm)) { snprintf(buf, len, "----------- --:--:--"); return buf; }
    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

static const char *ctl_duration(int64_t ms, char *buf, size_t len)
{
    int64_t s = ms <= 0 ? 0 : (ms + 500) / 1000;
    if (s < 60) snprintf(buf, len, "%" PRId64 "s", s);
    else if (s < 3600) snprintf(buf, len, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
    else snprintf(buf, len, "%" PRId64 "h%02" PRId64 "m%02" PRId64 "s", s / 3600, s / 60 % 60, s % 60);
    return buf;
}

/* The fields of a step (from a step_done / checklist_ack detail) as words: "gpio line=door_main value=1". */
static void ctl_print_step_fields(const hv *d)
{
    fputs(ctl_s(d, "do", "?"), stdout);
    for (size_t k = 0; d && d->t == HV_MAP && k < d->u.m.n; k++) {
        const char *key = d->u.m.v[k].key;
        if (!strcmp(key, "do") || !strcmp(key, "step") || !strcmp(key, "seq") || !strcmp(key, "done_at") ||
            !strcmp(key, "after_ms") || !strcmp(key, "text"))
            continue;
        printf(" %s=", key);
        ctl_text_value(d->u.m.v[k].val);
    }
    if (hv_get_str(d, "text")) printf(" %s", hv_get_str(d, "text"));
}

/* What one record says, in words (no newline). */
static void ctl_print_incident_words(const hv *r)
{
    char tb[32];
    const char *kind = ctl_s(r, "kind", "?"), *who = ctl_s(r, "who", "");
    const hv *d = ctl_typed(r, "detail", HV_MAP);
    if (!strcmp(kind, "triggered")) {
        printf("TRIGGERED %s by %s", ctl_s(d, "name", ""), who);
    } else if (!strcmp(kind, "drill_started")) {
        printf("drill started %s by %s", ctl_s(d, "name", ""), who);
    } else if (!strcmp(kind, "drill_became_real")) {
        printf("DRILL BECAME REAL by %s: steps restarted", who);
    } else if (!strcmp(kind, "step_done")) {
        printf("step %" PRId64 " done: ", ctl_i(d, "step", -1));
        ctl_print_step_fields(d);
    } else if (!strcmp(kind, "checklist_ack")) {
        printf("checklist step %" PRId64 " acknowledged by %s: %s", ctl_i(d, "step", -1), who, ctl_s(d, "text", ""));
    } else if (!strcmp(kind, "input_changed")) {
        printf("input %s -> %" PRId64, ctl_s(d, "line", "?"), ctl_i(d, "value", -1));
    } else if (!strcmp(kind, "cleared")) {
        if (*who) printf("cleared by %s: %s", who, ctl_s(d, "reason", ""));
        else printf("ended (%s)", ctl_s(d, "note", "no clear recorded"));
        if (hv_has(d, "duration_ms")) printf(" (after %s)", ctl_duration(ctl_i(d, "duration_ms", 0), tb, sizeof tb));
    } else if (!strcmp(kind, "chain_broken")) {
        printf("LOG CHAIN FOUND BROKEN at record %" PRId64 ": %s", ctl_i(d, "bad_n", 0), ctl_s(d, "reason", ""));
    } else {
        printf("%s%s%s", kind, *who ? " by " : "", who);
        for (size_t k = 0; d && k < d->u.m.n; k++) {
            if (!strcmp(d->u.m.v[k].key, "seq")) continue;
            printf(" %s=", d->u.m.v[k].key);
            ctl_text_value(d->u.m.v[k].val);
        }
    }
}

static void ctl_print_incident_record(const hv *r)
{
    char tb[32];
    if (!hv_has(r, "n")) {
        printf("(a line that is not a record) %s\n", ctl_s(r, "raw", ""));
        return;
    }
    printf("%s  #%-4" PRId64 " ", ctl_datetime(ctl_i(r, "at", 0), tb, sizeof tb), ctl_i(r, "n", 0));
    const char *pb = hv_get_str(r, "playbook");
    if (pb) printf("%s%s  ", pb, ctl_b(r, "drill") ? " [DRILL 演练]" : "");
    ctl_print_incident_words(r);
    fputc('\n', stdout);
}

/* One incident of the report: its records, borrowed from the list. */
typedef struct {
    const hv *start, *real, *clear;
    const hv **ev;
    size_t nev, cap;
} ctl_incident;

static void ctl_incident_add(ctl_incident *in, const hv *r)
{
    if (in->nev == in->cap) {
        in->cap = in->cap ? in->cap * 2 : 16;
        in->ev = hk_realloc(in->ev, in->cap * sizeof *in->ev);
    }
    in->ev[in->nev++] = r;
}

static bool ctl_is_incident_kind(const char *k)
{
    return !strcmp(k, "step_done") || !strcmp(k, "checklist_ack") || !strcmp(k, "drill_became_real") ||
           !strcmp(k, "cleared");
}

/* Groups the records into incidents (trigger .. clear, per playbook); the rest are "other". */
static ctl_incident *ctl_group_incidents(const ctl_recs *rs, size_t *ninc, ctl_incident *other)
{
    ctl_incident *inc = NULL;
    size_t n = 0, cap = 0;
    size_t *open = hk_calloc(rs->n + 1, sizeof *open), nopen = 0;   /* indexes into inc */
    for (size_t i = 0; i < rs->n; i++) {
        const hv *r = rs->v[i];
        const char *kind = ctl_s(r, "kind", ""), *pb = hv_get_str(r, "playbook");
        int at = -1;
        for (size_t k = 0; pb && k < nopen; k++)
            if (!strcmp(ctl_s(inc[open[k]].start, "playbook", ""), pb)) at = (int)k;
        if (pb && (!strcmp(kind, "triggered") || !strcmp(kind, "drill_started"))) {
            if (at >= 0) open[at] = open[--nopen];   /* a start without the clear of the one before */
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                inc = hk_realloc(inc, cap * sizeof *inc);
            }
            memset(&inc[n], 0, sizeof inc[n]);
            inc[n].start = r;
            ctl_incident_add(&inc[n], r);
            open[nopen++] = n++;
        } else if (at >= 0 && ctl_is_incident_kind(kind)) {
            ctl_incident *x = &inc[open[at]];
            ctl_incident_add(x, r);
            if (!strcmp(kind, "drill_became_real")) x->real = r;
            if (!strcmp(kind, "cleared")) {
                x->clear = r;
                open[at] = open[--nopen];
            }
        } else if (!strcmp(kind, "input_changed") && nopen) {
            const hv *act = ctl_typed(ctl_typed(r, "detail", HV_MAP), "active", HV_ARR);
            bool any = false;
            for (size_t k = 0; k < nopen; k++) {
                const char *ip = ctl_s(inc[open[k]].start, "playbook", "");
                bool in_it = false;
                for (size_t a = 0; act && a < act->u.a.n; a++)
                    if (act->u.a.v[a]->t == HV_STR && !strcmp(act->u.a.v[a]->u.s.p, ip)) in_it = true;
                if (in_it) { ctl_incident_add(&inc[open[k]], r); any = true; }
            }
            if (!any) ctl_incident_add(other, r);
        } else {
            ctl_incident_add(other, r);
        }
    }
    free(open);
    *ninc = n;
    return inc;
}

static int64_t ctl_record_time(const hv *r)
{
    int64_t t = ctl_i(ctl_typed(r, "detail", HV_MAP), "done_at", 0);
    return t > 0 ? t : ctl_i(r, "at", 0);
}

static hv *ctl_incident_json(const ctl_incident *x)
{
    const hv *s = x->start, *sd = ctl_typed(s, "detail", HV_MAP);
    hv *m = hv_map();
    int64_t t0 = ctl_i(s, "at", 0);
    hv_set(m, "playbook", hv_str(ctl_s(s, "playbook", "")));
    hv_set(m, "name", hv_str(ctl_s(sd, "name", "")));
    hv_set(m, "drill", hv_bool(!strcmp(ctl_s(s, "kind", ""), "drill_started") && !x->real));
    hv_set(m, "began_as_drill", hv_bool(!strcmp(ctl_s(s, "kind", ""), "drill_started")));
    hv_set(m, "triggered_at", hv_int(t0));
    hv_set(m, "triggered_by", hv_str(ctl_s(s, "who", "")));
    if (x->real) {
        hv_set(m, "real_at", hv_int(ctl_i(x->real, "at", 0)));
        hv_set(m, "real_by", hv_str(ctl_s(x->real, "who", "")));
    }
    hv *steps = hv_arr();
    for (size_t i = 0; i < x->nev; i++) {
        const hv *r = x->ev[i];
        const char *k = ctl_s(r, "kind", "");
        if (strcmp(k, "step_done") && strcmp(k, "checklist_ack") && strcmp(k, "input_changed")) continue;
        const hv *d = ctl_typed(r, "detail", HV_MAP);
        hv *e = hv_map();
        hv_set(e, "n", hv_int(ctl_i(r, "n", 0)));
        hv_set(e, "kind", hv_str(k));
        if (hv_has(d, "step")) hv_set(e, "step", hv_int(ctl_i(d, "step", -1)));
        if (hv_get_str(d, "do")) hv_set(e, "do", hv_str(hv_get_str(d, "do")));
        if (hv_get_str(d, "text")) hv_set(e, "text", hv_str(hv_get_str(d, "text")));
        if (hv_get_str(d, "line")) hv_set(e, "line", hv_str(hv_get_str(d, "line")));
        if (hv_has(d, "value")) hv_set(e, "value", hv_int(ctl_i(d, "value", -1)));
        hv_set(e, "at", hv_int(ctl_record_time(r)));
        hv_set(e, "after_ms", hv_int(ctl_record_time(r) - t0));
        hv_set(e, "who", hv_str(ctl_s(r, "who", "")));
        hv_push(steps, e);
    }
    hv_set(m, "timeline", steps);
    if (x->clear) {
        const hv *cd = ctl_typed(x->clear, "detail", HV_MAP);
        hv_set(m, "cleared_at", hv_int(ctl_i(x->clear, "at", 0)));
        hv_set(m, "cleared_by", hv_str(ctl_s(x->clear, "who", "")));
        hv_set(m, "reason", hv_str(ctl_s(cd, "reason", "")));
        hv_set(m, "duration_ms", hv_int(ctl_i(x->clear, "at", 0) - t0));
    } else {
        hv_set(m, "active", hv_bool(true));
    }
    return m;
}

static void ctl_print_incident_report(const ctl_incident *x, size_t num)
{
    char tb[32], db[32];
    const hv *s = x->start, *sd = ctl_typed(s, "detail", HV_MAP);
    int64_t t0 = ctl_i(s, "at", 0);
    bool began_drill = !strcmp(ctl_s(s, "kind", ""), "drill_started");
    printf("\n== incident %zu: %s %s ==\n", num, ctl_s(s, "playbook", "?"), ctl_s(sd, "name", ""));
    printf("  triggered  %s by %s\n", ctl_datetime(t0, tb, sizeof tb), ctl_s(s, "who", "?"));
    if (x->real)
        printf("  kind       REAL, began as a drill; real from %s (+%s) by %s\n",
               ctl_datetime(ctl_i(x->real, "at", 0), tb, sizeof tb),
               ctl_duration(ctl_i(x->real, "at", 0) - t0, db, sizeof db), ctl_s(x->real, "who", "?"));
    else
        printf("  kind       %s\n", began_drill ? "DRILL (演练)" : "REAL");
    printf("  timeline   (time after the trigger)\n");
    for (size_t i = 1; i < x->nev; i++) {
        const hv *r = x->ev[i];
        if (r == x->clear) continue;
        printf("    +%-8s #%-4" PRId64 " ", ctl_duration(ctl_record_time(r) - t0, db, sizeof db), ctl_i(r, "n", 0));
        ctl_print_incident_words(r);
        fputc('\n', stdout);
    }
    if (x->clear) {
        const char *who = ctl_s(x->clear, "who", "");
        int64_t tc = ctl_i(x->clear, "at", 0);
        printf("  cleared    %s by %s: %s\n", ctl_datetime(tc, tb, sizeof tb), *who ? who : "(nobody: no clear recorded)",
               ctl_s(ctl_typed(x->clear, "detail", HV_MAP), "reason", ""));
        printf("  duration   %s\n", ctl_duration(tc - t0, db, sizeof db));
    } else {
        printf("  cleared    not yet: STILL ACTIVE\n");
    }
}

/* Prints what o->out asks for from the records (rs) and, from a daemon, the last reply. */
static int ctl_incidents_show(const ctl_opts *o, const ctl_recs *rs, const hv *last, bool from_file)
{
    uint64_t bad = 0;
    char msg[320];
    int broken = incident_chain_check(rs->v, rs->n, 1, INCIDENT_ZERO_HASH, &bad, msg, sizeof msg);
    if (!broken && last && !ctl_b(last, "verified")) {   /* the daemon knows better (e.g. lines it could not read) */
        broken = 1;
        bad = (uint64_t)ctl_i(last, "bad_n", 0);
        snprintf(msg, sizeof msg, "the daemon reports: %s", ctl_s(last, "problem", "chain not verified"));
    }
    const char *head = rs->n ? ctl_s(rs->v[rs->n - 1], "hash", "?") : INCIDENT_ZERO_HASH;

    if (o->out == OUT_INCIDENTS) {
        for (size_t i = 0; i < rs->n; i++) {
            if (o->json) ctl_json_line(rs->v[i]);
            else ctl_print_incident_record(rs->v[i]);
        }
        if (!o->json && rs->n == 0) printf("no incident records%s\n", o->since ? " after that number" : "");
        return CTL_EXIT_OK;
    }
    if (o->out == OUT_INCIDENTS_VERIFY) {
        if (o->json) {
            hv *j = hv_map();
            hv_set(j, "ok", hv_bool(!broken));
            hv_set(j, "records", hv_int((int64_t)rs->n));
            hv_set(j, "head_hash", hv_str(head));
            if (broken) {
                hv_set(j, "bad_n", hv_int((int64_t)bad));
                hv_set(j, "msg", hv_str(msg));
            }
            ctl_json_line(j);
            hv_free(j);
        } else if (broken) {
            printf("incident log BROKEN at record %" PRIu64 ": %s\n", bad, msg);
        } else {
            printf("incident log intact: %zu records, chain verified%s\nhead %s\n", rs->n,
                   from_file ? " (file)" : " (from the daemon's records)", head);
        }
        return broken ? CTL_EXIT_ERR : CTL_EXIT_OK;
    }

    /* report */
    ctl_incident other = {0};
    size_t ninc = 0;
    ctl_incident *inc = ctl_group_incidents(rs, &ninc, &other);
    size_t shown = 0;
    if (!o->json) {
        printf("Post-incident report (DB43/T 2422.4 §7)%s%s\n", o->playbook ? ", playbook " : "",
               o->playbook ? o->playbook : "");
        if (broken) printf("WARNING: the log's chain is BROKEN at record %" PRIu64 ": %s\n", bad, msg);
        else printf("log: %zu records, chain verified, head %.16s…\n", rs->n, head);
    }
    for (size_t i = 0; i < ninc; i++) {
        if (o->playbook && strcmp(ctl_s(inc[i].start, "playbook", ""), o->playbook) != 0) continue;
        shown++;
        if (o->json) {
            hv *j = ctl_incident_json(&inc[i]);
            ctl_json_line(j);
            hv_free(j);
        } else {
            ctl_print_incident_report(&inc[i], shown);
        }
    }
    if (!o->json && !shown) printf("\nno incidents recorded%s\n", o->playbook ? " for this playbook" : "");
    if (!o->json && !o->playbook && other.nev) {
        printf("\n== other records ==\n");
        for (size_t i = 0; i < other.nev; i++) ctl_print_incident_record(other.ev[i]);
    }
    for (size_t i = 0; i < ninc; i++) free(inc[i].ev);
    free(inc);
    free(other.ev);
    return broken ? CTL_EXIT_ERR : CTL_EXIT_OK;
}

/* --file: no daemon, no token. */
static int ctl_incidents_offline(const ctl_opts *o)
{
    ctl_recs rs = {0};
    char msg[320];
    size_t n;
    if (incident_log_read(o->file, &rs.v, &n, msg, sizeof msg) < 0) {
        fprintf(stderr, "hallctl: %s\n", msg);
        return CTL_EXIT_ERR;
    }
    rs.n = rs.cap = n;
    int rc;
    if (o->out == OUT_INCIDENTS_VERIFY) {
        /* the file verifier also catches a cut last line */
        uint64_t count, bad;
        int v = incident_log_verify(o->file, &count, &bad, msg, sizeof msg);
        if (v == 0) {
            rc = ctl_incidents_show(o, &rs, NULL, true);
        } else if (o->json) {
            hv *j = hv_set(hv_set(hv_set(hv_map(), "ok", hv_bool(false)), "records", hv_int((int64_t)count)),
                           "bad_n", hv_int((int64_t)bad));
            ctl_json_line(hv_set(j, "msg", hv_str(msg)));
            hv_free(j);
            rc = CTL_EXIT_ERR;
        } else {
            printf("incident log BROKEN at record %" PRIu64 ": %s\n", bad, msg);
            rc = CTL_EXIT_ERR;
        }
    } else {
        if (o->since) {   /* records after N, as the daemon counts them */
            size_t skip = (size_t)o->since < rs.n ? (size_t)o->since : rs.n;
            for (size_t i = 0; i < skip; i++) hv_free(rs.v[i]);
            memmove(rs.v, rs.v + skip, (rs.n - skip) * sizeof *rs.v);
            rs.n -= skip;
        }
        rc = ctl_incidents_show(o, &rs, NULL, true);
    }
    ctl_recs_free(&rs);
    return rc;
}

/* ---- the conversation ------------------------------------------------------------------------ */

typedef struct {
    const ctl_opts *o;
    ctl_client cl;
} ctl_conn;

static void ctl_print_err(const ctl_opts *o, const hv *reply)
{
    if (o->json) ctl_json_line(reply);
    const char *t = ctl_s(reply, "t", "");
    if (strcmp(t, "err") == 0)
        fprintf(stderr, "error: %s: %s\n", ctl_s(reply, "code", "?"), ctl_s(reply, "msg", ""));
    else
        fprintf(stderr, "error: unexpected reply type \"%s\"\n", t);
}

static int ctl_watch(ctl_conn *c)
{
    const ctl_opts *o = c->o;
    long seen = 0;
    int64_t t0 = hk_clock_mono_ms();
    if (!o->json) fprintf(stderr, "hallctl: watching %s, Ctrl-C to stop\n", o->url);
    fflush(stdout);
    ctl_client_watching();
    while (!o->count || seen < o->count) {
        int left = -1;   /* --timeout bounds a watch only when given explicitly */
        if (o->timeout_given) {
            int64_t spent = hk_clock_mono_ms() - t0;
            if (spent >= o->timeout_ms) return CTL_EXIT_OK;
            left = o->timeout_ms - (int)spent;
        }
        hv *m;
        int r = ctl_client_recv(&c->cl, left, &m);
        if (r == WSC_ETIMEOUT && o->timeout_given) return CTL_EXIT_OK;
        if (r == WSC_EINTR && ctl_client_signalled()) return CTL_EXIT_OK;
        if (r) return ctl_client_fail(&c->cl, r);
        if (strcmp(ctl_s(m, "t", ""), "ev") == 0) {
            if (o->json) ctl_json_line(m);
            else ctl_print_event(m);
            fflush(stdout);
            seen++;
        }
        hv_free(m);
    }
    return CTL_EXIT_OK;
}

/* Fetches the records after o->since from the daemon, page by page. */
static int ctl_incidents(ctl_conn *c)
{
    const ctl_opts *o = c->o;
    ctl_recs rs = {0};
    hv *last = NULL;
    int64_t next = o->since;
    int rc;
    for (;;) {
        hv *args = hv_set(hv_set(hv_map(), "since_n", hv_int(next)), "limit", hv_int(1000)), *reply = NULL;
        rc = ctl_client_request(&c->cl, "incidents.list", args, &reply);
        hv_free(args);
        if (rc == CTL_EXIT_ERR) ctl_print_err(o, reply);
        if (rc) { hv_free(reply); goto done; }
        const hv *recs = ctl_typed(reply, "records", HV_ARR);
        size_t got = recs ? recs->u.a.n : 0;
        for (size_t i = 0; i < got; i++) ctl_recs_push(&rs, hv_dup(recs->u.a.v[i]));
        next += (int64_t)got;
        hv_free(last);
        last = reply;
        if (!ctl_b(reply, "more") || got == 0) break;
    }
    rc = ctl_incidents_show(o, &rs, o->since ? NULL : last, false);
done:
    hv_free(last);
    ctl_recs_free(&rs);
    return rc;
}

/* A paged list (cases.list, followups.list: limit, after, reply next): requests page after page
 * until next is nil, gathering the items into the first reply, which is then the whole list.
 * Returns like ctl_client_request; *reply is the merged reply, or the err reply of a failed page. */
static int ctl_request_pages(ctl_conn *c, const ctl_req *q, const char *key, hv **reply)
{
    hv *all = NULL, *after = NULL;
    int rc;
    for (;;) {
        hv *args = hv_set(hv_dup(q->args), "limit", hv_int(c->o->limit ? c->o->limit : 500)), *page = NULL;
        if (after) hv_set(args, "after", after);   /* the map takes it */
        after = NULL;
        rc = ctl_client_request(&c->cl, q->t, args, &page);
        hv_free(args);
        if (rc) {
            hv_free(all);
            *reply = page;
            return rc;
        }
        const hv *next = hv_get(page, "next");
        const hv *items = ctl_typed(page, key, HV_ARR);
        size_t got = items ? items->u.a.n : 0;
        /* a page without items cannot move the cursor on: stop rather than ask for it forever */
        if (next && next->t != HV_NIL && got > 0) after = hv_dup(next);
        if (!all) {
            all = page;
        } else {
            hv *into = hv_get(all, key);
            for (size_t i = 0; into && into->t == HV_ARR && i < got; i++) hv_push(into, hv_dup(items->u.a.v[i]));
            hv_free(page);
        }
        if (!after) break;
    }
    hv_set(all, "next", hv_nil());   /* the merged reply is the last page too */
    *reply = all;
    return 0;
}

static int ctl_run(ctl_opts *o)
{
    ctl_conn c = {.o = o, .cl = {.url = o->url, .timeout_ms = o->timeout_ms, .next_id = 1, .safe_text = !o->json}};
    char err[256];
    int r = wsclient_connect(o->url, CTL_SUBPROTOCOL, o->timeout_ms, &c.cl.ws, err, sizeof err);
    if (r == WSC_EURL) return ctl_usage_error("bad --url: %s", err);
    if (r == WSC_EINTR && ctl_client_signalled()) return CTL_EXIT_SIGNAL;
    if (r) {
        fprintf(stderr, "cannot connect to %s: %s\n", o->url, err);
        return CTL_EXIT_CONN;
    }

    hv *hello = NULL, *reply = NULL;
    hv *hello_args = hv_set(hv_map(), "token", hv_str(o->token));
    int rc = ctl_client_request(&c.cl, "hello", hello_args, &hello);
    hv_free(hello_args);
    if (rc == CTL_EXIT_ERR) {
        ctl_print_err(o, hello);
        goto done;
    }
    if (rc) goto done;
    ctl_hall_state = ctl_typed(hello, "state", HV_MAP);

    if (o->out == OUT_WATCH) {
        rc = ctl_watch(&c);
        goto done;
    }
    if (o->out == OUT_INCIDENTS || o->out == OUT_INCIDENTS_VERIFY || o->out == OUT_INCIDENTS_REPORT) {
        rc = ctl_incidents(&c);
        goto done;
    }
    for (int i = 0; i < o->nreq; i++) {
        hv_free(reply);
        if (o->pages && i == o->nreq - 1) rc = ctl_request_pages(&c, &o->req[i], o->pages, &reply);
        else rc = ctl_client_request(&c.cl, o->req[i].t, o->req[i].args, &reply);
        if (rc == CTL_EXIT_ERR && o->empty_ok && i == o->nreq - 1 &&
            strcmp(ctl_s(reply, "code", ""), "queue_empty") == 0) {
            if (o->json) ctl_json_line(reply);
            else printf("queue empty\n");
            rc = CTL_EXIT_OK;
            goto done;
        }
        if (rc == CTL_EXIT_ERR) ctl_print_err(o, reply);
        if (rc) goto done;
    }
    ctl_print_reply(o, reply);
done:
    hv_free(reply);
    hv_free(hello);
    ctl_hall_state = NULL;
    wsclient_close(c.cl.ws, 1000);
    return rc;
}

/* Commands that hold a conversation of their own (a file to send, pages to fetch, or Redis
 * instead of a daemon): the exit status, or -1 when the command is not one of them. */
static int ctl_run_own(ctl_opts *o)
{
    if (o->npos < 1) return -1;
    const char *cmd = o->pos[0];
    bool city = strcmp(cmd, "city") == 0;
    if (o->count && !city && strcmp(cmd, "watch") != 0) return ctl_usage_error("%s", "--count is only for watch and city");
    if (strcmp(cmd, "appointments") == 0)   /* io/ctl/appt.c */
        return hallctl_appt_main(o->url, o->token, o->json, o->timeout_ms, o->npos - 1, o->pos + 1);
    if (strcmp(cmd, "report") == 0 || strcmp(cmd, "archive") == 0)   /* io/ctl/report.c */
        return hallctl_report_run(o->npos, o->pos, o->url, o->token, o->timeout_ms, o->json);
    if (!city) return -1;
    /* io/ctl/city.c reads Redis, not a daemon (docs/streams.md): --redis URL (or --url when
     * it is redis:// or unix://), else HALL_REDIS_URL */
    const char *rurl = o->redis ? o->redis
                       : o->url && (!strncmp(o->url, "redis://", 8) || !strncmp(o->url, "unix://", 7)) ? o->url
                       : getenv("HALL_REDIS_URL");
    if (!rurl || !*rurl)
        return ctl_usage_error("%s", "usage: hallctl city --redis redis://HOST:PORT/DB HALL [HALL ...]");
    return ctl_city_main(rurl, o->pos + 1, o->npos - 1, o->json, o->count, o->timeout_ms);
}

int main(int argc, char **argv)
{
    ctl_opts o = {.timeout_ms = 5000};
    hk_log_init();
    /* report and archive take options of their own (--csv, --html, --out DIR) */
    if (hallctl_report_claims(argc, argv)) return hallctl_report_main(argc, argv);
    int rc = ctl_parse_args(argc, argv, &o);
    if (rc < 0) {
        fputs(ctl_usage_text, stdout);
        rc = CTL_EXIT_OK;
        goto out;
    }
    if (rc) goto out;
    if (!o.url) o.url = getenv("HALL_URL");
    if (!o.url || !*o.url) o.url = CTL_DEFAULT_URL;
    if (!o.token) o.token = getenv("HALL_TOKEN");
    wsclient_set_cafile(o.cafile ? o.cafile : getenv("HALL_CAFILE"));
    if (o.npos >= 1 && strcmp(o.pos[0], "token") == 0) {   /* local: no daemon, no token */
        rc = ctl_token_main(o.npos, o.pos);
        goto out;
    }
    if ((rc = ctl_run_own(&o)) >= 0) goto out;
    if ((rc = ctl_plan(&o))) goto out;
    if (o.file) {   /* the incident log read from a file: no daemon, no token */
        rc = ctl_incidents_offline(&o);
        goto out;
    }
    if (!o.token || !*o.token) {
        rc = ctl_usage_error("%s", "no token: pass --token TOKEN or set HALL_TOKEN");
        goto out;
    }

    /* Ctrl-C ends `watch` with a clean close (io/ctl/client.c). */
    ctl_client_catch_signals();
    rc = ctl_run(&o);
out:
    for (int i = 0; i < o.nreq; i++) hv_free(o.req[i].args);
    free(o.pos);
    if (rc == CTL_EXIT_OK && ctl_degraded) rc = CTL_EXIT_ERR;
    return rc;
}
