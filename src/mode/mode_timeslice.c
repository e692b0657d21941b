/* timeslice: the driver's default. Processes on one GPU get their own
 * contexts and the GPU switches between them in time slices. cotenant
 * changes nothing: it reports the compute mode and refuses where that mode
 * would stop a second process from creating a context.
 *
 * For device: cpu scenarios the same mode means the OS scheduler sharing
 * the cores, which is what the CPU default demonstrates. */
#include "gpuset/gpu_policy.h"
#include "host/nvml.h"
#include "mode/mode.h"

static int check(const scenario *sc, const host_info *host, cot_err *why)
{
    if (mode_check_gpu(sc, host, why) != 0) return -1;
    if (sc->device == DEVICE_CPU) return 0;
    if (host->compute_mode == NVML_COMPUTE_PROHIBITED)
        return cot_errf(why, "the GPU's compute mode is Prohibited: no process may use it; an administrator can "
                             "set it back with nvidia-smi -i %d -c DEFAULT", host->gpu_index);
    if (host->compute_mode == NVML_COMPUTE_EXCLUSIVE_PROCESS || host->compute_mode == NVML_COMPUTE_EXCLUSIVE_THREAD)
        return cot_errf(why, "the GPU's compute mode is %s: only one process may use it at a time, so time slicing "
                             "between processes cannot happen; an administrator can set DEFAULT with nvidia-smi -i %d -c DEFAULT",
                        nvml_compute_mode_name(host->compute_mode), host->gpu_index);
    return 0;
}

static int prepare(mode_state *st, cot_err *err)
{
    (void)err;
    if (st->sc->device == DEVICE_CPU) {
        json_object_set_new(st->info, "note", json_string("CPU workloads sharing cores under the OS scheduler"));
        return 0;
    }
    json_object_set_new(st->info, "compute_mode", json_string(nvml_compute_mode_name(st->host->compute_mode)));
    /* the driver's timeslice length, as nvidia-smi compute-policy reports it */
    gpu_policy p;
    cot_err e;
    if (gpu_policy_read(st->host->gpu_index, &p, &e) == 0 && p.timeslice >= 0)
        json_object_set_new(st->info, "timeslice", json_string(gpu_timeslice_name(p.timeslice)));
    else
        json_object_set_new(st->info, "timeslice_unknown", json_string(p.timeslice >= 0 ? e.msg : p.timeslice_why));
    json_object_set_new(st->info, "note", json_string("driver time slicing; nothing changed on the GPU by this mode"));
    return 0;
}

const mode_ops mode_timeslice = {
    .name = "timeslice",
    .check = check,
    .prepare = prepare,
    .env_for = mode_env_gpu_only,
    .teardown = mode_teardown_nothing,
};
