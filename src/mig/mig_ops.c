#include "mig/mig_ops.h"

#include <string.h>

static mig_op *add(mig_ops *ops, mig_op_kind kind)
{
    if (ops->n >= MIG_MAX_OPS) return NULL; /* cannot happen: 8 GPU instances of 8 compute instances at most */
    mig_op *op = &ops->op[ops->n++];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->profile_id = -1;
    op->gi_step = -1;
    return op;
}

static void destroy_all(const mig_state *now, mig_ops *ops)
{
    if (now->mode_current != 1) return;
    for (int i = 0; i < now->ngi; i++) {
        const mig_gi_state *g = &now->gi[i];
        for (int k = 0; k < g->nci; k++) {
            mig_op *op = add(ops, MIG_OP_DESTROY_CI);
            if (op) op->gi_id = g->id, op->ci_id = g->ci[k].id;
        }
        mig_op *op = add(ops, MIG_OP_DESTROY_GI);
        if (op) op->gi_id = g->id, snprintf(op->profile, sizeof op->profile, "%s", g->profile);
    }
}

static void set_mode(const mig_state *now, unsigned mode, mig_ops *ops)
{
    if (now->mode_current == mode && now->mode_pending == mode) return;
    mig_op *op = add(ops, MIG_OP_SET_MODE);
    if (op) op->mode = mode;
}

static int create_gi(mig_ops *ops, int profile_id, const char *name, int start, int size)
{
    mig_op *op = add(ops, MIG_OP_CREATE_GI);
    if (!op) return -1;
    op->profile_id = profile_id, op->start = start, op->size = size;
    snprintf(op->profile, sizeof op->profile, "%s", name);
    return ops->n - 1;
}

void mig_ops_for_layout(const mig_state *now, const mig_gpu *g, const mig_plan *plan, mig_ops *ops)
{
    (void)g;
    ops->n = 0;
    destroy_all(now, ops);
    set_mode(now, 1, ops);
    for (int i = 0; i < plan->n; i++) {
        const mig_profile *p = plan->inst[i].profile;
        int step = create_gi(ops, p->nvml_id, p->name, plan->inst[i].start, p->memory_slices);
        mig_op *ci = add(ops, MIG_OP_CREATE_CI);
        if (ci) ci->gi_step = step, ci->slices = p->compute_slices;
    }
}

void mig_ops_for_disable(const mig_state *now, mig_ops *ops)
{
    ops->n = 0;
    destroy_all(now, ops);
    set_mode(now, 0, ops);
}

void mig_ops_for_restore(const mig_state *now, const mig_state *saved, mig_ops *ops)
{
    ops->n = 0;
    destroy_all(now, ops);
    if (saved->mode_current != 1) {
        set_mode(now, 0, ops);
        return;
    }
    set_mode(now, 1, ops);
    for (int i = 0; i < saved->ngi; i++) {
        const mig_gi_state *gs = &saved->gi[i];
        int step = create_gi(ops, (int)gs->profile_id, gs->profile, gs->start, gs->size);
        for (int k = 0; k < gs->nci; k++) {
            mig_op *ci = add(ops, MIG_OP_CREATE_CI);
            if (!ci) break;
            ci->gi_step = step, ci->profile_id = (int)gs->ci[k].profile_id;
            ci->placed = 1, ci->start = gs->ci[k].start, ci->size = gs->ci[k].size;
        }
    }
}

void mig_op_describe(const mig_op *op, int gpu_index, char *buf, size_t cap)
{
    switch (op->kind) {
    case MIG_OP_SET_MODE:
        snprintf(buf, cap, "nvmlDeviceSetMigMode(GPU %d, %s)", gpu_index,
                 op->mode ? "NVML_DEVICE_MIG_ENABLE" : "NVML_DEVICE_MIG_DISABLE");
        break;
    case MIG_OP_DESTROY_CI:
        snprintf(buf, cap, "nvmlComputeInstanceDestroy(GPU %d, GPU instance %u, compute instance %u)", gpu_index,
                 op->gi_id, op->ci_id);
        break;
    case MIG_OP_DESTROY_GI:
        snprintf(buf, cap, "nvmlGpuInstanceDestroy(GPU %d, GPU instance %u, %s)", gpu_index, op->gi_id, op->profile);
        break;
    case MIG_OP_CREATE_GI:
        snprintf(buf, cap, "nvmlDeviceCreateGpuInstanceWithPlacement(GPU %d, profile id %d = %s, placement %d:%d)",
                 gpu_index, op->profile_id, op->profile, op->start, op->size);
        break;
    case MIG_OP_CREATE_CI:
        if (op->placed)
            snprintf(buf, cap, "nvmlGpuInstanceCreateComputeInstanceWithPlacement(the GPU instance of step %d, "
                               "compute-instance profile id %d, placement %d:%d)",
                     op->gi_step + 1, op->profile_id, op->start, op->size);
        else
            snprintf(buf, cap, "nvmlGpuInstanceCreateComputeInstance(the GPU instance of step %d, the compute-instance "
                               "profile covering its %d slice%s)",
                     op->gi_step + 1, op->slices, op->slices == 1 ? "" : "s");
        break;
    }
}

void mig_ops_print(const mig_ops *ops, int gpu_index, FILE *f)
{
    char line[512];
    for (int i = 0; i < ops->n; i++) {
        mig_op_describe(&ops->op[i], gpu_index, line, sizeof line);
        fprintf(f, "  %2d. %s\n", i + 1, line);
    }
}

static int need(const void *fn, const char *name, cot_err *err)
{
    return fn ? 0 : cot_errf(err, "this driver's NVML has no %s, which changing MIG needs; update the NVIDIA driver", name);
}

/* The compute-instance profile whose slices cover the whole GPU instance. */
static int full_ci_profile(const nvml_api *n, nvml_gpu_instance gi, int slices, unsigned *id, cot_err *err)
{
    for (unsigned idx = 0; idx < NVML_CI_PROFILE_INDICES; idx++) {
        nvml_ci_profile_info pi;
        memset(&pi, 0, sizeof pi);
        pi.version = NVML_CI_PROFILE_INFO_V2;
        if (n->ci_profile_info(gi, idx, 0, &pi) == NVML_SUCCESS && (int)pi.slice_count == slices) {
            *id = pi.id;
            return 0;
        }
    }
    return cot_errf(err, "nvmlGpuInstanceGetComputeInstanceProfileInfoV offered no compute-instance profile of %d slices "
                         "for the new GPU instance", slices);
}

static int run_one(const nvml_api *n, nvml_device d, const mig_op *op, nvml_gpu_instance *made, cot_err *err)
{
    nvml_gpu_instance gi;
    nvml_compute_instance ci;
    int rc;
    switch (op->kind) {
    case MIG_OP_SET_MODE: {
        if (need(n->set_mig_mode, "nvmlDeviceSetMigMode", err)) return -1;
        int activation = NVML_SUCCESS;
        if ((rc = n->set_mig_mode(d, op->mode, &activation)) != NVML_SUCCESS) {
            nvml_fail(err, "nvmlDeviceSetMigMode", rc);
            if (rc == NVML_ERROR_NO_PERMISSION) cot_err_prefix(err, "changing MIG needs root");
            return -1;
        }
        unsigned cur = 0, pending = 0;
        if ((rc = n->mig_mode(d, &cur, &pending)) != NVML_SUCCESS) return nvml_fail(err, "nvmlDeviceGetMigMode", rc);
        if (cur != op->mode)
            return cot_errf(err, "MIG mode was set but is only pending (%s): this GPU applies it after a reset; with nothing "
                                 "running on it, nvidia-smi -r resets it, then run this again",
                            n->error_string ? n->error_string(activation) : "reset required");
        return 0;
    }
    case MIG_OP_DESTROY_CI:
        if (need(n->gpu_instance_by_id, "nvmlDeviceGetGpuInstanceById", err) ||
            need(n->compute_instance_by_id, "nvmlGpuInstanceGetComputeInstanceById", err) ||
            need(n->ci_destroy, "nvmlComputeInstanceDestroy", err))
            return -1;
        if ((rc = n->gpu_instance_by_id(d, op->gi_id, &gi)) != NVML_SUCCESS)
            return nvml_fail(err, "nvmlDeviceGetGpuInstanceById", rc);
        if ((rc = n->compute_instance_by_id(gi, op->ci_id, &ci)) != NVML_SUCCESS)
            return nvml_fail(err, "nvmlGpuInstanceGetComputeInstanceById", rc);
        if ((rc = n->ci_destroy(ci)) != NVML_SUCCESS) return nvml_fail(err, "nvmlComputeInstanceDestroy", rc);
        return 0;
    case MIG_OP_DESTROY_GI:
        if (need(n->gpu_instance_by_id, "nvmlDeviceGetGpuInstanceById", err) ||
            need(n->gi_destroy, "nvmlGpuInstanceDestroy", err))
            return -1;
        if ((rc = n->gpu_instance_by_id(d, op->gi_id, &gi)) != NVML_SUCCESS)
            return nvml_fail(err, "nvmlDeviceGetGpuInstanceById", rc);
        if ((rc = n->gi_destroy(gi)) != NVML_SUCCESS) return nvml_fail(err, "nvmlGpuInstanceDestroy", rc);
        return 0;
    case MIG_OP_CREATE_GI: {
        if (need(n->create_gi_with_placement, "nvmlDeviceCreateGpuInstanceWithPlacement", err)) return -1;
        if (op->profile_id < 0) return cot_errf(err, "profile %s has no NVML id (a built-in table's)", op->profile);
        nvml_gi_placement pl = {(unsigned)op->start, (unsigned)op->size};
        if ((rc = n->create_gi_with_placement(d, (unsigned)op->profile_id, &pl, made)) != NVML_SUCCESS)
            return nvml_fail(err, "nvmlDeviceCreateGpuInstanceWithPlacement", rc);
        return 0;
    }
    case MIG_OP_CREATE_CI: {
        if (need(n->ci_profile_info, "nvmlGpuInstanceGetComputeInstanceProfileInfoV", err) ||
            need(n->create_ci, "nvmlGpuInstanceCreateComputeInstance", err))
            return -1;
        unsigned id = (unsigned)op->profile_id;
        if (op->profile_id < 0 && full_ci_profile(n, *made, op->slices, &id, err) != 0) return -1;
        if (op->placed && n->create_ci_with_placement) {
            nvml_gi_placement pl = {(unsigned)op->start, (unsigned)op->size};
            rc = n->create_ci_with_placement(*made, id, &pl, &ci);
            if (rc != NVML_SUCCESS) return nvml_fail(err, "nvmlGpuInstanceCreateComputeInstanceWithPlacement", rc);
            return 0;
        }
        if ((rc = n->create_ci(*made, id, &ci)) != NVML_SUCCESS)
            return nvml_fail(err, "nvmlGpuInstanceCreateComputeInstance", rc);
        return 0;
    }
    }
    return cot_errf(err, "unknown MIG operation");
}

int mig_ops_run(const nvml_api *n, nvml_device d, int gpu_index, const mig_ops *ops, FILE *log, int *done, cot_err *err)
{
    nvml_gpu_instance made[MIG_MAX_OPS];
    memset(made, 0, sizeof made);
    *done = 0;
    for (int i = 0; i < ops->n; i++) {
        const mig_op *op = &ops->op[i];
        char line[512];
        mig_op_describe(op, gpu_index, line, sizeof line);
        nvml_gpu_instance *slot = op->kind == MIG_OP_CREATE_CI ? &made[op->gi_step] : &made[i];
        if (op->kind == MIG_OP_CREATE_CI && (op->gi_step < 0 || op->gi_step >= i || !made[op->gi_step]))
            return cot_errf(err, "step %d (%s): its GPU instance was not created", i + 1, line);
        if (run_one(n, d, op, slot, err) != 0) return cot_err_prefix(err, "step %d of %d, %s", i + 1, ops->n, line);
        if (log) fprintf(log, "  %2d. %s: done\n", i + 1, line);
        *done = i + 1;
    }
    return 0;
}
