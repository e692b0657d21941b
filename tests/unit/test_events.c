/* Event lines: valid events, garbage, and lines torn across reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "events/event.h"
#include "events/line_reader.h"

static void parse(void **state)
{
    (void)state;
    event ev;
    char why[256];
    const char *s = "{\"ev\":\"step\",\"t\":123,\"n\":128,\"loss\":2.5}";
    assert_int_equal(event_parse(s, strlen(s), &ev, why, sizeof why), 0);
    assert_int_equal(ev.type, EV_STEP);
    assert_int_equal(ev.t_ns, 123);
    assert_int_equal(ev.n, 128);
    s = "{\"ev\":\"latency\",\"t\":5,\"ns\":900,\"ok\":false}";
    assert_int_equal(event_parse(s, strlen(s), &ev, why, sizeof why), 0);
    assert_true(ev.type == EV_LATENCY && ev.latency_ns == 900 && !ev.ok);
    s = "{\"ev\":\"start\",\"t\":1,\"unit\":\"images\"}";
    assert_int_equal(event_parse(s, strlen(s), &ev, why, sizeof why), 0);
    assert_string_equal(ev.unit, "images");
    s = "{\"ev\":\"step\",\"t\":7,\"n\":1,\"stream\":\"loader\"}";
    assert_int_equal(event_parse(s, strlen(s), &ev, why, sizeof why), 0);
    assert_string_equal(ev.stream, "loader");
    s = "{\"ev\":\"step\",\"t\":7,\"n\":1}";
    assert_int_equal(event_parse(s, strlen(s), &ev, why, sizeof why), 0);
    assert_string_equal(ev.stream, "");
    /* a long diagnostic fits under the limit; over it, the line is refused */
    char *big = malloc(EVENT_LINE_MAX + 100);
    assert_non_null(big);
    int k = sprintf(big, "{\"ev\":\"step\",\"t\":7,\"n\":1,\"note\":\"");
    memset(big + k, 'x', 60000);
    strcpy(big + k + 60000, "\"}");
    assert_int_equal(event_parse(big, strlen(big), &ev, why, sizeof why), 0);
    memset(big + k, 'x', EVENT_LINE_MAX);
    strcpy(big + k + EVENT_LINE_MAX, "\"}");
    assert_int_equal(event_parse(big, strlen(big), &ev, why, sizeof why), -1);
    assert_non_null(strstr(why, "over the 65536-byte limit"));
    free(big);
    const char *bad[] = {"garbage", "[1,2]", "{\"t\":1}", "{\"ev\":\"step\",\"t\":1}", "{\"ev\":\"step\",\"t\":-1,\"n\":1}",
                         "{\"ev\":\"step\",\"t\":1,\"n\":\"x\"}", "{\"ev\":\"latency\",\"t\":1,\"ns\":5,\"ok\":1}",
                         "{\"ev\":\"step\",\"t\":1,\"n\":1,\"stream\":3}", "{\"ev\":\"step\",\"t\":1,\"n\":1,\"stream\":\"\"}",
                         "{\"ev\":\"step\",\"t\":1,\"n\":1,\"stream\":\"0123456789012345678901234567890123\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (event_parse(bad[i], strlen(bad[i]), &ev, why, sizeof why) == 0) fail_msg("accepted: %s", bad[i]);
}

typedef struct {
    int ok, too_long, torn;
    char last[64];
} seen;

static void on_line(void *arg, const char *line, size_t len, line_status st)
{
    seen *s = arg;
    if (st == LINE_OK) s->ok++;
    if (st == LINE_TOO_LONG) s->too_long++;
    if (st == LINE_TORN) s->torn++;
    snprintf(s->last, sizeof s->last, "%.*s", (int)len, line);
}

static void torn_lines(void **state)
{
    (void)state;
    line_reader r;
    seen s = {0};
    line_reader_init(&r, 16);
    line_reader_feed(&r, "abc", 3, on_line, &s);
    assert_int_equal(s.ok, 0);
    line_reader_feed(&r, "def\nxy", 6, on_line, &s);
    assert_int_equal(s.ok, 1);
    assert_string_equal(s.last, "abcdef");
    line_reader_feed(&r, "0123456789012345678\nok\n", 23, on_line, &s);
    assert_int_equal(s.too_long, 1);
    assert_int_equal(s.ok, 2);
    line_reader_feed(&r, "partial", 7, on_line, &s);
    line_reader_finish(&r, on_line, &s);
    assert_int_equal(s.torn, 1);
    assert_string_equal(s.last, "partial");
    line_reader_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(parse), cmocka_unit_test(torn_lines)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
