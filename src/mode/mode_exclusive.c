/* exclusive: each workload alone on the GPU; the baseline that every
 * slowdown is measured against. It changes nothing on the GPU. */
#include "mode/mode.h"

static int check(const scenario *sc, const host_info *host, cot_err *why)
{
    return mode_check_gpu(sc, host, why);
}

static int prepare(mode_state *st, cot_err *err)
{
    (void)err;
    json_object_set_new(st->info, "note", json_string("each workload alone; nothing changed on the GPU"));
    return 0;
}

const mode_ops mode_exclusive = {
    .name = "exclusive",
    .check = check,
    .prepare = prepare,
    .env_for = mode_env_gpu_only,
    .teardown = mode_teardown_nothing,
};
