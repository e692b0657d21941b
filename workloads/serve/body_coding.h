/* body_coding.h - request bodies sent with Content-Encoding gzip or deflate
 * (as Triton's clients may), inflated with zlib before they are parsed,
 * never past a size limit, so a small compressed body cannot grow into an
 * unbounded one. A pure function: unit-tested and fuzzed on its own. */
#ifndef COTENANT_BODY_CODING_H
#define COTENANT_BODY_CODING_H

#include <stddef.h>

typedef enum {
    BODY_OK,
    BODY_UNSUPPORTED, /* a coding other than gzip, deflate or identity: 415 */
    BODY_TOO_LARGE,   /* inflates past max: 413 */
    BODY_BAD,         /* not valid data of its coding: 400 */
    BODY_NO_MEMORY,
} body_result;

/* coding: the Content-Encoding value. On BODY_OK, *out (malloc'd; free it)
 * holds *outlen bytes; identity gives a copy. Otherwise err says why. */
body_result body_decode(const char *coding, const char *in, size_t len, size_t max, char **out, size_t *outlen,
                        char *err, size_t errcap);

#endif
