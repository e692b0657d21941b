/* Any bytes as an event stream, split into lines in two different ways: the
 * parser must never crash, and the splitting must not change what is seen. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "events/event.h"
#include "events/line_reader.h"

typedef struct {
    uint64_t hash;
    int lines;
} tally;

static void on_line(void *arg, const char *line, size_t len, line_status st)
{
    tally *t = arg;
    event ev;
    char why[256];
    int ok = st == LINE_OK && event_parse(line, len, &ev, why, sizeof why) == 0;
    t->lines++;
    for (size_t i = 0; i < len; i++) t->hash = (t->hash ^ (uint8_t)line[i]) * 1099511628211ULL;
    t->hash = (t->hash ^ (uint64_t)(ok * 2 + (int)st)) * 1099511628211ULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tally whole = {14695981039346656037ULL, 0}, bytewise = whole;
    line_reader r;
    line_reader_init(&r, EVENT_LINE_MAX);
    line_reader_feed(&r, (const char *)data, size, on_line, &whole);
    line_reader_finish(&r, on_line, &whole);
    for (size_t i = 0; i < size; i++) line_reader_feed(&r, (const char *)data + i, 1, on_line, &bytewise);
    line_reader_finish(&r, on_line, &bytewise);
    line_reader_free(&r);
    if (whole.hash != bytewise.hash || whole.lines != bytewise.lines) __builtin_trap();
    return 0;
}
