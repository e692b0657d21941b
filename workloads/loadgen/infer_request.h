/* infer_request.h - the request a load generator sends, built once from the
 * model's KServe v2 metadata (GET /v2/models/NAME): every input, by name,
 * datatype and shape, with a batch dimension of the size asked for; values
 * from an input data file (perf_analyzer's --input-data JSON) or seeded
 * random ones; JSON or binary tensor data; every output asked for.
 *
 * A shape's first -1 is the batch; any other -1 must be given (--shape
 * NAME:d1,d2, the dimensions after the batch one, as perf_analyzer takes
 * them). BYTES elements are strings: in JSON as strings, in binary data
 * each as a 4-byte little-endian length and its bytes. */
#ifndef COTENANT_INFER_REQUEST_H
#define COTENANT_INFER_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#define INFER_MAX_INPUTS 32
#define INFER_MAX_SHAPES 32

typedef struct {
    char name[128];
    int rank;
    int64_t dims[8];
} infer_shape;

typedef struct {
    const char *model;
    const char *prefix;    /* "" or a path prefix the server's routes sit under */
    const char *authority; /* the Host header's value */
    int batch;
    int binary;
    unsigned long long seed;
    const infer_shape *shapes; /* --shape, nshapes of them */
    int nshapes;
    const char *input_data; /* the input data file's JSON text, or NULL for random values */
} infer_request_opts;

typedef struct {
    char *bytes; /* the whole HTTP request: request line, headers, body; NUL after */
    size_t len;
    size_t body_len;
    int ninputs;
    char summary[512]; /* "INPUT0 FP32 [1,4], INPUT1 INT64 [1,2]" */
} infer_request;

/* metadata: the model metadata JSON. Returns 0, or -1 with why set (a
 * metadata field missing, a variable dimension not given, a datatype
 * without a JSON form, input data that does not fit...). */
int infer_request_build(const char *metadata, const infer_request_opts *o, infer_request *r, char *why, size_t whycap);
void infer_request_free(infer_request *r);

/* "NAME:d1,d2,..." into s: 0, or -1 if malformed. */
int infer_shape_parse(const char *text, infer_shape *s);

#endif
