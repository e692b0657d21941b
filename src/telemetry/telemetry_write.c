#include "telemetry/telemetry_write.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/json_text.h"
#include "util/timeutil.h"

struct telemetry_writer {
    FILE *f;
    telemetry_format fmt;
    char path[4096];
    int failed; /* errno of the first failed write */
};

telemetry_writer *telemetry_write_open(const char *path, telemetry_format fmt, cot_err *err)
{
    telemetry_writer *w = calloc(1, sizeof *w);
    if (!w) {
        cot_errf(err, "out of memory");
        return NULL;
    }
    w->fmt = fmt;
    snprintf(w->path, sizeof w->path, "%s", path);
    w->f = strcmp(path, "-") ? fopen(path, "we") : stdout;
    if (!w->f) {
        cot_errno(err, "cannot create %s", path);
        free(w);
        return NULL;
    }
    if (fmt == TELEMETRY_FORMAT_CSV) fprintf(w->f, "%s\n", telemetry_csv_header());
    fflush(w->f);
    return w;
}

/* One tick: the GPU's row, then its processes' and MIG instances'. */
static void csv_tick(FILE *f, const gpu_sample *s)
{
    telemetry_csv_row r;
    char when[40];
    rfc3339_of_monotonic_ns(s->t_ns, when, sizeof when);
    telemetry_csv_row_init(&r);
    telemetry_csv_row_int(&r, TCOL_T_NS, (long long)s->t_ns);
    telemetry_csv_row_text(&r, TCOL_TIMESTAMP, when);
    telemetry_csv_row_int(&r, TCOL_GPU, s->index);
    telemetry_csv_row_text(&r, TCOL_RECORD, TELEMETRY_RECORD_GPU);
    telemetry_csv_row_num(&r, TCOL_UTIL_GPU, s->util_gpu, 0);
    telemetry_csv_row_num(&r, TCOL_UTIL_MEM, s->util_mem, 0);
    telemetry_csv_row_num(&r, TCOL_MEM_USED_MIB, s->mem_used_mib, 1);
    telemetry_csv_row_num(&r, TCOL_MEM_TOTAL_MIB, s->mem_total_mib, 1);
    telemetry_csv_row_num(&r, TCOL_POWER_W, s->power_w, 3);
    telemetry_csv_row_num(&r, TCOL_ENERGY_J, s->energy_j, 3);
    telemetry_csv_row_num(&r, TCOL_SM_CLOCK_MHZ, s->sm_clock_mhz, 0);
    telemetry_csv_row_num(&r, TCOL_MEM_CLOCK_MHZ, s->mem_clock_mhz, 0);
    telemetry_csv_row_num(&r, TCOL_TEMP_C, s->temp_c, 0);
    telemetry_csv_row_num(&r, TCOL_THROTTLE_REASONS, s->throttle_reasons, 0);
    telemetry_csv_row_num(&r, TCOL_SM_ACTIVE, s->sm_active, 2);
    telemetry_csv_row_num(&r, TCOL_SM_OCCUPANCY, s->sm_occupancy, 2);
    telemetry_csv_row_num(&r, TCOL_TENSOR_ACTIVE, s->tensor_active, 2);
    telemetry_csv_row_num(&r, TCOL_DRAM_ACTIVE, s->dram_active, 2);
    telemetry_csv_row_num(&r, TCOL_PCIE_TX_MIB_S, s->pcie_tx_mib_s, 1);
    telemetry_csv_row_num(&r, TCOL_PCIE_RX_MIB_S, s->pcie_rx_mib_s, 1);
    telemetry_csv_row_write(f, &r);
    for (int k = 0; k < s->nprocs; k++) {
        const gpu_proc_sample *p = &s->procs[k];
        telemetry_csv_row_init(&r);
        telemetry_csv_row_int(&r, TCOL_T_NS, (long long)s->t_ns);
        telemetry_csv_row_text(&r, TCOL_TIMESTAMP, when);
        telemetry_csv_row_int(&r, TCOL_GPU, s->index);
        telemetry_csv_row_text(&r, TCOL_RECORD, TELEMETRY_RECORD_PROCESS);
        telemetry_csv_row_int(&r, TCOL_PID, p->pid);
        telemetry_csv_row_text(&r, TCOL_PROCESS, p->name);
        if (p->gpu_instance_id >= 0) telemetry_csv_row_int(&r, TCOL_GPU_INSTANCE, p->gpu_instance_id);
        telemetry_csv_row_num(&r, TCOL_PROC_MEM_MIB, p->mem_used_mib, 1);
        telemetry_csv_row_num(&r, TCOL_PROC_SM_UTIL, p->sm_util, 0);
        telemetry_csv_row_num(&r, TCOL_PROC_MEM_UTIL, p->mem_util, 0);
        if (p->mps_client >= 0) telemetry_csv_row_int(&r, TCOL_MPS_CLIENT, p->mps_client);
        telemetry_csv_row_text(&r, TCOL_WORKLOAD, p->workload);
        telemetry_csv_row_write(f, &r);
    }
    for (int k = 0; k < s->nmig; k++) {
        const gpu_mig_sample *m = &s->mig[k];
        telemetry_csv_row_init(&r);
        telemetry_csv_row_int(&r, TCOL_T_NS, (long long)s->t_ns);
        telemetry_csv_row_text(&r, TCOL_TIMESTAMP, when);
        telemetry_csv_row_int(&r, TCOL_GPU, s->index);
        telemetry_csv_row_text(&r, TCOL_RECORD, TELEMETRY_RECORD_MIG);
        telemetry_csv_row_int(&r, TCOL_GPU_INSTANCE, m->gpu_instance_id);
        telemetry_csv_row_num(&r, TCOL_MEM_USED_MIB, m->mem_used_mib, 1);
        telemetry_csv_row_num(&r, TCOL_MEM_TOTAL_MIB, m->mem_total_mib, 1);
        telemetry_csv_row_num(&r, TCOL_SM_ACTIVE, m->sm_active, 2);
        telemetry_csv_row_write(f, &r);
    }
}

static void jnum(json_t *o, const char *key, double v)
{
    json_object_set_new(o, key, isfinite(v) ? json_real(v) : json_null());
}

static void jsonl_tick(FILE *f, const gpu_sample *s)
{
    json_t *o = json_object();
    char when[40];
    rfc3339_of_monotonic_ns(s->t_ns, when, sizeof when);
    json_object_set_new(o, "t_ns", json_integer(s->t_ns));
    json_object_set_new(o, "timestamp", json_string(when));
    json_object_set_new(o, "gpu", json_integer(s->index));
    jnum(o, "util_gpu", s->util_gpu), jnum(o, "util_mem", s->util_mem);
    jnum(o, "mem_used_mib", s->mem_used_mib), jnum(o, "mem_total_mib", s->mem_total_mib);
    jnum(o, "power_w", s->power_w), jnum(o, "energy_j", s->energy_j);
    jnum(o, "sm_clock_mhz", s->sm_clock_mhz), jnum(o, "mem_clock_mhz", s->mem_clock_mhz);
    jnum(o, "temp_c", s->temp_c), jnum(o, "throttle_reasons", s->throttle_reasons);
    jnum(o, "sm_active", s->sm_active), jnum(o, "sm_occupancy", s->sm_occupancy);
    jnum(o, "tensor_active", s->tensor_active), jnum(o, "dram_active", s->dram_active);
    jnum(o, "pcie_tx_mib_s", s->pcie_tx_mib_s), jnum(o, "pcie_rx_mib_s", s->pcie_rx_mib_s);
    json_t *procs = json_array();
    for (int k = 0; k < s->nprocs; k++) {
        const gpu_proc_sample *p = &s->procs[k];
        json_t *po = json_object();
        json_object_set_new(po, "pid", json_integer(p->pid));
        json_object_set_new(po, "name", json_string(p->name));
        if (p->gpu_instance_id >= 0) json_object_set_new(po, "gpu_instance", json_integer(p->gpu_instance_id));
        jnum(po, "mem_used_mib", p->mem_used_mib), jnum(po, "sm_util", p->sm_util), jnum(po, "mem_util", p->mem_util);
        json_object_set_new(po, "mps_client", p->mps_client < 0 ? json_null() : json_boolean(p->mps_client));
        if (p->workload[0]) json_object_set_new(po, "workload", json_string(p->workload));
        json_array_append_new(procs, po);
    }
    json_object_set_new(o, "processes", procs);
    if (s->nmig) {
        json_t *mig = json_array();
        for (int k = 0; k < s->nmig; k++) {
            json_t *mo = json_object();
            json_object_set_new(mo, "gpu_instance", json_integer(s->mig[k].gpu_instance_id));
            jnum(mo, "mem_used_mib", s->mig[k].mem_used_mib), jnum(mo, "mem_total_mib", s->mig[k].mem_total_mib);
            jnum(mo, "sm_active", s->mig[k].sm_active);
            json_array_append_new(mig, mo);
        }
        json_object_set_new(o, "mig", mig);
    }
    char *line = json_text_dumps(o, JSON_COMPACT);
    if (line) fprintf(f, "%s\n", line);
    free(line);
    json_decref(o);
}

int telemetry_write_samples(telemetry_writer *w, const gpu_sample *s, int n)
{
    if (w->failed) return -1;
    for (int i = 0; i < n; i++) (w->fmt == TELEMETRY_FORMAT_CSV ? csv_tick : jsonl_tick)(w->f, &s[i]);
    if (fflush(w->f) != 0 || ferror(w->f)) {
        w->failed = errno ? errno : EIO;
        return -1;
    }
    return 0;
}

int telemetry_write_close(telemetry_writer *w, cot_err *err)
{
    if (!w) return 0;
    int rc = 0;
    if (w->f != stdout) {
        if (fclose(w->f) != 0 && !w->failed) w->failed = errno;
    } else if (fflush(w->f) != 0 && !w->failed) {
        w->failed = errno;
    }
    if (w->failed) {
        errno = w->failed;
        rc = cot_errno(err, "cannot write the telemetry to %s", w->path);
    }
    free(w);
    return rc;
}
