/* em_journal.c: see em_journal.h; a journal (journal.h) of which only the last record counts. */
#include "em_journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"

#define EMJ_COMPACT_BYTES (1 << 20)   /* past this, the file restarts with the current record */

struct em_journal { journal *j; uint64_t n; };

em_journal *em_journal_open(uv_loop_t *loop, const char *data_dir, char *err, size_t errlen)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/emergency.journal", data_dir);
    em_journal *e = calloc(1, sizeof *e);
    if (!e) { snprintf(err, errlen, "out of memory"); return NULL; }
    if (!(e->j = journal_open(loop, path, err, errlen))) { free(e); return NULL; }
    return e;
}

typedef struct { uint8_t *data; size_t len; uint64_t n; } emj_last;

static void emj_keep(void *arg, uint64_t seq, const uint8_t *data, size_t len)
{
    emj_last *l = arg;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) return;
    memcpy(copy, data, len);
    free(l->data);
    l->data = copy;
    l->len = len;
    l->n = seq;
}

int em_journal_last(em_journal *e, uint8_t **data, size_t *len)
{
    emj_last l = {NULL, 0, 0};
    int rc = journal_each(e->j, emj_keep, &l);
    *data = l.data;
    *len = l.len;
    e->n = l.n;
    return rc;
}

int em_journal_append(em_journal *e, const uint8_t *data, size_t len)
{
    /* the newest record is the whole truth: once the file is big it restarts with just that one */
    if (journal_bytes(e->j) > EMJ_COMPACT_BYTES) return journal_rewrite(e->j, ++e->n, data, len);
    return journal_append(e->j, ++e->n, data, len);
}

void em_journal_close(em_journal *e)
{
    if (!e) return;
    journal_close(e->j);
    free(e);
}
