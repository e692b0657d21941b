#include "exec/node_telemetry.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events/line_reader.h"
#include "sys/proc.h"
#include "telemetry/telemetry_csv.h"
#include "util/fs.h"
#include "util/timeutil.h"

/* How long the stream gets to end on its own once the segment is over. */
#define DRAIN_WAIT_NS (3 * NS_PER_S)

struct node_telemetry {
    child_proc proc;
    pthread_t thread;
    atomic_bool stop;
    line_reader lr;
    FILE *csv, *log;
    char csv_path[PATH_MAX];
    bool have_header;
    long samples, other_lines, too_long;
    long gpu_samples[NODE_TELEMETRY_MAX_GPUS], gpu_procs[NODE_TELEMETRY_MAX_GPUS], gpu_labelled[NODE_TELEMETRY_MAX_GPUS];
    int write_errno;
};

/* Whether the rest of a row, from its record column on, is that record's. */
static bool is_record(const char *rest, size_t len, const char *name)
{
    size_t n = strlen(name);
    return len > n && !memcmp(rest, name, n) && rest[n] == ',';
}

nt_line node_telemetry_classify(const char *line, size_t len, bool have_header)
{
    nt_line r = {.kind = NT_OTHER, .gpu = -1};
    const char *head = telemetry_csv_key_prefix();
    size_t head_len = strlen(head);
    if (len >= head_len && !memcmp(line, head, head_len)) {
        if (!have_header) r.kind = NT_HEADER;
        return r;
    }
    if (!have_header) return r;
    /* the key columns (t_ns,timestamp,gpu,record,...): digits, an RFC 3339
     * time, digits, then a record name */
    size_t i = 0;
    while (i < len && line[i] >= '0' && line[i] <= '9') i++;
    if (i == 0 || i > 20 || i >= len || line[i] != ',') return r;
    size_t t0 = ++i;
    while (i < len && i - t0 <= 40 && line[i] && strchr("0123456789-:.TZ", line[i])) i++;
    if (i == t0 || i - t0 > 40 || i >= len || line[i] != ',') return r;
    size_t g0 = ++i;
    int gpu = 0;
    while (i < len && line[i] >= '0' && line[i] <= '9' && i - g0 < 3) gpu = gpu * 10 + (line[i++] - '0');
    if (i == g0 || i >= len || line[i] != ',' || gpu >= NODE_TELEMETRY_MAX_GPUS) return r;
    const char *rec = line + i + 1;
    size_t rest = len - i - 1;
    if (is_record(rec, rest, TELEMETRY_RECORD_GPU)) {
        r.gpu_row = true;
    } else if (is_record(rec, rest, TELEMETRY_RECORD_PROCESS)) {
        /* the workload is the last column */
        _Static_assert(TCOL_WORKLOAD == TCOL_COUNT - 1, "a process row's label is found as its last field");
        const char *comma = NULL;
        for (size_t k = 0; k < len; k++)
            if (line[k] == ',') comma = line + k;
        r.process = true;
        r.labelled = comma && comma + 1 < line + len;
    } else if (!is_record(rec, rest, TELEMETRY_RECORD_MIG)) {
        return r;
    }
    r.kind = NT_ROW;
    r.gpu = gpu;
    return r;
}

static void on_line(void *arg, const char *line, size_t len, line_status st)
{
    node_telemetry *t = arg;
    if (st == LINE_TOO_LONG) {
        t->too_long++;
        return;
    }
    nt_line c = st == LINE_OK ? node_telemetry_classify(line, len, t->have_header) : (nt_line){.kind = NT_OTHER};
    FILE *to = c.kind == NT_OTHER ? t->log : t->csv;
    if (c.kind == NT_HEADER) t->have_header = true;
    if (c.kind == NT_ROW) {
        if (c.gpu_row) t->samples++, t->gpu_samples[c.gpu]++;
        if (c.process) t->gpu_procs[c.gpu]++;
        if (c.labelled) t->gpu_labelled[c.gpu]++;
    }
    if (c.kind == NT_OTHER) t->other_lines++;
    if (to && (fwrite(line, 1, len, to) != len || fputc('\n', to) == EOF) && !t->write_errno)
        t->write_errno = errno ? errno : EIO;
}

static void *follow(void *arg)
{
    node_telemetry *t = arg;
    char buf[16384];
    for (;;) {
        struct pollfd p = {.fd = t->proc.stdout_fd, .events = POLLIN};
        int n = poll(&p, 1, 100);
        if (n > 0) {
            ssize_t got = read(t->proc.stdout_fd, buf, sizeof buf);
            if (got > 0) {
                line_reader_feed(&t->lr, buf, (size_t)got, on_line, t);
                if (fflush(t->csv) != 0 && !t->write_errno) t->write_errno = errno;
                fflush(t->log);
                continue;
            }
            if (got == 0 || (errno != EAGAIN && errno != EINTR)) break; /* the stream ended */
        }
        if (atomic_load(&t->stop)) break;
    }
    line_reader_finish(&t->lr, on_line, t);
    fflush(t->csv);
    fflush(t->log);
    return NULL;
}

node_telemetry *node_telemetry_start(char *const *argv, const char *dir, cot_err *err)
{
    node_telemetry *t = calloc(1, sizeof *t);
    if (!t || line_reader_init(&t->lr, TELEM_LINE_MAX) != 0) {
        free(t);
        cot_errf(err, "out of memory");
        return NULL;
    }
    char log_path[PATH_MAX], follow_path[PATH_MAX];
    if (fs_path_join(t->csv_path, sizeof t->csv_path, dir, NODE_TELEMETRY_CSV, err) ||
        fs_path_join(log_path, sizeof log_path, dir, NODE_TELEMETRY_LOG, err) ||
        fs_path_join(follow_path, sizeof follow_path, dir, NODE_TELEMETRY_FOLLOW_LOG, err))
        goto fail;
    t->csv = fopen(t->csv_path, "we");
    t->log = fopen(log_path, "we");
    if (!t->csv || !t->log) {
        cot_errno(err, "cannot create %s", !t->csv ? t->csv_path : log_path);
        goto fail;
    }
    spawn_opts o = {.argv = argv, .envp = environ, .stderr_path = follow_path, .stdout_pipe = true};
    if (proc_spawn(&o, &t->proc, err) != 0) goto fail;
    atomic_init(&t->stop, false);
    if (pthread_create(&t->thread, NULL, follow, t) != 0) {
        proc_signal_group(&t->proc, SIGKILL);
        proc_wait_or_kill(&t->proc, 0);
        close(t->proc.stdout_fd);
        cot_errf(err, "cannot start a thread to follow the node's telemetry");
        goto fail;
    }
    return t;
fail:
    if (t->csv) fclose(t->csv);
    if (t->log) fclose(t->log);
    line_reader_free(&t->lr);
    free(t);
    return NULL;
}

/* The GPU the segment's workloads used: the one with their processes; where
 * none was labelled as theirs (their environments could not be read), the
 * one with the most processes; else the one sampled most. Ties go to the
 * lower index. *how says which rule decided. */
static int chosen_gpu(const node_telemetry *t, int *seen, const char **how)
{
    int best = -1;
    *seen = 0;
    for (int g = 0; g < NODE_TELEMETRY_MAX_GPUS; g++) {
        if (!t->gpu_samples[g]) continue;
        (*seen)++;
        if (best < 0) {
            best = g;
            continue;
        }
        long d = t->gpu_labelled[g] - t->gpu_labelled[best];
        if (!d) d = t->gpu_procs[g] - t->gpu_procs[best];
        if (!d) d = t->gpu_samples[g] - t->gpu_samples[best];
        if (d > 0) best = g;
    }
    *how = best < 0 ? NULL
           : t->gpu_labelled[best] ? NODE_TELEMETRY_BY_LABEL
           : t->gpu_procs[best]    ? "the most GPU processes"
                                   : "the most samples (no GPU processes seen)";
    return best;
}

/* Rewrites the file with the header and gpu's rows alone. */
static int keep_one_gpu(const char *path, int gpu, cot_err *err)
{
    char tmp[PATH_MAX + 8], *line = malloc(TELEM_LINE_MAX + 2);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *in = fopen(path, "re"), *out = fopen(tmp, "we");
    int rc = 0;
    if (!line || !in || !out) {
        rc = cot_errno(err, "cannot rewrite %s", path);
    } else {
        bool header = false;
        while (fgets(line, TELEM_LINE_MAX + 2, in)) {
            size_t len = strcspn(line, "\n");
            nt_line c = node_telemetry_classify(line, len, header);
            if (c.kind == NT_HEADER) header = true;
            if (c.kind == NT_HEADER || (c.kind == NT_ROW && c.gpu == gpu)) fputs(line, out);
        }
        if (fflush(out) != 0 || ferror(out)) rc = cot_errno(err, "cannot write %s", tmp);
    }
    if (in) fclose(in);
    if (out && fclose(out) != 0 && rc == 0) rc = cot_errno(err, "cannot write %s", tmp);
    if (rc == 0 && rename(tmp, path) != 0) rc = cot_errno(err, "cannot rename %s", tmp);
    if (rc != 0) unlink(tmp);
    free(line);
    return rc;
}

json_t *node_telemetry_stop(node_telemetry *t)
{
    if (!t) return json_null();
    /* The sampler's pod goes with the workloads' at the stop; its stream
     * then ends on its own. */
    int64_t until = now_ns() + DRAIN_WAIT_NS;
    while (!proc_poll(&t->proc) && now_ns() < until) sleep_ns(50 * NS_PER_MS);
    atomic_store(&t->stop, true);
    proc_signal_group(&t->proc, SIGTERM);
    proc_wait_or_kill(&t->proc, NS_PER_S);
    pthread_join(t->thread, NULL);
    close(t->proc.stdout_fd);
    char how[96];
    proc_describe_status(t->proc.wait_status, how, sizeof how);
    if (fclose(t->csv) != 0 && !t->write_errno) t->write_errno = errno;
    fclose(t->log);
    const char *chosen_by;
    int seen, gpu = chosen_gpu(t, &seen, &chosen_by);
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:s}", "file", NODE_TELEMETRY_CSV, "source", "a sampler pod on the node",
                          "samples", (json_int_t)(gpu >= 0 ? t->gpu_samples[gpu] : 0), "other_lines",
                          (json_int_t)(t->other_lines + t->too_long), "follower", how);
    json_object_set_new(o, "gpu", gpu >= 0 ? json_integer(gpu) : json_null());
    cot_err e;
    if (t->write_errno) {
        errno = t->write_errno;
        cot_errno(&e, "cannot write the telemetry to %s", t->csv_path);
        json_object_set_new(o, "write_error", json_string(e.msg));
    } else if (seen > 1 && keep_one_gpu(t->csv_path, gpu, &e) != 0) {
        json_object_set_new(o, "write_error", json_string(e.msg));
    }
    if (seen > 1) {
        json_object_set_new(o, "gpus_sampled", json_integer(seen));
        json_object_set_new(o, "gpu_chosen_by", json_string(chosen_by));
    }
    line_reader_free(&t->lr);
    free(t);
    return o;
}
