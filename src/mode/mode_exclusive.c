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

static int env_for(mode_state *st, const workload_spec *w, strvec *env, cot_err *err)
{
    (void)w;
    return mode_env_visible_gpu(st, env, err);
}

static void teardown(mode_state *st)
{
    (void)st;
}

const mode_ops mode_exclusive = {
    .name = "exclusive",
    .check = check,
    .prepare = prepare,
    .env_for = env_for,
    .teardown = teardown,
};
