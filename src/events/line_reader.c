#include "events/line_reader.h"

#include <stdlib.h>
#include <string.h>

int line_reader_init(line_reader *r, size_t max_line)
{
    memset(r, 0, sizeof *r);
    r->max = max_line;
    r->cap = max_line + 1;
    r->buf = malloc(r->cap);
    return r->buf ? 0 : -1;
}

void line_reader_feed(line_reader *r, const char *data, size_t n, line_fn fn, void *arg)
{
    while (n > 0) {
        const char *nl = memchr(data, '\n', n);
        size_t chunk = nl ? (size_t)(nl - data) : n;
        if (r->skipping) {
            if (nl) r->skipping = false;
        } else if (r->len + chunk > r->max) {
            fn(arg, r->buf, r->len, LINE_TOO_LONG);
            r->len = 0;
            r->skipping = !nl;
        } else {
            memcpy(r->buf + r->len, data, chunk);
            r->len += chunk;
            if (nl) {
                size_t len = r->len;
                if (len > 0 && r->buf[len - 1] == '\r') len--; /* tolerate CRLF writers */
                r->buf[len] = '\0';
                if (len > 0) fn(arg, r->buf, len, LINE_OK);
                r->len = 0;
            }
        }
        if (!nl) break;
        n -= chunk + 1;
        data = nl + 1;
    }
}

void line_reader_finish(line_reader *r, line_fn fn, void *arg)
{
    if (r->len > 0 && !r->skipping) {
        r->buf[r->len] = '\0';
        fn(arg, r->buf, r->len, LINE_TORN);
    }
    r->len = 0;
    r->skipping = false;
}

void line_reader_free(line_reader *r)
{
    free(r->buf);
    r->buf = NULL;
}
