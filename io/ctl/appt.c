/* appt.c: `hallctl appointments import FILE.csv | list [DATE|all] | add ... | cancel NUMBER`
 * (see appt.h and docs/appointments.md). Arguments and the file are checked before
 * connecting, so a usage error never touches the hall. */
#include "appt.h"
#include "client.h"
#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/val.h"
#include "core/codec/codec.h"
#include "wsclient.h"

/* exit statuses, the same numbers as CTL_CLIENT_* (io/ctl/client.h) */
enum { AX_OK = 0, AX_ERR = 1, AX_USAGE = 2, AX_CONN = 3 };

static const char appt_usage[] =
    "usage: hallctl appointments import FILE.csv      all rows or none (header number,name,category,date,start,end[,matter[,phone]])\n"
    "       hallctl appointments list [YYYY-MM-DD|all] today's by default (staff, admin)\n"
    "       hallctl appointments add NUMBER NAME CATEGORY START END [MATTER]\n"
    "                                                  START/END: HH:MM (today) or \"YYYY-MM-DD HH:MM\"\n"
    "       hallctl appointments cancel NUMBER\n";

static int usage(const char *what)
{
    fprintf(stderr, "hallctl: %s\n\n%s", what, appt_usage);
    return AX_USAGE;
}

/* ---- the conversation ---- */

/* ---- output ---- */

static const char *s_or(const hv *m, const char *k, const char *d)
{
    const char *s = hv_get_str(m, k);
    return s ? s : d;
}

static void print_err(bool as_json, const hv *reply)
{
    if (as_json) { hv_json(stdout, reply); putchar('\n'); }
    fprintf(stderr, "error: %s: %s\n", s_or(reply, "code", "?"), s_or(reply, "msg", ""));
}

static void print_row(const hv *a)
{
    printf("%-20s  %s %s-%s  %-2s  %-10s  %-6s  %s", s_or(a, "number", "?"), s_or(a, "date", "?"),
           s_or(a, "slot_start", "?"), s_or(a, "slot_end", "?"), s_or(a, "category", "?"), s_or(a, "state", "?"),
           s_or(a, "ticket", "-"), s_or(a, "name", ""));
    if (hv_get_str(a, "matter")) printf("  (%s)", hv_get_str(a, "matter"));
    putchar('\n');
}

/* ---- the subcommands ---- */

/* The whole file, at most HALLCTL_APPT_CSV_MAX bytes. */
static int read_csv(const char *path, char **out)
{
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "hallctl: %s: cannot open: %s\n", path, strerror(errno)); return AX_USAGE; }
    char *buf = hk_malloc(HALLCTL_APPT_CSV_MAX + 2);
    size_t n = fread(buf, 1, HALLCTL_APPT_CSV_MAX + 1, f);
    bool failed = ferror(f);
    fclose(f);
    if (failed) { fprintf(stderr, "hallctl: %s: cannot read\n", path); free(buf); return AX_USAGE; }
    if (n > HALLCTL_APPT_CSV_MAX) {
        fprintf(stderr, "hallctl: %s: over %d bytes: split it into several imports\n", path, HALLCTL_APPT_CSV_MAX);
        free(buf);
        return AX_USAGE;
    }
    if (memchr(buf, 0, n)) { fprintf(stderr, "hallctl: %s: not a text file (it has NUL bytes)\n", path); free(buf); return AX_USAGE; }
    buf[n] = 0;
    *out = buf;
    return AX_OK;
}

static int run_list(ctl_client *c, bool as_json, const char *date)
{
    int64_t offset = 0, shown = 0;
    for (;;) {
        hv *args = hv_set(hv_map(), "offset", hv_int(offset)), *reply;
        if (date) hv_set(args, "date", hv_str(date));
        int rc = ctl_client_request(c, "appointments.list", args, &reply);
        hv_free(args);
        if (rc == AX_ERR) print_err(as_json, reply);
        if (rc) { hv_free(reply); return rc; }
        const hv *list = hv_get(reply, "appointments");
        size_t n = list && list->t == HV_ARR ? list->u.a.n : 0;
        if (offset == 0 && !as_json) printf("appointments for %s:\n", s_or(reply, "date", "?"));
        for (size_t i = 0; i < n; i++) {
            if (as_json) { hv_json(stdout, list->u.a.v[i]); putchar('\n'); }
            else print_row(list->u.a.v[i]);
        }
        shown += (int64_t)n;
        offset += (int64_t)n;
        bool more = false;
        hv_get_bool(reply, "more", &more);
        hv_free(reply);
        if (!more || n == 0) break;
    }
    if (!as_json) printf("%" PRId64 " appointment%s\n", shown, shown == 1 ? "" : "s");
    return AX_OK;
}

int hallctl_appt_main(const char *url, const char *token, bool as_json, int timeout_ms, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "";
    const char *t = NULL;
    hv *args = NULL;
    char *csv = NULL;
    int rc;
    if (!strcmp(sub, "import")) {
        if (argc != 2) return usage("usage: hallctl appointments import FILE.csv");
        if ((rc = read_csv(argv[1], &csv))) return rc;
        t = "appointment.import";
        args = hv_set(hv_map(), "csv", hv_str(csv));
        free(csv);
    } else if (!strcmp(sub, "list")) {
        if (argc > 2) return usage("usage: hallctl appointments list [YYYY-MM-DD|all]");
    } else if (!strcmp(sub, "add")) {
        if (argc < 6 || argc > 7) return usage("usage: hallctl appointments add NUMBER NAME CATEGORY START END [MATTER]");
        t = "appointment.add";
        args = hv_map();
        static const char *const keys[] = {"number", "name", "category", "slot_start", "slot_end", "matter"};
        for (int i = 1; i < argc; i++) hv_set(args, keys[i - 1], hv_str(argv[i]));
    } else if (!strcmp(sub, "cancel")) {
        if (argc != 2) return usage("usage: hallctl appointments cancel NUMBER");
        t = "appointment.cancel";
        args = hv_set(hv_map(), "number", hv_str(argv[1]));
    } else {
        return usage(*sub ? "unknown appointments command" : "appointments needs a command");
    }
    if (!token || !*token) { hv_free(args); return usage("no token: pass --token TOKEN or set HALL_TOKEN"); }

    ctl_client c = {.url = url, .timeout_ms = timeout_ms, .next_id = 1};
    char err[256];
    int r = wsclient_connect(url, "hall.v1", timeout_ms, &c.ws, err, sizeof err);
    if (r) {
        hv_free(args);
        fprintf(stderr, "cannot connect to %s: %s\n", url, err);
        return r == WSC_EURL ? AX_USAGE : AX_CONN;
    }
    hv *reply = NULL, *hello = hv_set(hv_map(), "token", hv_str(token));
    rc = ctl_client_request(&c, "hello", hello, &reply);
    hv_free(hello);
    if (rc == AX_ERR) print_err(as_json, reply);
    hv_free(reply);
    reply = NULL;
    if (rc) goto done;
    if (!t) {
        rc = run_list(&c, as_json, argc > 1 ? argv[1] : NULL);
        goto done;
    }
    rc = ctl_client_request(&c, t, args, &reply);
    if (rc == AX_ERR) print_err(as_json, reply);
    if (rc) goto done;
    if (as_json) {
        hv_json(stdout, reply);
        putchar('\n');
    } else if (!strcmp(t, "appointment.import")) {
        int64_t n = 0;
        hv_get_int(reply, "imported", &n);
        printf("imported %" PRId64 " appointment%s\n", n, n == 1 ? "" : "s");
    } else {
        const hv *a = hv_get(reply, "appointment");
        printf("%s ", !strcmp(t, "appointment.add") ? "added" : "cancelled");
        if (a) print_row(a);
        else putchar('\n');
    }
done:
    fflush(stdout);
    hv_free(reply);
    hv_free(args);
    wsclient_close(c.ws, 1000);
    return rc;
}
