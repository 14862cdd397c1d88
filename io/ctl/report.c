/* report.c: `hallctl report` and `hallctl archive` (docs/reports.md). Both fetch the
 * day's events from the daemon (report.events, page by page) and fold them with the same
 * aggregator the daemon uses (core/report.c), so the numbers agree with report.day. An archive
 * is a directory readable without hallkeeper: the events as JSON lines, the report as CSV, HTML
 * and JSON, a README and a SHA-256 manifest (`sha256sum -c MANIFEST.sha256` checks it). */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/report.h"
#include "core/utf8.h"
#include "core/codec/codec.h"
#include "client.h"
#include "json.h"
#include "wsclient.h"
#include "io/base/clock.h"
#include "io/base/fs.h"

enum { RX_OK = 0, RX_ERR = 1, RX_USAGE = 2, RX_CONN = 3 };

typedef struct {
    const char *url, *token;
    int timeout_ms;
    bool json, csv, html;
    const char *out;        /* archive: the directory */
    int32_t day;            /* 0 = today (the daemon's) */
    bool archive;
} rx_opts;

static const char rx_usage[] =
    "usage: hallctl [--url URL] [--token TOKEN] report [DAY] [--csv|--html|--json]\n"
    "       hallctl [--url URL] [--token TOKEN] archive DAY --out DIR\n"
    "  DAY is YYYYMMDD (default: today). An admin token is needed. docs/reports.md\n";

static int rx_usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "hallctl: ");
    fprintf(stderr, msg, arg);
    fprintf(stderr, "\n\n%s", rx_usage);
    return RX_USAGE;
}

static bool rx_day(const char *s, int32_t *day)
{
    if (!s || strlen(s) != 8 || strspn(s, "0123456789") != 8) return false;
    long v = strtol(s, NULL, 10);
    int m = (int)(v / 100 % 100), d = (int)(v % 100);
    if (v < 20000101 || m < 1 || m > 12 || d < 1 || d > 31) return false;
    *day = (int32_t)v;
    return true;
}

/* Reads the words after `report` / `archive`: DAY, --csv/--html/--json (or csv/html/json),
 * --out DIR (or, for archive, DIR after the day). */
static int rx_parse(rx_opts *o, int n, char **a)
{
    for (int i = 0; i < n; i++) {
        const char *w = a[i];
        const char *bare = !strncmp(w, "--", 2) ? w + 2 : w;
        if (!strcmp(bare, "csv") && !o->archive) o->csv = true;
        else if (!strcmp(bare, "html") && !o->archive) o->html = true;
        else if (!strcmp(bare, "json") && !o->archive) o->json = true;
        else if (!strncmp(w, "--out=", 6) && o->archive) o->out = w + 6;
        else if (!strcmp(w, "--out") && o->archive) {
            if (i + 1 >= n) return rx_usage_error("%s needs a directory", w);
            o->out = a[++i];
        } else if (!o->day && rx_day(w, &o->day)) {
            continue;
        } else if (o->archive && o->day && !o->out && w[0] != '-') {
            o->out = w;
        } else {
            return rx_usage_error("%s: unexpected argument (DAY is YYYYMMDD)", w);
        }
    }
    if (o->csv + o->html + (o->json && !o->archive) > 1) return rx_usage_error("%s", "choose one of --csv, --html, --json");
    if (o->archive && !o->day) return rx_usage_error("%s", "archive: DAY (YYYYMMDD) is required");
    if (o->archive && !o->out) return rx_usage_error("%s", "archive: --out DIR is required");
    return 0;
}

/* ---- JSON ------------------------------------------------------------------------------------ */

/* ---- the conversation ---------------------------------------------------------------------- */

typedef struct {
    const rx_opts *o;
    ctl_client cc;       /* the hall.v1 exchanges (io/ctl/client.c) */
} rx_conn;

/* One exchange (io/ctl/client.c); an err reply is printed here. RX_OK with *reply, RX_ERR or
 * RX_CONN (the same numbers as CTL_CLIENT_*). */
static int rx_request(rx_conn *c, const char *t, const hv *args, hv **reply)
{
    int rc = ctl_client_request(&c->cc, t, args, reply);
    if (rc == CTL_CLIENT_ERR) {
        const char *code = hv_get_str(*reply, "code"), *why = hv_get_str(*reply, "msg");
        fprintf(stderr, "error: %s: %s\n", code ? code : "?", why ? why : "");
    }
    return rc;
}

/* Every event of the day, in seq order, into *events (an array). Waits while the daemon reads an
 * earlier day from Redis (it answers loading). */
static int rx_fetch(rx_conn *c, int32_t *day, hv *events)
{
    int64_t after = 0;
    int64_t give_up = hk_clock_mono_ms() + (int64_t)c->o->timeout_ms * 6;
    for (;;) {
        hv *args = hv_map();
        if (*day) hv_set(args, "day", hv_int(*day));
        hv_set(args, "after", hv_int(after));
        hv *reply;
        int rc = rx_request(c, "report.events", args, &reply);
        hv_free(args);
        if (rc) { hv_free(reply); return rc; }
        bool loading = false, more = false;
        hv_get_bool(reply, "loading", &loading);
        if (loading) {
            int64_t retry = 300;
            hv_get_int(reply, "retry_ms", &retry);
            hv_free(reply);
            if (hk_clock_mono_ms() > give_up) {
                fprintf(stderr, "hallctl: the daemon is still reading day %d from Redis: try again later\n", *day);
                return RX_ERR;
            }
            usleep((useconds_t)(retry > 0 && retry < 5000 ? retry : 300) * 1000);
            continue;
        }
        int64_t d = 0, next = after;
        hv_get_int(reply, "day", &d);
        *day = (int32_t)d;
        hv_get_int(reply, "next", &next);
        hv_get_bool(reply, "more", &more);
        hv *evs = hv_get(reply, "events");
        size_t got = evs && evs->t == HV_ARR ? evs->u.a.n : 0;
        for (size_t i = 0; i < got; i++) hv_push(events, hv_dup(evs->u.a.v[i]));
        hv_free(reply);
        if (!more || got == 0 || next <= after) return RX_OK;
        after = next;
    }
}

/* The report of the fetched events, named like the daemon names it (config order, from hello). */
static report *rx_build(const hv *hello, int32_t day, const hv *events)
{
    report *r = report_new(day, hk_clock_local);
    const hv *hall = hv_get(hello, "hall");
    report_set_hall(r, hv_get_str(hall, "id"), hv_get_str(hall, "name"));
    const hv *st = hv_get(hello, "state");
    const hv *cats = hv_get(st, "categories");
    for (size_t i = 0; cats && cats->t == HV_ARR && i < cats->u.a.n; i++)
        report_name_category(r, hv_get_str(cats->u.a.v[i], "id"), hv_get_str(cats->u.a.v[i], "name"));
    const hv *wins = hv_get(st, "windows");
    for (size_t i = 0; wins && wins->t == HV_ARR && i < wins->u.a.n; i++) {
        int64_t id = 0;
        hv_get_int(wins->u.a.v[i], "id", &id);
        report_name_window(r, (int)id, hv_get_str(wins->u.a.v[i], "name"));
    }
    for (size_t i = 0; i < events->u.a.n; i++) report_add(r, events->u.a.v[i]);
    return r;
}

/* ---- text output ------------------------------------------------------------------------------ */

static int64_t ti(const hv *m, const char *a, const char *b)
{
    int64_t v = 0;
    hv_get_int(b ? hv_get(m, a) : m, b ? b : a, &v);
    return v;
}

static void rx_mmss(char *buf, size_t len, const hv *m, const char *a, const char *b)
{
    const hv *v = hv_get(hv_get(m, a), b);
    if (!v || v->t != HV_INT) snprintf(buf, len, "-");
    else snprintf(buf, len, "%" PRId64 ":%02" PRId64, v->u.i / 60, v->u.i % 60);
}

/* Prints s in exactly `cols` terminal columns (CJK characters take two), cut on a character. */
static void rx_pad(const char *s, int cols)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    int w = 0;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_seq_len(p + i, n - i);
        if (!l) { i++; continue; }
        int cw = l >= 3 ? 2 : 1;   /* the hall's names: CJK (3 bytes) is wide, ASCII narrow */
        if (w + cw > cols) break;
        fwrite(p + i, 1, l, stdout);
        w += cw;
        i += l;
    }
    for (; w < cols; w++) fputc(' ', stdout);
}

static void rx_line(const char *label, const hv *m)
{
    char wa[48], w95[48], sa[48], sat[16];   /* room for any int64 minutes:seconds */
    rx_mmss(wa, sizeof wa, m, "wait", "avg_s");
    rx_mmss(w95, sizeof w95, m, "wait", "p95_s");
    rx_mmss(sa, sizeof sa, m, "service", "avg_s");
    const hv *s = hv_get(hv_get(m, "ratings"), "satisfaction");
    if (s && s->t == HV_FLOAT) snprintf(sat, sizeof sat, "%.1f%%", s->u.f * 100);
    else snprintf(sat, sizeof sat, "-");
    fputs("  ", stdout);
    rx_pad(label, 16);
    printf(" issued %4" PRId64 "  served %4" PRId64 "  no-show %3" PRId64 "  wait avg %6s p95 %6s"
           "  service avg %6s  rated %3" PRId64 " satisfied %6s\n",
           ti(m, "issued", NULL), ti(m, "served", NULL), ti(m, "noshow", NULL), wa, w95, sa,
           ti(m, "ratings", "count"), sat);
}

static void rx_text(const hv *t)
{
    const hv *hall = hv_get(t, "hall");
    printf("%s  daily report %s  (%" PRId64 " events)\n", hv_get_str(hall, "name") ? hv_get_str(hall, "name") : "",
           hv_get_str(t, "date"), ti(t, "events", NULL));
    rx_line("hall", hv_get(t, "totals"));
    static const char *const dims[] = {"categories", "windows", "staff"};
    for (int k = 0; k < 3; k++) {
        const hv *a = hv_get(t, dims[k]);
        printf("%s:\n", dims[k]);
        for (size_t i = 0; a && i < a->u.a.n; i++) {
            const hv *row = a->u.a.v[i], *id = hv_get(row, "id");
            char label[64];
            const char *name = hv_get_str(row, "name");
            if (id->t == HV_INT) snprintf(label, sizeof label, "%" PRId64 " %s", id->u.i, name ? name : "");
            else snprintf(label, sizeof label, "%s %s", id->u.s.p, name ? name : "");
            rx_line(label, row);
        }
    }
    const hv *tot = hv_get(t, "totals");
    printf("cases: opened %" PRId64 ", closed on time %" PRId64 ", closed late %" PRId64 ", overdue %" PRId64
           "; follow-ups: opened %" PRId64 ", closed %" PRId64 "; alerts raised %" PRId64 "\n",
           ti(tot, "cases", "opened"), ti(tot, "cases", "closed_on_time"), ti(tot, "cases", "closed_late"),
           ti(tot, "cases", "overdue"), ti(tot, "followups", "opened"), ti(tot, "followups", "closed"),
           ti(tot, "alerts_raised", NULL));
}

/* ---- archive --------------------------------------------------------------------------------- */

typedef struct { char name[32]; unsigned char sum[crypto_hash_sha256_BYTES]; } rx_file;

/* Writes a file (fsync'd) and hashes what was written. */
static int rx_write(const char *dir, const char *name, const char *data, size_t len, rx_file *f)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    if (!fp) { fprintf(stderr, "hallctl: cannot write %s: %s\n", path, strerror(errno)); return -1; }
    size_t n = fwrite(data, 1, len, fp);
    int bad = n != len || fflush(fp) != 0 || fsync(fileno(fp)) != 0;
    if (fclose(fp) != 0) bad = 1;
    if (bad) { fprintf(stderr, "hallctl: cannot write %s: %s\n", path, strerror(errno)); return -1; }
    snprintf(f->name, sizeof f->name, "%s", name);
    crypto_hash_sha256(f->sum, (const unsigned char *)data, len);
    return 0;
}

static char *rx_memfile(void (*fill)(FILE *, const void *), const void *arg, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f) return NULL;
    fill(f, arg);
    fclose(f);
    return buf;
}

static void fill_events(FILE *f, const void *arg)
{
    const hv *events = arg;
    for (size_t i = 0; i < events->u.a.n; i++) {
        hv_json(f, events->u.a.v[i]);
        fputc('\n', f);
    }
}

static void fill_json(FILE *f, const void *arg)
{
    hv_json(f, arg);
    fputc('\n', f);
}

static const char rx_readme[] =
    "hallkeeper day archive (DB43/T 2422.5 service records)\n"
    "\n"
    "events.jsonl     every event of the hall on this day, one JSON object a line, in seq order,\n"
    "                 exactly as the controller recorded it (ev = name, seq = number, at = ms since\n"
    "                 1970-01-01 UTC). docs/protocol.md of hallkeeper describes each event.\n"
    "report.csv       the day report: one table (UTF-8 with BOM), a `section` column says what a\n"
    "                 row is (hall, category, window, staff, hour).\n"
    "report.html      the same report as a printable page.\n"
    "report.json      the same report as JSON (what the report.day command answers).\n"
    "MANIFEST.sha256  SHA-256 of each file above; check with: sha256sum -c MANIFEST.sha256\n";

static int rx_archive(const rx_opts *o, const hv *events, report *r)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/MANIFEST.sha256", o->out);
    if (access(path, F_OK) == 0) {
        fprintf(stderr, "hallctl: %s already holds an archive (MANIFEST.sha256): choose another directory\n", o->out);
        return RX_ERR;
    }
    if (hk_mkdirs(o->out, 0755) < 0) {
        fprintf(stderr, "hallctl: cannot create %s: %s\n", o->out, strerror(errno));
        return RX_ERR;
    }
    if (sodium_init() < 0) { fprintf(stderr, "hallctl: libsodium init failed\n"); return RX_ERR; }
    rx_file files[5];
    int nf = 0, bad = 0;
    size_t len = 0;
    char *s = rx_memfile(fill_events, events, &len);
    bad |= !s || rx_write(o->out, "events.jsonl", s, len, &files[nf++]) < 0;
    free(s);
    s = report_csv(r, &len);
    bad |= !s || rx_write(o->out, "report.csv", s, len, &files[nf++]) < 0;
    free(s);
    s = report_html(r, &len);
    bad |= !s || rx_write(o->out, "report.html", s, len, &files[nf++]) < 0;
    free(s);
    hv *tree = report_tree(r);
    s = rx_memfile(fill_json, tree, &len);
    hv_free(tree);
    bad |= !s || rx_write(o->out, "report.json", s, len, &files[nf++]) < 0;
    free(s);
    bad |= rx_write(o->out, "README.txt", rx_readme, strlen(rx_readme), &files[nf++]) < 0;
    if (bad) return RX_ERR;
    /* the manifest last: its presence says the archive is complete */
    char man[1024] = "";
    size_t off = 0;
    for (int i = 0; i < nf; i++) {
        char hex[crypto_hash_sha256_BYTES * 2 + 1];
        sodium_bin2hex(hex, sizeof hex, files[i].sum, sizeof files[i].sum);
        off += (size_t)snprintf(man + off, sizeof man - off, "%s  %s\n", hex, files[i].name);
    }
    rx_file mf;
    if (rx_write(o->out, "MANIFEST.sha256", man, off, &mf) < 0) return RX_ERR;
    if (o->json) {
        printf("{\"day\":%d,\"dir\":", o->day);
        hv_json_str(stdout, o->out, strlen(o->out));
        printf(",\"events\":%zu,\"files\":%d}\n", events->u.a.n, nf + 1);
    } else {
        printf("archived day %d: %zu events in %s (", o->day, events->u.a.n, o->out);
        for (int i = 0; i < nf; i++) printf("%s%s", i ? ", " : "", files[i].name);
        printf(", MANIFEST.sha256)\n");
    }
    return RX_OK;
}

/* ---- entry points ------------------------------------------------------------------------------ */

static int rx_run(rx_opts *o)
{
    if (!o->token || !*o->token) return rx_usage_error("%s", "no token: pass --token TOKEN or set HALL_TOKEN");
    rx_conn c = {.o = o, .cc = {.url = o->url, .timeout_ms = o->timeout_ms, .next_id = 1}};
    char err[256];
    int r = wsclient_connect(o->url, "hall.v1", o->timeout_ms, &c.cc.ws, err, sizeof err);
    if (r == WSC_EURL) return rx_usage_error("bad --url: %s", err);
    if (r) { fprintf(stderr, "cannot connect to %s: %s\n", o->url, err); return RX_CONN; }
    hv *hello = NULL, *events = hv_arr();
    hv *args = hv_set(hv_set(hv_map(), "token", hv_str(o->token)), "events", hv_bool(false));
    int rc = rx_request(&c, "hello", args, &hello);
    hv_free(args);
    int32_t day = o->day;
    if (!rc) rc = rx_fetch(&c, &day, events);
    if (!rc) {
        report *rep = rx_build(hello, day, events);
        rx_opts oo = *o;
        oo.day = day;
        if (o->archive) {
            rc = rx_archive(&oo, events, rep);
        } else if (o->csv || o->html) {
            size_t len = 0;
            char *s = o->csv ? report_csv(rep, &len) : report_html(rep, &len);
            fwrite(s, 1, len, stdout);
            free(s);
        } else {
            hv *tree = report_tree(rep);
            if (o->json) fill_json(stdout, tree);
            else rx_text(tree);
            hv_free(tree);
        }
        report_free(rep);
    }
    hv_free(hello);
    hv_free(events);
    wsclient_close(c.cc.ws, 1000);
    return rc;
}

int hallctl_report_run(int npos, char **pos, const char *url, const char *token, int timeout_ms, bool json)
{
    rx_opts o = {.url = url, .token = token, .timeout_ms = timeout_ms > 0 ? timeout_ms : 5000, .json = json};
    o.archive = !strcmp(pos[0], "archive");
    int rc = rx_parse(&o, npos - 1, pos + 1);
    return rc ? rc : rx_run(&o);
}

bool hallctl_report_claims(int argc, char **argv)
{
    static const char *const with_value[] = {"--url", "--token", "--timeout", NULL};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool skip = false;
        for (const char *const *w = with_value; *w; w++) skip |= !strcmp(a, *w);
        if (skip) { i++; continue; }
        if (a[0] == '-') continue;
        return !strcmp(a, "report") || !strcmp(a, "archive");
    }
    return false;
}

int hallctl_report_main(int argc, char **argv)
{
    const char *url = getenv("HALL_URL"), *token = getenv("HALL_TOKEN");
    int timeout_ms = 5000;
    bool json = false;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest) return RX_ERR;
    int n = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        const char *val = NULL;
        bool takes = (nl == 5 && !strncmp(a, "--url", 5)) || (nl == 7 && !strncmp(a, "--token", 7)) ||
                     (nl == 9 && !strncmp(a, "--timeout", 9));
        if (takes) {
            val = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
            if (!val) { free(rest); return rx_usage_error("%s needs a value", a); }
            if (a[2] == 'u') url = val;
            else if (a[2] == 't' && a[3] == 'o') token = val;
            else {
                char *end;
                double s = strtod(val, &end);
                if (end == val || *end || !(s > 0) || s > 86400) { free(rest); return rx_usage_error("bad --timeout \"%s\"", val); }
                timeout_ms = (int)ceil(s * 1000);
            }
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else {
            rest[n++] = argv[i];
        }
    }
    if (!url || !*url) url = "ws://127.0.0.1:8080/ws";
    int rc = n ? hallctl_report_run(n, rest, url, token, timeout_ms, json) : rx_usage_error("%s", "missing command");
    free(rest);
    return rc;
}
