#include "body_coding.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

/* zlib's windowBits: gzip's wrapper, zlib's (HTTP's "deflate"), or none
 * (the raw stream some clients send as "deflate"). */
#define WBITS_GZIP (15 + 16)
#define WBITS_ZLIB 15
#define WBITS_RAW (-15)

static body_result inflate_with(int wbits, const char *in, size_t len, size_t max, char **out, size_t *outlen,
                                char *err, size_t errcap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, wbits) != Z_OK) return snprintf(err, errcap, "zlib could not start"), BODY_NO_MEMORY;
    size_t cap = len * 4 + 4096;
    if (cap > max + 1) cap = max + 1;
    char *buf = malloc(cap ? cap : 1);
    body_result res = BODY_NO_MEMORY;
    if (!buf) goto done;
    size_t fed = 0, got = 0;
    for (;;) {
        /* zlib's counts are 32-bit: feed and take at most 1 GiB a call */
        if (z.avail_in == 0 && fed < len) {
            size_t n = len - fed > (1u << 30) ? (1u << 30) : len - fed;
            z.next_in = (Bytef *)(uintptr_t)(in + fed), z.avail_in = (uInt)n, fed += n;
        }
        if (got == cap) {
            if (cap > max) {
                snprintf(err, errcap, "the body inflates to more than %zu bytes (the server's --max-request-size)", max);
                res = BODY_TOO_LARGE;
                goto done;
            }
            size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            char *nb = realloc(buf, ncap);
            if (!nb) goto done;
            buf = nb, cap = ncap;
        }
        size_t room = cap - got > (1u << 30) ? (1u << 30) : cap - got;
        z.next_out = (Bytef *)(buf + got), z.avail_out = (uInt)room;
        int rc = inflate(&z, Z_NO_FLUSH);
        got += room - z.avail_out;
        if (rc == Z_STREAM_END) break;
        if (rc == Z_BUF_ERROR && z.avail_in == 0 && fed == len) rc = Z_DATA_ERROR; /* it ended early */
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            snprintf(err, errcap, "the body is not valid %s data: %s", wbits == WBITS_GZIP ? "gzip" : "deflate",
                     z.msg ? z.msg : "it ends before the stream does");
            res = BODY_BAD;
            goto done;
        }
    }
    if (got > max) {
        snprintf(err, errcap, "the body inflates to more than %zu bytes (the server's --max-request-size)", max);
        res = BODY_TOO_LARGE;
        goto done;
    }
    if (z.avail_in > 0 || fed < len) {
        snprintf(err, errcap, "%zu bytes follow the end of the compressed stream", (size_t)z.avail_in + (len - fed));
        res = BODY_BAD;
        goto done;
    }
    *out = buf, *outlen = got, buf = NULL;
    res = BODY_OK;
done:
    free(buf);
    inflateEnd(&z);
    return res;
}

body_result body_decode(const char *coding, const char *in, size_t len, size_t max, char **out, size_t *outlen,
                        char *err, size_t errcap)
{
    *out = NULL, *outlen = 0;
    if (!coding || !strcasecmp(coding, "identity")) {
        if (len > max) return snprintf(err, errcap, "the body is over %zu bytes", max), BODY_TOO_LARGE;
        if (!(*out = malloc(len ? len : 1))) return BODY_NO_MEMORY;
        memcpy(*out, in, len);
        *outlen = len;
        return BODY_OK;
    }
    if (!strcasecmp(coding, "gzip") || !strcasecmp(coding, "x-gzip"))
        return inflate_with(WBITS_GZIP, in, len, max, out, outlen, err, errcap);
    if (!strcasecmp(coding, "deflate")) {
        /* zlib-wrapped as HTTP says; a raw stream where the wrapper is missing */
        body_result r = inflate_with(WBITS_ZLIB, in, len, max, out, outlen, err, errcap);
        return r == BODY_BAD ? inflate_with(WBITS_RAW, in, len, max, out, outlen, err, errcap) : r;
    }
    snprintf(err, errcap, "Content-Encoding '%.32s' is not supported: send gzip, deflate or identity", coding);
    return BODY_UNSUPPORTED;
}
