/* The inference server's request path: a KServe v2 infer body (JSON, or a
 * JSON header and binary tensor data) parsed against a model, answered when
 * it parses, and the input's first line also tried as a method and a path.
 * The first input byte picks the Inference-Header-Content-Length: absent, or
 * a length into the rest (0: a raw binary request). The rest is also
 * inflated as a gzip and a deflate body, which must stay within its limit. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "body_coding.h"
#include "kserve.h"
#include "serve_route.h"

static const ks_model_info models[2] = {
    {.name = "m", .version = "1", .platform = "fuzz", .max_batch = 8,
     .input = {.name = "INPUT0", .dtype = KS_FP32, .rank = 2, .dims = {2, 3}},
     .output = {.name = "OUTPUT0", .dtype = KS_FP32, .rank = 1, .dims = {4}}},
    {.name = "ids", .version = "1", .platform = "fuzz", .max_batch = 4,
     .input = {.name = "input_ids", .dtype = KS_INT64, .rank = 1, .dims = {5}},
     .output = {.name = "top", .dtype = KS_INT32, .rank = 1, .dims = {5}}},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const ks_model_info *m = &models[data[0] & 1];
    long long header_len = data[0] >> 1 == 0 ? -1 : (long long)(data[0] >> 1) * 4 - 4;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    ks_request r;
    char err[KS_ERR_MAX];
    if (ks_parse_infer(m, body, len, header_len, &r, err, sizeof err) == 0) {
        if (r.batch < 1 || r.batch > m->max_batch || !r.input) abort();
        size_t out_bytes = (size_t)r.batch * ks_spec_bytes(&m->output);
        void *out = calloc(1, out_bytes);
        ks_body b;
        if (out && ks_render_infer(m, &r, out, &b) == 0) {
            if (b.header_len > (long long)b.len) abort();
            free(b.data);
        }
        free(out);
        ks_request_free(&r);
    } else if (!err[0]) {
        abort(); /* every refusal says why */
    }
    static const char *const codings[] = {"gzip", "deflate"};
    for (int k = 0; k < 2; k++) {
        char *plain;
        size_t plen;
        body_result br = body_decode(codings[k], body, len, 1 << 20, &plain, &plen, err, sizeof err);
        if (br == BODY_OK && plen > (1 << 20)) abort();
        if (br != BODY_OK && (plain || !err[0])) abort();
        free(plain);
    }
    char line[512];
    size_t n = len < sizeof line - 1 ? len : sizeof line - 1;
    memcpy(line, body, n);
    line[n] = 0;
    char *sp = strchr(line, ' ');
    if (sp) {
        *sp = 0;
        serve_route rt = serve_route_of(line, sp + 1, m->name, m->version);
        if (rt == RT_INFER && strcmp(line, "POST")) abort();
    }
    return 0;
}
