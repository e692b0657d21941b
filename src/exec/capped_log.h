/* capped_log.h - a workload's stdout or stderr, kept to a bounded size.
 *
 * A workload may write without end (`yes` wrote 1.59 GB in 2 s), and a
 * results folder must not fill its disk for it. The log keeps the first
 * head_max bytes in the file as they come and the last tail_max in memory;
 * when it closes, a line saying how many bytes were dropped goes after the
 * head, then the tail: the start (configuration, the first error) and the
 * end (the last error, the summary) are what a reader needs. A write error
 * (a full disk) is counted, never silent: the segment reports it. */
#ifndef COTENANT_CAPPED_LOG_H
#define COTENANT_CAPPED_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define CAPPED_LOG_HEAD_BYTES (8u << 20)
#define CAPPED_LOG_TAIL_BYTES (1u << 20)

typedef struct {
    int fd;
    size_t head_max, tail_max;
    uint64_t total;     /* bytes given */
    char *tail;         /* ring of the last tail_max bytes past the head */
    size_t tail_len, tail_pos;
    int write_errno;    /* the first write error, 0 for none */
    uint64_t unwritten; /* bytes lost to write errors */
} capped_log;

/* Creates (truncates) path. fd -1 with err set on failure. */
int capped_log_open(capped_log *l, const char *path, size_t head_max, size_t tail_max, cot_err *err);
void capped_log_write(capped_log *l, const void *data, size_t len);
/* Bytes given but not kept (past the head, before the tail). */
uint64_t capped_log_dropped(const capped_log *l);
/* Writes the dropped-bytes line and the tail, and closes; safe twice. */
void capped_log_close(capped_log *l);

#endif
