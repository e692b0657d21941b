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
                         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"};
    for (int i = 0; i < 4; i++) assert_int_equal(http1_parse_response(bad[i], strlen(bad[i]), 0, &r, &total, &why), HTTP1_BAD);
    assert_non_null(strstr(why, "chunked"));
    const char *cut = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
    assert_int_equal(http1_parse_response(cut, strlen(cut), 1, &r, &total, &why), HTTP1_BAD);
    char host[64];
    int port;
    assert_int_equal(http1_parse_url("http://localhost:8000/v2", host, sizeof host, &port), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 8000);
    assert_int_equal(http1_parse_url("10.0.0.2:99", host, sizeof host, &port), 0);
    assert_int_equal(http1_parse_url("example.com:80", host, sizeof host, &port), -1);
    assert_int_equal(http1_parse_url("127.0.0.1", host, sizeof host, &port), -1);
    assert_int_equal(http1_parse_url("127.0.0.1:70000", host, sizeof host, &port), -1);
}

static void request_from_metadata(void **state)
{
    (void)state;
    const char *meta = "{\"name\":\"bert\",\"inputs\":[{\"name\":\"input_ids\",\"datatype\":\"INT32\",\"shape\":[-1,4]}],"
                       "\"outputs\":[{\"name\":\"logits\",\"datatype\":\"FP32\",\"shape\":[-1,4,8]}]}";
    infer_request r;
    char why[256];
    assert_int_equal(infer_request_build(meta, "bert", "127.0.0.1", 8000, 3, 1, 5, &r, why, sizeof why), 0);
    assert_string_equal(r.shape, "[3,4]");
    const char *body = strstr(r.bytes, "\r\n\r\n") + 4; /* the headers hold no NUL */
    size_t head = r.len - (size_t)(body - r.bytes);
    assert_int_equal(head, r.body_len);
    assert_non_null(strstr(r.bytes, "POST /v2/models/bert/infer HTTP/1.1\r\n"));
    char want[64];
    size_t hl = r.body_len - 3 * 4 * 4;
    snprintf(want, sizeof want, "Inference-Header-Content-Length: %zu\r\n", hl);
    assert_non_null(strstr(r.bytes, want));
    assert_non_null(memmem(body, r.body_len, "\"binary_data_size\":48", 21));
    int32_t ids[12];
    memcpy(ids, body + hl, sizeof ids); /* binary data follows the header unaligned */
    for (int i = 0; i < 12; i++) assert_true(ids[i] >= 0 && ids[i] < 100);
    infer_request_free(&r);
    assert_int_equal(infer_request_build(meta, "bert", "127.0.0.1", 8000, 1, 0, 5, &r, why, sizeof why), 0);
    assert_null(strstr(r.bytes, "Inference-Header"));
    assert_non_null(strstr(r.bytes, "\"data\":["));
    infer_request_free(&r);
    const char *half = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP16\",\"shape\":[-1,2]}]}";
    assert_int_equal(infer_request_build(half, "h", "127.0.0.1", 8000, 1, 0, 5, &r, why, sizeof why), -1);
    assert_non_null(strstr(why, "--format binary"));
    assert_int_equal(infer_request_build("{}", "h", "127.0.0.1", 8000, 1, 1, 5, &r, why, sizeof why), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(histogram_quantiles_within_half_percent),
        cmocka_unit_test(arrival_schedules),
        cmocka_unit_test(response_parser),
        cmocka_unit_test(request_from_metadata),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
