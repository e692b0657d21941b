/* kserve.h - the KServe v2 (Open Inference Protocol) HTTP/REST messages, as
 * Triton and KServe speak them, for a model with one input and one output.
 *
 * A request's tensor comes as JSON ("data": flat or nested, row-major) or,
 * with the binary tensor data extension, as raw little-endian bytes after a
 * JSON header whose length the Inference-Header-Content-Length header gives.
 * Parsing checks everything against the model (name, datatype, shape, byte
 * count) and says exactly what is wrong, with the JSON path, so that a client
 * gets a 400 it can act on; nothing a client sends is trusted. Pure functions:
 * no I/O, so they are unit-tested and fuzzed directly. */
#ifndef COTENANT_KSERVE_H
#define COTENANT_KSERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KS_MAX_RANK 6
#define KS_ID_MAX 256
#define KS_ERR_MAX 256

typedef enum { KS_BOOL, KS_UINT8, KS_INT8, KS_INT32, KS_INT64, KS_FP16, KS_BF16, KS_FP32, KS_FP64, KS_NDTYPES } ks_dtype;

const char *ks_dtype_name(ks_dtype t);
size_t ks_dtype_size(ks_dtype t);
/* -1 if the name is not a datatype the protocol names (or one not handled). */
int ks_dtype_of(const char *name);

/* One tensor of one item: the batch dimension is not in dims. */
typedef struct {
    const char *name;
    ks_dtype dtype;
    int rank;
    int64_t dims[KS_MAX_RANK];
} ks_tensor_spec;

int64_t ks_spec_elems(const ks_tensor_spec *t);
size_t ks_spec_bytes(const ks_tensor_spec *t);

typedef struct {
    const char *name, *version, *platform;
    ks_tensor_spec input, output;
    int max_batch; /* items a request, and a batch, may hold */
    /* what Triton's model configuration says of the scheduling: the dynamic
     * batcher's delay, and the instances (set by the server, not the model) */
    int64_t max_queue_delay_us;
    int instances;
    bool on_gpu;
} ks_model_info;

typedef struct {
    char id[KS_ID_MAX]; /* echoed back; empty if the request had none */
    bool has_id;
    int batch;          /* the request's leading dimension */
    /* batch items in the model's input datatype: in the body itself for
     * binary data, unaligned (the body must outlive the request), else in
     * owned */
    const void *input;
    void *owned;
    bool binary_output; /* answer the output as binary data */
} ks_request;

/* What a JSON request for m may hold, so that a body is refused before
 * jansson builds a tree of it (one JSON value costs ~64 bytes in the tree,
 * 2 in the body: a 60 MiB body of `{},` would take gigabytes). */
typedef struct {
    size_t max_json_bytes; /* the largest valid JSON part: every value spelled out, generous white space */
    int64_t max_scalars;   /* numbers and literals: the data at max batch, plus the shape and parameters */
    int64_t max_arrays;    /* data's nested arrays at max batch, plus a few */
    int64_t max_other;     /* objects and strings (keys included): a valid request has a few dozen */
    int max_depth;         /* nesting: the request, inputs, a tensor, data of rank + 1 levels */
} ks_json_budget;

void ks_budget_of(const ks_model_info *m, ks_json_budget *b);
/* Scans the JSON text once, allocating nothing: 0 if it keeps within b,
 * else -1 with err saying which limit it passed. */
int ks_json_within(const ks_json_budget *b, const char *text, size_t len, char *err, size_t errcap);

/* Parses POST .../infer. header_len is the Inference-Header-Content-Length
 * value, or -1 when the header is absent (the whole body is JSON); 0 is
 * Triton's raw binary request: the whole body is the input's bytes, its
 * batch their count over one item's size, the output answered as binary.
 * Returns 0, or -1 with err set (the request is then empty). */
int ks_parse_infer(const ks_model_info *m, const char *body, size_t len, long long header_len, ks_request *r,
                   char *err, size_t errcap);
void ks_request_free(ks_request *r);

/* A response body; header_len >= 0 when it carries binary data (the server
 * sends it as Inference-Header-Content-Length). */
typedef struct {
    char *data;
    size_t len;
    long long header_len;
} ks_body;

/* The infer response for r, whose output (batch items) the model wrote.
 * Returns 0, or -1 when out of memory. */
int ks_render_infer(const ks_model_info *m, const ks_request *r, const void *output, ks_body *b);
/* {"error": msg}, the protocol's error object. */
char *ks_render_error(const char *msg);
/* GET /v2/models/NAME and GET /v2. */
char *ks_render_model_metadata(const ks_model_info *m);
/* GET /v2/models/NAME/config: Triton's model configuration extension, in
 * its JSON form (max_batch_size, input and output with data_type and dims,
 * dynamic_batching, instance_group), as perf_analyzer and Model Analyzer
 * read it. */
char *ks_render_model_config(const ks_model_info *m);
char *ks_render_server_metadata(const char *version);

#endif
