/* config.h: the hall's configuration as plain data. io/config/config_load.c fills it from YAML
 * (contract.md "Configuration"); core/ only reads it. Every array is malloc'd with its count. */
#ifndef HK_CONFIG_H
#define HK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

enum hk_role {
    HK_ROLE_NONE = 0,
    HK_ROLE_KIOSK = 1 << 0,
    HK_ROLE_DISPLAY = 1 << 1,
    HK_ROLE_STAFF = 1 << 2,
    HK_ROLE_SECURITY = 1 << 3,
    HK_ROLE_ADMIN = 1 << 4,
};
#define HK_ROLE_ANY (HK_ROLE_KIOSK | HK_ROLE_DISPLAY | HK_ROLE_STAFF | HK_ROLE_SECURITY | HK_ROLE_ADMIN)

const char *hk_role_name(int role);     /* "kiosk", ... or "none" */
int hk_role_parse(const char *s);       /* HK_ROLE_*, or 0 if unknown */

typedef struct {
    char *token;       /* plain secret as written in the config; "sha256:SALT:HEX" hashes later */
    int role;          /* one HK_ROLE_* */
    char *staff;       /* staff id for role staff, else NULL */
} hk_token_cfg;

typedef struct { char *id, *name, *title, *photo; } hk_staff_cfg;

typedef struct {
    char *id;          /* 1-2 upper-case letters, the ticket code prefix */
    char *name;
    double weight;     /* > 0; default 1.0 */
    int daily_cap;     /* tickets of the category per business day (appointments aside); 0 = no cap */
} hk_category_cfg;

typedef struct {
    int id;            /* >= 1 */
    char *name;
    char **categories; /* ordered: the window prefers the first */
    size_t ncategories;
    char *zone;        /* default "hall" */
} hk_window_cfg;

typedef struct {
    int days;          /* bit 0 = Monday .. bit 6 = Sunday */
    int nspans;
    struct { int open_min, close_min; } spans[8];  /* minutes of the local day, open < close */
} hk_hours_cfg;

enum hk_gpio_dir { HK_GPIO_IN = 0, HK_GPIO_OUT = 1 };

typedef struct {
    char *name;
    char *chip;        /* "gpiochip0" or a chip label */
    int offset;
    int dir;           /* HK_GPIO_IN / HK_GPIO_OUT */
    bool active_low;
    int debounce_ms;   /* inputs; default 50 */
    int normal;        /* outputs: value in normal operation */
    int safe;          /* outputs: value on shutdown / fault */
    char *feedback;    /* outputs: an input that must follow this output (a lock sensor, a relay's
                        * auxiliary contact), NULL = none; its logical value must equal the output's */
    int feedback_ms;   /* outputs: how long the feedback may take to follow (default 2000) */
    /* inputs, supervised (EN 54-2: a fault shown within 100 s): */
    bool fault_contact;  /* the line is a panel's fault (trouble) contact: 1 = the panel reports a fault */
    bool has_expect;     /* the line must hold `expect` (a loop, a "panel powered" contact) */
    int expect;
    int heartbeat_ms;    /* 0, or the line must change at least this often (a watchdog pulse) */
    bool external;       /* an input fed by another device (the UPS through upsd: ups_on_battery,
                          * ups_battery_low), not requested from a GPIO chip */
} hk_gpio_line_cfg;

#define HK_AUDIO_NAME_MAX 32
#define HK_AUDIO_TEXT_MAX 256
#define HK_AUDIO_ZONES_MAX 16
#define HK_AUDIO_WINDOW_TEMPLATES_MAX 32

typedef struct {
    char *sink;        /* "file", "alsa", "none" */
    char *path;        /* file sink */
    char *device;      /* alsa device */
    char **voices;     /* "cmn", ... */
    size_t nvoices;
    /* Issue 5 (docs/audio.md). Fixed-size fields, so hk_config_free() needs no change; zero means
     * the default everywhere, so a zeroed hk_audio_cfg is valid. */
    struct {
        char id[HK_AUDIO_NAME_MAX];     /* zone name, as windows' `zone` */
        char sink[8];                   /* file, alsa, none */
        char target[HK_AUDIO_TEXT_MAX]; /* file: path; alsa: device */
    } zones[HK_AUDIO_ZONES_MAX];
    size_t nzones;                      /* 0: one zone per distinct window zone, all on `sink` */
    char template_[HK_AUDIO_TEXT_MAX];  /* "" = 请{code}号到{window}办理 */
    struct {
        int window;
        char template_[HK_AUDIO_TEXT_MAX];
    } window_templates[HK_AUDIO_WINDOW_TEMPLATES_MAX];
    size_t nwindow_templates;
    int repeat;                         /* times a call is spoken, 1..5; 0 = 2 */
    int digits;                         /* 0 = ling (1 read 一), 1 = yao (1 read 幺) */
    char second_language[HK_AUDIO_NAME_MAX];    /* espeak voice spoken after, "" = none */
    char second_template[HK_AUDIO_TEXT_MAX];    /* "" = Number {code}, please go to window {window_id}. */
    int evac_tone_s;                    /* sounder before each evacuation message, 8..20; 0 = 10 */
} hk_audio_cfg;

typedef struct {
    char *gpio;        /* input line name */
    int value;
} hk_trigger_cfg;

typedef struct {
    char *do_;         /* gpio, queue_freeze, display, announce, checklist, alert, occupancy, notice */
    char *line;        /* gpio */
    int value;         /* gpio */
    char *mode;        /* display: evacuation|notice|normal; occupancy: cap|appointments_only */
    char *text;        /* announce, checklist, alert, notice */
    bool loop;         /* announce */
    int roles;         /* alert: HK_ROLE_* mask */
    int cap;           /* occupancy cap on waiting tickets */
    char **zones;      /* announce/notice zones; empty = all */
    size_t nzones;
} hk_step_cfg;

/* A report by staff or the guide, the first to discover an incident (DB43/T 2422.4 §6.1.1.1,
 * §6.1.5.1, §6.4.1): it starts the playbook at once, or waits for security's confirmation. */
enum { HK_REPORT_NONE = 0, HK_REPORT_NOW = 1, HK_REPORT_CONFIRM = 2 };

typedef struct {
    char *id, *name;
    bool silent;
    int severity;      /* higher outranks lower when several are active */
    hk_trigger_cfg *triggers; size_t ntriggers;
    int triggers_required;   /* 0 or 1: any one trigger starts it; N: N of them at once (GB 50116's
                              * AND of two independent alarms) */
    int report;              /* what a staff member's report does (emergency.report): HK_REPORT_*;
                              * -1 in a config playbook that says nothing (an override keeps the
                              * built-in's) */
    hk_step_cfg *steps; size_t nsteps;
} hk_playbook_cfg;

#define HK_DEFAULT_RATE_PER_CONNECTION 2000
#define HK_DEFAULT_RATE_PER_TOKEN 50000
#define HK_DEFAULT_HELLO_TIMEOUT_S 10
#define HK_DEFAULT_MAX_UNAUTHENTICATED 512
#define HK_DEFAULT_ISSUE_PER_MIN 30   /* a person takes a ticket in seconds: a busy kiosk issues ~12 a minute */

/* AB posts and work rules (core/posts.c, docs/config.md "work"). Arrays run parallel to
 * windows[] and categories[]; NULL when the loader did not fill them (no posts, no alerts). */
typedef struct { char *a, *b; } hk_window_posts_cfg;     /* staff ids of posts A and B, NULL = none */
typedef struct {
    int alert_wait_min;      /* load alert when the estimated wait reaches this, 0 = off */
    int alert_length;        /* load alert when this many wait, 0 = off */
} hk_category_alert_cfg;
typedef struct {
    int rollover_min;        /* minute of the local day a business day starts; 0 = midnight */
    int checkin_before_min;  /* staff check in this long before opening; later is late */
    int away_alert_min;      /* A away (window paused or checked out) this long: alert B */
    int empty_alert_min;     /* a window that should be staffed stands empty this long: alert */
    hk_window_posts_cfg *posts;          /* [nwindows] */
    hk_category_alert_cfg *cat_alerts;   /* [ncategories] */
} hk_work_cfg;
/* The call policy's fairness rules and the appointment windows (config `queue:`, docs/queue.md).
 * set = false (no `queue:` section, or a config built by hand): every field takes its default
 * (queue_policy() in core/queue.h applies them). */
#define HK_DEFAULT_PRIORITY_MAX_IN_ROW 3
#define HK_DEFAULT_NORMAL_MAX_WAIT_MIN 40
#define HK_DEFAULT_APPOINTMENT_EARLY_MIN 30
#define HK_DEFAULT_APPOINTMENT_GRACE_MIN 15
#define HK_DEFAULT_PRIORITY_ROLES (HK_ROLE_STAFF | HK_ROLE_ADMIN)   /* the guide is a staff member */
#define HK_DEFAULT_ELDERLY_AGE 60    /* 60岁以上老人优先 */
typedef struct {
    bool set;
    int priority_max_in_row;     /* priority calls of a category in a row while normal ones wait */
    int normal_max_wait_min;     /* a normal ticket waiting this long is called first */
    int appointment_early_min;   /* check-in opens this long before the slot */
    int appointment_grace_min;   /* ... and closes this long after it; then it is released */
    int priority_roles;          /* HK_ROLE_* that may ask ticket.issue for priority "priority" */
    int elderly_age;             /* a kiosk's id_number of this age or more gets a priority ticket */
} hk_queue_policy_cfg;
/* 四件管理 (docs/cases.md): a matter (事项) and its time limits in working days of the hall. */
typedef struct {
    char *id, *name;
    char *category;    /* the business category it belongs to (a categories id) */
    int promised_days; /* 承诺时限, >= 1 */
    int legal_days;    /* 法定时限, >= promised_days; 0 = not given */
} hk_matter_cfg;
#define HK_DEFAULT_WARN_FRACTION 0.8
#define HK_DEFAULT_CASE_DAYS 20        /* a case finished without a matter (行政许可法 §42) */
#define HK_DEFAULT_RATING_TARGET 0.95
#define HK_DEFAULT_RETENTION_DAYS 90   /* retention.days (docs/config.md, core/retention.h) */
#define HK_MIN_RETENTION_DAYS 31       /* a month's statistics must stay */
#define HK_MAX_RETENTION_DAYS 3660
/* A phone following its ticket (docs/mobile.md): authenticated by the ticket's own key, not by a
 * configured token. Deliberately not in HK_ROLE_ANY: a visitor runs only what names it. */
#define HK_ROLE_VISITOR (1 << 8)
typedef struct {
    char *public_url;  /* base of the phone link, "https://q.example.gov.cn"; NULL = derived at start */
} hk_mobile_cfg;
typedef struct {
    char *device;      /* an ESC/POS printer on a device file (/dev/usb/lp0), or NULL */
    char *tcp;         /* or on the network: "HOST:PORT" (IP address), or NULL */
    int width_mm;      /* 58 or 80; 0 = no printer configured */
    int timeout_ms;    /* a ticket not printed within this is dropped and a fault raised */
} hk_printer_cfg;

/* A UPS read from Network UPS Tools' upsd (docs/wiring.md "UPS"): its state feeds two external
 * inputs, ups_on_battery (status OB) and ups_battery_low (LB). host NULL = no UPS. */
typedef struct {
    char *host;        /* upsd's address (IPv4 or localhost) */
    int port;          /* 3493 */
    char *name;        /* the UPS's name in ups.conf */
    int poll_ms;       /* how often its status is read (default 2000) */
} hk_ups_cfg;

typedef struct hk_config {
    char *hall_id, *hall_name;
    char *listen;              /* "HOST:PORT" */
    char *tls_cert, *tls_key;
    int rate_per_connection;   /* requests a second one connection may send (bursts of twice that) */
    int rate_per_token;        /* the same for all connections of one token together */
    int hello_timeout_s;       /* a connection without a successful hello is closed after this */
    int max_unauthenticated;   /* connections not yet signed in, all addresses together */
    char **hosts; size_t nhosts;   /* http.hosts: the names the hall answers to (Host, Origin); 0 = default */
    int issue_per_min;         /* ticket.issue a minute per token (a device), bursts of a third; 0 = no limit */
    char *redis_url;           /* NULL = embedded redis-server */
    bool hours_set;            /* false: open at all hours */
    hk_hours_cfg *hours; size_t nhours;
    hk_token_cfg *tokens; size_t ntokens;
    hk_staff_cfg *staff; size_t nstaff;
    hk_category_cfg *categories; size_t ncategories;
    hk_window_cfg *windows; size_t nwindows;
    char *gpio_backend;        /* "sim" or "gpiod" */
    hk_gpio_line_cfg *gpio_lines; size_t ngpio_lines;
    hk_audio_cfg audio;
    hk_playbook_cfg *playbooks; size_t nplaybooks;
    hk_work_cfg work;
    hk_queue_policy_cfg queue;
    hk_matter_cfg *matters; size_t nmatters;
    double warn_fraction;      /* supervision: warn at this part of a case's limit; 0 = default */
    int default_case_days;     /* supervision: limit of a case finished without a matter; 0 = default */
    char **rating_reasons; size_t nrating_reasons;   /* for scores 1-2; none = the defaults */
    double rating_target;      /* satisfaction target shown with the statistics; 0 = default */
    int retention_days;        /* retention.days: closed items older than this are released; 0 = default */
    hk_mobile_cfg mobile;
    hk_printer_cfg printer;
    hk_ups_cfg ups;
    char *redis_password;      /* with sentinels: AUTH on the master (its requirepass, or the ACL user's) */
    char *redis_username;      /* with sentinels: the ACL user for that AUTH; NULL = the default user */
    char *redis_sentinel_password; /* with sentinels: AUTH on every sentinel (their requirepass) */
    char **redis_sentinels; size_t nredis_sentinels; /* "HOST:PORT" of Redis Sentinels (instead of redis_url) */
    char *redis_master;        /* with sentinels: the master's name they monitor */
    int redis_db;              /* with sentinels: the database (SELECT) on the master */
} hk_config;

void hk_config_free(hk_config *c);

const hk_category_cfg *hk_config_category(const hk_config *c, const char *id);
const hk_window_cfg *hk_config_window(const hk_config *c, int id);
const hk_staff_cfg *hk_config_staff(const hk_config *c, const char *id);

#endif
