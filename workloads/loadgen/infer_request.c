#include "infer_request.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "wl_rng.h"

/* The protocol's datatypes: size in bytes (0: BYTES, variable), and how a
 * value is held. */
typedef enum { K_BOOL, K_UINT, K_INT, K_FLOAT, K_HALF, K_BFLOAT, K_BYTES } kind;
static const struct {
    const char *name;
    int size;
    kind k;
} types[] = {
    {"BOOL", 1, K_BOOL},  {"UINT8", 1, K_UINT},  {"UINT16", 2, K_UINT}, {"UINT32", 4, K_UINT},  {"UINT64", 8, K_UINT},
    {"INT8", 1, K_INT},   {"INT16", 2, K_INT},   {"INT32", 4, K_INT},   {"INT64", 8, K_INT},    {"FP16", 2, K_HALF},
    {"BF16", 2, K_BFLOAT}, {"FP32", 4, K_FLOAT}, {"FP64", 8, K_FLOAT},  {"BYTES", 0, K_BYTES},
};
#define NTYPES (int)(sizeof types / sizeof types[0])

static int fail(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return -1;
}

int infer_shape_parse(const char *text, infer_shape *s)
{
    memset(s, 0, sizeof *s);
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text || (size_t)(colon - text) >= sizeof s->name) return -1;
    memcpy(s->name, text, (size_t)(colon - text));
    for (const char *p = colon + 1;;) {
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p || v < 1 || v > (1 << 24) || s->rank == 8 || (*end && *end != ',')) return -1;
        s->dims[s->rank++] = v;
        if (!*end) return 0;
        p = end + 1;
    }
}

/* IEEE half from a float (round to nearest even, overflow to infinity). */
static uint16_t to_half(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u, mant = x & 0x7fffffu;
    int exp = (int)((x >> 23) & 0xff) - 127 + 15;
    if (((x >> 23) & 0xff) == 0xff) return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0));
    if (exp >= 31) return (uint16_t)(sign | 0x7c00u);
    if (exp <= 0) {
        if (exp < -10) return (uint16_t)sign;
        mant |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - exp), half = mant >> shift, rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)exp << 10) | (mant >> 13), rem = mant & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (half & 1))) half++;
    return (uint16_t)half;
}

/* Seeded values: floats in [-1, 1), integers in [0, 100) (valid token ids
 * and class indices for any model driven), strings of such integers. */
static json_t *random_value(int t, unsigned long long seed, int input, int64_t i)
{
    float u = wl_uniform(seed, 23 + (uint64_t)input, (uint64_t)i);
    switch (types[t].k) {
    case K_BOOL: return json_boolean(u < 0.5f);
    case K_UINT:
    case K_INT: return json_integer((json_int_t)(u * 100));
    case K_BYTES: return json_sprintf("%d", (int)(u * 100));
    default: return json_real(2 * u - 1);
    }
}

/* One value into its binary form at out (BYTES: length, then the bytes);
 * the bytes written, or -1 with why set. */
static long encode(int t, const json_t *v, unsigned char *out, const char *name, int64_t i, char *why, size_t cap)
{
    const char *tn = types[t].name;
    int size = types[t].size;
    switch (types[t].k) {
    case K_BOOL:
        if (!json_is_boolean(v) && !json_is_integer(v))
            return fail(why, cap, "input '%s' value %lld: BOOL takes true or false", name, (long long)i);
        *out = json_is_true(v) || (json_is_integer(v) && json_integer_value(v) != 0);
        return 1;
    case K_UINT:
    case K_INT: {
        if (!json_is_integer(v)) return fail(why, cap, "input '%s' value %lld: %s takes integers", name, (long long)i, tn);
        long long x = json_integer_value(v);
        int bits = size * 8;
        int in_range = types[t].k == K_UINT ? x >= 0 && (bits == 64 || x < (1LL << bits))
                                             : bits == 64 || (x >= -(1LL << (bits - 1)) && x < (1LL << (bits - 1)));
        if (!in_range) return fail(why, cap, "input '%s' value %lld: %lld is out of range for %s", name, (long long)i, x, tn);
        uint64_t u = (uint64_t)x; /* little-endian, two's complement */
        for (int b = 0; b < size; b++) out[b] = (unsigned char)(u >> (8 * b));
        return size;
    }
    case K_FLOAT:
    case K_HALF:
    case K_BFLOAT: {
        if (!json_is_number(v)) return fail(why, cap, "input '%s' value %lld: %s takes numbers", name, (long long)i, tn);
        double d = json_number_value(v);
        if (size == 8) memcpy(out, &d, 8);
        else if (types[t].k == K_FLOAT) { float f = (float)d; memcpy(out, &f, 4); }
        else {
            float f = (float)d;
            uint32_t x;
            memcpy(&x, &f, 4);
            uint16_t h = types[t].k == K_HALF ? to_half(f) : (uint16_t)((x + 0x7fffu + ((x >> 16) & 1)) >> 16);
            out[0] = (unsigned char)h, out[1] = (unsigned char)(h >> 8);
        }
        return size;
    }
    case K_BYTES: {
        if (!json_is_string(v)) return fail(why, cap, "input '%s' value %lld: BYTES takes strings", name, (long long)i);
        size_t n = json_string_length(v);
        if (n > (1u << 24)) return fail(why, cap, "input '%s' value %lld: a string over 16 MiB", name, (long long)i);
        uint32_t len = (uint32_t)n;
        for (int b = 0; b < 4; b++) out[b] = (unsigned char)(len >> (8 * b));
        memcpy(out + 4, json_string_value(v), n);
        return 4 + (long)n;
    }
    }
    return -1;
}

/* The input's shape for this request: the metadata's, its leading -1 the
 * batch, other -1s from --shape (which may also replace the dimensions
 * after the batch). */
static json_t *shape_of(const json_t *meta_shape, const char *name, const infer_request_opts *o, int64_t *elems,
                        int64_t *item_elems, char *why, size_t cap)
{
    const infer_shape *given = NULL;
    for (int k = 0; k < o->nshapes; k++)
        if (!strcmp(o->shapes[k].name, name)) given = &o->shapes[k];
    size_t rank = json_array_size(meta_shape);
    int batched = rank > 0 && json_integer_value(json_array_get(meta_shape, 0)) == -1;
    if (given && (size_t)given->rank + (size_t)batched != rank) {
        fail(why, cap, "--shape %s: %d dimension%s given; its metadata has %zu%s", name, given->rank,
             given->rank == 1 ? "" : "s", rank - (size_t)batched, batched ? " after the batch" : "");
        return NULL;
    }
    json_t *s = json_array();
    *elems = 1, *item_elems = 1;
    for (size_t i = 0; i < rank; i++) {
        const json_t *d = json_array_get(meta_shape, i);
        json_int_t v = json_integer_value(d);
        if (!json_is_integer(d) || v == 0 || v < -1 || v > (1 << 24)) {
            json_decref(s);
            fail(why, cap, "input '%s': its metadata shape is not a list of dimensions", name);
            return NULL;
        }
        if (i == 0 && batched) v = o->batch;
        else if (given) v = given->dims[i - (size_t)batched];
        else if (v == -1) {
            json_decref(s);
            fail(why, cap, "input '%s' has a variable dimension (%zu of its shape): give it with --shape %s:%s", name, i,
                 name, "d1,d2,...");
            return NULL;
        }
        *elems *= v;
        if (!(i == 0 && batched)) *item_elems *= v;
        json_array_append_new(s, json_integer(v));
    }
    if (*elems > (1LL << 28)) {
        json_decref(s);
        fail(why, cap, "input '%s' is larger than 2^28 values", name);
        return NULL;
    }
    return s;
}

/* The values of one input, in order: from the input data file (one item's
 * worth, repeated for each item of the batch, or the whole batch's), or
 * random. A new array, or NULL with why set. */
static json_t *values_of(const json_t *given, int t, int input, const char *name, int64_t elems, int64_t item_elems,
                         unsigned long long seed, char *why, size_t cap)
{
    json_t *v = json_array();
    if (!given) {
        for (int64_t i = 0; i < elems; i++) json_array_append_new(v, random_value(t, seed, input, i));
        return v;
    }
    if (json_is_object(given)) given = json_object_get(given, "content");
    size_t n = json_array_size(given);
    if (!json_is_array(given) || (n != (size_t)item_elems && n != (size_t)elems)) {
        json_decref(v);
        fail(why, cap, "the input data for '%s' holds %zu values; its shape needs %lld (one item) or %lld (the batch)",
             name, json_is_array(given) ? n : 0, (long long)item_elems, (long long)elems);
        return NULL;
    }
    for (int64_t i = 0; i < elems; i++) json_array_append(v, json_array_get(given, (size_t)(i % (int64_t)n)));
    return v;
}

/* The first entry of the input data file ({"data": [{NAME: values}, ...]}). */
static json_t *data_entry(const char *text, json_t **root, char *why, size_t cap)
{
    json_error_t je;
    *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!*root) {
        fail(why, cap, "the input data is not JSON: %s at line %d, column %d", je.text, je.line, je.column);
        return NULL;
    }
    json_t *e = json_array_get(json_object_get(*root, "data"), 0);
    if (!json_is_object(e)) fail(why, cap, "the input data has no {\"data\": [{INPUT: [values], ...}]}");
    return json_is_object(e) ? e : NULL;
}

/* One input of the request: its tensor object, its binary bytes appended
 * to *bin. 0, or -1 with why set. */
static int add_input(const json_t *in, int index, const infer_request_opts *o, const json_t *entry, json_t *inputs,
                     unsigned char **bin, size_t *bin_len, char *summary, size_t scap, char *why, size_t cap)
{
    const char *name = json_string_value(json_object_get(in, "name"));
    const char *dt = json_string_value(json_object_get(in, "datatype"));
    const json_t *meta_shape = json_object_get(in, "shape");
    if (!name || !dt || !json_is_array(meta_shape))
        return fail(why, cap, "the model metadata's inputs[%d] has no name, datatype and shape", index);
    int t = -1;
    for (int k = 0; k < NTYPES; k++)
        if (!strcmp(types[k].name, dt)) t = k;
    if (t < 0) return fail(why, cap, "input '%s': unknown datatype %s", name, dt);
    if (!o->binary && (types[t].k == K_HALF || types[t].k == K_BFLOAT))
        return fail(why, cap, "input '%s': %s tensors have no JSON form: use --format binary", name, dt);
    int64_t elems, item_elems;
    json_t *shape = shape_of(meta_shape, name, o, &elems, &item_elems, why, cap);
    if (!shape) return -1;
    const json_t *given = entry ? json_object_get(entry, name) : NULL;
    if (entry && !given) {
        json_decref(shape);
        return fail(why, cap, "the input data has no values for input '%s'", name);
    }
    /* random values for binary data are made one at a time as they are
     * encoded: an array of them would take ~64 bytes a value (300 MB for a
     * batch of 32 images) */
    const int streamed = !given && o->binary;
    json_t *vals = streamed ? json_array() : values_of(given, t, index, name, elems, item_elems, o->seed, why, cap);
    if (!vals) {
        json_decref(shape);
        return -1;
    }
    const size_t nvals = streamed ? (size_t)elems : json_array_size(vals);
    size_t len = strlen(summary);
    char *st = json_dumps(shape, JSON_COMPACT);
    snprintf(summary + len, scap - len, "%s%s %s %s", len ? ", " : "", name, dt, st ? st : "?");
    free(st);
    json_t *tin = json_pack("{s:s, s:s, s:o}", "name", name, "datatype", dt, "shape", shape);
    /* the binary form is checked (and sized) whatever the format */
    size_t room = types[t].k == K_BYTES ? 0 : (size_t)elems * (size_t)types[t].size, at = *bin_len;
    if (types[t].k == K_BYTES && streamed) room = nvals * (4 + 3); /* random strings are 0..99 */
    else if (types[t].k == K_BYTES)
        for (size_t i = 0; i < nvals; i++) room += 4 + json_string_length(json_array_get(vals, i));
    unsigned char *nb = realloc(*bin, *bin_len + room + 1);
    if (!nb) {
        json_decref(tin), json_decref(vals);
        return fail(why, cap, "out of memory for input '%s'", name);
    }
    *bin = nb;
    for (size_t i = 0; i < nvals; i++) {
        json_t *v = streamed ? random_value(t, o->seed, index, (int64_t)i) : json_incref(json_array_get(vals, i));
        long n = encode(t, v, nb + at, name, (int64_t)i, why, cap);
        json_decref(v);
        if (n < 0) {
            json_decref(tin), json_decref(vals);
            return -1;
        }
        at += (size_t)n;
    }
    if (o->binary) {
        json_object_set_new(tin, "parameters", json_pack("{s:I}", "binary_data_size", (json_int_t)(at - *bin_len)));
        *bin_len = at;
        json_decref(vals);
    } else {
        json_object_set_new(tin, "data", vals);
    }
    json_array_append_new(inputs, tin);
    return 0;
}

int infer_request_build(const char *metadata, const infer_request_opts *o, infer_request *r, char *why, size_t whycap)
{
    memset(r, 0, sizeof *r);
    json_error_t je;
    json_t *meta = json_loads(metadata, 0, &je), *data_root = NULL, *req = NULL;
    if (!meta) return fail(why, whycap, "the model metadata is not JSON: %s", je.text);
    int rc = -1;
    char *head = NULL;
    unsigned char *bin = NULL;
    size_t bin_len = 0;
    const json_t *entry = NULL;
    if (o->input_data && !(entry = data_entry(o->input_data, &data_root, why, whycap))) goto out;
    const json_t *ins = json_object_get(meta, "inputs");
    if (!json_is_array(ins) || json_array_size(ins) == 0 || json_array_size(ins) > INFER_MAX_INPUTS) {
        fail(why, whycap, "the model metadata has no inputs (or more than %d)", INFER_MAX_INPUTS);
        goto out;
    }
    for (int k = 0; k < o->nshapes; k++) { /* a --shape for no input is a typo worth saying */
        size_t i;
        const json_t *in;
        int found = 0;
        json_array_foreach(ins, i, in) found |= !strcmp(json_string_value(json_object_get(in, "name")) ?: "", o->shapes[k].name);
        if (!found) {
            fail(why, whycap, "--shape %s: the model has no input of that name", o->shapes[k].name);
            goto out;
        }
    }
    json_t *inputs = json_array();
    req = json_pack("{s:o}", "inputs", inputs);
    size_t i;
    const json_t *in;
    json_array_foreach(ins, i, in) {
        if (add_input(in, (int)i, o, entry, inputs, &bin, &bin_len, r->summary, sizeof r->summary, why, whycap)) goto out;
        r->ninputs++;
    }
    json_t *outs = json_array();
    const json_t *out;
    json_array_foreach(json_object_get(meta, "outputs"), i, out) {
        const char *name = json_string_value(json_object_get(out, "name"));
        if (name) json_array_append_new(outs, json_pack("{s:s, s:{s:b}}", "name", name, "parameters", "binary_data", o->binary));
    }
    if (json_array_size(outs)) json_object_set_new(req, "outputs", outs);
    else json_decref(outs);
    head = json_dumps(req, JSON_COMPACT | JSON_REAL_PRECISION(9));
    if (!head) {
        fail(why, whycap, "out of memory");
        goto out;
    }
    size_t hl = strlen(head);
    r->body_len = hl + (o->binary ? bin_len : 0);
    char hdr[1024];
    int n = snprintf(hdr, sizeof hdr,
                     "POST %s/v2/models/%s/infer HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n",
                     o->prefix, o->model, o->authority, o->binary ? "application/octet-stream" : "application/json",
                     r->body_len);
    if (o->binary) n += snprintf(hdr + n, sizeof hdr - (size_t)n, "Inference-Header-Content-Length: %zu\r\n", hl);
    n += snprintf(hdr + n, sizeof hdr - (size_t)n, "\r\n");
    if (n >= (int)sizeof hdr) {
        fail(why, whycap, "the request line and headers are over %zu bytes", sizeof hdr);
        goto out;
    }
    r->len = (size_t)n + r->body_len;
    if (!(r->bytes = malloc(r->len + 1))) {
        fail(why, whycap, "out of memory");
        goto out;
    }
    r->bytes[r->len] = 0; /* a JSON request reads as a string */
    memcpy(r->bytes, hdr, (size_t)n);
    memcpy(r->bytes + n, head, hl);
    if (o->binary && bin_len) memcpy(r->bytes + n + hl, bin, bin_len);
    rc = 0;
out:
    free(head);
    free(bin);
    json_decref(req);
    json_decref(meta);
    json_decref(data_root);
    if (rc) infer_request_free(r);
    return rc;
}

void infer_request_free(infer_request *r)
{
    free(r->bytes);
    r->bytes = NULL;
}
