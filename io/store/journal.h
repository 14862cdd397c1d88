/* journal.h: a local append-only file of records, each [u32 length][u32 checksum][u64 seq][bytes].
 * Writes go to the file at once; fsyncs run in the thread pool, batched: one in flight, the next
 * covering everything written meanwhile. A torn or garbled tail (a crash mid-write) is ignored
 * when reading. Used for the hall's events (DATA/events.journal: the local copy of the day, from the
 * latest checkpoint on, docs/redis.md) and for the last emergency state (DATA/emergency.journal). */
#ifndef HK_JOURNAL_H
#define HK_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct journal journal;

journal *journal_open(uv_loop_t *loop, const char *path, char *err, size_t errlen);
/* Writes a record now and asks for an fsync. 0 or -errno. */
int journal_append(journal *j, uint64_t seq, const uint8_t *data, size_t len);
/* The highest seq whose record is known to be on disk. */
uint64_t journal_synced(const journal *j);
/* Called (from the loop) after each completed fsync. */
void journal_on_synced(journal *j, void (*cb)(void *arg), void *arg);
/* Every complete record in file order. 0 or -errno. */
int journal_each(journal *j, void (*each)(void *arg, uint64_t seq, const uint8_t *data, size_t len), void *arg);
/* Replaces the file by one holding just this record, atomically (temporary file, fsync, rename):
 * a crash leaves either the old file or the new one. Synchronous: for rare compactions. */
int journal_rewrite(journal *j, uint64_t seq, const uint8_t *data, size_t len);
/* Keeps only the records with seq >= from_seq (the latest day.checkpoint on), atomically as
 * journal_rewrite does. Synchronous: once a day. 0 or -errno. */
int journal_compact(journal *j, uint64_t from_seq);
/* Empties the file (everything in it is safe elsewhere). */
int journal_reset(journal *j);
size_t journal_bytes(const journal *j);
/* Closes once the fsyncs in flight are done; no callbacks after this. */
void journal_close(journal *j);

#endif
