#include "util/json_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fewest significant digits that strtod gives back as v, written as
 * Python's repr writes them: plain between 1e-4 and 1e16, else with an
 * exponent. */
static int shortest(double v, char *out, size_t cap)
{
    int digits = 1;
    for (; digits < 17; digits++) {
        snprintf(out, cap, "%.*e", digits - 1, v);
        if (strtod(out, NULL) == v) break;
    }
    snprintf(out, cap, "%.*e", digits - 1, v);
    int exp = atoi(strchr(out, 'e') + 1);
    if (exp >= -4 && exp < 16) return snprintf(out, cap, "%.*f", digits - 1 - exp > 0 ? digits - 1 - exp : 0, v);
    return (int)strlen(out);
}

char *json_text_dumps(const json_t *doc, size_t flags)
{
    /* jansson writes every real with 17 significant digits (which always
     * round-trips); each such token is then written again, shorter */
    char *text = json_dumps(doc, (flags & ~(size_t)JSON_REAL_PRECISION(31)) | JSON_REAL_PRECISION(17));
    if (!text) return NULL;
    size_t in = 0, out = 0;
    int in_string = 0;
    while (text[in]) {
        char c = text[in];
        if (in_string) {
            text[out++] = c, in++;
            if (c == '\\' && text[in]) text[out++] = text[in++];
            else if (c == '"') in_string = 0;
            continue;
        }
        if (c == '"') {
            in_string = 1;
            text[out++] = text[in++];
            continue;
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            size_t end = in;
            int real = 0;
            while (text[end] && strchr("0123456789+-.eE", text[end])) real |= strchr(".eE", text[end]) != NULL, end++;
            char buf[40];
            /* integers stay as they are */
            if (real && end - in < sizeof buf) {
                int n = shortest(strtod(text + in, NULL), buf, sizeof buf);
                /* jansson marks reals: keep a point or exponent so it reads back as a real */
                if (!strpbrk(buf, ".eEni") && n + 2 < (int)sizeof buf) memcpy(buf + n, ".0", 3), n += 2;
                if (out + (size_t)n <= end) { /* never past what is still to be read */
                    memcpy(text + out, buf, (size_t)n);
                    out += (size_t)n, in = end;
                    continue;
                }
            }
            memmove(text + out, text + in, end - in);
            out += end - in, in = end;
            continue;
        }
        text[out++] = text[in++];
    }
    text[out] = 0;
    return text;
}
