/* incident_log.c: see incident_log.h. The canonical form and the parser are written to agree
 * with Python's json module (docs/incidents.md), so that a third party can check the chain
 * without this code. */
#include "core/utf8.h"
#include "incident_log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/log.h"
#include "io/base/clock.h"

#define IL_MAX_DEPTH 32

/* ---- a growable byte buffer ------------------------------------------------------------------ */

typedef struct { char *p; size_t n, cap; } ilbuf;

static void ilb_grow(ilbuf *b, size_t more)
{
    if (b->n + more + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + more + 1) cap *= 2;
    char *p = hk_realloc(b->p, cap);
    b->p = p;
    b->cap = cap;
}

static void ilb_add(ilbuf *b, const void *s, size_t n)
{
    ilb_grow(b, n);
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void ilb_cstr(ilbuf *b, const char *s) { ilb_add(b, s, strlen(s)); }

/* ---- canonical JSON -------------------------------------------------------------------------- */


/* core/json.h writes as json.dumps(ensure_ascii=False) does: the hash chain depends on it. */
static void il_put_str(ilbuf *b, const char *s, size_t n)
{
    size_t need = json_str(NULL, 0, s, n);
    ilb_grow(b, need);
    json_str(b->p + b->n, need + 1, s, n);
    b->n += need;
}

static void il_put(ilbuf *b, const hv *v, bool skip_hash)
{
    char num[40];
    if (!v) { ilb_cstr(b, "null"); return; }
    switch (v->t) {
    case HV_NIL: ilb_cstr(b, "null"); break;
    case HV_BOOL: ilb_cstr(b, v->u.b ? "true" : "false"); break;
    case HV_INT: snprintf(num, sizeof num, "%" PRId64, v->u.i); ilb_cstr(b, num); break;
    case HV_FLOAT:   /* records never hold floats (incident_log_append turns them into strings) */
        snprintf(num, sizeof num, "%.17g", v->u.f);
        ilb_cstr(b, num);
        break;
    case HV_STR: il_put_str(b, v->u.s.p, v->u.s.n); break;
    case HV_ARR:
        ilb_add(b, "[", 1);
        for (size_t i = 0; i < v->u.a.n; i++) {
            if (i) ilb_add(b, ",", 1);
            il_put(b, v->u.a.v[i], false);
        }
        ilb_add(b, "]", 1);
        break;
    case HV_MAP: {
        ilb_add(b, "{", 1);
        bool first = true;
        for (size_t i = 0; i < v->u.m.n; i++) {
            if (skip_hash && strcmp(v->u.m.v[i].key, "hash") == 0) continue;
            if (!first) ilb_add(b, ",", 1);
            first = false;
            il_put_str(b, v->u.m.v[i].key, strlen(v->u.m.v[i].key));
            ilb_add(b, ":", 1);
            il_put(b, v->u.m.v[i].val, false);
        }
        ilb_add(b, "}", 1);
        break;
    }
    }
}

char *incident_canon(const hv *rec, size_t *len)
{
    if (!rec || rec->t != HV_MAP) return NULL;
    ilbuf b = {0};
    il_put(&b, rec, true);
    if (len) *len = b.n;
    return b.p;
}

static void il_sha256_hex(const void *data, size_t n, char hex[INCIDENT_HASH_HEX + 1])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    if (sodium_init() < 0) abort();
    crypto_hash_sha256(h, data, n);
    sodium_bin2hex(hex, INCIDENT_HASH_HEX + 1, h, sizeof h);
}

int incident_hash(const hv *rec, char hex[INCIDENT_HASH_HEX + 1])
{
    size_t n;
    char *c = incident_canon(rec, &n);
    if (!c) return -1;
    il_sha256_hex(c, n, hex);
    free(c);
    return 0;
}

/* ---- a JSON parser (RFC 8259; enough to read our own lines back, strict otherwise) ------------ */

typedef struct { const char *s; size_t n, i; const char *why; } ilp;

static void ilp_ws(ilp *p)
{
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
        p->i++;
}

static int ilp_hex4(ilp *p, unsigned *out)
{
    if (p->n - p->i < 4) return -1;
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p->s[p->i + (size_t)k];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    p->i += 4;
    *out = v;
    return 0;
}

static void ilb_utf8(ilbuf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) { u[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { u[0] = (char)(0xc0 | cp >> 6); u[1] = (char)(0x80 | (cp & 0x3f)); n = 2; }
    else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | cp >> 12); u[1] = (char)(0x80 | ((cp >> 6) & 0x3f)); u[2] = (char)(0x80 | (cp & 0x3f)); n = 3;
    } else {
        u[0] = (char)(0xf0 | cp >> 18); u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); u[3] = (char)(0x80 | (cp & 0x3f)); n = 4;
    }
    ilb_add(b, u, n);
}

/* After the opening quote; the string's bytes (NULs possible) into b. */
static int ilp_string(ilp *p, ilbuf *b)
{
    for (;;) {
        if (p->i >= p->n) { p->why = "unterminated string"; return -1; }
        unsigned char c = (unsigned char)p->s[p->i];
        if (c == '"') { p->i++; return 0; }
        if (c < 0x20) { p->why = "control character in a string"; return -1; }
        if (c != '\\') {
            size_t l = utf8_seq_len((const unsigned char *)p->s + p->i, p->n - p->i);
            if (!l) { p->why = "invalid UTF-8"; return -1; }
            ilb_add(b, p->s + p->i, l);
            p->i += l;
            continue;
        }
        if (++p->i >= p->n) { p->why = "unterminated escape"; return -1; }
        char e = p->s[p->i++];
        const char *plain = e == '"' ? "\"" : e == '\\' ? "\\" : e == '/' ? "/" : e == 'b' ? "\b" : e == 'f' ? "\f"
                            : e == 'n' ? "\n" : e == 'r' ? "\r" : e == 't' ? "\t" : NULL;
        if (plain) { ilb_add(b, plain, 1); continue; }
        unsigned cp, lo;
        if (e != 'u' || ilp_hex4(p, &cp) < 0) { p->why = "bad escape"; return -1; }
        if (cp >= 0xd800 && cp < 0xdc00 && p->n - p->i >= 6 && p->s[p->i] == '\\' && p->s[p->i + 1] == 'u') {
            size_t save = p->i;
            p->i += 2;
            if (ilp_hex4(p, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            else p->i = save;
        }
        if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd;   /* a lone surrogate cannot be UTF-8 */
        ilb_utf8(b, cp);
    }
}

static hv *ilp_value(ilp *p, int depth);

static hv *ilp_number(ilp *p)
{
    size_t start = p->i;
    bool is_float = false;
    if (p->i < p->n && p->s[p->i] == '-') p->i++;
    size_t digits = p->i;
    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') p->i++;
    if (p->i == digits || (p->s[digits] == '0' && p->i - digits > 1)) { p->why = "bad number"; return NULL; }
    if (p->i < p->n && p->s[p->i] == '.') {
        is_float = true;
        size_t f = ++p->i;
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') p->i++;
        if (p->i == f) { p->why = "bad number"; return NULL; }
    }
    if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        is_float = true;
        p->i++;
        if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-')) p->i++;
        size_t f = p->i;
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') p->i++;
        if (p->i == f) { p->why = "bad number"; return NULL; }
    }
    char tmp[64];
    size_t len = p->i - start;
    if (len >= sizeof tmp) { p->why = "number too long"; return NULL; }
    memcpy(tmp, p->s + start, len);
    tmp[len] = '\0';
    if (!is_float) {
        errno = 0;
        long long v = strtoll(tmp, NULL, 10);
        if (errno != ERANGE) return hv_int(v);
    }
    return hv_float(strtod(tmp, NULL));
}

static bool ilp_word(ilp *p, const char *w)
{
    size_t l = strlen(w);
    if (p->n - p->i < l || memcmp(p->s + p->i, w, l) != 0) return false;
    p->i += l;
    return true;
}

static hv *ilp_value(ilp *p, int depth)
{
    if (depth > IL_MAX_DEPTH) { p->why = "nested too deeply"; return NULL; }
    ilp_ws(p);
    if (p->i >= p->n) { p->why = "unexpected end"; return NULL; }
    char c = p->s[p->i];
    if (c == '{') {
        p->i++;
        hv *m = hv_map();
        ilp_ws(p);
        if (p->i < p->n && p->s[p->i] == '}') { p->i++; return m; }
        for (;;) {
            ilp_ws(p);
            if (p->i >= p->n || p->s[p->i] != '"') { p->why = "expected a key"; hv_free(m); return NULL; }
            p->i++;
            ilbuf key = {0};
            ilb_grow(&key, 0);
            if (ilp_string(p, &key) < 0 || memchr(key.p, 0, key.n)) {
                if (!p->why) p->why = "NUL in a key";
                free(key.p);
                hv_free(m);
                return NULL;
            }
            ilp_ws(p);
            if (p->i >= p->n || p->s[p->i] != ':') { p->why = "expected ':'"; free(key.p); hv_free(m); return NULL; }
            p->i++;
            hv *v = ilp_value(p, depth + 1);
            if (!v) { free(key.p); hv_free(m); return NULL; }
            hv_setn(m, key.p, key.n, v);
            free(key.p);
            ilp_ws(p);
            if (p->i < p->n && p->s[p->i] == ',') { p->i++; continue; }
            if (p->i < p->n && p->s[p->i] == '}') { p->i++; return m; }
            p->why = "expected ',' or '}'";
            hv_free(m);
            return NULL;
        }
    }
    if (c == '[') {
        p->i++;
        hv *a = hv_arr();
        ilp_ws(p);
        if (p->i < p->n && p->s[p->i] == ']') { p->i++; return a; }
        for (;;) {
            hv *v = ilp_value(p, depth + 1);
            if (!v) { hv_free(a); return NULL; }
            hv_push(a, v);
            ilp_ws(p);
            if (p->i < p->n && p->s[p->i] == ',') { p->i++; continue; }
            if (p->i < p->n && p->s[p->i] == ']') { p->i++; return a; }
            p->why = "expected ',' or ']'";
            hv_free(a);
            return NULL;
        }
    }
    if (c == '"') {
        p->i++;
        ilbuf s = {0};
        ilb_grow(&s, 0);
        if (ilp_string(p, &s) < 0) { free(s.p); return NULL; }
        hv *v = hv_strn(s.p, s.n);
        free(s.p);
        return v;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return ilp_number(p);
    if (ilp_word(p, "true")) return hv_bool(true);
    if (ilp_word(p, "false")) return hv_bool(false);
    if (ilp_word(p, "null")) return hv_nil();
    p->why = "unexpected character";
    return NULL;
}

hv *incident_json_parse(const char *s, size_t n, char *err, size_t errlen)
{
    ilp p = {s, n, 0, NULL};
    hv *v = ilp_value(&p, 0);
    if (v) {
        ilp_ws(&p);
        if (p.i != p.n) { p.why = "text after the value"; hv_free(v); v = NULL; }
    }
    if (!v && err) snprintf(err, errlen, "%s at byte %zu", p.why ? p.why : "invalid JSON", p.i);
    return v;
}

/* ---- the chain ------------------------------------------------------------------------------- */

static bool il_is_hex64(const char *s)
{
    if (!s || strlen(s) != INCIDENT_HASH_HEX) return false;
    for (const char *c = s; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'))) return false;
    return true;
}

int incident_chain_check(hv *const *recs, size_t n, uint64_t first_n, const char *prev_hash,
                         uint64_t *bad_n, char *msg, size_t msglen)
{
    const char *prev = prev_hash ? prev_hash : INCIDENT_ZERO_HASH;
    for (size_t i = 0; i < n; i++) {
        uint64_t want = first_n + i;
        const hv *r = recs[i];
        int64_t got_n;
        const char *hash = r ? hv_get_str(r, "hash") : NULL;
        const char *rprev = r ? hv_get_str(r, "prev") : NULL;
        *bad_n = want;
        if (!r || r->t != HV_MAP) {
            snprintf(msg, msglen, "record %" PRIu64 ": the line is not a JSON record", want);
            return 1;
        }
        if (hv_get_int(r, "n", &got_n) < 0) {
            snprintf(msg, msglen, "record %" PRIu64 ": no record number (n)", want);
            return 1;
        }
        if ((uint64_t)got_n != want) {
            if (got_n > 0 && (uint64_t)got_n > want)
                snprintf(msg, msglen, "record %" PRIu64 " is missing: the line in its place holds record %" PRId64,
                         want, got_n);
            else
                snprintf(msg, msglen, "record %" PRIu64 ": the line in its place is numbered %" PRId64
                         " (records inserted, repeated or renumbered)", want, got_n);
            return 1;
        }
        if (!il_is_hex64(hash)) {
            snprintf(msg, msglen, "record %" PRIu64 ": no valid hash", want);
            return 1;
        }
        if (!rprev || strcmp(rprev, prev) != 0) {
            snprintf(msg, msglen, "record %" PRIu64 " does not link to the record before it (prev differs): "
                     "a record before it was changed, removed or inserted", want);
            return 1;
        }
        char h[INCIDENT_HASH_HEX + 1];
        incident_hash(r, h);
        if (strcmp(h, hash) != 0) {
            snprintf(msg, msglen, "record %" PRIu64 " was altered: its hash does not match its content", want);
            return 1;
        }
        prev = hash;
    }
    *bad_n = 0;
    snprintf(msg, msglen, "ok");
    return 0;
}

/* ---- the file -------------------------------------------------------------------------------- */

typedef struct { char *p; size_t n; } il_line;

struct incident_log {
    uv_loop_t *loop;
    int fd;
    char path[1100];
    il_line *lines;
    size_t nlines, cap;
    uint64_t next_n;
    char head[INCIDENT_HASH_HEX + 1];
    bool verified;
    uint64_t bad_n;
    char bad_msg[256];
    int in_flight, dirty, closing;
    uv_fs_t req;
};

static int il_read_all(int fd, char **out, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) < 0) return -errno;
    size_t n = (size_t)st.st_size, got = 0;
    char *buf = malloc(n + 1);
    if (!buf) return -ENOMEM;
    while (got < n) {
        ssize_t r = pread(fd, buf + got, n - got, (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) { int e = errno; free(buf); return -e; }
        if (r == 0) break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    *out = buf;
    *len = got;
    return 0;
}

static void il_push_line(il_line **lines, size_t *nlines, size_t *cap, const char *p, size_t n)
{
    if (*nlines == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        il_line *nl = hk_realloc(*lines, *cap * sizeof *nl);
        *lines = nl;
    }
    char *copy = hk_malloc(n + 1);
    memcpy(copy, p, n);
    copy[n] = '\0';
    (*lines)[*nlines].p = copy;
    (*lines)[*nlines].n = n;
    (*nlines)++;
}

/* Splits buf into lines; a last line without its newline counts as a (torn) line. */
static void il_split(const char *buf, size_t len, il_line **lines, size_t *nlines, size_t *cap)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\n') continue;
        il_push_line(lines, nlines, cap, buf + start, i - start);
        start = i + 1;
    }
    if (start < len) il_push_line(lines, nlines, cap, buf + start, len - start);
}

static void il_free_lines(il_line *lines, size_t n)
{
    for (size_t i = 0; i < n; i++) free(lines[i].p);
    free(lines);
}

static hv **il_parse_all(const il_line *lines, size_t n)
{
    hv **recs = hk_calloc(n ? n : 1, sizeof *recs);
    for (size_t i = 0; i < n; i++) recs[i] = incident_json_parse(lines[i].p, lines[i].n, NULL, 0);
    return recs;
}

static void il_free_recs(hv **recs, size_t n)
{
    for (size_t i = 0; i < n; i++) hv_free(recs[i]);
    free(recs);
}

/* Reads a whole log file and splits it into lines (which point into *buf). 0 or -errno. */
static int il_load(const char *path, char **buf, size_t *len, il_line **lines, size_t *n, char *msg,
                   size_t msglen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(msg, msglen, "cannot open %s: %s", path, strerror(e));
        return -e;
    }
    int rc = il_read_all(fd, buf, len);
    close(fd);
    if (rc < 0) { snprintf(msg, msglen, "cannot read %s: %s", path, strerror(-rc)); return rc; }
    size_t cap = 0;
    *lines = NULL;
    *n = 0;
    il_split(*buf, *len, lines, n, &cap);
    return 0;
}

int incident_log_verify(const char *path, uint64_t *count, uint64_t *bad_n, char *msg, size_t msglen)
{
    *count = *bad_n = 0;
    char *buf;
    size_t len, n;
    il_line *lines;
    int rc = il_load(path, &buf, &len, &lines, &n, msg, msglen);
    if (rc < 0) return rc;
    hv **recs = il_parse_all(lines, n);
    rc = incident_chain_check(recs, n, 1, INCIDENT_ZERO_HASH, bad_n, msg, msglen);
    if (rc == 0 && len && buf[len - 1] != '\n') {   /* a valid record cut before its newline */
        *bad_n = n;
        snprintf(msg, msglen, "record %zu: the last line is incomplete (no newline)", n);
        rc = 1;
    }
    *count = n;
    il_free_recs(recs, n);
    il_free_lines(lines, n);
    free(buf);
    return rc;
}

int incident_log_read(const char *path, hv ***recs, size_t *n, char *msg, size_t msglen)
{
    *recs = NULL;
    *n = 0;
    char *buf;
    size_t len, nl;
    il_line *lines;
    int rc = il_load(path, &buf, &len, &lines, &nl, msg, msglen);
    if (rc < 0) return rc;
    free(buf);
    hv **r = il_parse_all(lines, nl);
    for (size_t i = 0; i < nl; i++) {
        if (r[i] && r[i]->t == HV_MAP) continue;
        hv_free(r[i]);
        r[i] = hv_set(hv_map(), "raw", hv_strn(lines[i].p, lines[i].n));
    }
    il_free_lines(lines, nl);
    *recs = r;
    *n = nl;
    return 0;
}

static void il_sync_start(incident_log *l);

static void il_free(incident_log *l)
{
    if (l->fd >= 0) close(l->fd);
    il_free_lines(l->lines, l->nlines);
    free(l);
}

static void il_synced_cb(uv_fs_t *req)
{
    incident_log *l = req->data;
    if (req->result < 0) log_err("incident log %s: fdatasync failed: %s", l->path, uv_strerror((int)req->result));
    uv_fs_req_cleanup(req);
    l->in_flight = 0;
    if (l->closing) { il_free(l); return; }
    if (l->dirty) il_sync_start(l);
}

static void il_sync_start(incident_log *l)
{
    l->dirty = 0;
    if (!l->loop) {
        if (fdatasync(l->fd) < 0) log_err("incident log %s: fdatasync failed: %s", l->path, strerror(errno));
        return;
    }
    l->in_flight = 1;
    l->req.data = l;
    int rc = uv_fs_fdatasync(l->loop, &l->req, l->fd, il_synced_cb);
    if (rc < 0) {
        l->in_flight = 0;
        log_err("incident log %s: cannot fdatasync: %s", l->path, uv_strerror(rc));
    }
}

static int il_write_all(int fd, const char *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, p + off, n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -errno;
        off += (size_t)w;
    }
    return 0;
}

/* Records hold no floats (their text form differs between languages): they become strings. */
static void il_no_floats(hv *v)
{
    if (!v) return;
    if (v->t == HV_ARR)
        for (size_t i = 0; i < v->u.a.n; i++) il_no_floats(v->u.a.v[i]);
    if (v->t == HV_MAP)
        for (size_t i = 0; i < v->u.m.n; i++) {
            hv *x = v->u.m.v[i].val;
            if (x && x->t == HV_FLOAT) {
                char num[40];
                snprintf(num, sizeof num, "%.17g", x->u.f);
                hv_free(x);
                v->u.m.v[i].val = hv_str(num);
            } else {
                il_no_floats(x);
            }
        }
}

int64_t incident_log_append(incident_log *l, int64_t at, const char *kind, const char *playbook,
                            bool drill, const char *who, hv *detail)
{
    if (!detail || detail->t != HV_MAP) { hv_free(detail); detail = hv_map(); }
    il_no_floats(detail);
    hv *r = hv_map();
    hv_set(r, "n", hv_int((int64_t)l->next_n));
    hv_set(r, "at", hv_int(at));
    hv_set(r, "kind", hv_str(kind));
    hv_set(r, "playbook", playbook ? hv_str(playbook) : hv_nil());
    hv_set(r, "drill", hv_bool(drill));
    hv_set(r, "who", hv_str(who ? who : ""));
    hv_set(r, "detail", detail);
    hv_set(r, "prev", hv_str(l->head));
    size_t n = 0;
    char *canon = incident_canon(r, &n);
    hv_free(r);
    char hash[INCIDENT_HASH_HEX + 1];
    il_sha256_hex(canon, n, hash);
    /* the line is the canonical text with the hash as its last member */
    ilbuf line = {canon, n, n + 1};
    line.n--;   /* drop the closing brace */
    ilb_cstr(&line, ",\"hash\":\"");
    ilb_cstr(&line, hash);
    ilb_cstr(&line, "\"}\n");
    int rc = il_write_all(l->fd, line.p, line.n);
    if (rc < 0) {
        log_err("incident log %s: cannot write record %" PRIu64 ": %s", l->path, l->next_n, strerror(-rc));
        free(line.p);
        return rc;
    }
    il_push_line(&l->lines, &l->nlines, &l->cap, line.p, line.n - 1);
    free(line.p);
    memcpy(l->head, hash, sizeof hash);
    int64_t num = (int64_t)l->next_n++;
    if (l->in_flight) l->dirty = 1;
    else il_sync_start(l);
    return num;
}

/* Was this break already noted by a chain_broken record after it? (once, not at every start) */
static bool il_break_noted(hv **recs, size_t n, uint64_t bad_n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t b;
        const char *k = recs[i] ? hv_get_str(recs[i], "kind") : NULL;
        if (k && !strcmp(k, "chain_broken") && hv_get_int(hv_get(recs[i], "detail"), "bad_n", &b) == 0 &&
            (uint64_t)b == bad_n)
            return true;
    }
    return false;
}

incident_log *incident_log_open(uv_loop_t *loop, const char *data_dir, char *err, size_t errlen)
{
    incident_log *l = calloc(1, sizeof *l);
    if (!l) { snprintf(err, errlen, "out of memory"); return NULL; }
    l->loop = loop;
    snprintf(l->path, sizeof l->path, "%s/%s", data_dir, INCIDENT_LOG_FILE);
    l->fd = open(l->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (l->fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", l->path, strerror(errno));
        free(l);
        return NULL;
    }
    char *buf;
    size_t len;
    int rc = il_read_all(l->fd, &buf, &len);
    if (rc < 0) {
        snprintf(err, errlen, "cannot read %s: %s", l->path, strerror(-rc));
        il_free(l);
        return NULL;
    }
    il_split(buf, len, &l->lines, &l->nlines, &l->cap);
    bool torn = len && buf[len - 1] != '\n';
    free(buf);
    /* a cut last line stays as evidence, on a line of its own; the verifier will name it */
    if (torn && il_write_all(l->fd, "\n", 1) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", l->path, strerror(errno));
        il_free(l);
        return NULL;
    }

    size_t nread = l->nlines;
    hv **recs = il_parse_all(l->lines, nread);
    l->verified = incident_chain_check(recs, l->nlines, 1, INCIDENT_ZERO_HASH, &l->bad_n, l->bad_msg,
                                       sizeof l->bad_msg) == 0;
    if (l->verified && torn) {
        l->verified = false;
        l->bad_n = l->nlines;
        snprintf(l->bad_msg, sizeof l->bad_msg, "record %zu: the last line was incomplete (no newline)", l->nlines);
    }
    /* the chain continues from the last readable record; numbering after every line and every
     * number seen, so that no number is used twice even in a damaged file */
    snprintf(l->head, sizeof l->head, "%s", INCIDENT_ZERO_HASH);
    l->next_n = l->nlines + 1;
    for (size_t i = l->nlines; i-- > 0;) {
        int64_t num;
        const char *h = recs[i] ? hv_get_str(recs[i], "hash") : NULL;
        if (!il_is_hex64(h) || hv_get_int(recs[i], "n", &num) < 0 || num < 0) continue;
        snprintf(l->head, sizeof l->head, "%s", h);
        if ((uint64_t)num + 1 > l->next_n) l->next_n = (uint64_t)num + 1;
        break;
    }
    if (!l->verified) {
        log_err("INCIDENT LOG CHAIN BROKEN: %s: %s. The log continues; keep this file as evidence "
                "(hallctl incidents verify --file %s)", l->path, l->bad_msg, l->path);
        if (!il_break_noted(recs, nread, l->bad_n)) {
            hv *d = hv_map();
            hv_set(d, "bad_n", hv_int((int64_t)l->bad_n));
            hv_set(d, "reason", hv_str(l->bad_msg));
            hv_set(d, "lines", hv_int((int64_t)l->nlines));
            if (incident_log_append(l, hk_clock_now().ms, "chain_broken", NULL, false, "hallkeeper", d) < 0)
                log_err("incident log %s: cannot note the broken chain", l->path);
        }
    } else {
        log_info("incident log %s: %zu records, chain intact", l->path, l->nlines);
    }
    il_free_recs(recs, nread);
    return l;
}

size_t incident_log_count(const incident_log *l) { return l->nlines; }

const char *incident_log_line(const incident_log *l, size_t i, size_t *len)
{
    if (i >= l->nlines) return NULL;
    if (len) *len = l->lines[i].n;
    return l->lines[i].p;
}

hv *incident_log_record(const incident_log *l, size_t i)
{
    if (i >= l->nlines) return NULL;
    return incident_json_parse(l->lines[i].p, l->lines[i].n, NULL, 0);
}

bool incident_log_verified(const incident_log *l, uint64_t *bad_n, const char **msg)
{
    if (bad_n) *bad_n = l->verified ? 0 : l->bad_n;
    if (msg) *msg = l->verified ? "ok" : l->bad_msg;
    return l->verified;
}

const char *incident_log_head_hash(const incident_log *l) { return l->head; }
uint64_t incident_log_next_n(const incident_log *l) { return l->next_n; }

void incident_log_close(incident_log *l)
{
    if (!l) return;
    if (l->in_flight) { l->closing = 1; return; }
    il_free(l);
}
