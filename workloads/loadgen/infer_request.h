/* infer_request.h - the request a load generator sends, built once from the
 * model's KServe v2 metadata (GET /v2/models/NAME): its input's name,
 * datatype and shape, a batch dimension of the size asked for, and seeded
 * random values; JSON or binary tensor data. */
#ifndef COTENANT_INFER_REQUEST_H
#define COTENANT_INFER_REQUEST_H

#include <stddef.h>

typedef struct {
    char *bytes; /* the whole HTTP request: request line, headers, body; NUL after */
    size_t len;
    size_t body_len;
    char input[128], datatype[16], shape[128]; /* for the summary */
} infer_request;

/* metadata: the model metadata JSON. Returns 0, or -1 with why set (a
 * metadata field missing, a datatype without a JSON form...). */
int infer_request_build(const char *metadata, const char *model, const char *host, int port, int batch, int binary,
                        unsigned long long seed, infer_request *r, char *why, size_t whycap);
void infer_request_free(infer_request *r);

#endif
