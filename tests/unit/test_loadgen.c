/* The load generator's pieces: the latency histogram against exact
 * quantiles, the arrival schedules, the HTTP/1.1 response parser, and the
 * request built from a model's metadata. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arrivals.h"
#include "infer_request.h"
#include "lat_hist.h"
#include "net/http1.h"

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void histogram_quantiles_within_half_percent(void **state)
{
    (void)state;
    enum { N = 100000 };
    static int64_t v[N];
    lat_hist h;
    assert_int_equal(lat_hist_init(&h), 0);
    unsigned s = 12345;
    for (int i = 0; i < N; i++) {
        s = s * 1103515245u + 12345u;
        /* log-uniform from 1 us to 1 s, as latencies spread */
        double u = (double)(s >> 8) / (double)(1u << 24);
        v[i] = (int64_t)(1000.0 * pow(1e6, u));
        lat_hist_record(&h, v[i]);
    }
    qsort(v, N, sizeof v[0], cmp_i64);
    const double qs[] = {0.5, 0.9, 0.99, 0.999};
    for (size_t k = 0; k < 4; k++) {
        int64_t exact = v[(size_t)ceil(qs[k] * N) - 1];
        int64_t got = lat_hist_quantile(&h, qs[k]);
        if (fabs((double)got / (double)exact - 1) > 0.005)
            fail_msg("q%g: %lld against exact %lld", qs[k], (long long)got, (long long)exact);
    }
    assert_int_equal(lat_hist_quantile(&h, 1), v[N - 1]);
    assert_int_equal(lat_hist_quantile(&h, 0), v[0]);
    /* small values are exact */
    lat_hist g;
    lat_hist_init(&g);
    for (int i = 1; i <= 100; i++) lat_hist_record(&g, i);
    assert_int_equal(lat_hist_quantile(&g, 0.5), 50);
    assert_int_equal(lat_hist_quantile(&g, 0.99), 99);
    assert_float_equal(lat_hist_fraction_le(&g, 25), 0.25, 1e-12);
    lat_hist_merge(&g, &h);
    assert_int_equal(g.count, N + 100);
    assert_int_equal(g.min, 1);
    lat_hist_free(&g);
    lat_hist_free(&h);
}

static void arrival_schedules(void **state)
{
    (void)state;
    arrivals a;
    arrivals_init(&a, 0, 1000, 5000, 1);
    assert_int_equal(arrivals_next(&a), 5000);
    assert_int_equal(arrivals_next(&a), 5000 + 1000000);
    for (int i = 2; i < 1000; i++) arrivals_next(&a);
    assert_int_equal(arrivals_next(&a), 5000 + 1000LL * 1000000); /* no drift */
    /* Poisson: mean gap 1/rate, coefficient of variation 1 */
    arrivals_init(&a, 1, 2000, 0, 7);
    enum { N = 200000 };
    double sum = 0, sum2 = 0;
    int64_t prev = 0;
    for (int i = 0; i < N; i++) {
        int64_t t = arrivals_next(&a);
        assert_true(t >= prev);
        double g = (double)(t - prev);
        sum += g, sum2 += g * g;
        prev = t;
    }
    double mean = sum / N, sd = sqrt(sum2 / N - mean * mean);
    assert_float_equal(mean, 500000, 500000 * 0.01);
    assert_float_equal(sd / mean, 1.0, 0.02);
    /* the same seed gives the same instants */
    arrivals b;
    arrivals_init(&a, 1, 100, 0, 9);
    arrivals_init(&b, 1, 100, 0, 9);
    for (int i = 0; i < 100; i++) assert_int_equal(arrivals_next(&a), arrivals_next(&b));
}

static void response_parser(void **state)
{
    (void)state;
    http1_response r;
    size_t total;
    const char *why;
    const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nInference-Header-Content-Length: 3\r\n\r\nhelloEXTRA";
    assert_int_equal(http1_parse_response(ok, strlen(ok), 0, &r, &total, &why), HTTP1_DONE);
    assert_int_equal(r.status, 200);
    assert_int_equal(total, strlen(ok) - 5);
    assert_int_equal(r.inference_header_length, 3);
    assert_int_equal(r.close, 0);
    /* every prefix is incomplete, never wrong */
    for (size_t n = 0; n < strlen(ok) - 5; n++)
        assert_int_equal(http1_parse_response(ok, n, 0, &r, &total, &why), HTTP1_MORE);
    const char *cl = "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nConnection: close\r\n\r\n";
    assert_int_equal(http1_parse_response(cl, strlen(cl), 0, &r, &total, &why), HTTP1_DONE);
    assert_int_equal(r.status, 503);
    assert_int_equal(r.close, 1);
    const char *old = "HTTP/1.0 200 OK\r\n\r\nbody to the end";
    assert_int_equal(http1_parse_response(old, strlen(old), 0, &r, &total, &why), HTTP1_MORE);
    assert_int_equal(http1_parse_response(old, strlen(old), 1, &r, &total, &why), HTTP1_DONE);
    assert_int_equal(total, strlen(old));
    const char *bad[] = {"HTTX/1.1 200 OK\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n",
                         "HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n",
                         "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"};
    for (int i = 0; i < 4; i++) assert_int_equal(http1_parse_response(bad[i], strlen(bad[i]), 0, &r, &total, &why), HTTP1_BAD);
    assert_non_null(strstr(why, "other than chunked"));
    const char *cut = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
    assert_int_equal(http1_parse_response(cut, strlen(cut), 1, &r, &total, &why), HTTP1_BAD);
    /* chunked: framed by its chunks (a Content-Length beside it is ignored), every prefix incomplete */
    const char *ch = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
                     "5\r\nhello\r\nA;ext=1\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\nNEXT";
    assert_int_equal(http1_parse_response(ch, strlen(ch), 0, &r, &total, &why), HTTP1_DONE);
    assert_true(r.chunked);
    assert_int_equal(total, strlen(ch) - 4);
    for (size_t n = 0; n < strlen(ch) - 4; n++) assert_int_equal(http1_parse_response(ch, n, 0, &r, &total, &why), HTTP1_MORE);
    assert_int_equal(http1_parse_response(ch, strlen(ch) - 10, 1, &r, &total, &why), HTTP1_BAD);
    char body[] = "5\r\nhello\r\nA\r\n0123456789\r\n0\r\n\r\n";
    assert_int_equal(http1_dechunk(body, strlen(body)), 15);
    assert_string_equal(body, "hello0123456789");
    const char *badch = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
    assert_int_equal(http1_parse_response(badch, strlen(badch), 0, &r, &total, &why), HTTP1_BAD);
    /* URLs: names, IPv4, [IPv6], a path prefix, port 80 by default */
    static const struct { const char *url, *host, *prefix, *authority; int port; } good[] = {
        {"http://localhost:8000/v2", "localhost", "/v2", "localhost:8000", 8000},
        {"10.0.0.2:99", "10.0.0.2", "", "10.0.0.2:99", 99},
        {"http://infer.example.com/gateway/m1/", "infer.example.com", "/gateway/m1", "infer.example.com:80", 80},
        {"[::1]:8001", "::1", "", "[::1]:8001", 8001},
    };
    http1_url u;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(http1_parse_url(good[i].url, &u), 0);
        assert_string_equal(u.host, good[i].host);
        assert_string_equal(u.prefix, good[i].prefix);
        assert_string_equal(u.authority, good[i].authority);
        assert_int_equal(u.port, good[i].port);
    }
    assert_int_equal(http1_parse_url("127.0.0.1:70000", &u), -1);
    assert_int_equal(http1_parse_url("https://a:1", &u), -1);
    assert_int_equal(http1_parse_url("a b:1", &u), -1);
    assert_int_equal(http1_parse_url("[::1:8001", &u), -1);
    assert_int_equal(http1_parse_url("h:1/x y", &u), -1);
    http1_addr addrs[4];
    char err[128];
    assert_true(http1_resolve("localhost", 80, addrs, 4, err, sizeof err) >= 1);
    assert_int_equal(http1_resolve("no-such-host.invalid", 80, addrs, 4, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot resolve 'no-such-host.invalid'"));
}

static void request_from_metadata(void **state)
{
    (void)state;
    const char *meta = "{\"name\":\"bert\",\"inputs\":[{\"name\":\"input_ids\",\"datatype\":\"INT32\",\"shape\":[-1,4]}],"
                       "\"outputs\":[{\"name\":\"logits\",\"datatype\":\"FP32\",\"shape\":[-1,4,8]}]}";
    infer_request r;
    char why[256];
    infer_request_opts o = {.model = "bert", .prefix = "", .authority = "127.0.0.1:8000", .batch = 3, .binary = 1, .seed = 5};
    assert_int_equal(infer_request_build(meta, &o, &r, why, sizeof why), 0);
    assert_string_equal(r.summary, "input_ids INT32 [3,4]");
    const char *body = strstr(r.bytes, "\r\n\r\n") + 4; /* the headers hold no NUL */
    size_t head = r.len - (size_t)(body - r.bytes);
    assert_int_equal(head, r.body_len);
    assert_non_null(strstr(r.bytes, "POST /v2/models/bert/infer HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"));
    char want[64];
    size_t hl = r.body_len - 3 * 4 * 4;
    snprintf(want, sizeof want, "Inference-Header-Content-Length: %zu\r\n", hl);
    assert_non_null(strstr(r.bytes, want));
    assert_non_null(memmem(body, r.body_len, "\"binary_data_size\":48", 21));
    int32_t ids[12];
    memcpy(ids, body + hl, sizeof ids); /* binary data follows the header unaligned */
    for (int i = 0; i < 12; i++) assert_true(ids[i] >= 0 && ids[i] < 100);
    infer_request_free(&r);
    o.binary = 0, o.batch = 1;
    assert_int_equal(infer_request_build(meta, &o, &r, why, sizeof why), 0);
    assert_null(strstr(r.bytes, "Inference-Header"));
    assert_non_null(strstr(r.bytes, "\"data\":["));
    infer_request_free(&r);
    const char *half = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP16\",\"shape\":[-1,2]}]}";
    assert_int_equal(infer_request_build(half, &o, &r, why, sizeof why), -1);
    assert_non_null(strstr(why, "--format binary"));
    assert_int_equal(infer_request_build("{}", &o, &r, why, sizeof why), -1);
}

/* Three inputs of three datatypes, a variable dimension given by --shape,
 * values from an input data file, a path prefix: every byte as the
 * protocol lays it out. */
static void request_with_three_inputs(void **state)
{
    (void)state;
    const char *meta = "{\"name\":\"m3\",\"inputs\":["
                       "{\"name\":\"dense\",\"datatype\":\"FP16\",\"shape\":[-1,2]},"
                       "{\"name\":\"ids\",\"datatype\":\"UINT16\",\"shape\":[-1,-1]},"
                       "{\"name\":\"text\",\"datatype\":\"BYTES\",\"shape\":[-1,1]}],"
                       "\"outputs\":[{\"name\":\"a\"},{\"name\":\"b\"}]}";
    infer_shape sh;
    assert_int_equal(infer_shape_parse("ids:3", &sh), 0);
    assert_int_equal(infer_shape_parse("ids:0", &sh), -1);
    assert_int_equal(infer_shape_parse("ids3", &sh), -1);
    assert_int_equal(infer_shape_parse("ids:3", &sh), 0);
    const char *data = "{\"data\":[{\"dense\":[1.5,-2],\"ids\":{\"content\":[1,2,65535],\"shape\":[3]},\"text\":[\"hey\"]}]}";
    infer_request_opts o = {.model = "m3", .prefix = "/gw", .authority = "srv:80", .batch = 2, .binary = 1, .seed = 5,
                            .shapes = &sh, .nshapes = 1, .input_data = data};
    infer_request r;
    char why[256];
    if (infer_request_build(meta, &o, &r, why, sizeof why)) fail_msg("%s", why);
    assert_int_equal(r.ninputs, 3);
    assert_string_equal(r.summary, "dense FP16 [2,2], ids UINT16 [2,3], text BYTES [2,1]");
    assert_non_null(strstr(r.bytes, "POST /gw/v2/models/m3/infer HTTP/1.1\r\nHost: srv:80\r\n"));
    const char *body = strstr(r.bytes, "\r\n\r\n") + 4;
    size_t hl = (size_t)atol(strstr(r.bytes, "Inference-Header-Content-Length: ") + 33);
    const unsigned char *bin = (const unsigned char *)body + hl;
    /* FP16 1.5 = 0x3e00, -2 = 0xc000, twice (one item's values for each of the batch) */
    static const unsigned char dense[] = {0x00, 0x3e, 0x00, 0xc0, 0x00, 0x3e, 0x00, 0xc0};
    assert_memory_equal(bin, dense, 8);
    static const unsigned char ids[] = {1, 0, 2, 0, 0xff, 0xff, 1, 0, 2, 0, 0xff, 0xff};
    assert_memory_equal(bin + 8, ids, 12);
    static const unsigned char text[] = {3, 0, 0, 0, 'h', 'e', 'y', 3, 0, 0, 0, 'h', 'e', 'y'};
    assert_memory_equal(bin + 20, text, 14);
    assert_int_equal(r.body_len, hl + 34);
    const char *size14 = "\"binary_data_size\":14", *out_b = "{\"name\":\"b\",\"parameters\":{\"binary_data\":true}}";
    assert_non_null(memmem(body, hl, size14, strlen(size14)));
    assert_non_null(memmem(body, hl, out_b, strlen(out_b)));
    infer_request_free(&r);
    /* what does not fit says so */
    o.nshapes = 0;
    assert_int_equal(infer_request_build(meta, &o, &r, why, sizeof why), -1);
    assert_non_null(strstr(why, "input 'ids' has a variable dimension"));
    o.nshapes = 1;
    o.input_data = "{\"data\":[{\"dense\":[1,2,3],\"ids\":[1,2,3],\"text\":[\"a\"]}]}";
    assert_int_equal(infer_request_build(meta, &o, &r, why, sizeof why), -1);
    assert_non_null(strstr(why, "for 'dense' holds 3 values; its shape needs 2 (one item) or 4"));
    o.input_data = "{\"data\":[{\"dense\":[1,2],\"ids\":[1,2,70000],\"text\":[\"a\"]}]}";
    assert_int_equal(infer_request_build(meta, &o, &r, why, sizeof why), -1);
    assert_non_null(strstr(why, "70000 is out of range for UINT16"));
    o.input_data = "{\"data\":[{\"dense\":[1,2],\"ids\":[1,2,3]}]}";
    assert_int_equal(infer_request_build(meta, &o, &r, why, sizeof why), -1);
    assert_non_null(strstr(why, "no values for input 'text'"));
    infer_shape other;
    infer_shape_parse("idz:3", &other);
    o.shapes = &other, o.input_data = NULL;
    assert_int_equal(infer_request_build(meta, &o, &r, why, sizeof why), -1);
    assert_non_null(strstr(why, "--shape idz: the model has no input of that name"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(histogram_quantiles_within_half_percent),
        cmocka_unit_test(arrival_schedules),
        cmocka_unit_test(response_parser),
        cmocka_unit_test(request_from_metadata),
        cmocka_unit_test(request_with_three_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
