/* Any bytes given to the scenario parser: it must accept or reject them
 * with a message, never crash, leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "scenario/scenario_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scenario sc;
    cot_err err;
    if (scenario_parse_buffer("fuzz.yaml", (const char *)data, size, &sc, &err) == 0) {
        json_t *j = scenario_to_json(&sc);
        json_decref(j);
        scenario_free(&sc);
    } else if (!strchr(err.msg, ':')) {
        __builtin_trap(); /* every rejection names where */
    }
    return 0;
}
