/* Reals written in the shortest form that reads back as the same double;
 * integers and strings untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/json_text.h"

static void shortest_reals(void **state)
{
    (void)state;
    const double vals[] = {19.62, 0.1, 1.0 / 3, 100.0, -2.5e-7, 1e-300, 123456789012345678.0, 0.30000000000000004};
    json_t *a = json_array();
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) json_array_append_new(a, json_real(vals[i]));
    json_array_append_new(a, json_integer(12345678901234));
    json_array_append_new(a, json_string("1.2000000000000002 \"x\" 3.0"));
    char *t = json_text_dumps(a, JSON_COMPACT);
    assert_string_equal(t, "[19.62,0.1,0.3333333333333333,100.0,-2.5e-07,1e-300,1.2345678901234568e+17,"
                           "0.30000000000000004,12345678901234,\"1.2000000000000002 \\\"x\\\" 3.0\"]");
    /* and every real reads back exactly */
    json_t *back = json_loads(t, 0, NULL);
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        assert_true(json_real_value(json_array_get(back, i)) == vals[i]);
    assert_true(json_is_real(json_array_get(back, 3)));
    json_decref(back);
    free(t);
    json_decref(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(shortest_reals)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
