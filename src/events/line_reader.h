/* line_reader.h - splits a byte stream into lines, whatever the read sizes.
 *
 * A pipe delivers lines torn at arbitrary points; this buffers the partial
 * tail until its newline arrives. A line longer than the limit is dropped
 * whole (reported once, as too long) rather than split into garbage, and a
 * partial line left when the stream ends is reported as torn. */
#ifndef COTENANT_LINE_READER_H
#define COTENANT_LINE_READER_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { LINE_OK, LINE_TOO_LONG, LINE_TORN } line_status;
typedef void (*line_fn)(void *arg, const char *line, size_t len, line_status st);

typedef struct {
    char *buf;
    size_t len, cap, max;
    bool skipping; /* inside an over-long line, until its newline */
} line_reader;

int line_reader_init(line_reader *r, size_t max_line);
void line_reader_feed(line_reader *r, const char *data, size_t n, line_fn fn, void *arg);
/* End of stream: reports a leftover partial line as LINE_TORN. */
void line_reader_finish(line_reader *r, line_fn fn, void *arg);
void line_reader_free(line_reader *r);

#endif
