/* harness_check.c: checks shared by the fuzz harnesses: failure reporting, reply shape, and
 * the replay invariant (events as persisted rebuild the same hall: state, seq and outputs). */
#include "harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec/codec.h"

const char *fuzz_input_name;

void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fuzz: invariant broken%s%s: ", fuzz_input_name ? " by " : "",
            fuzz_input_name ? fuzz_input_name : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

static void dump(const hv *v, int depth)
{
    if (!v) { fputs("(null)", stderr); return; }
    switch (v->t) {
    case HV_NIL: fputs("nil", stderr); break;
    case HV_BOOL: fputs(v->u.b ? "true" : "false", stderr); break;
    case HV_INT: fprintf(stderr, "%lld", (long long)v->u.i); break;
    case HV_FLOAT: fprintf(stderr, "%.17g", v->u.f); break;
    case HV_STR: fprintf(stderr, "\"%.*s\"", (int)(v->u.s.n > 200 ? 200 : v->u.s.n), v->u.s.p); break;
    case HV_ARR:
        fputc('[', stderr);
        for (size_t i = 0; i < v->u.a.n; i++) { if (i) fputs(", ", stderr); dump(v->u.a.v[i], depth + 1); }
        fputc(']', stderr);
        break;
    case HV_MAP:
        fputc('{', stderr);
        for (size_t i = 0; i < v->u.m.n; i++) {
            if (i) fputs(", ", stderr);
            fprintf(stderr, "%s: ", v->u.m.v[i].key);
            dump(v->u.m.v[i].val, depth + 1);
        }
        fputc('}', stderr);
        break;
    }
}

void fuzz_dump(const char *label, const hv *v)
{
    fprintf(stderr, "%s: ", label);
    dump(v, 0);
    fputc('\n', stderr);
}

/* contract.md: the stable machine words of err replies */
static const char *const err_codes[] = {"unauthenticated", "forbidden", "bad_request", "not_found",
                                        "conflict", "queue_empty", "closed", "frozen", "unavailable"};

void fuzz_take(hk_out *out, hv *log)
{
    if (out->reply) {
        const hv *r = out->reply;
        const char *t = hv_get_str(r, "t");
        FUZZ_CHECK(r->t == HV_MAP && t, "a reply without t");
        if (!strcmp(t, "err")) {
            const char *code = hv_get_str(r, "code");
            bool known = false;
            for (size_t i = 0; code && i < sizeof err_codes / sizeof *err_codes; i++)
                known = known || !strcmp(code, err_codes[i]);
            if (!known || !hv_get_str(r, "msg")) fuzz_dump("reply", r);
            FUZZ_CHECK(known, "err reply with code '%s', not a contract word", code ? code : "(none)");
            FUZZ_CHECK(hv_get_str(r, "msg"), "err reply without msg");
            /* a refused command changes nothing: otherwise the hub persists events of a request
             * the client was told failed */
            if (out->nevents) fuzz_dump("reply", r);
            FUZZ_CHECK(out->nevents == 0, "err reply '%s' with %zu events", code, out->nevents);
        } else {
            FUZZ_CHECK(!strcmp(t, "ok"), "reply t is '%s'", t);
        }
        /* the hub encodes every reply; it must encode */
        uint8_t *buf = NULL;
        size_t len = 0;
        FUZZ_CHECK(codec_encode(r, 16, &buf, &len) == 0, "reply does not encode");
        free(buf);
    }
    for (size_t i = 0; i < out->nevents; i++) {
        const hv *ev = out->events[i];
        FUZZ_CHECK(hv_get_str(ev, "ev") && hv_has(ev, "seq") && hv_has(ev, "at"), "event without ev/seq/at");
        /* what a display or kiosk connection would be sent */
        for (int role = HK_ROLE_KIOSK; role <= HK_ROLE_DISPLAY; role <<= 1) hv_free(hall_event_for_role(ev, role));
        (void)hall_event_audience(ev);
        hv_push(log, hv_dup(ev));
    }
    hk_out_clear(out);
}

static void check_outputs(const hk_hall *a, const hk_hall *b)
{
    const emergency_out *x = hall_outputs(a), *y = hall_outputs(b);
    FUZZ_CHECK(x->ngpio == y->ngpio, "outputs: gpio count");
    for (size_t i = 0; i < x->ngpio; i++)
        FUZZ_CHECK(x->gpio[i] == y->gpio[i], "outputs: gpio line %zu is %d live, %d replayed", i, x->gpio[i], y->gpio[i]);
    FUZZ_CHECK(x->nactive == y->nactive, "outputs: %zu incidents live, %zu replayed", x->nactive, y->nactive);
    for (size_t i = 0; i < x->nactive; i++) FUZZ_CHECK(x->active[i] == y->active[i], "outputs: incident order");
    FUZZ_CHECK(x->primary == y->primary && x->primary_public == y->primary_public, "outputs: primary");
    FUZZ_CHECK(x->drill == y->drill && x->frozen == y->frozen, "outputs: drill/frozen");
    FUZZ_CHECK(x->display == y->display && x->occupancy_cap == y->occupancy_cap &&
                   x->appointments_only == y->appointments_only && x->audience == y->audience,
               "outputs: display/occupancy/audience");
    FUZZ_CHECK(x->nannounce == y->nannounce && x->nalerts == y->nalerts, "outputs: announce/alerts");
}

/* What managers read besides the state: the lists and statistics of posts, appointments, cases
 * and ratings must come out the same from the replayed hall (their records are not all in
 * hall_state). Read-only commands: neither hall may emit anything for them. */
static void check_queries(const hk_hall *a, const hk_hall *b, hk_time now)
{
    static const char *const queries[][3] = {
        {"alerts.list", NULL, NULL},         {"duty.get", NULL, NULL},
        {"appointments.list", "date", "all"}, {"cases.list", "status", "all"},
        {"cases.stats", NULL, NULL},          {"cases.board", NULL, NULL},
        {"followups.list", "status", "all"},  {"ratings.stats", "by", "staff"},
    };
    for (size_t i = 0; i < sizeof queries / sizeof *queries; i++) {
        hv *req = hv_map();
        hv_set(req, "t", hv_str(queries[i][0]));
        hv_set(req, "id", hv_int(1));
        if (queries[i][1]) hv_set(req, queries[i][1], hv_str(queries[i][2]));
        hv *reply[2];
        const hk_hall *halls[2] = {a, b};
        for (int k = 0; k < 2; k++) {
            hk_session admin = {.role = HK_ROLE_ADMIN};
            hk_out out;
            hk_out_init(&out);
            /* hall_cmd takes a mutable hall; these commands only read it */
            hall_cmd((hk_hall *)halls[k], &admin, req, now, &out);
            FUZZ_CHECK(out.nevents == 0, "%s emitted %zu events", queries[i][0], out.nevents);
            reply[k] = out.reply;
            out.reply = NULL;
            hk_out_clear(&out);
        }
        if (!hv_equal(reply[0], reply[1])) {
            fuzz_dump("live", reply[0]);
            fuzz_dump("replayed", reply[1]);
            fuzz_fail("%s differs after replay", queries[i][0]);
        }
        hv_free(reply[0]);
        hv_free(reply[1]);
        hv_free(req);
    }
}

/* Replays log[from..] into a new hall on cfg and requires it to equal live (what = how the
 * replay started, for the failure message). */
static void replay_from(const hk_config *cfg, const hk_hall *live, const hv *log, size_t from, hk_time now,
                        const char *what)
{
    hk_hall *copy = hall_new(cfg);
    FUZZ_CHECK(copy, "hall_new failed on a config that built the live hall");
    for (size_t i = from; i < log->u.a.n; i++) {
        const hv *ev = log->u.a.v[i];
        uint8_t *buf = NULL;
        size_t len = 0;
        FUZZ_CHECK(codec_encode(ev, 0, &buf, &len) == 0, "event %zu does not encode", i);
        hv *back = NULL;
        int rc = codec_decode(buf, len, &back);
        free(buf);
        if (rc) fuzz_dump("event", ev);
        FUZZ_CHECK(rc == CODEC_OK, "event %zu does not decode: %s", i, codec_strerror(rc));
        rc = hall_replay(copy, back);
        if (rc) fuzz_dump("event", back);
        FUZZ_CHECK(rc == 0, "%s: event %zu (%s) refused by hall_replay", what, i, hv_get_str(ev, "ev"));
        hv_free(back);
    }
    FUZZ_CHECK(hall_seq(copy) == hall_seq(live), "%s: seq %llu live, %llu replayed", what,
               (unsigned long long)hall_seq(live), (unsigned long long)hall_seq(copy));
    static const int roles[] = {HK_ROLE_ADMIN, HK_ROLE_SECURITY, HK_ROLE_STAFF, HK_ROLE_DISPLAY, HK_ROLE_KIOSK};
    for (size_t i = 0; i < sizeof roles / sizeof *roles; i++) {
        hv *a = hall_state(live, roles[i], now), *b = hall_state(copy, roles[i], now);
        if (!hv_equal(a, b)) {
            fuzz_dump("live", a);
            fuzz_dump("replayed", b);
            fuzz_dump("events", log);
            fuzz_fail("%s: state for %s differs after replay", what, hk_role_name(roles[i]));
        }
        hv_free(a);
        hv_free(b);
    }
    check_outputs(live, copy);
    check_queries(live, copy, now);
    hall_free(copy);
}

void fuzz_replay_check(const hk_config *cfg, const hk_hall *live, const hv *log, hk_time now)
{
    replay_from(cfg, live, log, 0, now, "replay of every event");
    /* a restart replays from the latest daily checkpoint (day.checkpoint, after its parts) */
    for (size_t i = log->u.a.n; i-- > 0;) {
        const char *name = hv_get_str(log->u.a.v[i], "ev");
        if (!name || strcmp(name, "day.checkpoint")) continue;
        int64_t parts = 0;
        hv_get_int(log->u.a.v[i], "parts", &parts);
        FUZZ_CHECK(parts >= 0 && (size_t)parts <= i, "day.checkpoint with %lld parts", (long long)parts);
        replay_from(cfg, live, log, i - (size_t)parts, now, "replay from the latest day.checkpoint");
        break;
    }
}
