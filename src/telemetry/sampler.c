#include "telemetry/sampler.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/timeutil.h"

struct sampler {
    gpu_reader *r;
    int64_t interval_ns;
    sampler_sink sink;
    void *ctx;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    long ticks;
    gpu_sample *latest, *work;
};

static void *loop(void *arg)
{
    sampler *s = arg;
    int n = gpu_reader_count(s->r);
    int64_t next = now_ns();
    for (;;) {
        for (int i = 0; i < n; i++) {
            cot_err err;
            /* a GPU that cannot be read keeps its NAN figures for this tick */
            if (gpu_reader_read(s->r, i, &s->work[i], &err) != 0) {
                gpu_sample_clear(&s->work[i]);
                s->work[i].t_ns = now_ns();
                s->work[i].index = gpu_reader_index(s->r, i);
            }
        }
        if (s->sink) s->sink(s->ctx, s->work, n);
        pthread_mutex_lock(&s->mu);
        memcpy(s->latest, s->work, (size_t)n * sizeof *s->work);
        s->ticks++;
        /* sleep to the next tick on the monotonic clock, or until stopped */
        next += s->interval_ns;
        int64_t now = now_ns();
        if (next < now) next = now; /* fell behind: skip the missed ticks */
        struct timespec until;
        /* pthread_cond_timedwait takes the condition's clock: monotonic (set below) */
        until.tv_sec = next / NS_PER_S;
        until.tv_nsec = next % NS_PER_S;
        while (!s->stop) {
            int rc = pthread_cond_timedwait(&s->cv, &s->mu, &until);
            if (rc == ETIMEDOUT) break;
        }
        int stop = s->stop;
        pthread_mutex_unlock(&s->mu);
        if (stop) break;
    }
    return NULL;
}

sampler *sampler_start(gpu_reader *r, int64_t interval_ns, sampler_sink sink, void *ctx, cot_err *err)
{
    if (interval_ns < SAMPLER_MIN_INTERVAL_NS) {
        cot_errf(err, "a sampling interval of %.1f ms is too short: the shortest is 10 ms", interval_ns / 1e6);
        return NULL;
    }
    sampler *s = calloc(1, sizeof *s);
    int n = gpu_reader_count(r);
    if (!s || !(s->latest = calloc((size_t)n, sizeof *s->latest)) || !(s->work = calloc((size_t)n, sizeof *s->work))) {
        if (s) free(s->latest);
        free(s);
        cot_errf(err, "out of memory for the sampler");
        return NULL;
    }
    s->r = r, s->interval_ns = interval_ns, s->sink = sink, s->ctx = ctx;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&s->mu, NULL);
    int rc = pthread_create(&s->thread, NULL, loop, s);
    if (rc != 0) {
        errno = rc;
        cot_errno(err, "cannot start the sampler thread");
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        free(s->latest);
        free(s->work);
        free(s);
        return NULL;
    }
    return s;
}

long sampler_latest(sampler *s, gpu_sample *out)
{
    pthread_mutex_lock(&s->mu);
    long t = s->ticks;
    if (t) memcpy(out, s->latest, (size_t)gpu_reader_count(s->r) * sizeof *out);
    pthread_mutex_unlock(&s->mu);
    return t;
}

double sampler_cpu_seconds(sampler *s)
{
    clockid_t cid;
    struct timespec ts;
    if (pthread_getcpuclockid(s->thread, &cid) != 0 || clock_gettime(cid, &ts) != 0) return -1;
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

long sampler_stop(sampler *s)
{
    if (!s) return 0;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    long t = s->ticks;
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s->latest);
    free(s->work);
    free(s);
    return t;
}
