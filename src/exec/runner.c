#include "exec/runner.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec/config_gpu.h"
#include "exec/keeper.h"
#include "sys/proc.h"
#include "exec/segment.h"
#include "mode/mode.h"
#include "plan/plan.h"
#include "scenario/mode_config.h"
#include "telemetry/gpu_reader.h"
#include "util/fs.h"
#include "util/signal_hold.h"
#include "util/timeutil.h"
#include "version.h"

static volatile sig_atomic_t stop_requests;

static void on_signal(int sig)
{
    (void)sig;
    stop_requests++;
}


typedef struct {
    const run_request *req;
    const plan *p;
    int current;
    double planned_s;       /* expected length of one segment */
    int64_t run_start_ns;
    int64_t last_draw_ns;
    bool tty;
} progress_state;

static void on_tick(void *arg, const segment_progress *sp)
{
    progress_state *ps = arg;
    if (!ps->req->progress) return;
    int64_t now = now_ns();
    if (now - ps->last_draw_ns < 500 * NS_PER_MS) return;
    ps->last_draw_ns = now;
    const plan_segment *s = &ps->p->segs[ps->current];
    const scenario *sc = ps->req->sc;
    double elapsed = (double)(now - ps->run_start_ns) / 1e9;
    double seg_left = ps->planned_s - (double)(now - sp->t0_ns) / 1e9;
    if (sp->window_end_ns) seg_left = (double)(sp->window_end_ns - now) / 1e9 + 1;
    if (seg_left < 0) seg_left = 0;
    double remaining = seg_left + ps->planned_s * (ps->p->n - ps->current - 1);
    char el[32], rem[32];
    format_duration(elapsed, el, sizeof el);
    format_duration(remaining, rem, sizeof rem);
    const char *phase = !sp->window_start_ns ? "starting" : now < sp->window_start_ns ? "warming up" : "measuring";
    fprintf(stderr, "%s[%s] segment %d/%d repeat %d %s%s%s: %s | elapsed %s, about %s left%s", ps->tty ? "\r\033[K" : "",
            sc->modes[s->mode], s->index, ps->p->n, s->repeat, segment_kind_name(s->kind), s->kind == SEG_ALONE ? " " : "",
            s->kind == SEG_ALONE ? sc->workloads[s->workload].name : "", phase, el, rem, ps->tty ? "" : "\n");
    if (!ps->tty) ps->last_draw_ns = now + 9 * NS_PER_S; /* a line every 10 s when logging to a file */
}

/* A mode is set up and torn down by the executor, which knows what of it
 * the host, the containers or the cluster do; a configuration's settings
 * of the whole GPU go on before it and come off after it. */
static int mode_up(const run_request *req, int m, mode_state *ms, cot_err *err)
{
    if (config_gpu_up(req->sc, m, req->host, req->out_dir, ms->info, err) != 0) return -1;
    return req->ex->ops->mode_up(req->ex, ms, err);
}

static void mode_down(const run_request *req, int m, mode_state *ms)
{
    req->ex->ops->mode_down(req->ex, ms);
    config_gpu_down(req->sc, m, req->host, req->out_dir);
}

static json_t *plan_json(const scenario *sc, const plan *p)
{
    json_t *a = json_array();
    for (int i = 0; i < p->n; i++) {
        const plan_segment *s = &p->segs[i];
        int idx[SCENARIO_MAX_WORKLOADS], n = plan_segment_workloads(sc, s, idx);
        json_t *names = json_array();
        for (int k = 0; k < n; k++) json_array_append_new(names, json_string(sc->workloads[idx[k]].name));
        json_array_append_new(a, json_pack("{s:s, s:i, s:i, s:s, s:s, s:o, s:s}", "id", s->id, "index", s->index, "repeat",
                                           s->repeat, "mode", sc->modes[s->mode], "kind", segment_kind_name(s->kind),
                                           "workloads", names, "status", "pending"));
    }
    return a;
}

/* The scenario's GPU, opened once for every segment's sampler; NULL where
 * telemetry is off or the GPU cannot be read (run.json says which). */
static gpu_reader *open_telemetry(const run_request *req, json_t *run)
{
    const scenario *sc = req->sc;
    const char *why = NULL;
    cot_err e;
    gpu_reader *r = NULL;
    if (sc->device != DEVICE_GPU) why = "the scenario runs CPU workloads";
    else if (sc->telemetry_interval_s <= 0) why = "telemetry_interval is off";
    else if (!req->ex->ops->same_host) {
        /* each segment follows a sampler on the node (node_telemetry.h) */
        if (req->ex->ops->telemetry_argv)
            json_object_set_new(run, "telemetry", json_pack("{s:b, s:f, s:s}", "enabled", 1, "interval_ms",
                                                            sc->telemetry_interval_s * 1e3, "source",
                                                            "a sampler pod on the node, each segment"));
        else
            json_object_set_new(run, "telemetry", json_pack("{s:b, s:s}", "enabled", 0, "reason",
                                                            "the executor cannot sample the GPU's machine"));
        return NULL;
    }
    else if (!req->host->gpu_found) why = req->host->gpu_why;
    else if (!(r = gpu_reader_open(sc->gpu ? sc->gpu : "0", &e))) why = e.msg;
    if (!r) {
        if (sc->device == DEVICE_GPU && sc->telemetry_interval_s > 0) cot_warn("no GPU telemetry in this run: %s", why);
        json_object_set_new(run, "telemetry", json_pack("{s:b, s:s}", "enabled", 0, "reason", why));
        return NULL;
    }
    json_object_set_new(run, "telemetry",
                        json_pack("{s:b, s:f, s:s, s:s, s:b}", "enabled", 1, "interval_ms", sc->telemetry_interval_s * 1e3,
                                  "gpu", gpu_reader_name(r, 0), "uuid", gpu_reader_uuid(r, 0), "gpm", gpu_reader_has_gpm(r, 0)));
    return r;
}

static int save_run(const run_request *req, json_t *run, cot_err *err)
{
    char path[PATH_MAX];
    if (fs_path_join(path, sizeof path, req->out_dir, "run.json", err)) return -1;
    return fs_write_json_atomic(path, run, err);
}

static void set_wall(json_t *run, const char *key)
{
    char t[64];
    wall_time_iso(t, sizeof t);
    json_object_set_new(run, key, json_string(t));
}

/* Space held back so that the last word gets out: when the disk fills up
 * mid-run, this file is removed and run.json is written, marked failed
 * with the reason, instead of staying "running" for ever. */
#define RESERVE_FILE ".space-reserve"
#define RESERVE_BYTES (1 << 20)

static void reserve_space(const char *dir)
{
    char path[PATH_MAX];
    cot_err e;
    if (fs_path_join(path, sizeof path, dir, RESERVE_FILE, &e)) return;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return; /* no room even for this: the run fails at its first write, and says so */
    if (posix_fallocate(fd, 0, RESERVE_BYTES) != 0) unlink(path);
    close(fd);
}

static void release_space(const char *dir)
{
    char path[PATH_MAX];
    cot_err e;
    if (fs_path_join(path, sizeof path, dir, RESERVE_FILE, &e) == 0) unlink(path);
}

int runner_run(const run_request *req, cot_err *err)
{
    const scenario *sc = req->sc;
    plan p;
    if (plan_build(sc, &p) != 0) return cot_errf(err, "out of memory building the plan");
    char segdir[PATH_MAX];
    if (fs_path_join(segdir, sizeof segdir, req->out_dir, "segments", err) || fs_mkdir_p(segdir, err)) {
        plan_free(&p);
        return -1;
    }
    if (req->scenario_text) {
        char path[PATH_MAX];
        if (fs_path_join(path, sizeof path, req->out_dir, "scenario.yaml", err) == 0)
            fs_write_file_atomic(path, req->scenario_text, req->scenario_len, NULL);
    }
    json_t *run = json_object();
    json_object_set_new(run, "cotenant", json_pack("{s:s, s:s}", "version", COTENANT_VERSION, "git_revision", COTENANT_GIT_REV));
    json_object_set_new(run, "scenario", scenario_to_json(sc));
    json_object_set_new(run, "host", host_to_json(req->host));
    json_object_set_new(run, "command_line", json_incref(req->command_line));
    json_object_set_new(run, "skipped_modes", req->skipped_modes ? json_incref(req->skipped_modes) : json_array());
    if (req->gpu_settings) json_object_set(run, "gpu_settings", req->gpu_settings);
    json_object_set_new(run, "executor", json_string(req->ex->ops->name));
    json_object_set_new(run, "process_tracking", json_string(keeper_tracking()));
    if (req->ex->run_id) json_object_set_new(run, "run_id", json_string(req->ex->run_id));
    json_object_set_new(run, "status", json_string("running"));
    set_wall(run, "started_at");
    json_t *segs = plan_json(sc, &p), *failures = json_array(), *modes_info = json_object();
    json_object_set_new(run, "plan", segs);
    json_object_set_new(run, "failures", failures);
    json_object_set_new(run, "modes", modes_info);
    gpu_reader *gpu = open_telemetry(req, run);
    if (save_run(req, run, err) != 0) {
        gpu_reader_close(gpu);
        json_decref(run);
        plan_free(&p);
        return -1;
    }
    reserve_space(req->out_dir);

    stop_requests = 0;
    signal_handle_stops(on_signal, true, false);
    progress_state ps = {.req = req, .p = &p, .run_start_ns = now_ns(), .tty = isatty(2)};
    ps.planned_s = sc->warmup_s + sc->duration_s + 2;
    mode_state ms;
    memset(&ms, 0, sizeof ms);
    scenario view_of_mode, *view = &view_of_mode; /* the scenario as the configuration running sees it */
    int active_mode = -1, rc = 0, nfail = 0, ran = 0;
    bool interrupted = false, running[SCENARIO_MAX_MODES], stopped = false;
    char why[SCENARIO_MAX_MODES][160] = {{0}}, stop_why[200] = "";
    for (int m = 0; m < sc->nmodes; m++) running[m] = true;
    json_t *adaptive = json_object(), *dropped = json_array();
    int64_t run_t0 = now_ns();
    for (int i = 0; i < p.n && !stop_requests; i++) {
        const plan_segment *s = &p.segs[i];
        ps.current = i;
        if (stopped || !running[s->mode]) { /* adaptive repeats: no longer needed */
            json_t *entry = json_array_get(segs, (size_t)i);
            json_object_set_new(entry, "status", json_string("skipped"));
            json_object_set_new(entry, "reason", json_string(stopped ? stop_why : why[s->mode]));
            continue;
        }
        ran++;
        if (s->mode != active_mode) {
            if (active_mode >= 0) {
                mode_down(req, active_mode, &ms);
                json_decref(ms.info);
            }
            memset(&ms, 0, sizeof ms);
            scenario_config_view(sc, s->mode, view);
            ms.ops = mode_lookup(scenario_mode_kind(sc, s->mode));
            ms.sc = view;
            ms.host = req->host;
            ms.info = json_object();
            snprintf(ms.run_dir, sizeof ms.run_dir, "%s", req->out_dir);
            active_mode = s->mode;
            cot_err e;
            if (mode_up(req, active_mode, &ms, &e) != 0) {
                ms.prepared = true; /* teardown undoes whatever half of prepare happened */
                mode_down(req, active_mode, &ms);
                json_decref(ms.info);
                active_mode = -1;
                rc = cot_errf(err, "cannot set up mode %s: %s", ms.ops->name, e.msg);
                break;
            }
            ms.prepared = true;
            json_object_set(modes_info, sc->modes[s->mode], ms.info);
        }
        segment_job job = {.sc = view, .seg = s, .mode = &ms, .run_dir = req->out_dir, .stop_requests = &stop_requests,
                           .on_tick = on_tick, .tick_arg = &ps, .gpu = gpu, .ex = req->ex};
        segment_outcome out;
        cot_err e;
        int64_t t = now_ns();
        int src = segment_run(&job, &out, &e);
        /* Learn how long segments really take, for the remaining-time estimate. */
        ps.planned_s = 0.5 * ps.planned_s + 0.5 * (double)(now_ns() - t) / 1e9;
        if (req->progress && ps.tty) fputs("\r\033[K", stderr);
        json_t *entry = json_array_get(segs, (size_t)i);
        if (src != 0) {
            json_decref(out.failed);
            rc = cot_errf(err, "segment %s could not run: %s", s->id, e.msg);
            json_object_set_new(entry, "status", json_string("error"));
            break;
        }
        json_array_extend(failures, out.failed);
        nfail += out.failures;
        const char *status = out.interrupted ? "interrupted" : out.failures ? "failed" : "complete";
        json_object_set_new(entry, "status", json_string(status));
        json_object_set_new(entry, "failures", json_integer(out.failures));
        for (size_t k = 0; k < json_array_size(out.failed); k++) {
            json_t *f = json_array_get(out.failed, k);
            cot_warn("%s: workload %s failed: %s", s->id, json_string_value(json_object_get(f, "workload")),
                     json_string_value(json_object_get(f, "reason")));
        }
        json_decref(out.failed);
        if (out.interrupted) interrupted = true;
        else if (!req->progress || !ps.tty) cot_info("segment %d/%d %s: %s", s->index, p.n, s->id, status);
        cot_err se;
        if (save_run(req, run, &se) != 0) cot_warn("%s", se.msg);
        bool repeat_done = i == p.n - 1 || p.segs[i + 1].repeat != s->repeat;
        if (req->after_repeat && repeat_done && !out.interrupted && !stop_requests) {
            bool before[SCENARIO_MAX_MODES];
            memcpy(before, running, sizeof before);
            stopped = req->after_repeat(req->after_arg, s->repeat, running, why, stop_why, sizeof stop_why);
            for (int m = 0; m < sc->nmodes; m++)
                if (before[m] && !running[m]) {
                    json_array_append_new(dropped, json_pack("{s:s, s:i, s:s}", "mode", sc->modes[m], "after_repeat",
                                                             s->repeat, "why", why[m]));
                    cot_info("after repeat %d: %s is no longer run: %s", s->repeat, sc->modes[m], why[m]);
                }
            if (stopped) {
                cot_info("after repeat %d: %s", s->repeat, stop_why);
                json_object_set_new(adaptive, "stopped_after_repeat", json_integer(s->repeat));
                json_object_set_new(adaptive, "stopped", json_string(stop_why));
            }
        }
    }
    if (req->after_repeat) { /* the time to answer, and the exhaustive plan's for comparison */
        double wall = (double)(now_ns() - run_t0) / 1e9;
        json_object_set_new(adaptive, "dropped", dropped);
        json_object_set_new(adaptive, "segments_run", json_integer(ran));
        json_object_set_new(adaptive, "segments_planned", json_integer(p.n));
        json_object_set_new(adaptive, "wall_s", json_real(wall));
        if (ran > 0) json_object_set_new(adaptive, "exhaustive_estimate_s", json_real(wall / ran * p.n));
        json_object_set_new(run, "adaptive", adaptive);
    } else {
        json_decref(adaptive);
        json_decref(dropped);
    }
    if (active_mode >= 0) {
        mode_down(req, active_mode, &ms);
        json_decref(ms.info);
    }
    proc_kill_strays(NULL, 0);
    gpu_reader_close(gpu);
    if (stop_requests) interrupted = true;
    const char *final = rc != 0 ? "failed" : interrupted ? "interrupted" : nfail ? "failed" : "complete";
    json_object_set_new(run, "status", json_string(final));
    if (rc != 0) json_object_set_new(run, "error", json_string(err->msg)); /* why the plan stopped */
    set_wall(run, "ended_at");
    release_space(req->out_dir);
    cot_err se;
    if (save_run(req, run, &se) != 0) cot_warn("%s", se.msg);
    json_decref(run);
    plan_free(&p);
    /* the handler stays: the caller replaces it (util/signal_hold.h), so
     * no signal between here and there finds the default action */
    if (rc != 0) return -1;
    if (interrupted) cot_warn("interrupted: every finished segment is kept in %s (run.json status: interrupted)", req->out_dir);
    return interrupted || nfail ? EXIT_RUN_FAILED : EXIT_OK;
}
