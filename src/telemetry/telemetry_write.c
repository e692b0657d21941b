#include "telemetry/telemetry_write.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

const char telem_csv_header[] =
    "t_ns,gpu,record,pid,process,gpu_instance,util_gpu,util_mem,mem_used_mib,mem_total_mib,power_w,energy_j,"
    "sm_clock_mhz,mem_clock_mhz,temp_c,throttle_reasons,sm_active,sm_occupancy,tensor_active,dram_active,"
    "pcie_tx_mib_s,pcie_rx_mib_s,proc_mem_mib,proc_sm_util,proc_mem_util,workload";

struct telem_writer {
    FILE *f;
    telem_format fmt;
    char path[4096];
    int failed; /* errno of the first failed write */
};

telem_writer *telem_writer_open(const char *path, telem_format fmt, cot_err *err)
{
    telem_writer *w = calloc(1, sizeof *w);
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
    if (fmt == TELEM_CSV) fprintf(w->f, "%s\n", telem_csv_header);
    fflush(w->f);
    return w;
}

/* A figure, or nothing where it is not available. */
static void num(FILE *f, double v, int decimals)
{
    fputc(',', f);
    if (isfinite(v)) fprintf(f, "%.*f", decimals, v);
}

/* A process name as one CSV field: quoted where it holds a comma, a quote or
 * a line break. */
static void csv_text(FILE *f, const char *s)
{
    fputc(',', f);
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s == '\r' || *s == '\n' ? ' ' : *s, f);
    }
    fputc('"', f);
}

static void csv_tick(FILE *f, const gpu_sample *s)
{
    fprintf(f, "%lld,%d,gpu,,,", (long long)s->t_ns, s->index);
    num(f, s->util_gpu, 0), num(f, s->util_mem, 0), num(f, s->mem_used_mib, 1), num(f, s->mem_total_mib, 1);
    num(f, s->power_w, 3), num(f, s->energy_j, 3), num(f, s->sm_clock_mhz, 0), num(f, s->mem_clock_mhz, 0);
    num(f, s->temp_c, 0), num(f, s->throttle_reasons, 0), num(f, s->sm_active, 2), num(f, s->sm_occupancy, 2);
    num(f, s->tensor_active, 2), num(f, s->dram_active, 2), num(f, s->pcie_tx_mib_s, 1), num(f, s->pcie_rx_mib_s, 1);
    fputs(",,,,\n", f);
    for (int k = 0; k < s->nprocs; k++) {
        const gpu_proc_sample *p = &s->procs[k];
        fprintf(f, "%lld,%d,process,%u", (long long)s->t_ns, s->index, p->pid);
        csv_text(f, p->name);
        fputc(',', f);
        if (p->gpu_instance_id >= 0) fprintf(f, "%d", p->gpu_instance_id);
        fputs(",,,,,,,,,,,,,,,,", f);
        num(f, p->mem_used_mib, 1), num(f, p->sm_util, 0), num(f, p->mem_util, 0);
        csv_text(f, p->workload);
        fputc('\n', f);
    }
    for (int k = 0; k < s->nmig; k++) {
        const gpu_mig_sample *m = &s->mig[k];
        fprintf(f, "%lld,%d,mig,,,%d,,", (long long)s->t_ns, s->index, m->gpu_instance_id);
        num(f, m->mem_used_mib, 1), num(f, m->mem_total_mib, 1);
        fputs(",,,,,,", f);
        num(f, m->sm_active, 2);
        fputs(",,,,,,,,,\n", f);
    }
}

static void jnum(json_t *o, const char *key, double v)
{
    json_object_set_new(o, key, isfinite(v) ? json_real(v) : json_null());
}

static void jsonl_tick(FILE *f, const gpu_sample *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "t_ns", json_integer(s->t_ns));
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
    char *line = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
    if (line) fprintf(f, "%s\n", line);
    free(line);
    json_decref(o);
}

int telem_writer_write(telem_writer *w, const gpu_sample *s, int n)
{
    if (w->failed) return -1;
    for (int i = 0; i < n; i++) (w->fmt == TELEM_CSV ? csv_tick : jsonl_tick)(w->f, &s[i]);
    if (fflush(w->f) != 0 || ferror(w->f)) {
        w->failed = errno ? errno : EIO;
        return -1;
    }
    return 0;
}

int telem_writer_close(telem_writer *w, cot_err *err)
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
