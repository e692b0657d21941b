#include "infer_request.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "wl_rng.h"

static const struct {
    const char *name;
    int size, is_float, json;
} types[] = {
    {"BOOL", 1, 0, 1},  {"UINT8", 1, 0, 1}, {"INT8", 1, 0, 1}, {"INT32", 4, 0, 1}, {"INT64", 8, 0, 1},
    {"FP16", 2, 1, 0},  {"BF16", 2, 1, 0},  {"FP32", 4, 1, 1}, {"FP64", 8, 1, 1},
};

static int fail(char *why, size_t cap, const char *msg, const char *detail)
{
    snprintf(why, cap, "%s%s", msg, detail ? detail : "");
    return -1;
}

/* Element i: floats in [-1, 1), integers in [0, 100) (valid token ids and
 * class indices for any model we drive). */
static void fill(void *p, int t, int64_t n, unsigned long long seed)
{
    unsigned char *b = p;
    for (int64_t i = 0; i < n; i++) {
        float u = wl_uniform(seed, 23, (uint64_t)i);
        const char *nm = types[t].name;
        if (!strcmp(nm, "FP32")) { float x = 2 * u - 1; memcpy(b + 4 * i, &x, 4); }
        else if (!strcmp(nm, "FP64")) { double x = 2 * u - 1; memcpy(b + 8 * i, &x, 8); }
        else if (!strcmp(nm, "FP16") || !strcmp(nm, "BF16")) { uint16_t x = 0; memcpy(b + 2 * i, &x, 2); }
        else if (!strcmp(nm, "BOOL")) b[i] = u < 0.5f;
        else {
            int64_t v = (int64_t)(u * 100);
            if (types[t].size == 1) b[i] = (unsigned char)v;
            else if (types[t].size == 4) { int32_t x = (int32_t)v; memcpy(b + 4 * i, &x, 4); }
            else memcpy(b + 8 * i, &v, 8);
        }
    }
}

static json_t *json_values(const void *p, int t, int64_t n)
{
    json_t *a = json_array();
    const unsigned char *b = p;
    for (int64_t i = 0; i < n; i++) {
        const char *nm = types[t].name;
        if (!strcmp(nm, "FP32")) { float x; memcpy(&x, b + 4 * i, 4); json_array_append_new(a, json_real(x)); }
        else if (!strcmp(nm, "FP64")) { double x; memcpy(&x, b + 8 * i, 8); json_array_append_new(a, json_real(x)); }
        else if (!strcmp(nm, "BOOL")) json_array_append_new(a, json_boolean(b[i]));
        else if (types[t].size == 1) json_array_append_new(a, json_integer(b[i]));
        else if (types[t].size == 4) { int32_t x; memcpy(&x, b + 4 * i, 4); json_array_append_new(a, json_integer(x)); }
        else { int64_t x; memcpy(&x, b + 8 * i, 8); json_array_append_new(a, json_integer(x)); }
    }
    return a;
}

int infer_request_build(const char *metadata, const char *model, const char *host, int port, int batch, int binary,
                        unsigned long long seed, infer_request *r, char *why, size_t whycap)
{
    memset(r, 0, sizeof *r);
    json_error_t je;
    json_t *meta = json_loads(metadata, 0, &je);
    if (!meta) return fail(why, whycap, "the model metadata is not JSON: ", je.text);
    int rc = -1;
    json_t *req = NULL;
    char *head = NULL;
    void *data = NULL;
    const json_t *in = json_array_get(json_object_get(meta, "inputs"), 0);
    const json_t *out = json_array_get(json_object_get(meta, "outputs"), 0);
    const char *in_name = json_string_value(json_object_get(in, "name"));
    const char *dt = json_string_value(json_object_get(in, "datatype"));
    const json_t *shape = json_object_get(in, "shape");
    if (!in_name || !dt || !json_is_array(shape) || json_array_size(shape) == 0) {
        fail(why, whycap, "the model metadata has no inputs[0] with name, datatype and shape", NULL);
        goto out;
    }
    int t = -1;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(types[i].name, dt)) t = (int)i;
    if (t < 0) { fail(why, whycap, "unsupported input datatype ", dt); goto out; }
    if (!binary && !types[t].json) { fail(why, whycap, dt, " tensors have no JSON form: use --format binary"); goto out; }
    /* the shape as the model gives it, with its variable (batch) dimension set */
    json_t *s = json_array();
    int64_t elems = 1;
    size_t i;
    const json_t *d;
    json_array_foreach(shape, i, d) {
        json_int_t v = json_integer_value(d);
        if (v < 0) v = i == 0 ? batch : 1;
        if (!json_is_integer(d) || v == 0 || v > (1 << 24)) {
            json_decref(s);
            fail(why, whycap, "the model metadata's input shape is not a list of dimensions", NULL);
            goto out;
        }
        elems *= v;
        json_array_append_new(s, json_integer(v));
    }
    if (elems > (1LL << 28)) { json_decref(s); fail(why, whycap, "the input is larger than 2^28 values", NULL); goto out; }
    char *shape_text = json_dumps(s, JSON_COMPACT);
    snprintf(r->shape, sizeof r->shape, "%s", shape_text ? shape_text : "?");
    free(shape_text);
    snprintf(r->input, sizeof r->input, "%s", in_name);
    snprintf(r->datatype, sizeof r->datatype, "%s", dt);
    size_t bytes = (size_t)elems * (size_t)types[t].size;
    data = malloc(bytes + 1);
    if (!data) { json_decref(s); fail(why, whycap, "out of memory", NULL); goto out; }
    fill(data, t, elems, seed);
    json_t *tin = json_pack("{sssssO}", "name", in_name, "datatype", dt, "shape", s);
    json_decref(s);
    if (binary) json_object_set_new(tin, "parameters", json_pack("{sI}", "binary_data_size", (json_int_t)bytes));
    else json_object_set_new(tin, "data", json_values(data, t, elems));
    req = json_pack("{s[o]}", "inputs", tin);
    const char *out_name = json_string_value(json_object_get(out, "name"));
    if (out_name)
        json_object_set_new(req, "outputs", json_pack("[{sss{sb}}]", "name", out_name, "parameters", "binary_data", binary));
    head = json_dumps(req, JSON_COMPACT | JSON_REAL_PRECISION(9));
    if (!head) { fail(why, whycap, "out of memory", NULL); goto out; }
    size_t hl = strlen(head);
    r->body_len = hl + (binary ? bytes : 0);
    char hdr[1024];
    int n = snprintf(hdr, sizeof hdr,
                     "POST /v2/models/%s/infer HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: %s\r\nContent-Length: %zu\r\n",
                     model, host, port, binary ? "application/octet-stream" : "application/json", r->body_len);
    if (binary) n += snprintf(hdr + n, sizeof hdr - (size_t)n, "Inference-Header-Content-Length: %zu\r\n", hl);
    n += snprintf(hdr + n, sizeof hdr - (size_t)n, "\r\n");
    r->len = (size_t)n + r->body_len;
    r->bytes = malloc(r->len + 1);
    if (!r->bytes) { fail(why, whycap, "out of memory", NULL); goto out; }
    r->bytes[r->len] = 0; /* a JSON request reads as a string */
    memcpy(r->bytes, hdr, (size_t)n);
    memcpy(r->bytes + n, head, hl);
    if (binary) memcpy(r->bytes + n + hl, data, bytes);
    rc = 0;
out:
    free(head);
    free(data);
    json_decref(req);
    json_decref(meta);
    return rc;
}

void infer_request_free(infer_request *r)
{
    free(r->bytes);
    r->bytes = NULL;
}
