#include "exec/segment_telemetry.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sys/proc.h"
#include "scenario/scenario.h"
#include "telemetry/env_owner.h"
#include "telemetry/sampler.h"
#include "telemetry/telemetry_write.h"

/* pid -> workload answers, so /proc is read once per GPU process rather
 * than once per tick. */
#define OWNER_CACHE 128

typedef struct {
    unsigned pid;
    int owner; /* index in roots, -1 for none */
} owner_entry;

struct seg_telemetry {
    sampler *s;
    telemetry_writer *w;
    int64_t interval_ns;
    pthread_mutex_t mu; /* guards the workload table: added from the runner's thread, read on the sampler's */
    int n;
    pid_t roots[SCENARIO_MAX_WORKLOADS];
    char names[SCENARIO_MAX_WORKLOADS][SCENARIO_NAME_MAX + 1];
    /* touched by the sampler thread alone */
    int ncache, cache_gen, gen;
    owner_entry cache[OWNER_CACHE];
    bool by_env;   /* also label processes by their environment (containers) */
    env_owner env;
};

static int owner_of(seg_telemetry *t, unsigned pid, const pid_t *roots, int n)
{
    for (int i = 0; i < t->ncache; i++)
        if (t->cache[i].pid == pid) return t->cache[i].owner;
    int owner = proc_tree_index((pid_t)pid, roots, n);
    if (owner < 0 && t->by_env) {
        /* a workload in a container: only a name of this segment counts */
        const char *name = env_owner_of(&t->env, pid);
        for (int i = 0; name[0] && i < n; i++)
            if (!strcmp(t->names[i], name)) owner = i;
    }
    if (t->ncache < OWNER_CACHE) t->cache[t->ncache++] = (owner_entry){pid, owner};
    return owner;
}

static void sink(void *ctx, gpu_sample *s, int n)
{
    seg_telemetry *t = ctx;
    pid_t roots[SCENARIO_MAX_WORKLOADS];
    pthread_mutex_lock(&t->mu);
    int nroots = t->n, gen = t->gen;
    memcpy(roots, t->roots, sizeof roots);
    pthread_mutex_unlock(&t->mu);
    /* A workload added since the last tick may own a process we already
     * said was nobody's. */
    if (gen != t->cache_gen) t->ncache = 0, t->cache_gen = gen;
    for (int g = 0; g < n; g++)
        for (int k = 0; k < s[g].nprocs; k++) {
            gpu_proc_sample *p = &s[g].procs[k];
            int o = owner_of(t, p->pid, roots, nroots);
            /* names[] of an index below nroots never changes once set */
            snprintf(p->workload, sizeof p->workload, "%s", o >= 0 ? t->names[o] : "");
        }
    telemetry_write_samples(t->w, s, n); /* a failed write is reported once, at the stop */
}

seg_telemetry *seg_telemetry_start(gpu_reader *r, int64_t interval_ns, const char *csv_path, const char *env_segment,
                                   cot_err *err)
{
    seg_telemetry *t = calloc(1, sizeof *t);
    if (!t) {
        cot_errf(err, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&t->mu, NULL);
    t->interval_ns = interval_ns;
    if (env_segment) {
        t->by_env = true;
        env_owner_init(&t->env, env_segment);
    }
    if (!(t->w = telemetry_write_open(csv_path, TELEMETRY_FORMAT_CSV, err)) || !(t->s = sampler_start(r, interval_ns, sink, t, err))) {
        telemetry_write_close(t->w, NULL);
        pthread_mutex_destroy(&t->mu);
        free(t);
        return NULL;
    }
    return t;
}

void seg_telemetry_add(seg_telemetry *t, const char *workload, pid_t pid)
{
    if (!t) return;
    pthread_mutex_lock(&t->mu);
    if (t->n < SCENARIO_MAX_WORKLOADS) {
        snprintf(t->names[t->n], sizeof t->names[0], "%s", workload);
        t->roots[t->n++] = pid;
        t->gen++;
    }
    pthread_mutex_unlock(&t->mu);
}

json_t *seg_telemetry_stop(seg_telemetry *t)
{
    if (!t) return json_null();
    double cpu = sampler_cpu_seconds(t->s);
    long ticks = sampler_stop(t->s);
    cot_err err;
    json_t *o = json_pack("{s:s, s:f, s:i, s:f}", "file", SEGMENT_TELEMETRY_FILE, "interval_ms", t->interval_ns / 1e6,
                          "samples", (json_int_t)ticks, "sampler_cpu_s", cpu);
    if (telemetry_write_close(t->w, &err) != 0) json_object_set_new(o, "write_error", json_string(err.msg));
    pthread_mutex_destroy(&t->mu);
    free(t);
    return o;
}
