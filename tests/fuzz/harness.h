/* harness.h: the fuzz targets as plain functions, shared by the libFuzzer entry points
 * (tests/fuzz/fuzz_*_main.c, built by scripts/fuzz) and the corpus replay in the unit suite
 * (tests/unit/test_fuzz_replay.c), so a crash found by the fuzzer stays a failing test.
 * Each returns 0; a broken invariant aborts (a libFuzzer crash, a failed cmocka test). */
#ifndef HK_FUZZ_HARNESS_H
#define HK_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "core/hall.h"
#include "core/val.h"

/* One frame through codec_validate and codec_decode (they must agree), then what decodes is
 * re-encoded and decoded again: the same tree and the same bytes both times. */
int fuzz_codec(const uint8_t *data, size_t size);

/* The bytes as a YAML config through config_load_string; a config that loads must build a
 * hall that runs commands, triggers and input levels, and replays into an equal hall. */
int fuzz_config(const uint8_t *data, size_t size);

/* data[0] picks the session (admin, staff, kiosk: data[0] % 3), the hall's starting scene
 * ((data[0] / 3) % 4: empty, tickets waiting, a ticket at the staff's window, plus a fire
 * drill), whether a tick on the next day ends the run ((data[0] / 12) % 2) and the config
 * ((data[0] / 24) % 2: the demo hall, or the full hall of harness_cmd.c with hours, posts,
 * queue rules, matters, supervision and rating, where the scenes also book two appointments
 * and check the staff in). Then one msgpack request for hall_cmd, optionally followed by a
 * script of further msgpack objects, each one step (at most 48):
 *   a map            a request, from the current session (given an id if it has none);
 *   an integer > 0   the clock advances that many seconds (at most 4 days), hall_tick about
 *                    once a minute (at most 60 ticks per advance, 400 per input);
 *   an integer <= 0  the current session becomes slot -N % 8 (0 the input's, 1 a kiosk, 2 the
 *                    scene's staff 0001, 3 security (in the drill scene), 4..7 fresh ones);
 *   a string         hello with that token (visitor keys: "ticket:CODE:good" is right);
 *   true / false     the fire panel's input line.
 * Every event emitted, through the codec and hall_replay into a second hall, must rebuild an
 * equal state. */
int fuzz_cmd(const uint8_t *data, size_t size);

/* ---- shared checks (harness_check.c) ---- */

/* Set by a corpus replay so an invariant failure names the file. */
extern const char *fuzz_input_name;

_Noreturn void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define FUZZ_CHECK(cond, ...) do { if (!(cond)) fuzz_fail(__VA_ARGS__); } while (0)

/* Writes v as JSON-like text to stderr (for failure reports). */
void fuzz_dump(const char *label, const hv *v);

/* Keeps copies of out's events in log (an hv array), checks the reply's shape, frees out. */
void fuzz_take(hk_out *out, hv *log);

/* Replays every event of log (an hv array), encoded and decoded as the store does, into a new
 * hall on cfg, and requires the same seq, the same state for every role and the same outputs. */
void fuzz_replay_check(const hk_config *cfg, const hk_hall *live, const hv *log, hk_time now);

#endif
