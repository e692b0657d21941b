/* The table of sharing modes. */
#include <string.h>

#include "mode/mode.h"

/* Each defined in its own file, mode_NAME.c. */
extern const mode_ops mode_exclusive, mode_timeslice, mode_mps, mode_mig, mode_mig_emulated;

static const mode_ops *const modes[] = {&mode_exclusive, &mode_timeslice, &mode_mps, &mode_mig, &mode_mig_emulated};

const mode_ops *mode_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(modes[i]->name, name) == 0) return modes[i];
    return NULL;
}

const mode_desc *mode_desc_of(const mode_ops *m)
{
    return mode_desc_lookup(m->name);
}

int mode_count(void)
{
    return (int)(sizeof modes / sizeof modes[0]);
}

const mode_ops *mode_at(int i)
{
    return modes[i];
}

int mode_check_gpu(const scenario *sc, const host_info *host, cot_err *why)
{
    if (sc->device == DEVICE_CPU) return 0;
    if (!host->gpu_found) return cot_errf(why, "%s", host->gpu_why);
    return 0;
}

int mode_env_visible_gpu(const mode_state *st, strvec *env, cot_err *err)
{
    if (st->sc->device == DEVICE_CPU) return 0;
    /* The UUID, not the index: CUDA's enumeration order (fastest first) can
     * differ from NVML's (PCI order) unless CUDA_DEVICE_ORDER is set. */
    const char *id = st->host->gpu_uuid[0] ? st->host->gpu_uuid : st->sc->gpu;
    if (strvec_setenv(env, "CUDA_VISIBLE_DEVICES", id) != 0) return cot_errf(err, "out of memory");
    return 0;
}

int mode_env_gpu_only(mode_state *st, const workload_spec *w, strvec *env, cot_err *err)
{
    (void)w;
    return mode_env_visible_gpu(st, env, err);
}

void mode_teardown_nothing(mode_state *st)
{
    (void)st;
}
