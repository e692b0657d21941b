#include "kserve.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static const struct {
    const char *name;
    size_t size;
} dtypes[KS_NDTYPES] = {
    [KS_BOOL] = {"BOOL", 1}, [KS_UINT8] = {"UINT8", 1}, [KS_INT8] = {"INT8", 1},  [KS_INT32] = {"INT32", 4},
    [KS_INT64] = {"INT64", 8}, [KS_FP16] = {"FP16", 2}, [KS_BF16] = {"BF16", 2}, [KS_FP32] = {"FP32", 4},
    [KS_FP64] = {"FP64", 8},
};

const char *ks_dtype_name(ks_dtype t) { return t < KS_NDTYPES ? dtypes[t].name : "?"; }
size_t ks_dtype_size(ks_dtype t) { return t < KS_NDTYPES ? dtypes[t].size : 0; }

int ks_dtype_of(const char *name)
{
    for (int i = 0; i < KS_NDTYPES; i++)
        if (!strcmp(dtypes[i].name, name)) return i;
    return -1;
}

int64_t ks_spec_elems(const ks_tensor_spec *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++) n *= t->dims[i];
    return n;
}

size_t ks_spec_bytes(const ks_tensor_spec *t) { return (size_t)ks_spec_elems(t) * ks_dtype_size(t->dtype); }

static int fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

/* The JSON "data" is flat or nested to any depth (row-major either way):
 * walk it depth-first and store each number in the model's datatype. */
typedef struct {
    ks_dtype dtype;
    unsigned char *out;
    int64_t n, cap;
    char *err;
    size_t errcap;
    int depth;
} data_walk;

static int store(data_walk *w, const json_t *v)
{
    if (w->n >= w->cap) return fail(w->err, w->errcap, "inputs[0].data holds more than the %lld values its shape gives", (long long)w->cap);
    unsigned char *p = w->out + (size_t)w->n * ks_dtype_size(w->dtype);
    bool is_int = json_is_integer(v), is_num = json_is_number(v);
    long long iv = is_int ? json_integer_value(v) : 0;
    double dv = is_num ? json_number_value(v) : 0;
    switch (w->dtype) {
    case KS_BOOL:
        if (!json_is_boolean(v)) return fail(w->err, w->errcap, "inputs[0].data[%lld]: BOOL data must be true or false", (long long)w->n);
        *p = json_is_true(v);
        break;
    case KS_UINT8:
    case KS_INT8:
    case KS_INT32:
    case KS_INT64: {
        long long lo = w->dtype == KS_UINT8 ? 0 : w->dtype == KS_INT8 ? -128 : w->dtype == KS_INT32 ? INT32_MIN : INT64_MIN;
        long long hi = w->dtype == KS_UINT8 ? 255 : w->dtype == KS_INT8 ? 127 : w->dtype == KS_INT32 ? INT32_MAX : INT64_MAX;
        if (!is_int) return fail(w->err, w->errcap, "inputs[0].data[%lld]: %s data must be integers", (long long)w->n, ks_dtype_name(w->dtype));
        if (iv < lo || iv > hi)
            return fail(w->err, w->errcap, "inputs[0].data[%lld]: %lld is out of range for %s", (long long)w->n, iv, ks_dtype_name(w->dtype));
        if (w->dtype == KS_UINT8) *p = (unsigned char)iv;
        else if (w->dtype == KS_INT8) *(int8_t *)p = (int8_t)iv;
        else if (w->dtype == KS_INT32) { int32_t x = (int32_t)iv; memcpy(p, &x, 4); }
        else { int64_t x = iv; memcpy(p, &x, 8); }
        break;
    }
    case KS_FP32:
    case KS_FP64:
        if (!is_num) return fail(w->err, w->errcap, "inputs[0].data[%lld]: %s data must be numbers", (long long)w->n, ks_dtype_name(w->dtype));
        if (w->dtype == KS_FP32) { float x = (float)dv; memcpy(p, &x, 4); }
        else memcpy(p, &dv, 8);
        break;
    default:
        return fail(w->err, w->errcap, "inputs[0]: %s tensors have no JSON form; send them as binary data "
                    "(the binary tensor data extension)", ks_dtype_name(w->dtype));
    }
    w->n++;
    return 0;
}

static int walk(data_walk *w, const json_t *v)
{
    if (!json_is_array(v)) return store(w, v);
    if (++w->depth > KS_MAX_RANK + 1) return fail(w->err, w->errcap, "inputs[0].data is nested deeper than any tensor's shape");
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e) if (walk(w, e)) return -1;
    w->depth--;
    return 0;
}

/* Checks the shape [batch, dims...] against the model; sets *batch. */
static int check_shape(const ks_model_info *m, const json_t *shape, int *batch, char *err, size_t cap)
{
    const ks_tensor_spec *t = &m->input;
    if (!json_is_array(shape)) return fail(err, cap, "inputs[0].shape: expected an array of integers");
    size_t rank = json_array_size(shape);
    if (rank != (size_t)t->rank + 1)
        return fail(err, cap, "inputs[0].shape has %zu dimensions; model '%s' takes %d: [batch%s]", rank, m->name,
                    t->rank + 1, t->rank ? ", ..." : "");
    for (size_t i = 0; i < rank; i++) {
        const json_t *d = json_array_get(shape, i);
        if (!json_is_integer(d)) return fail(err, cap, "inputs[0].shape[%zu]: expected an integer", i);
        long long v = json_integer_value(d);
        if (i == 0) {
            if (v < 1 || v > m->max_batch)
                return fail(err, cap, "inputs[0].shape[0]: batch %lld is outside 1..%d (the model's max batch)", v, m->max_batch);
            *batch = (int)v;
        } else if (v != t->dims[i - 1]) {
            return fail(err, cap, "inputs[0].shape[%zu]: expected %lld, got %lld", i, (long long)t->dims[i - 1], v);
        }
    }
    return 0;
}

/* The "outputs" the client asked for, and whether as binary data. */
static int parse_outputs(const ks_model_info *m, const json_t *root, ks_request *r, char *err, size_t cap)
{
    const json_t *params = json_object_get(root, "parameters");
    if (params && !json_is_object(params)) return fail(err, cap, "parameters: expected an object");
    const json_t *bo = params ? json_object_get(params, "binary_data_output") : NULL;
    if (bo && !json_is_boolean(bo)) return fail(err, cap, "parameters.binary_data_output: expected true or false");
    r->binary_output = bo && json_is_true(bo);
    const json_t *outs = json_object_get(root, "outputs");
    if (!outs) return 0;
    if (!json_is_array(outs)) return fail(err, cap, "outputs: expected an array");
    size_t i;
    const json_t *o;
    json_array_foreach(outs, i, o) {
        const json_t *name = json_object_get(o, "name");
        if (!json_is_string(name)) return fail(err, cap, "outputs[%zu].name: expected a string", i);
        if (strcmp(json_string_value(name), m->output.name))
            return fail(err, cap, "outputs[%zu].name: model '%s' has no output '%s' (it has '%s')", i, m->name,
                        json_string_value(name), m->output.name);
        const json_t *op = json_object_get(o, "parameters");
        const json_t *bd = json_is_object(op) ? json_object_get(op, "binary_data") : NULL;
        if (bd && !json_is_boolean(bd)) return fail(err, cap, "outputs[%zu].parameters.binary_data: expected true or false", i);
        if (bd) r->binary_output = json_is_true(bd);
    }
    return 0;
}

void ks_budget_of(const ks_model_info *m, ks_json_budget *b)
{
    int64_t values = (int64_t)m->max_batch * ks_spec_elems(&m->input);
    int64_t last = m->input.rank > 0 && m->input.dims[m->input.rank - 1] > 0 ? m->input.dims[m->input.rank - 1] : 1;
    b->max_scalars = values + 64;
    /* rows of the innermost level, then each level above at most as many */
    b->max_arrays = (values / last) * (m->input.rank + 1) + 64;
    b->max_other = 256;
    b->max_depth = KS_MAX_RANK + 5;
    /* 32 bytes a value covers "-1.2345678901234567e-308, " with room to spare */
    b->max_json_bytes = (size_t)values * 32 + (64 << 10);
}

int ks_json_within(const ks_json_budget *b, const char *text, size_t len, char *err, size_t errcap)
{
    if (len > b->max_json_bytes)
        return fail(err, errcap, "the JSON request is %zu bytes; for this model it is at most %zu (send large tensors as binary "
                    "data)", len, b->max_json_bytes);
    int64_t scalars = 0, arrays = 0, other = 0;
    int depth = 0;
    bool in_string = false, in_token = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\') i++;
            else if (c == '"') in_string = false;
            continue;
        }
        bool token_char = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' || c == '+' || c == '.' || c == 'E';
        if (token_char && !in_token) scalars++;
        in_token = token_char;
        if (c == '"') in_string = true, other++;
        else if (c == '{') other++, depth++;
        else if (c == '[') arrays++, depth++;
        else if (c == '}' || c == ']') depth--;
        if (depth > b->max_depth) return fail(err, errcap, "the request is nested deeper than %d levels", b->max_depth);
        if (scalars > b->max_scalars)
            return fail(err, errcap, "the request holds more than %lld numbers: more than the model's max batch of values",
                        (long long)b->max_scalars);
        if (arrays > b->max_arrays) return fail(err, errcap, "the request holds more than %lld arrays", (long long)b->max_arrays);
        if (other > b->max_other)
            return fail(err, errcap, "the request holds more than %lld objects and strings; a valid one has a few",
                        (long long)b->max_other);
    }
    return 0;
}

/* Triton's raw binary request: the body is the one input's bytes. */
static int parse_raw(const ks_model_info *m, const char *body, size_t len, ks_request *r, char *err, size_t errcap)
{
    size_t item = ks_spec_bytes(&m->input);
    if (len == 0 || item == 0 || len % item)
        return fail(err, errcap, "a raw binary request (Inference-Header-Content-Length: 0) is whole items of '%s': "
                    "%zu bytes each, and %zu bytes came", m->input.name, item, len);
    if (len / item > (size_t)m->max_batch)
        return fail(err, errcap, "a raw binary request of %zu items is over the model's max batch %d", len / item, m->max_batch);
    r->batch = (int)(len / item);
    r->input = body;
    r->binary_output = true;
    return 0;
}

int ks_parse_infer(const ks_model_info *m, const char *body, size_t len, long long header_len, ks_request *r,
                   char *err, size_t errcap)
{
    memset(r, 0, sizeof *r);
    if (header_len == 0) return parse_raw(m, body, len, r, err, errcap);
    if (header_len > (long long)len)
        return fail(err, errcap, "Inference-Header-Content-Length %lld exceeds the body's %zu bytes", header_len, len);
    size_t jlen = header_len >= 0 ? (size_t)header_len : len;
    ks_json_budget budget;
    ks_budget_of(m, &budget);
    if (ks_json_within(&budget, body, jlen, err, errcap)) return -1;
    json_error_t je;
    json_t *root = json_loadb(body, jlen, JSON_REJECT_DUPLICATES, &je);
    if (!root) return fail(err, errcap, "the request is not valid JSON: %s at line %d, column %d", je.text, je.line, je.column);
    int rc = -1;
    if (!json_is_object(root)) {
        fail(err, errcap, "the request must be a JSON object");
        goto out;
    }
    const json_t *id = json_object_get(root, "id");
    if (id) {
        if (!json_is_string(id)) { fail(err, errcap, "id: expected a string"); goto out; }
        if (strlen(json_string_value(id)) >= KS_ID_MAX) { fail(err, errcap, "id: longer than %d bytes", KS_ID_MAX - 1); goto out; }
        snprintf(r->id, sizeof r->id, "%s", json_string_value(id));
        r->has_id = true;
    }
    const json_t *inputs = json_object_get(root, "inputs");
    if (!json_is_array(inputs) || json_array_size(inputs) != 1) {
        fail(err, errcap, "inputs: expected an array of one tensor (model '%s' takes '%s')", m->name, m->input.name);
        goto out;
    }
    const json_t *in = json_array_get(inputs, 0);
    const json_t *name = json_object_get(in, "name"), *dt = json_object_get(in, "datatype");
    if (!json_is_string(name)) { fail(err, errcap, "inputs[0].name: expected a string"); goto out; }
    if (strcmp(json_string_value(name), m->input.name)) {
        fail(err, errcap, "inputs[0].name: model '%s' has no input '%s' (it takes '%s')", m->name, json_string_value(name), m->input.name);
        goto out;
    }
    if (!json_is_string(dt)) { fail(err, errcap, "inputs[0].datatype: expected a string such as \"%s\"", ks_dtype_name(m->input.dtype)); goto out; }
    if (ks_dtype_of(json_string_value(dt)) != (int)m->input.dtype) {
        fail(err, errcap, "inputs[0].datatype: model '%s' takes %s, not %s", m->name, ks_dtype_name(m->input.dtype), json_string_value(dt));
        goto out;
    }
    if (check_shape(m, json_object_get(in, "shape"), &r->batch, err, errcap)) goto out;
    if (parse_outputs(m, root, r, err, errcap)) goto out;

    size_t bytes = (size_t)r->batch * ks_spec_bytes(&m->input);
    int64_t elems = (int64_t)r->batch * ks_spec_elems(&m->input);
    const json_t *params = json_object_get(in, "parameters");
    const json_t *bsize = json_is_object(params) ? json_object_get(params, "binary_data_size") : NULL;
    const json_t *data = json_object_get(in, "data");
    if (bsize) {
        if (header_len < 0) { fail(err, errcap, "inputs[0].parameters.binary_data_size is set but the Inference-Header-Content-Length header is missing"); goto out; }
        if (!json_is_integer(bsize) || json_integer_value(bsize) != (long long)bytes) {
            fail(err, errcap, "inputs[0].parameters.binary_data_size: a [%d, ...] %s tensor is %zu bytes", r->batch, ks_dtype_name(m->input.dtype), bytes);
            goto out;
        }
        if (len - jlen != bytes) {
            fail(err, errcap, "the body holds %zu bytes after the JSON header; inputs[0] needs %zu", len - jlen, bytes);
            goto out;
        }
        if (data) { fail(err, errcap, "inputs[0] has both data and binary_data_size; send one"); goto out; }
        /* used where it lies, no copy of a large tensor; it need not be
         * aligned for its datatype (readers copy what they read) */
        r->input = body + jlen;
    } else {
        if (!data) { fail(err, errcap, "inputs[0].data: missing (or give parameters.binary_data_size and send binary data)"); goto out; }
        if (header_len >= 0 && len != jlen) { fail(err, errcap, "%zu bytes follow the JSON header but no input is binary", len - jlen); goto out; }
        if (!(r->owned = malloc(bytes ? bytes : 1))) { fail(err, errcap, "out of memory for %zu bytes of input", bytes); goto out; }
        r->input = r->owned;
        data_walk w = {.dtype = m->input.dtype, .out = r->owned, .cap = elems, .err = err, .errcap = errcap};
        if (walk(&w, data)) goto out;
        if (w.n != elems) {
            fail(err, errcap, "inputs[0].data holds %lld values; shape [%d, ...] needs %lld", (long long)w.n, r->batch, (long long)elems);
            goto out;
        }
    }
    rc = 0;
out:
    json_decref(root);
    if (rc) ks_request_free(r);
    return rc;
}

void ks_request_free(ks_request *r)
{
    free(r->owned);
    r->owned = NULL;
    r->input = NULL;
}

static json_t *shape_json(int batch, const ks_tensor_spec *t)
{
    json_t *a = json_array();
    if (batch > 0) json_array_append_new(a, json_integer(batch));
    for (int i = 0; i < t->rank; i++) json_array_append_new(a, json_integer(t->dims[i]));
    return a;
}

static json_t *data_json(ks_dtype t, const void *p, int64_t n)
{
    json_t *a = json_array();
    const unsigned char *b = p;
    for (int64_t i = 0; i < n; i++) {
        json_t *v;
        switch (t) {
        case KS_BOOL: v = json_boolean(b[i]); break;
        case KS_UINT8: v = json_integer(b[i]); break;
        case KS_INT8: v = json_integer(((const int8_t *)p)[i]); break;
        case KS_INT32: { int32_t x; memcpy(&x, b + 4 * i, 4); v = json_integer(x); break; }
        case KS_INT64: { int64_t x; memcpy(&x, b + 8 * i, 8); v = json_integer(x); break; }
        case KS_FP32: { float x; memcpy(&x, b + 4 * i, 4); v = isfinite(x) ? json_real(x) : json_null(); break; }
        case KS_FP64: { double x; memcpy(&x, b + 8 * i, 8); v = isfinite(x) ? json_real(x) : json_null(); break; }
        default: v = json_null(); break; /* half types are always answered as binary */
        }
        json_array_append_new(a, v);
    }
    return a;
}

int ks_render_infer(const ks_model_info *m, const ks_request *r, const void *output, ks_body *b)
{
    memset(b, 0, sizeof *b);
    const ks_tensor_spec *t = &m->output;
    size_t bytes = (size_t)r->batch * ks_spec_bytes(t);
    /* half-precision outputs have no JSON form: send them as binary data */
    bool binary = r->binary_output || t->dtype == KS_FP16 || t->dtype == KS_BF16;
    json_t *root = json_object();
    json_object_set_new(root, "model_name", json_string(m->name));
    json_object_set_new(root, "model_version", json_string(m->version));
    if (r->has_id) json_object_set_new(root, "id", json_string(r->id));
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(t->name));
    json_object_set_new(o, "datatype", json_string(ks_dtype_name(t->dtype)));
    json_object_set_new(o, "shape", shape_json(r->batch, t));
    if (binary) json_object_set_new(o, "parameters", json_pack("{sI}", "binary_data_size", (json_int_t)bytes));
    else json_object_set_new(o, "data", data_json(t->dtype, output, (int64_t)r->batch * ks_spec_elems(t)));
    json_object_set_new(root, "outputs", json_pack("[o]", o));
    char *head = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(9)); /* enough for FP32 */
    json_decref(root);
    if (!head) return -1;
    size_t hl = strlen(head);
    if (!binary) {
        b->data = head, b->len = hl, b->header_len = -1;
        return 0;
    }
    b->data = malloc(hl + bytes);
    if (!b->data) {
        free(head);
        return -1;
    }
    memcpy(b->data, head, hl);
    memcpy(b->data + hl, output, bytes);
    free(head);
    b->len = hl + bytes, b->header_len = (long long)hl;
    return 0;
}

char *ks_render_error(const char *msg)
{
    json_t *o = json_pack("{ss}", "error", msg);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

static json_t *tensor_meta(const ks_tensor_spec *t)
{
    json_t *shape = shape_json(0, t);
    json_array_insert_new(shape, 0, json_integer(-1)); /* the batch dimension, variable */
    return json_pack("{ssssso}", "name", t->name, "datatype", ks_dtype_name(t->dtype), "shape", shape);
}

char *ks_render_model_metadata(const ks_model_info *m)
{
    json_t *o = json_pack("{sss[s]sss[o]s[o]}", "name", m->name, "versions", m->version, "platform", m->platform, "inputs",
                          tensor_meta(&m->input), "outputs", tensor_meta(&m->output));
    json_object_set_new(o, "max_batch_size", json_integer(m->max_batch));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static json_t *tensor_config(const ks_tensor_spec *t, bool input)
{
    json_t *dims = shape_json(0, t);
    char type[16];
    snprintf(type, sizeof type, "TYPE_%s", ks_dtype_name(t->dtype));
    json_t *o = json_pack("{s:s, s:s, s:o, s:b}", "name", t->name, "data_type", type, "dims", dims, "is_shape_tensor", 0);
    if (input) {
        json_object_set_new(o, "format", json_string("FORMAT_NONE"));
        json_object_set_new(o, "allow_ragged_batch", json_false());
        json_object_set_new(o, "optional", json_false());
    }
    return o;
}

char *ks_render_model_config(const ks_model_info *m)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:{s:{s:i}}, s:i, s:[o], s:[o]}", "name", m->name, "platform", m->platform,
                          "backend", "cotenant", "version_policy", "latest", "num_versions", 1, "max_batch_size",
                          m->max_batch, "input", tensor_config(&m->input, true), "output",
                          tensor_config(&m->output, false));
    if (m->max_queue_delay_us >= 0)
        json_object_set_new(o, "dynamic_batching",
                            json_pack("{s:[], s:I, s:b}", "preferred_batch_size", "max_queue_delay_microseconds",
                                      (json_int_t)m->max_queue_delay_us, "preserve_ordering", 1));
    json_object_set_new(o, "instance_group",
                        json_pack("[{s:s, s:s, s:i}]", "name", m->name, "kind", m->on_gpu ? "KIND_GPU" : "KIND_CPU",
                                  "count", m->instances > 0 ? m->instances : 1));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

char *ks_render_server_metadata(const char *version)
{
    json_t *o = json_pack("{sssss[ss]}", "name", "cotenant-serve", "version", version, "extensions", "binary_tensor_data",
                          "model_configuration");
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}
