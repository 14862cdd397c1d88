/* em_journal.h: the local, fsync'd record of the hall's emergency state (DATA/emergency.journal).
 * Every emergency.changed event is appended here right after the outputs are set, so an active
 * emergency survives a restart even when Redis is down or lost it. Records are
 * [u32 length][u32 checksum][msgpack event]; a torn last record is ignored. */
#ifndef HK_EM_JOURNAL_H
#define HK_EM_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct em_journal em_journal;

em_journal *em_journal_open(uv_loop_t *loop, const char *data_dir, char *err, size_t errlen);
/* Appends one record; the write goes to the file now, the fsync runs in the thread pool. 0 or -errno. */
int em_journal_append(em_journal *j, const uint8_t *data, size_t len);
/* The last complete record (malloc'd copy in *data), or 0 with *data NULL if there is none. */
int em_journal_last(em_journal *j, uint8_t **data, size_t *len);
void em_journal_close(em_journal *j);

#endif
