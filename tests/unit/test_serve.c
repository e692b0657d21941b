/* The inference server's pieces without HTTP: the KServe v2 messages
 * (every way a request can be wrong gets a 400 naming the field), the
 * routes, the dynamic batcher (max batch and max delay honoured, a full
 * queue refused, a stop answers what is queued) and the CPU model. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <jansson.h>

#include <zlib.h>

#include "batcher.h"
#include "body_coding.h"
#include "events.h"
#include "kserve.h"
#include "model_mlp_cpu.h"
#include "serve_route.h"

static const ks_model_info model = {
    .name = "m", .version = "1", .platform = "test",
    .input = {.name = "IN", .dtype = KS_FP32, .rank = 2, .dims = {2, 3}},
    .output = {.name = "OUT", .dtype = KS_INT32, .rank = 1, .dims = {2}},
    .max_batch = 4,
};

static int parse(const char *body, long long header_len, ks_request *r, char *err)
{
    return ks_parse_infer(&model, body, strlen(body), header_len, r, err, KS_ERR_MAX);
}

static void json_flat_and_nested(void **state)
{
    (void)state;
    ks_request r;
    char err[KS_ERR_MAX];
    assert_int_equal(parse("{\"id\":\"a7\",\"inputs\":[{\"name\":\"IN\",\"datatype\":\"FP32\",\"shape\":[1,2,3],"
                           "\"data\":[1,2,3,4,5,6.5]}]}", -1, &r, err), 0);
    assert_int_equal(r.batch, 1);
    assert_string_equal(r.id, "a7");
    assert_false(r.binary_output);
    const float *x = r.input;
    assert_float_equal(x[5], 6.5, 0);
    ks_request_free(&r);
    assert_int_equal(parse("{\"inputs\":[{\"name\":\"IN\",\"datatype\":\"FP32\",\"shape\":[2,2,3],"
                           "\"data\":[[[1,2,3],[4,5,6]],[[7,8,9],[10,11,12]]]}],"
                           "\"outputs\":[{\"name\":\"OUT\",\"parameters\":{\"binary_data\":true}}]}", -1, &r, err), 0);
    assert_int_equal(r.batch, 2);
    assert_false(r.has_id);
    assert_true(r.binary_output);
    x = r.input;
    assert_float_equal(x[11], 12, 0);
    ks_request_free(&r);
}

static void binary_input(void **state)
{
    (void)state;
    const char *head = "{\"inputs\":[{\"name\":\"IN\",\"datatype\":\"FP32\",\"shape\":[1,2,3],"
                       "\"parameters\":{\"binary_data_size\":24}}],\"parameters\":{\"binary_data_output\":true}}";
    float v[6] = {1, -2, 3, -4, 5, -6};
    size_t hl = strlen(head);
    char body[512];
    memcpy(body, head, hl);
    memcpy(body + hl, v, sizeof v);
    ks_request r;
    char err[KS_ERR_MAX];
    assert_int_equal(ks_parse_infer(&model, body, hl + sizeof v, (long long)hl, &r, err, sizeof err), 0);
    assert_memory_equal(r.input, v, sizeof v);
    assert_true(r.binary_output);
    ks_request_free(&r);
    /* binary data is used where it lies, aligned or not */
    static _Alignas(16) char aligned[512];
    size_t hl8 = (hl + 7) / 8 * 8;
    memcpy(aligned, head, hl);
    memset(aligned + hl, ' ', hl8 - hl); /* JSON allows trailing spaces */
    memcpy(aligned + hl8, v, sizeof v);
    assert_int_equal(ks_parse_infer(&model, aligned, hl8 + sizeof v, (long long)hl8, &r, err, sizeof err), 0);
    assert_ptr_equal(r.input, aligned + hl8);
    assert_null(r.owned);
    ks_request_free(&r);
    memmove(aligned + 1, aligned, hl8 + sizeof v);
    aligned[0] = ' ';
    assert_int_equal(ks_parse_infer(&model, aligned, hl8 + 1 + sizeof v, (long long)hl8 + 1, &r, err, sizeof err), 0);
    assert_null(r.owned);
    assert_ptr_equal(r.input, aligned + hl8 + 1);
    assert_memory_equal(r.input, v, sizeof v);
    ks_request_free(&r);
    /* one byte short, or a header length past the end */
    assert_int_equal(ks_parse_infer(&model, body, hl + sizeof v - 1, (long long)hl, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "needs 24"));
    assert_int_equal(ks_parse_infer(&model, body, hl, (long long)hl + 1, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "exceeds"));
    /* binary_data_size without the header */
    assert_int_equal(ks_parse_infer(&model, body, hl, -1, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "Inference-Header-Content-Length"));
}

static void bad_requests_say_what(void **state)
{
    (void)state;
    static const struct {
        const char *body, *says;
    } cases[] = {
        {"{\"inputs\":", "not valid JSON"},
        {"[1,2]", "JSON object"},
        {"{}", "inputs: expected an array of one tensor"},
        {"{\"inputs\":[{\"name\":\"X\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5,6]}]}", "no input 'X'"},
        {"{\"inputs\":[{\"name\":\"IN\",\"datatype\":\"INT8\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5,6]}]}", "takes FP32, not INT8"},
        {"{\"inputs\":[{\"name\":\"IN\",\"datatype\":\"FP32\",\"shape\":[1,2,4],\"data\":[1,2,3,4,5,6]}]}", "shape[2]: expected 3, got 4"},
        {"{\"inputs\":[{\"name\":\"IN\",\"datatype\":\"FP32\",\"shape\":[1,2],\"data\":[1,2,3,4,5,6]}]}", "2 dimensions"},
        {"{\"inputs\":[{\"name\":\"IN\",\"datatype\":\"FP32\",\"shape\":[5,2,3],\"data\":[1]}]}", "outside 1..4"},
        {"{\"inputs\":[{\"name\":\"IN\",\"datatype\":\"FP32\",\"shape\":[0,2,3],\"data\":[]}]}", "outside 1..4"},
        {"{\"inputs\":[{\"name\":\"IN\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5]}]}", "holds 5 values"},
        {"{\"inputs\":[{\"name\":\"IN\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5,6,7]}]}", "more than the 6"},
        {"{\"inputs\":[{\"name\":\"IN\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5,\"x\"]}]}", "data[5]"},
        {"{\"inputs\":[{\"name\":\"IN\",\"datatype\":\"FP32\",\"shape\":[1,2,3]}]}", "data: missing"},
        {"{\"inputs\":[{\"name\":\"IN\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5,6]}],"
         "\"outputs\":[{\"name\":\"NOPE\"}]}", "no output 'NOPE'"},
        {"{\"id\":5,\"inputs\":[]}", "id: expected a string"},
        {"{\"inputs\":[{\"name\":\"IN\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[[[[[[[[[1]]]]]]]]]}]}", "nested deeper"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ks_request r;
        char err[KS_ERR_MAX] = "";
        if (parse(cases[i].body, -1, &r, err) != -1 || !strstr(err, cases[i].says))
            fail_msg("case %zu: expected an error saying '%s', got '%s'", i, cases[i].says, err);
        assert_null(r.input);
    }
}

/* The scan before parsing: each limit, with the model's own bound on values. */
static void json_budget(void **state)
{
    (void)state;
    ks_json_budget b;
    ks_budget_of(&model, &b);
    int64_t values = (int64_t)model.max_batch * ks_spec_elems(&model.input);
    assert_int_equal(b.max_scalars, values + 64);
    assert_int_equal(b.max_json_bytes, (size_t)values * 32 + 65536);
    char err[KS_ERR_MAX];
    const char *ok = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],\"data\":[[1.5e-3,-2],\"a\\\"[{\"]}]}";
    assert_int_equal(ks_json_within(&b, ok, strlen(ok), err, sizeof err), 0);
    char *buf = malloc(4096);
    memset(buf, '[', 4096); /* depth */
    assert_int_equal(ks_json_within(&b, buf, (size_t)b.max_depth + 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "nested deeper"));
    assert_int_equal(ks_json_within(&b, buf, (size_t)b.max_depth, err, sizeof err), 0);
    for (int i = 0; i < 4095; i += 3) memcpy(buf + i, "{},", 3); /* objects */
    assert_int_equal(ks_json_within(&b, buf, 3 * 257, err, sizeof err), -1);
    assert_non_null(strstr(err, "objects and strings"));
    assert_int_equal(ks_json_within(&b, buf, 3 * 256, err, sizeof err), 0);
    free(buf);
    size_t n = (size_t)(b.max_scalars + 1) * 2; /* numbers */
    buf = malloc(n);
    for (size_t i = 0; i < n; i += 2) buf[i] = '7', buf[i + 1] = ',';
    assert_int_equal(ks_json_within(&b, buf, n, err, sizeof err), -1);
    assert_non_null(strstr(err, "more than"));
    assert_int_equal(ks_json_within(&b, buf, n - 2, err, sizeof err), 0);
    free(buf);
    assert_int_equal(ks_json_within(&b, "x", b.max_json_bytes + 1, err, sizeof err), -1); /* size, before any byte is read */
    assert_non_null(strstr(err, "at most"));
}

static void integer_ranges(void **state)
{
    (void)state;
    ks_model_info m = model;
    m.input.dtype = KS_INT32;
    m.input.rank = 1, m.input.dims[0] = 2;
    ks_request r;
    char err[KS_ERR_MAX];
    const char *ok = "{\"inputs\":[{\"name\":\"IN\",\"datatype\":\"INT32\",\"shape\":[1,2],\"data\":[-2147483648,2147483647]}]}";
    assert_int_equal(ks_parse_infer(&m, ok, strlen(ok), -1, &r, err, sizeof err), 0);
    assert_int_equal(((const int32_t *)r.input)[0], INT32_MIN);
    ks_request_free(&r);
    const char *big = "{\"inputs\":[{\"name\":\"IN\",\"datatype\":\"INT32\",\"shape\":[1,2],\"data\":[1,2147483648]}]}";
    assert_int_equal(ks_parse_infer(&m, big, strlen(big), -1, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "out of range for INT32"));
    const char *flt = "{\"inputs\":[{\"name\":\"IN\",\"datatype\":\"INT32\",\"shape\":[1,2],\"data\":[1,2.5]}]}";
    assert_int_equal(ks_parse_infer(&m, flt, strlen(flt), -1, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "must be integers"));
}

static void render(void **state)
{
    (void)state;
    ks_request r = {.batch = 2, .has_id = true};
    strcpy(r.id, "q");
    int32_t out[4] = {7, -8, 9, 10};
    ks_body b;
    assert_int_equal(ks_render_infer(&model, &r, out, &b), 0);
    assert_int_equal(b.header_len, -1);
    json_t *j = json_loadb(b.data, b.len, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "id")), "q");
    json_t *o = json_array_get(json_object_get(j, "outputs"), 0);
    assert_string_equal(json_string_value(json_object_get(o, "name")), "OUT");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(o, "shape"), 1)), 2);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(o, "data"), 1)), -8);
    json_decref(j);
    free(b.data);
    r.binary_output = true;
    assert_int_equal(ks_render_infer(&model, &r, out, &b), 0);
    assert_true(b.header_len > 0);
    assert_int_equal(b.len, (size_t)b.header_len + sizeof out);
    assert_memory_equal(b.data + b.header_len, out, sizeof out);
    j = json_loadb(b.data, (size_t)b.header_len, 0, NULL);
    o = json_array_get(json_object_get(j, "outputs"), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "parameters"), "binary_data_size")), 16);
    json_decref(j);
    free(b.data);
    char *meta = ks_render_model_metadata(&model);
    j = json_loads(meta, 0, NULL);
    o = json_array_get(json_object_get(j, "inputs"), 0);
    assert_string_equal(json_string_value(json_object_get(o, "datatype")), "FP32");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(o, "shape"), 0)), -1);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(o, "shape"), 2)), 3);
    json_decref(j);
    free(meta);
}

static void routes(void **state)
{
    (void)state;
    assert_int_equal(serve_route_of("GET", "/v2/health/live", "m", "1"), RT_LIVE);
    assert_int_equal(serve_route_of("GET", "/v2/health/ready", "m", "1"), RT_READY);
    assert_int_equal(serve_route_of("GET", "/v2", "m", "1"), RT_SERVER_META);
    assert_int_equal(serve_route_of("GET", "/v2/models/m", "m", "1"), RT_MODEL_META);
    assert_int_equal(serve_route_of("GET", "/v2/models/m/versions/1", "m", "1"), RT_MODEL_META);
    assert_int_equal(serve_route_of("GET", "/v2/models/m/ready", "m", "1"), RT_MODEL_READY);
    assert_int_equal(serve_route_of("POST", "/v2/models/m/infer", "m", "1"), RT_INFER);
    assert_int_equal(serve_route_of("POST", "/v2/models/m/versions/1/infer", "m", "1"), RT_INFER);
    assert_int_equal(serve_route_of("POST", "/v2/models/m/versions/2/infer", "m", "1"), RT_UNKNOWN_MODEL);
    assert_int_equal(serve_route_of("POST", "/v2/models/mm/infer", "m", "1"), RT_UNKNOWN_MODEL);
    assert_int_equal(serve_route_of("GET", "/v2/models/m/infer", "m", "1"), RT_BAD_METHOD);
    assert_int_equal(serve_route_of("POST", "/v2/health/live", "m", "1"), RT_BAD_METHOD);
    assert_int_equal(serve_route_of("GET", "/metrics", "m", "1"), RT_METRICS);
    assert_int_equal(serve_route_of("GET", "/v2/models//infer", "m", "1"), RT_NOT_FOUND);
    assert_int_equal(serve_route_of("GET", "/v2/models/m/other", "m", "1"), RT_NOT_FOUND);
    assert_int_equal(serve_route_of("GET", "/", "m", "1"), RT_NOT_FOUND);
}

/* A model that records each batch's size and takes a fixed time. */
typedef struct {
    pthread_mutex_t mu;
    int sizes[64], n;
    int sleep_ms;
} recorder;

static int rec_run(serve_model *m, int n, const void *in, void *out, char *err, size_t errcap)
{
    (void)err, (void)errcap;
    recorder *r = m->ctx;
    memcpy(out, in, (size_t)n * sizeof(float)); /* an identity model: out = in */
    if (r->sleep_ms) {
        struct timespec ts = {0, r->sleep_ms * 1000000L};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&r->mu);
    if (r->n < 64) r->sizes[r->n++] = n;
    pthread_mutex_unlock(&r->mu);
    return 0;
}

typedef struct {
    batch_req br;
    float in, out;
    int64_t done_ns;
    volatile int done;
} job;

/* zlib's own deflate, with the wrapper windowBits gives: gzip, zlib or raw. */
static size_t squeeze(const char *in, size_t len, int wbits, unsigned char *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)in, z.avail_in = (uInt)len;
    z.next_out = out, z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t n = cap - z.avail_out;
    deflateEnd(&z);
    return n;
}

static void compressed_bodies(void **state)
{
    (void)state;
    static char text[200000];
    for (size_t i = 0; i < sizeof text; i++) text[i] = (char)('a' + (i * 7 + i / 13) % 26);
    static unsigned char packed[300000];
    char *out, err[KS_ERR_MAX];
    size_t outlen;
    const struct { const char *coding; int wbits; } ways[] = {{"gzip", 15 + 16}, {"deflate", 15}, {"deflate", -15}, {"GZIP", 15 + 16}};
    for (size_t k = 0; k < sizeof ways / sizeof ways[0]; k++) {
        size_t n = squeeze(text, sizeof text, ways[k].wbits, packed, sizeof packed);
        assert_int_equal(body_decode(ways[k].coding, (char *)packed, n, sizeof text, &out, &outlen, err, sizeof err), BODY_OK);
        assert_int_equal(outlen, sizeof text);
        assert_memory_equal(out, text, sizeof text);
        free(out);
        /* one byte over the limit inflated is refused, whatever it was compressed to */
        assert_int_equal(body_decode(ways[k].coding, (char *)packed, n, sizeof text - 1, &out, &outlen, err, sizeof err),
                         BODY_TOO_LARGE);
        assert_non_null(strstr(err, "inflates to more than 199999 bytes"));
        assert_null(out);
        /* cut short, or with bytes after its end */
        assert_int_equal(body_decode(ways[k].coding, (char *)packed, n / 2, sizeof text, &out, &outlen, err, sizeof err), BODY_BAD);
        if (ways[k].wbits != -15) {
            packed[n] = 'x';
            assert_int_equal(body_decode(ways[k].coding, (char *)packed, n + 1, sizeof text, &out, &outlen, err, sizeof err),
                             BODY_BAD);
        }
    }
    assert_int_equal(body_decode("br", text, 10, 100, &out, &outlen, err, sizeof err), BODY_UNSUPPORTED);
    assert_non_null(strstr(err, "'br' is not supported"));
    assert_int_equal(body_decode("identity", text, 10, 100, &out, &outlen, err, sizeof err), BODY_OK);
    assert_int_equal(outlen, 10);
    free(out);
    assert_int_equal(body_decode("gzip", "plain text", 10, 100, &out, &outlen, err, sizeof err), BODY_BAD);
    assert_non_null(strstr(err, "not valid gzip data"));
}

static void raw_binary_request(void **state)
{
    (void)state;
    ks_model_info m = {.name = "m", .version = "1", .platform = "t", .max_batch = 4,
                       .input = {.name = "x", .dtype = KS_FP32, .rank = 1, .dims = {3}},
                       .output = {.name = "y", .dtype = KS_FP32, .rank = 1, .dims = {2}}};
    float in[6] = {1, 2, 3, 4, 5, 6};
    ks_request r;
    char err[KS_ERR_MAX];
    assert_int_equal(ks_parse_infer(&m, (const char *)in, sizeof in, 0, &r, err, sizeof err), 0);
    assert_int_equal(r.batch, 2);
    assert_ptr_equal(r.input, in);
    assert_true(r.binary_output);
    ks_request_free(&r);
    assert_int_equal(ks_parse_infer(&m, (const char *)in, sizeof in - 4, 0, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "whole items of 'x': 12 bytes each, and 20 bytes came"));
    float big[15] = {0};
    assert_int_equal(ks_parse_infer(&m, (const char *)big, sizeof big, 0, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "over the model's max batch 4"));
    /* the configuration perf_analyzer reads */
    m.max_queue_delay_us = 2000, m.instances = 2, m.on_gpu = true;
    char *cfg = ks_render_model_config(&m);
    json_t *c = json_loads(cfg, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(c, "max_batch_size")), 4);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(c, "input"), 0), "data_type")),
                        "TYPE_FP32");
    assert_int_equal(json_integer_value(json_array_get(
                         json_object_get(json_array_get(json_object_get(c, "output"), 0), "dims"), 0)),
                     2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "dynamic_batching"), "max_queue_delay_microseconds")),
                     2000);
    json_t *ig = json_array_get(json_object_get(c, "instance_group"), 0);
    assert_string_equal(json_string_value(json_object_get(ig, "kind")), "KIND_GPU");
    assert_int_equal(json_integer_value(json_object_get(ig, "count")), 2);
    json_decref(c);
    free(cfg);
    assert_int_equal(serve_route_of("GET", "/v2/models/m/config", "m", "1"), RT_MODEL_CONFIG);
    assert_int_equal(serve_route_of("GET", "/v2/models/m/versions/1/config", "m", "1"), RT_MODEL_CONFIG);
    assert_int_equal(serve_route_of("POST", "/v2/models/m/config", "m", "1"), RT_BAD_METHOD);
}

static void job_done(batch_req *br, void *arg)
{
    (void)br;
    job *j = arg;
    j->done_ns = events_now_ns();
    __atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
}

static void wait_jobs(job *j, int n)
{
    for (int i = 0; i < n; i++)
        while (!__atomic_load_n(&j[i].done, __ATOMIC_ACQUIRE)) {
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
        }
}

static serve_model rec_model(recorder *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    serve_model m = {.run = rec_run, .ctx = r};
    m.info = (ks_model_info){.name = "id", .input = {.name = "I", .dtype = KS_FP32, .rank = 0},
                             .output = {.name = "O", .dtype = KS_FP32, .rank = 0}, .max_batch = 4};
    return m;
}

static submit_result submit(batcher *b, job *j, float v)
{
    memset(j, 0, sizeof *j);
    j->in = v;
    j->br = (batch_req){.items = 1, .input = &j->in, .output = &j->out, .done = job_done, .arg = j};
    return batcher_submit(b, &j->br);
}

static void batcher_max_batch_and_delay(void **state)
{
    (void)state;
    recorder r;
    serve_model m = rec_model(&r);
    char err[128];
    /* a long delay: only a full batch goes early */
    batcher_opts o = {.max_batch = 4, .max_delay_ns = 300000000, .queue_capacity = 64};
    serve_model *mp = &m;
    batcher *b = batcher_start(&mp, 1, &o, NULL, err, sizeof err);
    assert_non_null(b);
    job j[10];
    int64_t t0 = events_now_ns();
    for (int i = 0; i < 10; i++) assert_int_equal(submit(b, &j[i], (float)i), SUBMIT_QUEUED);
    wait_jobs(j, 10);
    for (int i = 0; i < 10; i++) assert_float_equal(j[i].out, (float)i, 0); /* each got its own answer */
    assert_int_equal(r.n, 3);
    assert_int_equal(r.sizes[0], 4);
    assert_int_equal(r.sizes[1], 4);
    assert_int_equal(r.sizes[2], 2);
    /* the two full batches went at once; the last two waited for the delay */
    assert_true(j[7].done_ns - t0 < 250000000);
    assert_true(j[8].br.started_ns - j[8].br.enqueued_ns >= 300000000);
    assert_true(j[8].br.started_ns - j[8].br.enqueued_ns < 600000000);
    batcher_stop(b);

    /* a lone request waits the delay, and not much more */
    r.n = 0;
    o.max_delay_ns = 20000000;
    b = batcher_start(&mp, 1, &o, NULL, err, sizeof err);
    submit(b, &j[0], 1);
    wait_jobs(j, 1);
    int64_t waited = j[0].br.started_ns - j[0].br.enqueued_ns;
    assert_true(waited >= 20000000);
    assert_true(waited < 120000000);
    batcher_stop(b);
    pthread_mutex_destroy(&r.mu);
}

static void batcher_full_queue_and_stop(void **state)
{
    (void)state;
    recorder r;
    serve_model m = rec_model(&r);
    r.sleep_ms = 100;
    m.info.max_batch = 1;
    char err[128];
    batcher_opts o = {.max_batch = 1, .max_delay_ns = 0, .queue_capacity = 2};
    serve_model *mp = &m;
    batcher *b = batcher_start(&mp, 1, &o, NULL, err, sizeof err);
    job j[4];
    assert_int_equal(submit(b, &j[0], 0), SUBMIT_QUEUED);
    /* wait until the model holds the first: then two fit in the queue */
    while (batcher_depth(b) > 0) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(submit(b, &j[1], 1), SUBMIT_QUEUED);
    assert_int_equal(submit(b, &j[2], 2), SUBMIT_QUEUED);
    assert_int_equal(submit(b, &j[3], 3), SUBMIT_FULL);
    batcher_stop(b); /* answers the three it took */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(j[i].done, 1);
        assert_float_equal(j[i].out, (float)i, 0);
    }
    assert_int_equal(j[3].done, 0);
    pthread_mutex_destroy(&r.mu);
}

/* Two instances run two batches at once: four 100 ms batches take about
 * 200 ms, not 400. */
static void batcher_instances_run_in_parallel(void **state)
{
    (void)state;
    recorder r;
    serve_model m = rec_model(&r), m2;
    r.sleep_ms = 100;
    m.info.max_batch = 1;
    m2 = m;
    serve_model *ms[2] = {&m, &m2};
    char err[128];
    batcher_opts o = {.max_batch = 1, .max_delay_ns = 0, .queue_capacity = 8};
    batcher *b = batcher_start(ms, 2, &o, NULL, err, sizeof err);
    assert_non_null(b);
    job j[4];
    int64_t t0 = events_now_ns();
    for (int i = 0; i < 4; i++) assert_int_equal(submit(b, &j[i], (float)i), SUBMIT_QUEUED);
    wait_jobs(j, 4);
    int64_t took = events_now_ns() - t0;
    for (int i = 0; i < 4; i++) assert_float_equal(j[i].out, (float)i, 0);
    if (took < 190000000 || took > 380000000) fail_msg("four 100 ms batches on two instances took %lld ms", (long long)(took / 1000000));
    batcher_stop(b);
    pthread_mutex_destroy(&r.mu);
}

/* Many producers, two instances, a short delay: every request answered with
 * its own value, however the instances share the queue. */
typedef struct {
    batcher *b;
    job *jobs;
    int n, base;
} producer;

static void *produce(void *arg)
{
    producer *p = arg;
    for (int i = 0; i < p->n; i++) {
        while (submit(p->b, &p->jobs[i], (float)(p->base + i)) != SUBMIT_QUEUED) {
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

static void batcher_stress(void **state)
{
    (void)state;
    recorder r;
    serve_model m = rec_model(&r), m2;
    m.info.max_batch = 8;
    m2 = m;
    serve_model *ms[2] = {&m, &m2};
    char err[128];
    batcher_opts o = {.max_batch = 8, .max_delay_ns = 1000000, .queue_capacity = 64};
    batcher *b = batcher_start(ms, 2, &o, NULL, err, sizeof err);
    enum { P = 4, N = 500 };
    static job jobs[P][N];
    producer pr[P];
    pthread_t t[P];
    for (int k = 0; k < P; k++) {
        pr[k] = (producer){b, jobs[k], N, k * N};
        pthread_create(&t[k], NULL, produce, &pr[k]);
    }
    for (int k = 0; k < P; k++) pthread_join(t[k], NULL);
    for (int k = 0; k < P; k++) wait_jobs(jobs[k], N);
    for (int k = 0; k < P; k++)
        for (int i = 0; i < N; i++) assert_float_equal(jobs[k][i].out, (float)(k * N + i), 0);
    batcher_stop(b);
    pthread_mutex_destroy(&r.mu);
}

static void mlp_model_matches_reference(void **state)
{
    (void)state;
    serve_model_opts o = {.name = "mlp", .max_batch = 8, .seed = 3};
    char err[128];
    serve_model *m = mlp_cpu_open(&o, err, sizeof err);
    assert_non_null(m);
    float x[3][MLP_IN], y[3][MLP_OUT], want[MLP_OUT];
    for (int b = 0; b < 3; b++)
        for (int i = 0; i < MLP_IN; i++) x[b][i] = sinf((float)(b * MLP_IN + i));
    assert_int_equal(m->run(m, 3, x, y, err, sizeof err), 0);
    static float w1[MLP_HIDDEN * MLP_IN], b1[MLP_HIDDEN], w2[MLP_OUT * MLP_HIDDEN], b2[MLP_OUT];
    mlp_cpu_weights(3, w1, b1, w2, b2);
    /* item 2 by hand: the batch changes nothing */
    float h[MLP_HIDDEN];
    for (int j = 0; j < MLP_HIDDEN; j++) {
        double s = b1[j];
        for (int i = 0; i < MLP_IN; i++) s += (double)w1[j * MLP_IN + i] * x[2][i];
        h[j] = s > 0 ? (float)s : 0;
    }
    for (int k = 0; k < MLP_OUT; k++) {
        double s = b2[k];
        for (int j = 0; j < MLP_HIDDEN; j++) s += (double)w2[k * MLP_HIDDEN + j] * h[j];
        want[k] = (float)s;
        assert_float_equal(y[2][k], want[k], 1e-4);
    }
    m->destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_flat_and_nested),
        cmocka_unit_test(binary_input),
        cmocka_unit_test(bad_requests_say_what),
        cmocka_unit_test(integer_ranges),
        cmocka_unit_test(json_budget),
        cmocka_unit_test(render),
        cmocka_unit_test(routes),
        cmocka_unit_test(compressed_bodies),
        cmocka_unit_test(raw_binary_request),
        cmocka_unit_test(batcher_max_batch_and_delay),
        cmocka_unit_test(batcher_full_queue_and_stop),
        cmocka_unit_test(batcher_instances_run_in_parallel),
        cmocka_unit_test(batcher_stress),
        cmocka_unit_test(mlp_model_matches_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
