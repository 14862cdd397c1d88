/* config_load.c: the hall's YAML file (contract.md "Configuration") into an hk_config.
 * libyaml's document API keeps each node's position, so every error names FILE:LINE. The loader is
 * strict on purpose: a typo in a fire playbook must stop the daemon at start, not at the fire. */
#include "config_load.h"
#include "token.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/alloc.h"

#define CONFIG_MAX_BYTES (4u << 20)   /* a hall's config is a few KiB; refuse anything absurd */
#define MV_MAX_KEYS 32   /* the most keys of one mapping: the root has 11 of the contract + the workflow sections */

const char config_demo_yaml[] =
    "# The built-in demo hall: what hallkeeper runs with no --config.\n"
    "hall: { id: demo, name: 示例政务服务中心 }\n"
    "http: { listen: \"127.0.0.1:8080\", issue_per_min: 0 }   # this machine only (--listen 0.0.0.0:8080 for the hall's network); no per-kiosk ticket limit: the demo takes load tests\n"
    "hours:                                    # a demo works at any time of day\n"
    "  - { days: [mon, tue, wed, thu, fri, sat, sun], open: [\"00:00-24:00\"] }\n"
    "tokens:                                   # the daemon replaces these: DATA/demo-tokens, made at first start\n"
    "  - { token: \"kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq\",   role: kiosk }\n"
    "  - { token: \"display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj\",   role: display }\n"
    "  - { token: \"staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp\",   role: staff, staff: \"0001\" }\n"
    "  - { token: \"staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez\",   role: staff, staff: \"0002\" }\n"
    "  - { token: \"staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD\",   role: staff, staff: \"0003\" }\n"
    "  - { token: \"security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u\",  role: security }\n"
    "  - { token: \"admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6\",     role: admin }\n"
    "staff:\n"
    "  - { id: \"0001\", name: 张三, title: 综合受理员 }\n"
    "  - { id: \"0002\", name: 李四, title: 综合受理员 }\n"
    "  - { id: \"0003\", name: 王五, title: 帮办代办员 }\n"
    "categories:\n"
    "  - { id: A, name: 社保医保, weight: 1.0 }\n"
    "  - { id: B, name: 不动产登记, weight: 1.0 }\n"
    "  - { id: C, name: 帮办代办, weight: 2.0 }\n"
    "  - { id: D, name: 企业开办, weight: 1.0 }\n"
    "windows:                                  # posts: AB posts (A sits there, B takes over)\n"
    "  - { id: 1, name: 1号窗口, categories: [A, B], zone: hall, posts: { a: \"0001\", b: \"0002\" } }\n"
    "  - { id: 2, name: 2号窗口, categories: [C, A], zone: hall, posts: { a: \"0002\", b: \"0003\" } }\n"
    "  - { id: 3, name: 3号窗口, categories: [B, D], zone: hall, posts: { a: \"0003\", b: \"0001\" } }\n"
    "  - { id: 4, name: 4号窗口, categories: [D, C, A], zone: hall }\n"
    "work: { rollover: \"00:00\", checkin_before_min: 10, away_alert_min: 10, empty_alert_min: 5 }\n"
    "matters:                                  # 事项 with their promised (承诺) and legal (法定) limits\n"
    "  - { id: yb-transfer, name: 医保关系转移接续, category: A, promised_days: 5, legal_days: 15 }\n"
    "  - { id: bdc-first,   name: 不动产首次登记,   category: B, promised_days: 7, legal_days: 30 }\n"
    "  - { id: bdc-mortgage, name: 不动产抵押登记,  category: B, promised_days: 3, legal_days: 10 }\n"
    "  - { id: qy-license,  name: 企业设立登记,     category: D, promised_days: 2, legal_days: 15 }\n"
    "gpio:\n"
    "  backend: sim\n"
    "  lines:\n"
    "    - { name: fire_panel,    chip: gpiochip0, offset: 17, dir: in,  active_low: true, debounce_ms: 50 }\n"
    "    - { name: door_main,     chip: gpiochip0, offset: 22, dir: out, normal: 0, safe: 1 }\n"
    "    - { name: power_nonfire, chip: gpiochip0, offset: 23, dir: out, normal: 1, safe: 0 }\n"
    "    - { name: hvac_fans,     chip: gpiochip0, offset: 24, dir: out, normal: 1, safe: 0 }\n"
    "    - { name: siren,         chip: gpiochip0, offset: 25, dir: out, normal: 0, safe: 0 }\n"
    "audio:\n"
    "  sink: file\n"
    "  path: announcements.wav\n"
    "  voice: cmn\n"
    "emergency:\n"
    "  playbooks:\n"
    "    - id: fire\n"
    "      name: 火警\n"
    "      triggers: [ { gpio: fire_panel, value: 1 } ]\n"
    "      steps:\n"
    "        - { do: gpio, line: door_main, value: 1 }\n"
    "        - { do: gpio, line: power_nonfire, value: 0 }\n"
    "        - { do: gpio, line: siren, value: 1 }\n"
    "        - { do: queue_freeze }\n"
    "        - { do: display, mode: evacuation }\n"
    "        - { do: announce, text: 各位办事群众请注意，现在发生火警，请听从工作人员指挥，沿疏散指示标志有序撤离。, loop: true }\n"
    "        - { do: checklist, text: 拨打119报警 }\n";

/* ---- the loader's state and error reporting ---- */

typedef struct {
    const char *name;          /* file path or caller's name, first part of every message */
    char *err;
    size_t errlen;
    yaml_document_t *doc;
    hk_config *c;
} ld;

static int fail(ld *l, const yaml_node_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(ld *l, const yaml_node_t *at, const char *fmt, ...)
{
    if (!l->err || l->errlen == 0)
        return -1;
    unsigned long line = at ? (unsigned long)at->start_mark.line + 1 : 1;
    int n = snprintf(l->err, l->errlen, "%s:%lu: ", l->name, line);
    if (n >= 0 && (size_t)n < l->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Out of memory while reading a config at start-up leaves nothing sensible to do. */
/* ---- node access ---- */

static yaml_node_t *node_at(ld *l, int index)
{
    return yaml_document_get_node(l->doc, index);
}

static const char *sv(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static bool is_plain(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* YAML's null: an empty value, ~ or null written plainly. */
static bool is_null(const yaml_node_t *n)
{
    if (!is_plain(n))
        return false;
    const char *s = sv(n);
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static size_t seq_len(const yaml_node_t *n)
{
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static yaml_node_t *seq_item(ld *l, const yaml_node_t *n, size_t i)
{
    return node_at(l, n->data.sequence.items.start[i]);
}

static const char *node_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE: return "a mapping";
    case YAML_SEQUENCE_NODE: return "a list";
    default: return is_null(n) ? "null" : "a scalar";
    }
}

/* A mapping checked against its allowed keys: unknown or repeated keys are errors. */
typedef struct {
    yaml_node_t *node;
    const char *what;               /* "window", for messages */
    const char *const *keys;        /* NULL-terminated */
    yaml_node_t *val[MV_MAX_KEYS];
    yaml_node_t *key[MV_MAX_KEYS];
} mview;

static void keys_list(const char *const *keys, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = 0;
    for (size_t i = 0; keys[i] && at < len; i++) {
        int n = snprintf(buf + at, len - at, "%s%s", i ? ", " : "", keys[i]);
        if (n < 0)
            break;
        at += (size_t)n;
    }
}

static int mv_open(ld *l, mview *m, yaml_node_t *n, const char *what, const char *const *keys)
{
    size_t nkeys = 0;
    while (keys[nkeys])
        nkeys++;
    if (nkeys > MV_MAX_KEYS) {   /* a programming error, not the operator's: never index past val[] */
        fprintf(stderr, "hallkeeper: internal error: %s allows %zu keys, more than MV_MAX_KEYS (%d)\n", what,
                nkeys, MV_MAX_KEYS);
        abort();
    }
    memset(m, 0, sizeof *m);
    m->node = n;
    m->what = what;
    m->keys = keys;
    if (n->type != YAML_MAPPING_NODE)
        return fail(l, n, "%s must be a mapping, got %s", what, node_kind(n));
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(l, p->key);
        if (k->type != YAML_SCALAR_NODE)
            return fail(l, k, "a key in %s must be a plain word, got %s", what, node_kind(k));
        size_t i = 0;
        while (keys[i] && strcmp(keys[i], sv(k)) != 0)
            i++;
        if (!keys[i]) {
            char exp[512];
            keys_list(keys, exp, sizeof exp);
            return fail(l, k, "unknown key '%s' in %s (expected %s)", sv(k), what, exp);
        }
        if (m->key[i])
            return fail(l, k, "duplicate key '%s' in %s (first at line %lu)", sv(k), what,
                        (unsigned long)m->key[i]->start_mark.line + 1);
        m->key[i] = k;
        m->val[i] = node_at(l, p->value);
    }
    return 0;
}

static yaml_node_t *mv_get(const mview *m, const char *key)
{
    for (size_t i = 0; m->keys[i]; i++)
        if (!strcmp(m->keys[i], key))
            return m->val[i];
    return NULL;
}

/* Absent or null counts as not given. */
static yaml_node_t *mv_given(const mview *m, const char *key)
{
    yaml_node_t *v = mv_get(m, key);
    return v && !is_null(v) ? v : NULL;
}

/* ---- typed readers: each reports "'KEY' in WHAT must be ..." at the value's line ---- */

static int scalar_string(ld *l, const mview *m, const char *key, yaml_node_t *v, char **out)
{
    if (v->type != YAML_SCALAR_NODE)
        return fail(l, v, "'%s' in %s must be a string, got %s", key, m->what, node_kind(v));
    if (strlen(sv(v)) != v->data.scalar.length)
        return fail(l, v, "'%s' in %s must not contain NUL characters", key, m->what);
    if (!*sv(v))
        return fail(l, v, "'%s' in %s must not be empty", key, m->what);
    *out = hk_strdup(sv(v));
    return 0;
}

/* def NULL and !required: *out stays NULL when the key is absent. */
static int want_str(ld *l, const mview *m, const char *key, bool required, const char *def, char **out)
{
    yaml_node_t *v = mv_get(m, key);
    if (!v)
        return required ? fail(l, m->node, "missing required key '%s' in %s", key, m->what)
                        : (*out = def ? hk_strdup(def) : NULL, 0);
    if (is_null(v))
        return required ? fail(l, v, "'%s' in %s must not be empty", key, m->what)
                        : (*out = def ? hk_strdup(def) : NULL, 0);
    return scalar_string(l, m, key, v, out);
}

static int want_int(ld *l, const mview *m, const char *key, bool required, int def, long lo, long hi,
                    int *out)
{
    yaml_node_t *v = mv_get(m, key);
    if (!v || is_null(v)) {
        if (required)
            return fail(l, v ? v : m->node, "missing required key '%s' in %s", key, m->what);
        *out = def;
        return 0;
    }
    char range[64];
    if (hi == INT_MAX)
        snprintf(range, sizeof range, "an integer >= %ld", lo);
    else
        snprintf(range, sizeof range, "an integer from %ld to %ld", lo, hi);
    if (v->type != YAML_SCALAR_NODE)
        return fail(l, v, "'%s' in %s must be %s, got %s", key, m->what, range, node_kind(v));
    if (!is_plain(v))
        return fail(l, v, "'%s' in %s must be %s, got the quoted string \"%s\"", key, m->what, range,
                    sv(v));
    char *end;
    errno = 0;
    long x = strtol(sv(v), &end, 10);
    if (errno || end == sv(v) || *end || x < lo || x > hi)
        return fail(l, v, "'%s' in %s must be %s, got '%s'", key, m->what, range, sv(v));
    *out = (int)x;
    return 0;
}

static int want_bool(ld *l, const mview *m, const char *key, bool def, bool *out)
{
    yaml_node_t *v = mv_given(m, key);
    if (!v) {
        *out = def;
        return 0;
    }
    if (is_plain(v)) {
        const char *s = sv(v);
        if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
            *out = true;
            return 0;
        }
        if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
            *out = false;
            return 0;
        }
    }
    return fail(l, v, "'%s' in %s must be true or false, got %s%s%s", key, m->what,
                v->type == YAML_SCALAR_NODE ? "'" : "",
                v->type == YAML_SCALAR_NODE ? sv(v) : node_kind(v),
                v->type == YAML_SCALAR_NODE ? "'" : "");
}

/* Returns the list node, or NULL with *rc = 0 when absent (and not required). */
static yaml_node_t *want_seq(ld *l, const mview *m, const char *key, bool required, int *rc)
{
    *rc = 0;
    yaml_node_t *v = mv_get(m, key);
    if (!v || is_null(v)) {
        if (required)
            *rc = fail(l, v ? v : m->node, "missing required key '%s' in %s", key, m->what);
        return NULL;
    }
    if (v->type != YAML_SEQUENCE_NODE) {
        *rc = fail(l, v, "'%s' in %s must be a list, got %s", key, m->what, node_kind(v));
        return NULL;
    }
    return v;
}

/* A list of non-empty strings; with scalar_ok a single string counts as a list of one. */
static int want_strlist(ld *l, const mview *m, const char *key, bool required, bool scalar_ok,
                        char ***out, size_t *nout)
{
    yaml_node_t *v = mv_given(m, key);
    if (v && scalar_ok && v->type == YAML_SCALAR_NODE) {
        *out = hk_calloc(1, sizeof **out);
        *nout = 1;
        return scalar_string(l, m, key, v, &(*out)[0]);
    }
    int rc;
    v = want_seq(l, m, key, required, &rc);
    if (!v)
        return rc;
    size_t n = seq_len(v);
    if (n == 0 && required)
        return fail(l, v, "'%s' in %s must list at least one entry", key, m->what);
    *out = hk_calloc(n, sizeof **out);
    *nout = n;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *it = seq_item(l, v, i);
        if (it->type != YAML_SCALAR_NODE || is_null(it))
            return fail(l, it, "'%s' in %s must be a list of strings, got %s", key, m->what,
                        node_kind(it));
        if (scalar_string(l, m, key, it, &(*out)[i]))
            return -1;
    }
    return 0;
}

/* The node a string list entry came from, for "unknown category" style errors. */
static yaml_node_t *strlist_node(ld *l, const mview *m, const char *key, size_t i)
{
    yaml_node_t *v = mv_given(m, key);
    if (v && v->type == YAML_SEQUENCE_NODE && i < seq_len(v))
        return seq_item(l, v, i);
    return v ? v : m->node;
}

/* ---- small syntax checks ---- */

static bool is_ident(const char *s, size_t maxlen)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char ch = s[n];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                  ch == '_' || ch == '-';
        if (!ok)
            return false;
    }
    return n >= 1 && n <= maxlen;
}

static bool is_category_id(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 2)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'A' || s[i] > 'Z')
            return false;
    return true;
}

/* "HOST:PORT" with a non-empty HOST (an IPv6 address in brackets) and PORT 1..65535. */
static bool is_listen(const char *s)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return false;
    size_t hostlen = (size_t)(colon - s);
    if (s[0] == '[') {
        if (hostlen < 3 || s[hostlen - 1] != ']')
            return false;
    } else if (memchr(s, ':', hostlen) || memchr(s, ' ', hostlen)) {
        return false;
    }
    const char *p = colon + 1;
    if (!*p || strlen(p) > 5)
        return false;
    long port = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        port = port * 10 + (*p - '0');
    }
    return port >= 1 && port <= 65535;
}

/* "A.B.C.D:PORT", "[v6]:PORT" or "localhost:PORT" (a sentinel, the printer): no names to resolve,
 * a slow DNS must never stall the hall. */
static bool is_addr_port(const char *s)
{
    if (!is_listen(s))
        return false;
    size_t hostlen = (size_t)(strrchr(s, ':') - s);
    if (s[0] == '[')
        return strspn(s + 1, "0123456789abcdefABCDEF:.") == hostlen - 2;
    if (hostlen == 9 && !strncmp(s, "localhost", 9))
        return true;
    int parts = 0, val = -1;
    for (size_t i = 0; i <= hostlen; i++) {
        if (i == hostlen || s[i] == '.') {
            if (val < 0 || val > 255)
                return false;
            parts++;
            val = -1;
        } else if (s[i] >= '0' && s[i] <= '9') {
            val = (val < 0 ? 0 : val * 10) + (s[i] - '0');
            if (val > 255)
                return false;
        } else {
            return false;
        }
    }
    return parts == 4;
}

static bool is_redis_url(const char *s)
{
    return (!strncmp(s, "redis://", 8) && s[8]) || (!strncmp(s, "unix://", 7) && s[7] == '/');
}

static bool one_of(const char *s, const char *const *words)
{
    for (size_t i = 0; words[i]; i++)
        if (!strcmp(s, words[i]))
            return true;
    return false;
}

/* "HH:MM" at p; minutes of the day in *min. close allows 24:00. */
static bool parse_hhmm(const char *p, bool close, int *min)
{
    for (int i = 0; i < 5; i++)
        if (i == 2 ? p[i] != ':' : (p[i] < '0' || p[i] > '9'))
            return false;
    int h = (p[0] - '0') * 10 + (p[1] - '0');
    int m = (p[3] - '0') * 10 + (p[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && (!close || m != 0)))
        return false;
    *min = h * 60 + m;
    return true;
}

/* ---- sections ---- */

static int load_hall(ld *l, yaml_node_t *root_map_node, yaml_node_t *n)
{
    static const char *const keys[] = { "id", "name", NULL };
    mview m;
    if (!n)
        return fail(l, root_map_node, "missing required key 'hall' in configuration");
    if (mv_open(l, &m, n, "hall", keys) || want_str(l, &m, "id", true, NULL, &l->c->hall_id))
        return -1;
    if (!is_ident(l->c->hall_id, 32))
        return fail(l, mv_get(&m, "id"),
                    "'id' in hall must be 1 to 32 of A-Z a-z 0-9 _ - (it is part of Redis keys), got '%s'",
                    l->c->hall_id);
    return want_str(l, &m, "name", false, l->c->hall_id, &l->c->hall_name);
}

/* A host name or an IP address, without a port (IPv6 has more than one colon). */
static bool is_host_name(const char *h)
{
    const char *colon = strchr(h, ':');
    return *h && strlen(h) <= 253 && (!colon || colon != strrchr(h, ':')) &&
           strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") == strlen(h);
}

static int load_http(ld *l, yaml_node_t *n)
{
    static const char *const keys[] = { "listen", "tls_cert", "tls_key", "rate_per_connection", "rate_per_token",
                                         "hello_timeout_s", "max_unauthenticated", "hosts", "issue_per_min", NULL };
    hk_config *c = l->c;
    mview m;
    if (!n || is_null(n)) {
        c->listen = hk_strdup("0.0.0.0:8080");
        c->rate_per_connection = HK_DEFAULT_RATE_PER_CONNECTION;
        c->rate_per_token = HK_DEFAULT_RATE_PER_TOKEN;
        c->hello_timeout_s = HK_DEFAULT_HELLO_TIMEOUT_S;
        c->max_unauthenticated = HK_DEFAULT_MAX_UNAUTHENTICATED;
        c->issue_per_min = HK_DEFAULT_ISSUE_PER_MIN;
        return 0;
    }
    if (mv_open(l, &m, n, "http", keys) || want_str(l, &m, "listen", false, "0.0.0.0:8080", &c->listen) ||
        want_str(l, &m, "tls_cert", false, NULL, &c->tls_cert) ||
        want_str(l, &m, "tls_key", false, NULL, &c->tls_key) ||
        want_int(l, &m, "rate_per_connection", false, HK_DEFAULT_RATE_PER_CONNECTION, 1, 1000000,
                 &c->rate_per_connection) ||
        want_int(l, &m, "rate_per_token", false, HK_DEFAULT_RATE_PER_TOKEN, 1, 10000000, &c->rate_per_token) ||
        want_int(l, &m, "hello_timeout_s", false, HK_DEFAULT_HELLO_TIMEOUT_S, 1, 300, &c->hello_timeout_s) ||
        want_int(l, &m, "max_unauthenticated", false, HK_DEFAULT_MAX_UNAUTHENTICATED, 1, 100000,
                 &c->max_unauthenticated) ||
        want_strlist(l, &m, "hosts", false, true, &c->hosts, &c->nhosts) ||
        want_int(l, &m, "issue_per_min", false, HK_DEFAULT_ISSUE_PER_MIN, 0, 600, &c->issue_per_min))
        return -1;
    for (size_t i = 0; i < c->nhosts; i++)
        if (!is_host_name(c->hosts[i]))
            return fail(l, strlist_node(l, &m, "hosts", i),
                        "'hosts' in http must list host names or IP addresses without a port, got '%s'",
                        c->hosts[i]);
    if (!is_listen(c->listen))
        return fail(l, mv_get(&m, "listen"),
                    "'listen' in http must be HOST:PORT with a port from 1 to 65535, got '%s'", c->listen);
    if (!c->tls_cert != !c->tls_key)
        return fail(l, mv_get(&m, c->tls_cert ? "tls_cert" : "tls_key"),
                    "'tls_cert' and 'tls_key' in http must be given together");
    return 0;
}

/* Either url (one server) or sentinels + master (+ db): a Redis Sentinel set-up, whose current
 * master the store asks the sentinels for (docs/redis.md). */
static int load_redis(ld *l, yaml_node_t *n)
{
    static const char *const keys[] = { "url", "sentinels", "master", "db", "password", "username",
                                        "sentinel_password", NULL };
    static const char *const auth[] = { "password", "username", "sentinel_password", NULL };
    hk_config *c = l->c;
    mview m;
    if (!n || is_null(n))
        return 0;
    if (mv_open(l, &m, n, "redis", keys) || want_str(l, &m, "url", false, NULL, &c->redis_url) ||
        want_strlist(l, &m, "sentinels", false, false, &c->redis_sentinels, &c->nredis_sentinels) ||
        want_str(l, &m, "master", false, NULL, &c->redis_master) ||
        want_int(l, &m, "db", false, 0, 0, 1000000, &c->redis_db) ||
        want_str(l, &m, "password", false, NULL, &c->redis_password) ||
        want_str(l, &m, "username", false, NULL, &c->redis_username) ||
        want_str(l, &m, "sentinel_password", false, NULL, &c->redis_sentinel_password))
        return -1;
    if (c->redis_url && mv_given(&m, "sentinels"))
        return fail(l, mv_get(&m, "sentinels"),
                    "'url' and 'sentinels' in redis are mutually exclusive: give url for one server, or "
                    "sentinels and master for a Sentinel set-up");
    if (c->redis_url && !is_redis_url(c->redis_url))
        return fail(l, mv_get(&m, "url"),
                    "'url' in redis must be redis://HOST:PORT/DB or unix:///path/to/socket, got '%s'",
                    c->redis_url);
    if (!mv_given(&m, "sentinels")) {
        if (c->redis_master)
            return fail(l, mv_get(&m, "master"), "'master' in redis needs 'sentinels' (the sentinels that know it)");
        if (mv_given(&m, "db"))
            return fail(l, mv_get(&m, "db"),
                        "'db' in redis goes with 'sentinels'; with 'url' the database is part of the URL "
                        "(redis://HOST:PORT/DB)");
        /* a URL carries its own credentials; the embedded redis-server listens on a private unix
         * socket only and takes none */
        for (int i = 0; auth[i]; i++)
            if (mv_given(&m, auth[i]))
                return fail(l, mv_get(&m, auth[i]),
                            c->redis_url ? "'%s' in redis goes with 'sentinels'; with 'url' the credentials are part "
                                           "of the URL (redis://:PASSWORD@HOST:PORT/DB or "
                                           "redis://USER:PASSWORD@HOST:PORT/DB)"
                                         : "'%s' in redis goes with 'sentinels' (the embedded redis-server takes "
                                           "no password: it listens on a unix socket only the daemon can open)",
                            auth[i]);
        return 0;
    }
    if (c->redis_username && !c->redis_password)
        return fail(l, mv_get(&m, "username"), "'username' in redis needs 'password' (the ACL user's password)");
    if (c->nredis_sentinels == 0)
        return fail(l, mv_get(&m, "sentinels"), "'sentinels' in redis must list at least one HOST:PORT");
    for (size_t i = 0; i < c->nredis_sentinels; i++) {
        if (!is_addr_port(c->redis_sentinels[i]))
            return fail(l, strlist_node(l, &m, "sentinels", i),
                        "'sentinels' in redis must be HOST:PORT with HOST an IP address or localhost and a "
                        "port from 1 to 65535, got '%s'",
                        c->redis_sentinels[i]);
        for (size_t k = 0; k < i; k++)
            if (!strcmp(c->redis_sentinels[k], c->redis_sentinels[i]))
                return fail(l, strlist_node(l, &m, "sentinels", i), "'sentinels' in redis lists '%s' twice",
                            c->redis_sentinels[i]);
    }
    if (!c->redis_master)
        return fail(l, m.node, "missing required key 'master' in redis (the name the sentinels monitor, as in "
                               "their 'sentinel monitor NAME ...' line)");
    for (const char *p = c->redis_master; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return fail(l, mv_get(&m, "master"), "'master' in redis must not contain spaces or control characters");
    return 0;
}

static int load_hours_entry(ld *l, yaml_node_t *n, hk_hours_cfg *h)
{
    static const char *const keys[] = { "days", "open", NULL };
    static const char *const days[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
    mview m;
    int rc;
    if (mv_open(l, &m, n, "hours entry", keys))
        return -1;
    yaml_node_t *dl = want_seq(l, &m, "days", true, &rc);
    if (!dl)
        return rc;
    if (seq_len(dl) == 0)
        return fail(l, dl, "'days' in hours entry must list at least one day");
    for (size_t i = 0; i < seq_len(dl); i++) {
        yaml_node_t *d = seq_item(l, dl, i);
        int bit = -1;
        for (int k = 0; d->type == YAML_SCALAR_NODE && k < 7; k++)
            if (!strcmp(sv(d), days[k]))
                bit = k;
        if (bit < 0)
            return fail(l, d, "'days' in hours entry: '%s' is not a day (expected mon, tue, wed, thu, fri, sat, sun)",
                        d->type == YAML_SCALAR_NODE ? sv(d) : node_kind(d));
        if (h->days & (1 << bit))
            return fail(l, d, "'days' in hours entry lists '%s' twice", days[bit]);
        h->days |= 1 << bit;
    }
    yaml_node_t *ol = want_seq(l, &m, "open", true, &rc);
    if (!ol)
        return rc;
    size_t ns = seq_len(ol);
    if (ns == 0)
        return fail(l, ol, "'open' in hours entry must list at least one span like \"09:00-12:00\"");
    if (ns > sizeof h->spans / sizeof h->spans[0])
        return fail(l, ol, "'open' in hours entry lists %zu spans; at most %zu are allowed", ns,
                    sizeof h->spans / sizeof h->spans[0]);
    for (size_t i = 0; i < ns; i++) {
        yaml_node_t *s = seq_item(l, ol, i);
        int o, c;
        if (s->type != YAML_SCALAR_NODE || strlen(sv(s)) != 11 || sv(s)[5] != '-' ||
            !parse_hhmm(sv(s), false, &o) || !parse_hhmm(sv(s) + 6, true, &c))
            return fail(l, s, "'open' in hours entry: '%s' is not a span HH:MM-HH:MM (00:00 to 24:00)",
                        s->type == YAML_SCALAR_NODE ? sv(s) : node_kind(s));
        if (o >= c)
            return fail(l, s, "'open' in hours entry: span '%s' must open before it closes", sv(s));
        if (i > 0 && o < h->spans[i - 1].close_min)
            return fail(l, s, "'open' in hours entry: span '%s' starts before the previous span ends "
                              "(list spans in order, without overlap)", sv(s));
        h->spans[i].open_min = o;
        h->spans[i].close_min = c;
        h->nspans = (int)i + 1;
    }
    return 0;
}

static int load_hours(ld *l, yaml_node_t *n)
{
    hk_config *c = l->c;
    if (!n || is_null(n))
        return 0;                 /* open at all hours */
    if (n->type != YAML_SEQUENCE_NODE)
        return fail(l, n, "'hours' must be a list of {days, open} entries, got %s", node_kind(n));
    if (seq_len(n) == 0)
        return fail(l, n, "'hours' must list at least one entry (leave it out to stay open at all hours)");
    c->hours_set = true;
    c->nhours = seq_len(n);
    c->hours = hk_calloc(c->nhours, sizeof *c->hours);
    for (size_t i = 0; i < c->nhours; i++)
        if (load_hours_entry(l, seq_item(l, n, i), &c->hours[i]))
            return -1;
    return 0;
}

/* A required or optional top-level list; *out is the list node or NULL. */
static int top_list(ld *l, yaml_node_t *root, yaml_node_t *n, const char *key, bool required,
                    const char *entry, yaml_node_t **out)
{
    *out = NULL;
    if (!n || is_null(n)) {
        if (required)
            return fail(l, n ? n : root, "missing required key '%s' in configuration (at least one %s)",
                        key, entry);
        return 0;
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return fail(l, n, "'%s' must be a list of %s entries, got %s", key, entry, node_kind(n));
    if (required && seq_len(n) == 0)
        return fail(l, n, "'%s' must list at least one %s", key, entry);
    *out = n;
    return 0;
}

/* A top-level list of maps (staff, categories, tokens, windows, matters): the list is checked,
 * the config's arrays sized for it, and each entry opened with its keys and loaded in order. */
typedef struct {
    const char *key;                        /* "categories" */
    bool required;
    const char *entry;                      /* "category", for messages */
    const char *const *keys;                /* what an entry may hold */
    void (*alloc)(hk_config *c, size_t n);  /* sizes the config's arrays for n entries */
    int (*load)(ld *l, const mview *m, size_t i);   /* entry i, opened */
} list_spec;

static int load_list(ld *l, yaml_node_t *root, yaml_node_t *n, const list_spec *ls)
{
    yaml_node_t *list;
    if (top_list(l, root, n, ls->key, ls->required, ls->entry, &list))
        return -1;
    if (!list)
        return 0;
    size_t count = seq_len(list);
    ls->alloc(l->c, count);
    for (size_t i = 0; i < count; i++) {
        mview m;
        if (mv_open(l, &m, seq_item(l, list, i), ls->entry, ls->keys) || ls->load(l, &m, i))
            return -1;
    }
    return 0;
}

static void staff_alloc(hk_config *c, size_t n)
{
    c->nstaff = n;
    c->staff = hk_calloc(c->nstaff, sizeof *c->staff);
}

static int staff_entry(ld *l, const mview *m, size_t i)
{
    hk_config *c = l->c;
    hk_staff_cfg *s = &c->staff[i];
    if (want_str(l, m, "id", true, NULL, &s->id) || want_str(l, m, "name", true, NULL, &s->name) ||
        want_str(l, m, "title", false, NULL, &s->title) ||
        want_str(l, m, "photo", false, NULL, &s->photo))
        return -1;
    for (size_t j = 0; j < i; j++)
        if (!strcmp(c->staff[j].id, s->id))
            return fail(l, mv_get(m, "id"), "duplicate staff id '%s'", s->id);
    return 0;
}

static int load_staff(ld *l, yaml_node_t *root, yaml_node_t *n)
{
    static const char *const keys[] = { "id", "name", "title", "photo", NULL };
    static const list_spec spec = { "staff", false, "staff", keys, staff_alloc, staff_entry };
    return load_list(l, root, n, &spec);
}

static void category_alloc(hk_config *c, size_t n)
{
    c->ncategories = n;
    c->categories = hk_calloc(c->ncategories, sizeof *c->categories);
    c->work.cat_alerts = hk_calloc(c->ncategories, sizeof *c->work.cat_alerts);
}

static int category_entry(ld *l, const mview *m, size_t i)
{
    hk_config *c = l->c;
    hk_category_cfg *cat = &c->categories[i];
    if (want_str(l, m, "id", true, NULL, &cat->id) || want_str(l, m, "name", true, NULL, &cat->name))
        return -1;
    if (!is_category_id(cat->id))
        return fail(l, mv_get(m, "id"),
                    "'id' in category must be 1 or 2 upper-case letters A-Z (the ticket prefix), got '%s'",
                    cat->id);
    for (size_t j = 0; j < i; j++)
        if (!strcmp(c->categories[j].id, cat->id))
            return fail(l, mv_get(m, "id"), "duplicate category id '%s'", cat->id);
    cat->weight = 1.0;
    yaml_node_t *w = mv_given(m, "weight");
    if (w) {
        char *end = NULL;
        double x = 0;
        if (is_plain(w)) {
            errno = 0;
            x = strtod(sv(w), &end);
        }
        if (!end || end == sv(w) || *end || errno || !isfinite(x) || x <= 0)
            return fail(l, w, "'weight' in category must be a number > 0, got %s%s%s",
                        w->type == YAML_SCALAR_NODE ? "'" : "",
                        w->type == YAML_SCALAR_NODE ? sv(w) : node_kind(w),
                        w->type == YAML_SCALAR_NODE ? "'" : "");
        cat->weight = x;
    }
    /* load alerts (core/posts.c): off unless set */
    hk_category_alert_cfg *al = &c->work.cat_alerts[i];
    if (want_int(l, m, "alert_wait_min", false, 0, 0, 24 * 60, &al->alert_wait_min) ||
        want_int(l, m, "alert_length", false, 0, 0, 100000, &al->alert_length) ||
        want_int(l, m, "daily_cap", false, 0, 0, 9999, &cat->daily_cap))   /* codes have 3-4 digits */
        return -1;
    return 0;
}

static int load_categories(ld *l, yaml_node_t *root, yaml_node_t *n)
{
    static const char *const keys[] = { "id", "name", "weight", "alert_wait_min", "alert_length", "daily_cap", NULL };
    static const list_spec spec = { "categories", true, "category", keys, category_alloc, category_entry };
    return load_list(l, root, n, &spec);
}

static void token_alloc(hk_config *c, size_t n)
{
    c->ntokens = n;
    c->tokens = hk_calloc(c->ntokens, sizeof *c->tokens);
}

static int token_entry(ld *l, const mview *m, size_t i)
{
    hk_config *c = l->c;
    hk_token_cfg *t = &c->tokens[i];
    char *role = NULL;
    if (want_str(l, m, "token", true, NULL, &t->token) || want_str(l, m, "role", true, NULL, &role))
        return -1;
    t->role = hk_role_parse(role);
    free(role);
    if (!t->role)
        return fail(l, mv_get(m, "role"),
                    "'role' in token must be one of kiosk, display, staff, security, admin, got '%s'",
                    sv(mv_get(m, "role")));
    const char *why;
    if (token_check(t->token, &why) < 0) return fail(l, mv_get(m, "token"), "%s", why);
    for (size_t j = 0; j < i; j++) {
        if (!strcmp(c->tokens[j].token, t->token))
            return fail(l, mv_get(m, "token"), "duplicate token (the same secret is listed twice)");
        /* a hello runs the one hash its token's id selects: ids of hashes are unique */
        if (token_is_hashed(t->token) && token_id_matches(c->tokens[j].token, (const uint8_t *)t->token, strlen(t->token)))
            return fail(l, mv_get(m, "token"), "duplicate token id '%.*s' (each hashed token needs its own id)",
                        (int)strcspn(t->token, "."), t->token);
    }
    if (want_str(l, m, "staff", false, NULL, &t->staff))
        return -1;
    if (t->role == HK_ROLE_STAFF && !t->staff)
        return fail(l, m->node, "token with role staff needs 'staff' (the id of a staff member)");
    if (t->role != HK_ROLE_STAFF && t->staff)
        return fail(l, mv_get(m, "staff"), "'staff' in token applies to role staff only, not %s",
                    hk_role_name(t->role));
    if (t->staff && !hk_config_staff(c, t->staff))
        return fail(l, mv_get(m, "staff"), "token names unknown staff id '%s' (not in staff)", t->staff);
    return 0;
}

static int load_tokens(ld *l, yaml_node_t *root, yaml_node_t *n)
{
    static const char *const keys[] = { "token", "role", "staff", NULL };
    static const list_spec spec = { "tokens", true, "token", keys, token_alloc, token_entry };
    return load_list(l, root, n, &spec);
}

/* windows[i].posts: {a: STAFF, b: STAFF} (AB posts, core/posts.c). A staff member is post A of
 * one window at most (A is where they sit); being B for several windows is allowed. */
static int load_window_posts(ld *l, const mview *wm, size_t i)
{
    static const char *const keys[] = { "a", "b", NULL };
    hk_config *c = l->c;
    const hk_window_cfg *w = &c->windows[i];
    hk_window_posts_cfg *p = &c->work.posts[i];
    yaml_node_t *n = mv_given(wm, "posts");
    char what[48];
    mview m;
    if (!n)
        return 0;
    snprintf(what, sizeof what, "posts of window %d", w->id);
    if (mv_open(l, &m, n, what, keys) || want_str(l, &m, "a", false, NULL, &p->a) ||
        want_str(l, &m, "b", false, NULL, &p->b))
        return -1;
    if (!p->a && !p->b)
        return fail(l, n, "posts of window %d must name post a, post b or both (staff ids)", w->id);
    if (p->a && !hk_config_staff(c, p->a))
        return fail(l, mv_get(&m, "a"), "posts of window %d name unknown staff id '%s' (not in staff)", w->id, p->a);
    if (p->b && !hk_config_staff(c, p->b))
        return fail(l, mv_get(&m, "b"), "posts of window %d name unknown staff id '%s' (not in staff)", w->id, p->b);
    if (p->a && p->b && !strcmp(p->a, p->b))
        return fail(l, mv_get(&m, "b"), "posts of window %d: staff '%s' cannot be both post a and post b", w->id, p->a);
    for (size_t j = 0; p->a && j < i; j++)
        if (c->work.posts[j].a && !strcmp(c->work.posts[j].a, p->a))
            return fail(l, mv_get(&m, "a"), "staff '%s' is already post a of window %d (one A post per person)",
                        p->a, c->windows[j].id);
    return 0;
}

static void window_alloc(hk_config *c, size_t n)
{
    c->nwindows = n;
    c->windows = hk_calloc(c->nwindows, sizeof *c->windows);
    c->work.posts = hk_calloc(c->nwindows, sizeof *c->work.posts);
}

static int window_entry(ld *l, const mview *m, size_t i)
{
    hk_config *c = l->c;
    hk_window_cfg *w = &c->windows[i];
    if (want_int(l, m, "id", true, 0, 1, INT_MAX, &w->id))
        return -1;
    for (size_t j = 0; j < i; j++)
        if (c->windows[j].id == w->id)
            return fail(l, mv_get(m, "id"), "duplicate window id %d", w->id);
    if (want_str(l, m, "name", true, NULL, &w->name) ||
        want_strlist(l, m, "categories", true, false, &w->categories, &w->ncategories) ||
        want_str(l, m, "zone", false, "hall", &w->zone))
        return -1;
    for (size_t k = 0; k < w->ncategories; k++) {
        if (!hk_config_category(c, w->categories[k]))
            return fail(l, strlist_node(l, m, "categories", k),
                        "window %d names unknown category '%s'", w->id, w->categories[k]);
        for (size_t j = 0; j < k; j++)
            if (!strcmp(w->categories[j], w->categories[k]))
                return fail(l, strlist_node(l, m, "categories", k),
                            "window %d lists category '%s' twice", w->id, w->categories[k]);
    }
    if (load_window_posts(l, m, i))
        return -1;
    return 0;
}

static int load_windows(ld *l, yaml_node_t *root, yaml_node_t *n)
{
    static const char *const keys[] = { "id", "name", "categories", "zone", "posts", NULL };
    static const list_spec spec = { "windows", true, "window", keys, window_alloc, window_entry };
    return load_list(l, root, n, &spec);
}

static const hk_gpio_line_cfg *gpio_line(const hk_config *c, const char *name)
{
    for (size_t i = 0; i < c->ngpio_lines; i++)
        if (c->gpio_lines[i].name && !strcmp(c->gpio_lines[i].name, name))
            return &c->gpio_lines[i];
    return NULL;
}

static int load_gpio_line(ld *l, yaml_node_t *n, size_t i)
{
    static const char *const keys[] = { "name", "chip", "offset", "dir", "active_low", "debounce_ms",
                                        "normal", "safe", "feedback", "feedback_ms", "fault_contact", "expect",
                                        "heartbeat_ms", NULL };
    hk_config *c = l->c;
    hk_gpio_line_cfg *g = &c->gpio_lines[i];
    mview m;
    char *dir = NULL;
    if (mv_open(l, &m, n, "gpio line", keys) || want_str(l, &m, "name", true, NULL, &g->name))
        return -1;
    if (!is_ident(g->name, 64))
        return fail(l, mv_get(&m, "name"), "'name' in gpio line must be 1 to 64 of A-Z a-z 0-9 _ -, got '%s'",
                    g->name);
    for (size_t j = 0; j < i; j++)
        if (!strcmp(c->gpio_lines[j].name, g->name))
            return fail(l, mv_get(&m, "name"), "duplicate gpio line name '%s'", g->name);
    if (want_str(l, &m, "chip", true, NULL, &g->chip) ||
        want_int(l, &m, "offset", true, 0, 0, 65535, &g->offset) ||
        want_str(l, &m, "dir", true, NULL, &dir))
        return -1;
    bool in = !strcmp(dir, "in"), out = !strcmp(dir, "out");
    free(dir);
    if (!in && !out)
        return fail(l, mv_get(&m, "dir"), "'dir' in gpio line must be in or out, got '%s'",
                    sv(mv_get(&m, "dir")));
    g->dir = in ? HK_GPIO_IN : HK_GPIO_OUT;
    for (size_t j = 0; j < i; j++)
        if (!strcmp(c->gpio_lines[j].chip, g->chip) && c->gpio_lines[j].offset == g->offset)
            return fail(l, mv_get(&m, "offset"), "gpio line '%s' uses %s offset %d, already used by line '%s'",
                        g->name, g->chip, g->offset, c->gpio_lines[j].name);
    static const char *const in_only[] = { "debounce_ms", "fault_contact", "expect", "heartbeat_ms", NULL },
                             *const out_only[] = { "normal", "safe", "feedback", "feedback_ms", NULL };
    const char *const *wrong = in ? out_only : in_only;
    for (size_t k = 0; wrong[k]; k++)
        if (mv_get(&m, wrong[k]))
            return fail(l, mv_get(&m, wrong[k]), "'%s' in gpio line applies to dir: %s only ('%s' is dir: %s)",
                        wrong[k], in ? "out" : "in", g->name, in ? "in" : "out");
    if (want_bool(l, &m, "active_low", false, &g->active_low) ||
        want_int(l, &m, "debounce_ms", false, 50, 0, 60000, &g->debounce_ms) ||
        want_int(l, &m, "normal", false, 0, 0, 1, &g->normal) ||
        want_int(l, &m, "safe", false, g->normal, 0, 1, &g->safe) ||
        want_str(l, &m, "feedback", false, NULL, &g->feedback) ||
        want_int(l, &m, "feedback_ms", false, 2000, 50, 60000, &g->feedback_ms) ||
        want_bool(l, &m, "fault_contact", false, &g->fault_contact) ||
        want_int(l, &m, "expect", false, 0, 0, 1, &g->expect) ||
        want_int(l, &m, "heartbeat_ms", false, 0, 1000, 100000, &g->heartbeat_ms))
        return -1;
    g->has_expect = mv_get(&m, "expect") != NULL;
    if (out)
        g->debounce_ms = 0;
    return 0;
}

static int load_gpio(ld *l, yaml_node_t *n)
{
    static const char *const keys[] = { "backend", "lines", NULL };
    static const char *const backends[] = { "sim", "gpiod", NULL };
    hk_config *c = l->c;
    mview m;
    if (!n || is_null(n)) {
        c->gpio_backend = hk_strdup("sim");
        return 0;
    }
    if (mv_open(l, &m, n, "gpio", keys) || want_str(l, &m, "backend", false, "sim", &c->gpio_backend))
        return -1;
    if (!one_of(c->gpio_backend, backends))
        return fail(l, mv_get(&m, "backend"), "'backend' in gpio must be sim or gpiod, got '%s'",
                    c->gpio_backend);
    int rc;
    yaml_node_t *list = want_seq(l, &m, "lines", false, &rc);
    if (!list)
        return rc;
    c->ngpio_lines = seq_len(list);
    c->gpio_lines = hk_calloc(c->ngpio_lines, sizeof *c->gpio_lines);
    for (size_t i = 0; i < c->ngpio_lines; i++)
        if (load_gpio_line(l, seq_item(l, list, i), i))
            return -1;
    /* a feedback names an input of this hall, once every line is known */
    for (size_t i = 0; i < c->ngpio_lines; i++) {
        const hk_gpio_line_cfg *g = &c->gpio_lines[i], *f;
        if (!g->feedback)
            continue;
        if (!(f = gpio_line(c, g->feedback)) || f->dir != HK_GPIO_IN)
            return fail(l, seq_item(l, list, i), "'feedback' of gpio line '%s' must name an input line (dir: in), "
                        "got '%s'", g->name, g->feedback);
    }
    return 0;
}

/* An optional string copied into a fixed-size field of hk_audio_cfg ("" when absent). */
static int want_fixed(ld *l, const mview *m, const char *key, char *buf, size_t size)
{
    char *s = NULL;
    if (want_str(l, m, key, false, NULL, &s))
        return -1;
    if (!s)
        return 0;
    size_t n = strlen(s);
    free(s);
    if (n >= size)
        return fail(l, mv_get(m, key), "'%s' in %s must be shorter than %zu bytes", key, m->what, size);
    memcpy(buf, sv(mv_get(m, key)), n + 1);
    return 0;
}

/* A call template: text with {code}, {window} (its name) and {window_id}; {code} is required. */
static int check_template(ld *l, const mview *m, const char *key, const char *t)
{
    static const char *const names[] = { "{code}", "{window}", "{window_id}", NULL };
    bool code = false;
    for (const char *p = t; *p; p++) {
        if (*p == '}')
            return fail(l, mv_get(m, key), "'%s' in %s has a '}' without its '{'", key, m->what);
        if (*p != '{')
            continue;
        size_t i = 0;
        while (names[i] && strncmp(p, names[i], strlen(names[i])) != 0)
            i++;
        if (!names[i])
            return fail(l, mv_get(m, key),
                        "'%s' in %s: unknown placeholder at '%.16s' (expected {code}, {window}, {window_id})", key,
                        m->what, p);
        code |= i == 0;
        p += strlen(names[i]) - 1;
    }
    if (!code)
        return fail(l, mv_get(m, key), "'%s' in %s must contain {code}", key, m->what);
    return 0;
}

static int load_audio_zone(ld *l, yaml_node_t *n, size_t i)
{
    static const char *const keys[] = { "id", "sink", "path", "device", NULL };
    static const char *const sinks[] = { "file", "alsa", "none", NULL };
    hk_audio_cfg *a = &l->c->audio;
    mview m;
    if (mv_open(l, &m, n, "audio zone", keys) || want_fixed(l, &m, "id", a->zones[i].id, sizeof a->zones[i].id) ||
        want_fixed(l, &m, "sink", a->zones[i].sink, sizeof a->zones[i].sink))
        return -1;
    if (!a->zones[i].id[0])
        return fail(l, n, "missing required key 'id' in audio zone");
    for (size_t k = 0; k < i; k++)
        if (!strcmp(a->zones[k].id, a->zones[i].id))
            return fail(l, mv_get(&m, "id"), "audio zone '%s' is listed twice", a->zones[i].id);
    if (!a->zones[i].sink[0])
        snprintf(a->zones[i].sink, sizeof a->zones[i].sink, "%s", a->sink);
    if (!one_of(a->zones[i].sink, sinks))
        return fail(l, mv_get(&m, "sink"), "'sink' in audio zone must be file, alsa or none, got '%s'",
                    a->zones[i].sink);
    bool file = !strcmp(a->zones[i].sink, "file"), alsa = !strcmp(a->zones[i].sink, "alsa");
    if (mv_given(&m, "path") && !file)
        return fail(l, mv_get(&m, "path"), "'path' in audio zone is only for sink file");
    if (mv_given(&m, "device") && !alsa)
        return fail(l, mv_get(&m, "device"), "'device' in audio zone is only for sink alsa");
    char *target = a->zones[i].target;
    if (want_fixed(l, &m, file ? "path" : "device", target, sizeof a->zones[i].target))
        return -1;
    if (!target[0] && (file || alsa))
        snprintf(target, sizeof a->zones[i].target, "%s", file ? a->path : a->device);
    return 0;
}

static int load_window_template(ld *l, yaml_node_t *n, size_t i)
{
    static const char *const keys[] = { "window", "template", NULL };
    hk_audio_cfg *a = &l->c->audio;
    mview m;
    if (mv_open(l, &m, n, "audio window template", keys) ||
        want_int(l, &m, "window", true, 0, 1, INT_MAX, &a->window_templates[i].window) ||
        want_fixed(l, &m, "template", a->window_templates[i].template_, sizeof a->window_templates[i].template_))
        return -1;
    if (!hk_config_window(l->c, a->window_templates[i].window))
        return fail(l, mv_get(&m, "window"), "'window' in audio window template: no window %d",
                    a->window_templates[i].window);
    if (!a->window_templates[i].template_[0])
        return fail(l, n, "missing required key 'template' in audio window template");
    return check_template(l, &m, "template", a->window_templates[i].template_);
}

static int load_audio(ld *l, yaml_node_t *n)
{
    static const char *const keys[] = { "sink", "path", "device", "voice", "zones", "template",
                                        "window_templates", "repeat", "digits", "second_language",
                                        "second_template", "evac_tone_s", NULL };
    static const char *const sinks[] = { "file", "alsa", "none", NULL };
    hk_audio_cfg *a = &l->c->audio;
    mview m;
    static const char *const none[] = { NULL };
    mview empty = { .node = n, .what = "audio", .keys = none };
    if (n && !is_null(n)) {
        if (mv_open(l, &m, n, "audio", keys))
            return -1;
    } else {
        m = empty;
    }
    if (want_str(l, &m, "sink", false, "file", &a->sink) ||
        want_str(l, &m, "path", false, "announcements.wav", &a->path) ||
        want_str(l, &m, "device", false, "default", &a->device) ||
        want_strlist(l, &m, "voice", false, true, &a->voices, &a->nvoices))
        return -1;
    if (!one_of(a->sink, sinks))
        return fail(l, mv_get(&m, "sink"), "'sink' in audio must be file, alsa or none, got '%s'", a->sink);
    if (mv_given(&m, "voice") && a->nvoices == 0)
        return fail(l, mv_get(&m, "voice"), "'voice' in audio must name at least one voice");
    if (a->nvoices == 0) {
        free(a->voices);
        a->voices = hk_calloc(1, sizeof *a->voices);
        a->voices[0] = hk_strdup("cmn");
        a->nvoices = 1;
    }
    if (m.keys == none)
        return 0;
    /* issue 5 keys, all optional */
    char digits[8] = "";
    int rc;
    if (want_fixed(l, &m, "template", a->template_, sizeof a->template_) ||
        (a->template_[0] && check_template(l, &m, "template", a->template_)) ||
        want_int(l, &m, "repeat", false, 2, 1, 5, &a->repeat) ||
        want_fixed(l, &m, "digits", digits, sizeof digits) ||
        want_fixed(l, &m, "second_language", a->second_language, sizeof a->second_language) ||
        want_fixed(l, &m, "second_template", a->second_template, sizeof a->second_template) ||
        (a->second_template[0] && check_template(l, &m, "second_template", a->second_template)) ||
        want_int(l, &m, "evac_tone_s", false, 10, 8, 20, &a->evac_tone_s))
        return -1;
    if (digits[0] && strcmp(digits, "ling") && strcmp(digits, "yao"))
        return fail(l, mv_get(&m, "digits"), "'digits' in audio must be ling or yao, got '%s'", digits);
    a->digits = !strcmp(digits, "yao");
    if (a->second_template[0] && !a->second_language[0])
        return fail(l, mv_get(&m, "second_template"), "'second_template' in audio needs 'second_language'");
    if (a->second_language[0] && !is_ident(a->second_language, HK_AUDIO_NAME_MAX - 1))
        return fail(l, mv_get(&m, "second_language"), "'second_language' in audio must be an espeak-ng voice like en");
    yaml_node_t *zl = want_seq(l, &m, "zones", false, &rc);
    if (rc)
        return rc;
    if (zl) {
        if (seq_len(zl) == 0 || seq_len(zl) > HK_AUDIO_ZONES_MAX)
            return fail(l, zl, "'zones' in audio must list 1 to %d zones", HK_AUDIO_ZONES_MAX);
        a->nzones = seq_len(zl);
        for (size_t i = 0; i < a->nzones; i++)
            if (load_audio_zone(l, seq_item(l, zl, i), i))
                return -1;
        for (size_t w = 0; w < l->c->nwindows; w++) {
            size_t i = 0;
            while (i < a->nzones && strcmp(a->zones[i].id, l->c->windows[w].zone))
                i++;
            if (i == a->nzones)
                return fail(l, zl, "window %d's zone '%s' is not among the audio zones", l->c->windows[w].id,
                            l->c->windows[w].zone);
        }
    }
    yaml_node_t *tl = want_seq(l, &m, "window_templates", false, &rc);
    if (rc)
        return rc;
    if (tl) {
        if (seq_len(tl) > HK_AUDIO_WINDOW_TEMPLATES_MAX)
            return fail(l, tl, "'window_templates' in audio lists more than %d entries", HK_AUDIO_WINDOW_TEMPLATES_MAX);
        a->nwindow_templates = seq_len(tl);
        for (size_t i = 0; i < a->nwindow_templates; i++)
            if (load_window_template(l, seq_item(l, tl, i), i))
                return -1;
    }
    return 0;
}

/* Which of the optional step keys each `do` takes; anything else is an error (a typo would
 * otherwise silently drop a part of an emergency procedure). */
static const struct {
    const char *do_;
    const char *const keys[4];
} step_kinds[] = {
    { "gpio", { "line", "value", NULL } },
    { "queue_freeze", { NULL } },
    { "display", { "mode", "text", NULL } },
    { "announce", { "text", "loop", "zones", NULL } },
    { "checklist", { "text", NULL } },
    { "alert", { "text", "roles", NULL } },
    { "occupancy", { "mode", "cap", NULL } },
    { "notice", { "text", "zones", NULL } },
};

static int load_step(ld *l, yaml_node_t *n, hk_step_cfg *s)
{
    static const char *const keys[] = { "do", "line", "value", "mode", "text", "loop", "roles", "cap",
                                        "zones", NULL };
    hk_config *c = l->c;
    mview m;
    if (mv_open(l, &m, n, "step", keys) || want_str(l, &m, "do", true, NULL, &s->do_))
        return -1;
    size_t kind = 0, nkinds = sizeof step_kinds / sizeof step_kinds[0];
    while (kind < nkinds && strcmp(step_kinds[kind].do_, s->do_))
        kind++;
    if (kind == nkinds)
        return fail(l, mv_get(&m, "do"),
                    "'do' in step must be one of gpio, queue_freeze, display, announce, checklist, alert, "
                    "occupancy, notice, got '%s'", s->do_);
    char what[48];
    snprintf(what, sizeof what, "%s step", s->do_);
    m.what = what;          /* "missing required key 'text' in announce step" */
    for (size_t k = 1; keys[k]; k++) {
        if (!m.key[k] || one_of(keys[k], step_kinds[kind].keys))
            continue;
        char exp[128];
        keys_list(step_kinds[kind].keys, exp, sizeof exp);
        return fail(l, m.key[k], "key '%s' does not apply to do: %s (it takes %s)", keys[k], s->do_,
                    *exp ? exp : "no other keys");
    }
    if (!strcmp(s->do_, "gpio")) {
        if (want_str(l, &m, "line", true, NULL, &s->line) || want_int(l, &m, "value", true, 0, 0, 1, &s->value))
            return -1;
        const hk_gpio_line_cfg *g = gpio_line(c, s->line);
        if (!g)
            return fail(l, mv_get(&m, "line"), "gpio step names unknown line '%s' (not in gpio.lines)", s->line);
        if (g->dir != HK_GPIO_OUT)
            return fail(l, mv_get(&m, "line"), "gpio step sets line '%s', which is an input (dir: in)", s->line);
    } else if (!strcmp(s->do_, "display")) {
        static const char *const modes[] = { "evacuation", "notice", "normal", NULL };
        if (want_str(l, &m, "mode", true, NULL, &s->mode) || want_str(l, &m, "text", false, NULL, &s->text))
            return -1;
        if (!one_of(s->mode, modes))
            return fail(l, mv_get(&m, "mode"), "'mode' in %s must be evacuation, notice or normal, got '%s'", m.what,
                        s->mode);
    } else if (!strcmp(s->do_, "announce") || !strcmp(s->do_, "notice")) {
        if (want_str(l, &m, "text", true, NULL, &s->text) || want_bool(l, &m, "loop", false, &s->loop) ||
            want_strlist(l, &m, "zones", false, false, &s->zones, &s->nzones))
            return -1;
    } else if (!strcmp(s->do_, "checklist")) {
        if (want_str(l, &m, "text", true, NULL, &s->text))
            return -1;
    } else if (!strcmp(s->do_, "alert")) {
        char **roles = NULL;
        size_t nroles = 0;
        if (want_str(l, &m, "text", true, NULL, &s->text))
            return -1;
        int rc = want_strlist(l, &m, "roles", false, false, &roles, &nroles);
        for (size_t k = 0; rc == 0 && k < nroles; k++) {
            int r = hk_role_parse(roles[k]);
            if (!r)
                rc = fail(l, strlist_node(l, &m, "roles", k),
                          "'roles' in alert step: unknown role '%s' (expected kiosk, display, staff, security, admin)",
                          roles[k]);
            s->roles |= r;
        }
        for (size_t k = 0; roles && k < nroles; k++)
            free(roles[k]);
        free(roles);
        if (rc)
            return -1;
        if (!mv_given(&m, "roles"))
            s->roles = HK_ROLE_STAFF | HK_ROLE_SECURITY | HK_ROLE_ADMIN;
        else if (!s->roles)
            return fail(l, mv_get(&m, "roles"), "'roles' in alert step must name at least one role");
    } else if (!strcmp(s->do_, "occupancy")) {
        static const char *const modes[] = { "cap", "appointments_only", NULL };
        if (want_str(l, &m, "mode", false, "cap", &s->mode))
            return -1;
        if (!one_of(s->mode, modes))
            return fail(l, mv_get(&m, "mode"), "'mode' in %s must be cap or appointments_only, got '%s'", m.what,
                        s->mode);
        bool cap = !strcmp(s->mode, "cap");
        if (!cap && mv_get(&m, "cap"))
            return fail(l, mv_get(&m, "cap"), "'cap' in occupancy step applies to mode: cap only");
        if (cap && want_int(l, &m, "cap", true, 0, 0, INT_MAX, &s->cap))
            return -1;
    }
    return 0;
}

static int load_playbook(ld *l, yaml_node_t *n, size_t i)
{
    static const char *const keys[] = { "id", "name", "silent", "severity", "triggers", "triggers_required",
                                        "report", "steps", NULL };
    hk_config *c = l->c;
    hk_playbook_cfg *p = &c->playbooks[i];
    mview m;
    if (mv_open(l, &m, n, "playbook", keys) || want_str(l, &m, "id", true, NULL, &p->id))
        return -1;
    if (!is_ident(p->id, 32))
        return fail(l, mv_get(&m, "id"), "'id' in playbook must be 1 to 32 of A-Z a-z 0-9 _ -, got '%s'", p->id);
    for (size_t j = 0; j < i; j++)
        if (!strcmp(c->playbooks[j].id, p->id))
            return fail(l, mv_get(&m, "id"), "duplicate playbook id '%s'", p->id);
    if (want_str(l, &m, "name", false, p->id, &p->name) || want_bool(l, &m, "silent", false, &p->silent) ||
        want_int(l, &m, "severity", false, 0, 0, 1000, &p->severity))
        return -1;
    int rc;
    yaml_node_t *tl = want_seq(l, &m, "triggers", false, &rc);
    if (rc)
        return -1;
    if (tl) {
        static const char *const tkeys[] = { "gpio", "value", NULL };
        p->ntriggers = seq_len(tl);
        p->triggers = hk_calloc(p->ntriggers, sizeof *p->triggers);
        for (size_t k = 0; k < p->ntriggers; k++) {
            hk_trigger_cfg *t = &p->triggers[k];
            mview tm;
            if (mv_open(l, &tm, seq_item(l, tl, k), "trigger", tkeys) ||
                want_str(l, &tm, "gpio", true, NULL, &t->gpio) ||
                want_int(l, &tm, "value", false, 1, 0, 1, &t->value))
                return -1;
            const hk_gpio_line_cfg *g = gpio_line(c, t->gpio);
            if (!g)
                return fail(l, mv_get(&tm, "gpio"), "trigger names unknown gpio line '%s' (not in gpio.lines)",
                            t->gpio);
            if (g->dir != HK_GPIO_IN)
                return fail(l, mv_get(&tm, "gpio"), "trigger uses gpio line '%s', which is an output (dir: out)",
                            t->gpio);
        }
    }
    if (want_int(l, &m, "triggers_required", false, 1, 1, 16, &p->triggers_required))
        return -1;
    static const char *const reports[] = { "now", "confirm", "none", NULL };
    char *report = NULL;
    if (want_str(l, &m, "report", false, NULL, &report))
        return -1;
    p->report = !report ? -1 : !strcmp(report, "now") ? HK_REPORT_NOW : !strcmp(report, "confirm") ? HK_REPORT_CONFIRM
              : !strcmp(report, "none") ? HK_REPORT_NONE : -2;
    bool report_ok = !report || one_of(report, reports);
    free(report);
    if (!report_ok)
        return fail(l, mv_get(&m, "report"), "'report' in playbook must be now, confirm or none, got '%s'",
                    sv(mv_get(&m, "report")));
    if ((size_t)p->triggers_required > (p->ntriggers ? p->ntriggers : 1))
        return fail(l, mv_get(&m, "triggers_required"), "'triggers_required' in playbook '%s' is %d, but it has "
                    "%zu trigger(s)", p->id, p->triggers_required, p->ntriggers);
    yaml_node_t *sl = want_seq(l, &m, "steps", false, &rc);
    if (rc)
        return -1;
    if (sl) {
        p->nsteps = seq_len(sl);
        p->steps = hk_calloc(p->nsteps, sizeof *p->steps);
        for (size_t k = 0; k < p->nsteps; k++)
            if (load_step(l, seq_item(l, sl, k), &p->steps[k]))
                return -1;
    }
    return 0;
}

static int load_emergency(ld *l, yaml_node_t *n)
{
    static const char *const keys[] = { "playbooks", NULL };
    hk_config *c = l->c;
    mview m;
    if (!n || is_null(n))
        return 0;
    int rc;
    if (mv_open(l, &m, n, "emergency", keys))
        return -1;
    yaml_node_t *list = want_seq(l, &m, "playbooks", false, &rc);
    if (!list)
        return rc;
    c->nplaybooks = seq_len(list);
    c->playbooks = hk_calloc(c->nplaybooks, sizeof *c->playbooks);
    for (size_t i = 0; i < c->nplaybooks; i++)
        if (load_playbook(l, seq_item(l, list, i), i))
            return -1;
    return 0;
}

/* work: the working day (core/posts.c). Every key is optional. */
static int load_work(ld *l, yaml_node_t *n)
{
    static const char *const keys[] = { "rollover", "checkin_before_min", "away_alert_min", "empty_alert_min", NULL };
    hk_work_cfg *wk = &l->c->work;
    mview m;
    wk->rollover_min = 0;
    wk->checkin_before_min = 10;
    wk->away_alert_min = 10;
    wk->empty_alert_min = 5;
    if (!n || is_null(n))
        return 0;
    if (mv_open(l, &m, n, "work", keys))
        return -1;
    yaml_node_t *r = mv_given(&m, "rollover");
    if (r && (r->type != YAML_SCALAR_NODE || strlen(sv(r)) != 5 || !parse_hhmm(sv(r), false, &wk->rollover_min)))
        return fail(l, r, "'rollover' in work must be a time of day \"HH:MM\" from 00:00 to 23:59, got %s%s%s",
                    r->type == YAML_SCALAR_NODE ? "'" : "", r->type == YAML_SCALAR_NODE ? sv(r) : node_kind(r),
                    r->type == YAML_SCALAR_NODE ? "'" : "");
    return want_int(l, &m, "checkin_before_min", false, 10, 0, 240, &wk->checkin_before_min) ||
           want_int(l, &m, "away_alert_min", false, 10, 1, 240, &wk->away_alert_min) ||
           want_int(l, &m, "empty_alert_min", false, 5, 1, 240, &wk->empty_alert_min) ? -1 : 0;
}
/* queue: the call policy's fairness rules and the appointment windows (docs/queue.md). Every key
 * is optional; an absent one takes its default. */
static int load_queue_policy(ld *l, yaml_node_t *n)
{
    static const char *const keys[] = { "priority_max_in_row", "normal_max_wait_min", "appointment_early_min",
                                        "appointment_grace_min", "priority_roles", "elderly_age", NULL };
    hk_queue_policy_cfg *q = &l->c->queue;
    mview m;
    q->set = true;
    q->priority_max_in_row = HK_DEFAULT_PRIORITY_MAX_IN_ROW;
    q->normal_max_wait_min = HK_DEFAULT_NORMAL_MAX_WAIT_MIN;
    q->appointment_early_min = HK_DEFAULT_APPOINTMENT_EARLY_MIN;
    q->appointment_grace_min = HK_DEFAULT_APPOINTMENT_GRACE_MIN;
    q->priority_roles = HK_DEFAULT_PRIORITY_ROLES;
    q->elderly_age = HK_DEFAULT_ELDERLY_AGE;
    if (!n || is_null(n))
        return 0;
    if (mv_open(l, &m, n, "queue", keys) ||
        want_int(l, &m, "priority_max_in_row", false, HK_DEFAULT_PRIORITY_MAX_IN_ROW, 1, 100,
                 &q->priority_max_in_row) ||
        want_int(l, &m, "normal_max_wait_min", false, HK_DEFAULT_NORMAL_MAX_WAIT_MIN, 1, 1440,
                 &q->normal_max_wait_min) ||
        want_int(l, &m, "appointment_early_min", false, HK_DEFAULT_APPOINTMENT_EARLY_MIN, 0, 720,
                 &q->appointment_early_min) ||
        want_int(l, &m, "appointment_grace_min", false, HK_DEFAULT_APPOINTMENT_GRACE_MIN, 0, 720,
                 &q->appointment_grace_min) ||
        want_int(l, &m, "elderly_age", false, HK_DEFAULT_ELDERLY_AGE, 40, 120, &q->elderly_age))
        return -1;
    /* who may issue priority tickets; [] leaves priority to appointments only */
    if (!mv_given(&m, "priority_roles"))
        return 0;
    char **roles = NULL;
    size_t nroles = 0;
    int rc = want_strlist(l, &m, "priority_roles", false, false, &roles, &nroles);
    q->priority_roles = 0;
    for (size_t k = 0; rc == 0 && k < nroles; k++) {
        int r = hk_role_parse(roles[k]);
        if (r != HK_ROLE_KIOSK && r != HK_ROLE_STAFF && r != HK_ROLE_ADMIN)
            rc = fail(l, strlist_node(l, &m, "priority_roles", k),
                      "'priority_roles' in queue: '%s' is not a role that issues tickets (expected kiosk, staff, admin)",
                      roles[k]);
        q->priority_roles |= r;
    }
    for (size_t k = 0; roles && k < nroles; k++)
        free(roles[k]);
    free(roles);
    return rc ? -1 : 0;
}

/* 四件管理 and 好差评 (docs/cases.md). A number in (lo, hi]: fractions and rates. */
static int cases_want_fraction(ld *l, const mview *m, const char *key, double lo, double hi, double def,
                               double *out)
{
    yaml_node_t *v = mv_given(m, key);
    *out = def;
    if (!v)
        return 0;
    char *end = NULL;
    double x = 0;
    if (is_plain(v)) {
        errno = 0;
        x = strtod(sv(v), &end);
    }
    if (!end || end == sv(v) || *end || errno || !isfinite(x) || x <= lo || x > hi)
        return fail(l, v, "'%s' in %s must be a number greater than %g and at most %g, got %s%s%s", key, m->what,
                    lo, hi, v->type == YAML_SCALAR_NODE ? "'" : "", v->type == YAML_SCALAR_NODE ? sv(v) : node_kind(v),
                    v->type == YAML_SCALAR_NODE ? "'" : "");
    *out = x;
    return 0;
}

static void matter_alloc(hk_config *c, size_t n)
{
    c->nmatters = n;
    c->matters = hk_calloc(c->nmatters, sizeof *c->matters);
}

static int matter_entry(ld *l, const mview *m, size_t i)
{
    hk_config *c = l->c;
    hk_matter_cfg *mt = &c->matters[i];
    if (want_str(l, m, "id", true, NULL, &mt->id))
        return -1;
    if (!is_ident(mt->id, 32))
        return fail(l, mv_get(m, "id"), "'id' in matter must be 1 to 32 of A-Z a-z 0-9 _ -, got '%s'", mt->id);
    for (size_t j = 0; j < i; j++)
        if (!strcmp(c->matters[j].id, mt->id))
            return fail(l, mv_get(m, "id"), "duplicate matter id '%s'", mt->id);
    if (want_str(l, m, "name", true, NULL, &mt->name) ||
        want_str(l, m, "category", true, NULL, &mt->category) ||
        want_int(l, m, "promised_days", true, 0, 1, 365, &mt->promised_days) ||
        want_int(l, m, "legal_days", false, 0, 1, 3650, &mt->legal_days))
        return -1;
    if (strlen(mt->name) > 120)
        return fail(l, mv_get(m, "name"), "'name' in matter is longer than 120 bytes");
    if (!hk_config_category(c, mt->category))
        return fail(l, mv_get(m, "category"), "matter '%s' names unknown category '%s'", mt->id, mt->category);
    if (mt->legal_days && mt->legal_days < mt->promised_days)
        return fail(l, mv_get(m, "legal_days"),
                    "matter '%s': legal_days (%d) must not be shorter than promised_days (%d)", mt->id,
                    mt->legal_days, mt->promised_days);
    return 0;
}

static int load_matters(ld *l, yaml_node_t *root, yaml_node_t *n)
{
    static const char *const keys[] = { "id", "name", "category", "promised_days", "legal_days", NULL };
    static const list_spec spec = { "matters", false, "matter", keys, matter_alloc, matter_entry };
    return load_list(l, root, n, &spec);
}

static int load_supervision(ld *l, yaml_node_t *n)
{
    static const char *const keys[] = { "warn_fraction", "default_days", NULL };
    hk_config *c = l->c;
    mview m;
    c->warn_fraction = HK_DEFAULT_WARN_FRACTION;
    c->default_case_days = HK_DEFAULT_CASE_DAYS;
    if (!n || is_null(n))
        return 0;
    if (mv_open(l, &m, n, "supervision", keys) ||
        cases_want_fraction(l, &m, "warn_fraction", 0, 0.99, HK_DEFAULT_WARN_FRACTION, &c->warn_fraction) ||
        want_int(l, &m, "default_days", false, HK_DEFAULT_CASE_DAYS, 1, 365, &c->default_case_days))
        return -1;
    return 0;
}

static int load_rating(ld *l, yaml_node_t *n)
{
    static const char *const keys[] = { "reasons", "target", NULL };
    hk_config *c = l->c;
    mview m;
    c->rating_target = HK_DEFAULT_RATING_TARGET;
    if (!n || is_null(n))
        return 0;
    if (mv_open(l, &m, n, "rating", keys) ||
        cases_want_fraction(l, &m, "target", 0, 1, HK_DEFAULT_RATING_TARGET, &c->rating_target) ||
        want_strlist(l, &m, "reasons", false, false, &c->rating_reasons, &c->nrating_reasons))
        return -1;
    if (mv_given(&m, "reasons") && c->nrating_reasons == 0)
        return fail(l, mv_get(&m, "reasons"), "'reasons' in rating must list at least one reason (leave it out for the defaults)");
    if (c->nrating_reasons > 32)
        return fail(l, mv_get(&m, "reasons"), "'reasons' in rating lists %zu reasons; at most 32 are allowed",
                    c->nrating_reasons);
    for (size_t i = 0; i < c->nrating_reasons; i++) {
        if (strlen(c->rating_reasons[i]) > 60)
            return fail(l, strlist_node(l, &m, "reasons", i), "a reason in rating is longer than 60 bytes");
        for (size_t j = 0; j < i; j++)
            if (!strcmp(c->rating_reasons[j], c->rating_reasons[i]))
                return fail(l, strlist_node(l, &m, "reasons", i), "rating lists the reason '%s' twice",
                            c->rating_reasons[i]);
    }
    return 0;
}
/* retention: {days}: how long closed cases, closed follow-ups, rating statistics and finished
 * appointments stay in memory and in the daily checkpoint (core/retention.h). */
static int load_retention(ld *l, yaml_node_t *n)
{
    static const char *const keys[] = { "days", NULL };
    mview m;
    l->c->retention_days = HK_DEFAULT_RETENTION_DAYS;
    if (!n || is_null(n))
        return 0;
    if (mv_open(l, &m, n, "retention", keys) ||
        want_int(l, &m, "days", false, HK_DEFAULT_RETENTION_DAYS, HK_MIN_RETENTION_DAYS, HK_MAX_RETENTION_DAYS,
                 &l->c->retention_days))
        return -1;
    return 0;
}
/* mobile: {public_url}: the base of the phone link on tickets (docs/mobile.md). */
static int load_mobile(ld *l, yaml_node_t *n)
{
    static const char *const keys[] = { "public_url", NULL };
    mview m;
    if (!n || is_null(n))
        return 0;
    if (mv_open(l, &m, n, "mobile", keys) || want_str(l, &m, "public_url", false, NULL, &l->c->mobile.public_url))
        return -1;
    char *u = l->c->mobile.public_url;
    if (!u)
        return 0;
    size_t len = strlen(u);
    while (len && u[len - 1] == '/')
        u[--len] = 0;   /* "https://q.example/" and "https://q.example" are the same base */
    bool scheme = !strncmp(u, "http://", 7) || !strncmp(u, "https://", 8);
    const char *host = u + (u[4] == 's' ? 8 : 7);
    if (!scheme || !*host || strpbrk(u, "?# \"'<>") || len > 200)
        return fail(l, mv_get(&m, "public_url"),
                    "'public_url' in mobile must be http://HOST[:PORT][/PATH] or https://..., without ? or #, "
                    "at most 200 characters, got '%s'", u);
    return 0;
}


/* printer: {device: PATH | tcp: "HOST:PORT", width_mm: 58|80, timeout_ms} (docs/printer.md). */
static int load_printer(ld *l, yaml_node_t *n)
{
    static const char *const keys[] = { "device", "tcp", "width_mm", "timeout_ms", NULL };
    hk_printer_cfg *p = &l->c->printer;
    mview m;
    if (!n || is_null(n))
        return 0;
    if (mv_open(l, &m, n, "printer", keys) || want_str(l, &m, "device", false, NULL, &p->device) ||
        want_str(l, &m, "tcp", false, NULL, &p->tcp) || want_int(l, &m, "width_mm", false, 80, 58, 80, &p->width_mm) ||
        want_int(l, &m, "timeout_ms", false, 5000, 500, 60000, &p->timeout_ms))
        return -1;
    if (!p->device == !p->tcp)
        return fail(l, n, "printer needs exactly one of 'device' (a device file, /dev/usb/lp0) or 'tcp' "
                          "(\"HOST:PORT\", a network printer, usually port 9100)");
    if (p->width_mm != 58 && p->width_mm != 80)
        return fail(l, mv_get(&m, "width_mm"), "'width_mm' in printer must be 58 or 80 (the paper width), got %d",
                    p->width_mm);
    if (p->tcp && !is_addr_port(p->tcp))
        return fail(l, mv_get(&m, "tcp"),
                    "'tcp' in printer must be IPv4:PORT, [IPv6]:PORT or localhost:PORT (no host names), got '%s'",
                    p->tcp);
    if (p->device && p->device[0] != '/')
        return fail(l, mv_get(&m, "device"), "'device' in printer must be an absolute path, got '%s'", p->device);
    return 0;
}

/* ups: the UPS through upsd. Adds the external inputs ups_on_battery and ups_battery_low to the
 * gpio lines (before the playbooks, whose triggers name them); a GPIO line of the same name is
 * the alternative, not both. */
static int load_ups(ld *l, yaml_node_t *n)
{
    static const char *const keys[] = { "host", "port", "name", "poll_ms", NULL };
    static const char *const lines[] = { "ups_on_battery", "ups_battery_low" };
    hk_config *c = l->c;
    hk_ups_cfg *u = &c->ups;
    mview m;
    if (!n || is_null(n))
        return 0;
    if (mv_open(l, &m, n, "ups", keys) || want_str(l, &m, "host", false, "127.0.0.1", &u->host) ||
        want_int(l, &m, "port", false, 3493, 1, 65535, &u->port) || want_str(l, &m, "name", true, NULL, &u->name) ||
        want_int(l, &m, "poll_ms", false, 2000, 200, 60000, &u->poll_ms))
        return -1;
    if (!is_ident(u->name, 64))
        return fail(l, mv_get(&m, "name"), "'name' in ups must be the UPS's name in upsd (1 to 64 of A-Z a-z 0-9 _ -), got '%s'",
                    u->name);
    for (size_t k = 0; k < 2; k++)
        if (gpio_line(c, lines[k]))
            return fail(l, n, "ups: the input '%s' comes from the UPS; remove the GPIO line of that name "
                              "(a GPIO contact is the alternative to ups:, not both)", lines[k]);
    c->gpio_lines = hk_realloc(c->gpio_lines, (c->ngpio_lines + 2) * sizeof *c->gpio_lines);
    for (size_t k = 0; k < 2; k++) {
        hk_gpio_line_cfg *x = &c->gpio_lines[c->ngpio_lines++];
        memset(x, 0, sizeof *x);
        x->name = hk_strdup(lines[k]);
        x->chip = hk_strdup("ups");
        x->offset = (int)k;
        x->dir = HK_GPIO_IN;
        x->external = true;
    }
    return 0;
}

/* Sections in dependency order: staff before tokens, categories before windows, gpio before
 * playbooks, so references can be checked as they are read. */
static int load_root(ld *l, yaml_node_t *root)
{
    static const char *const keys[] = { "hall", "http", "redis", "hours", "tokens", "staff", "categories",
                                        "windows", "gpio", "audio", "emergency",
                                        "work",
                                        "queue",
                                        "matters", "supervision", "rating",
                                        "retention",
                                        "mobile", "printer", "ups",
                                        NULL };
    mview m;
    if (root->type != YAML_MAPPING_NODE)
        return fail(l, root, "configuration must be a mapping with hall, tokens, categories, windows, got %s",
                    node_kind(root));
    if (mv_open(l, &m, root, "configuration", keys))
        return -1;
    if (load_hall(l, root, mv_get(&m, "hall")) || load_http(l, mv_get(&m, "http")) ||
        load_redis(l, mv_get(&m, "redis")) || load_hours(l, mv_get(&m, "hours")) ||
        load_staff(l, root, mv_get(&m, "staff")) || load_categories(l, root, mv_get(&m, "categories")) ||
        load_tokens(l, root, mv_get(&m, "tokens")) || load_windows(l, root, mv_get(&m, "windows")) ||
        load_gpio(l, mv_get(&m, "gpio")) || load_ups(l, mv_get(&m, "ups")) || load_audio(l, mv_get(&m, "audio")) ||
        load_emergency(l, mv_get(&m, "emergency")))
        return -1;
    if (load_work(l, mv_get(&m, "work")))
        return -1;
    if (load_queue_policy(l, mv_get(&m, "queue")))
        return -1;
    if (load_matters(l, root, mv_get(&m, "matters")) || load_supervision(l, mv_get(&m, "supervision")) ||
        load_rating(l, mv_get(&m, "rating")))
        return -1;
    if (load_retention(l, mv_get(&m, "retention")))
        return -1;
    if (load_mobile(l, mv_get(&m, "mobile")) || load_printer(l, mv_get(&m, "printer")))
        return -1;

    return 0;
}

/* HALL_REDIS_URL (when set and not empty) wins over redis.url: the same config file can then
 * run against a shared Redis in one place and the embedded one in another. */
static int apply_env(ld *l)
{
    const char *url = getenv("HALL_REDIS_URL");
    if (!url || !*url)
        return 0;
    if (!is_redis_url(url)) {
        snprintf(l->err, l->errlen,
                 "HALL_REDIS_URL: must be redis://HOST:PORT/DB or unix:///path/to/socket, got '%s'", url);
        return -1;
    }
    free(l->c->redis_url);
    l->c->redis_url = hk_strdup(url);
    return 0;
}

static int syntax_error(ld *l, const yaml_parser_t *p, const char *yaml, size_t len)
{
    yaml_node_t at = { .start_mark = p->problem_mark };
    if (p->error == YAML_READER_ERROR) {
        /* Encoding errors carry a byte offset, not a mark. */
        size_t line = 0;
        for (size_t i = 0; i < p->problem_offset && i < len; i++)
            line += yaml[i] == '\n';
        at.start_mark.line = line;
        return fail(l, &at, "YAML syntax error: %s (the file must be UTF-8 text)",
                    p->problem ? p->problem : "unreadable input");
    }
    if (p->context)
        return fail(l, &at, "YAML syntax error: %s (%s at line %lu)", p->problem ? p->problem : "?",
                    p->context, (unsigned long)p->context_mark.line + 1);
    return fail(l, &at, "YAML syntax error: %s", p->problem ? p->problem : "unreadable input");
}

int config_load_string(const char *yaml, size_t len, const char *name, hk_config *out, char *err,
                       size_t errlen)
{
    char dummy[1];
    ld l = { .name = name ? name : "config", .err = err ? err : dummy, .errlen = err ? errlen : sizeof dummy,
             .c = out };
    memset(out, 0, sizeof *out);
    if (l.errlen)
        l.err[0] = 0;

    yaml_parser_t parser;
    yaml_document_t doc, extra;
    if (!yaml_parser_initialize(&parser))
        return fail(&l, NULL, "cannot initialise the YAML parser");
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    if (!yaml_parser_load(&parser, &doc)) {
        int rc = syntax_error(&l, &parser, yaml, len);
        yaml_parser_delete(&parser);
        return rc;
    }
    l.doc = &doc;
    int rc = 0;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || is_null(root)) {
        rc = fail(&l, root, "empty configuration (expected a mapping with hall, tokens, categories, windows)");
    } else {
        rc = load_root(&l, root);
        /* A second document would be silently ignored: say so instead. */
        if (rc == 0) {
            if (!yaml_parser_load(&parser, &extra)) {
                rc = syntax_error(&l, &parser, yaml, len);
            } else {
                yaml_node_t *r2 = yaml_document_get_root_node(&extra);
                if (r2)
                    rc = fail(&l, r2, "more than one YAML document; a hall's configuration is one document");
                yaml_document_delete(&extra);
            }
        }
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (rc == 0)
        rc = apply_env(&l);
    if (rc)
        hk_config_free(out);
    return rc;
}

int config_load_file(const char *path, hk_config *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    int rc = 0;
    while (buf) {
        if (len == cap) {
            char *nb = cap >= CONFIG_MAX_BYTES ? NULL : realloc(buf, cap * 2);
            if (!nb) {
                snprintf(err, errlen, "%s: too large for a configuration (over %u bytes)", path,
                         CONFIG_MAX_BYTES);
                rc = -1;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) {
                snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
                rc = -1;
            }
            break;
        }
    }
    fclose(f);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    if (rc == 0)
        rc = config_load_string(buf, len, path, out, err, errlen);
    free(buf);
    return rc;
}
