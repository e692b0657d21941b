/* The load generator's HTTP/1.1 response parser on whatever a server sends:
 * every prefix must parse as "more" or the same verdict, and a whole
 * response must fit in what was given. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    http1_response r;
    size_t total = 0;
    const char *why = NULL;
    for (int eof = 0; eof < 2; eof++) {
        http1_result res = http1_parse_response(buf, size, eof, &r, &total, &why);
        if (res == HTTP1_DONE && (total > size || r.header_bytes > total || r.status < 100 || r.status > 599)) abort();
        if (res == HTTP1_BAD && !why) abort();
    }
    http1_url u;
    char url[128];
    size_t n = size < sizeof url - 1 ? size : sizeof url - 1;
    for (size_t i = 0; i < n; i++) url[i] = buf[i] ? buf[i] : ' ';
    url[n] = 0;
    if (http1_parse_url(url, &u) == 0 &&
        (u.port < 1 || u.port > 65535 || !u.host[0] || strpbrk(u.host, " \r\n/") || strpbrk(u.prefix, " \r\n")))
        abort(); /* nothing that could break a request line or a Host header */
    return 0;
}
