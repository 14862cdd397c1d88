/* incident_log.h: the hall's append-only, hash-chained incident log (DATA/incidents.log), the
 * input of the post-incident analysis of DB43/T 2422.4 §7. One JSON record a line:
 *   {"n":N,"at":MS,"kind":K,"playbook":P,"drill":B,"who":W,"detail":{...},"prev":H,"hash":H}
 * hash = hex SHA-256 of the record's canonical text without "hash" (incident_canon), prev = the
 * hash of the record before (64 zeros for the first). docs/incidents.md defines the canonical
 * form so that anyone can check the chain with a few lines of Python.
 * The record functions (canon, hash, JSON parse, chain check) are shared with hallctl. */
#ifndef HK_INCIDENT_LOG_H
#define HK_INCIDENT_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/val.h"

#define INCIDENT_HASH_HEX 64
#define INCIDENT_ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define INCIDENT_LOG_FILE "incidents.log"

/* ---- records (no I/O) ---------------------------------------------------------------------- */

/* The canonical text of a record: compact JSON of the map in its key order, without the key
 * "hash", strings escaped as Python's json.dumps(ensure_ascii=False) does. malloc'd,
 * NUL-terminated; *len without the NUL. NULL if rec is not a map. */
char *incident_canon(const hv *rec, size_t *len);
/* hex SHA-256 of incident_canon(rec) into hex[65]. 0, or -1 if rec is not a map. */
int incident_hash(const hv *rec, char hex[INCIDENT_HASH_HEX + 1]);
/* Parses one JSON text (a record line) into a value tree. NULL on error, with a reason in err. */
hv *incident_json_parse(const char *s, size_t n, char *err, size_t errlen);
/* Checks a run of records: recs[i] must be numbered first_n + i, link to the record before
 * (prev; the record before recs[0] has hash prev_hash) and carry its own correct hash. A NULL
 * entry is a line that is not a record. Returns 0 if all hold, else 1 with *bad_n the number
 * expected at the first bad position and a sentence in msg. */
int incident_chain_check(hv *const *recs, size_t n, uint64_t first_n, const char *prev_hash,
                         uint64_t *bad_n, char *msg, size_t msglen);

/* ---- the file ------------------------------------------------------------------------------ */

/* Checks a whole log file offline (the first record must be number 1). 0 intact (*count records),
 * 1 broken (*bad_n, msg), or -errno when the file cannot be read (msg says why). */
int incident_log_verify(const char *path, uint64_t *count, uint64_t *bad_n, char *msg, size_t msglen);

/* Reads a log file's records in file order, for offline tools; a line that is not a JSON map
 * becomes {"raw": LINE}. Caller frees each and the array. 0, or -errno (msg says why). */
int incident_log_read(const char *path, hv ***recs, size_t *n, char *msg, size_t msglen);

typedef struct incident_log incident_log;

/* Opens (or creates) DATA/incidents.log, reads and verifies it, and continues its numbering.
 * A broken chain is logged loudly and noted once in a "chain_broken" record; the log stays
 * usable. loop runs the fdatasyncs in its thread pool; NULL syncs inline (offline tools). */
incident_log *incident_log_open(uv_loop_t *loop, const char *data_dir, char *err, size_t errlen);
/* Appends one record: the line is written now with write(), the fdatasync follows in the thread
 * pool. detail (a map, or NULL for {}) is taken over. Returns the record's number, or -errno. */
int64_t incident_log_append(incident_log *l, int64_t at, const char *kind, const char *playbook,
                            bool drill, const char *who, hv *detail);
/* Number of lines (records) in the file. */
size_t incident_log_count(const incident_log *l);
/* Line i (0-based) as written, without its newline. */
const char *incident_log_line(const incident_log *l, size_t i, size_t *len);
/* Line i parsed into a map, or NULL if it is not valid JSON. Caller frees. */
hv *incident_log_record(const incident_log *l, size_t i);
/* Whether the whole file verified at open and nothing broke since; else the first bad record. */
bool incident_log_verified(const incident_log *l, uint64_t *bad_n, const char **msg);
/* The hash of the last record (64 zeros if there is none) and the number the next one gets. */
const char *incident_log_head_hash(const incident_log *l);
uint64_t incident_log_next_n(const incident_log *l);
/* Closes once an fdatasync in flight is done. */
void incident_log_close(incident_log *l);

#endif
