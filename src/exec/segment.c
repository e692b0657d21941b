/* One segment, in four steps: start (its folder, GPU sampling, ports, the
 * executor's project, each workload), watch (read everyone's events each
 * tick, let segment_window.c's rules open and close the window, stop at
 * its end), finish (what is left in the pipes, telemetry, the project
 * down, strays killed) and record (segment_record.c). */
#include "exec/segment.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/node_telemetry.h"
#include "exec/segment_record.h"
#include "exec/segment_telemetry.h"
#include "exec/segment_window.h"
#include "exec/segment_workload.h"
#include "exec/served.h"
#include "util/fs.h"
#include "util/results_files.h"
#include "util/timeutil.h"

/* A follower of a container's stream gets this long, once its container
 * is killed, to pass on the agent's exit line. */
#define FOLLOWER_EXIT_WAIT_NS (5 * NS_PER_S)

typedef struct {
    const segment_job *job;
    executor *ex;
    int n, idx[SCENARIO_MAX_WORKLOADS];
    int ninit; /* workloads set up, to be freed */
    seg_workload rt[SCENARIO_MAX_WORKLOADS];
    char seg_root[PATH_MAX], tmp_dir[PATH_MAX];
    json_t *warnings;
    seg_telemetry *telem;
    node_telemetry *node_telem;
    json_t *telem_info;
    exec_segment xs;
    bool project_up, has_wall, interrupted;
    segment_progress pr;
    int64_t deadline, startup_limit, stop_at, kill_at, first_wall_exit;
    int64_t tail_until;
    int64_t offset; /* the remote workloads' clock behind ours, as last seen */ /* the window closed: wait this long at most for each workload's step after it */
    window_rules wrules;
    window_span win;
} seg_state;

static bool stop_requested(const segment_job *job, int level)
{
    return job->stop_requests && *job->stop_requests >= level;
}

static void warn(seg_state *st, json_t *sentence)
{
    json_array_append_new(st->warnings, sentence);
}

/* The hidden folder, and each workload's place in it. */
static int setup(seg_state *st, cot_err *err)
{
    const segment_job *job = st->job;
    char name[PATH_MAX];
    st->warnings = json_array();
    st->n = plan_segment_workloads(job->sc, job->seg, st->idx);
    if (fs_path_join(st->seg_root, sizeof st->seg_root, job->run_dir, "segments", err)) return -1;
    snprintf(name, sizeof name, ".%s.partial", job->seg->id);
    if (fs_path_join(st->tmp_dir, sizeof st->tmp_dir, st->seg_root, name, err)) return -1;
    fs_remove_tree(st->tmp_dir);
    if (fs_mkdir_p(st->tmp_dir, err) != 0) return -1;
    bool has_events = false;
    for (int i = 0; i < st->n; i++) {
        const workload_spec *w = &job->sc->workloads[st->idx[i]];
        st->has_wall |= w->measure == MEASURE_WALL_TIME;
        has_events |= w->measure == MEASURE_EVENTS;
        st->ninit++;
        if (seg_workload_init(&st->rt[i], w, st->ex->ops->via_agent, st->tmp_dir, err) != 0) return -1;
    }
    const scenario *sc = job->sc;
    st->wrules = (window_rules){.warmup_ns = (int64_t)(sc->warmup_s * 1e9), .duration_ns = (int64_t)(sc->duration_s * 1e9),
                                .has_events = has_events, .has_wall = st->has_wall};
    st->xs = (exec_segment){.sc = sc, .seg = job->seg, .mode = job->mode, .run_dir = job->run_dir, .n = st->n,
                            .stop_after_s = scenario_segment_budget_s(sc, st->has_wall) + sc->grace_s};
    return 0;
}

/* Sampling starts before the workloads, so their start-up (where most
 * memory is taken) is in the record. A GPU that cannot be sampled costs
 * the segment its telemetry, not its run. */
static void start_sampling(seg_state *st)
{
    const segment_job *job = st->job;
    if (!job->gpu || !st->ex->ops->same_host) return;
    char tag[160] = "", csv[PATH_MAX]; /* a container executor's workloads carry the tag as COTENANT_SEGMENT */
    if (st->ex->run_id) workload_segment_tag(st->ex->run_id, job->seg->id, tag, sizeof tag);
    cot_err e;
    if (fs_path_join(csv, sizeof csv, st->tmp_dir, SEGMENT_TELEMETRY_FILE, &e) == 0)
        st->telem = seg_telemetry_start(job->gpu, (int64_t)(job->sc->telemetry_interval_s * 1e9), csv,
                                        tag[0] ? tag : NULL, &e);
    if (!st->telem) warn(st, json_sprintf("no GPU telemetry in this segment: %s", e.msg));
}

/* Servers get a port; their load generators, its address. */
static void assign_ports(seg_state *st)
{
    const scenario *sc = st->job->sc;
    seg_workload *rt = st->rt;
    for (int i = 0; i < st->n; i++) {
        if (scenario_driver_of(sc, st->idx[i]) < 0) continue;
        cot_err e;
        uint32_t addr;
        int own = 0;
        char why[160];
        /* a --listen of the user's is kept, and waited for on loopback */
        if (workload_user_listen(rt[i].w, &addr, &own, why, sizeof why) != 1 || own == 0) own = 0;
        rt[i].addr.listen_port = own > 0 ? own : served_free_port(&e);
        if (rt[i].addr.listen_port < 0) snprintf(rt[i].spawn_error, sizeof rt[i].spawn_error, "no port for the server: %s", e.msg);
        for (int j = 0; j < st->n; j++)
            if (scenario_target_of(sc, st->idx[j]) == st->idx[i])
                rt[j].addr.target_port = rt[i].addr.listen_port, rt[j].addr.target_model = served_model_name(rt[i].w);
    }
    for (int i = 0; i < st->n; i++) st->xs.idx[i] = st->idx[i], st->xs.addr[i] = rt[i].addr;
}

/* The executor writes the segment's project and starts it. A project that
 * does not start fails every workload of the segment, with its reason.
 * Where the GPU is elsewhere, the sampler that went up with the workloads
 * is followed. */
static void project_up(seg_state *st)
{
    const scenario *sc = st->job->sc;
    cot_err e;
    st->project_up = true; /* down also after a failed up: it may have started part of it */
    int up = st->ex->ops->segment_up(st->ex, &st->xs, &e);
    for (int i = 0; up != 0 && i < st->n; i++)
        if (!st->rt[i].spawn_error[0]) snprintf(st->rt[i].spawn_error, sizeof st->rt[i].spawn_error, "%s", e.msg);
    strvec targv = {0};
    if (up == 0 && st->ex->ops->telemetry_argv && sc->device == DEVICE_GPU && sc->telemetry_interval_s > 0 &&
        st->ex->ops->telemetry_argv(st->ex, &st->xs, &targv) == 0 && targv.v) {
        st->node_telem = node_telemetry_start(targv.v, st->tmp_dir, &e);
        if (!st->node_telem) warn(st, json_sprintf("no GPU telemetry in this segment: %s", e.msg));
    }
    strvec_free(&targv);
}

typedef struct {
    seg_workload *r;
    const segment_job *job;
} ready_wait;

/* While waiting for a server: has it exited, or has the user asked to stop? */
static bool server_gone(void *arg)
{
    ready_wait *rw = arg;
    seg_workload_read_events(rw->r);
    return proc_poll(&rw->r->proc) || stop_requested(rw->job, 1);
}

/* A server started here is waited for on 127.0.0.1 until it answers ready;
 * elsewhere, its load generator's agent waits for it. */
static void wait_ready(seg_state *st, int i, int64_t t_start)
{
    seg_workload *r = &st->rt[i];
    const scenario *sc = st->job->sc;
    if (r->addr.listen_port <= 0 || !st->ex->ops->same_host) return;
    ready_wait rw = {.r = r, .job = st->job};
    char why[400];
    int64_t limit = t_start + (int64_t)(sc->startup_timeout_s * 1e9);
    if (served_wait_ready(r->addr.listen_port, limit, server_gone, &rw, why, sizeof why) == 0) return;
    snprintf(r->not_ready, sizeof r->not_ready,
             "the server did not answer ready on 127.0.0.1:%d within the startup timeout of %.0f s: %s",
             r->addr.listen_port, sc->startup_timeout_s, why);
    r->stop_sent = true;
    cot_err e;
    st->ex->ops->stop(st->ex, &st->xs, i, false, &e);
}

/* Back to back, servers first and each waited for: a workload that cannot
 * start is a failure of that workload, and the others still run. */
static void start_workloads(seg_state *st)
{
    const scenario *sc = st->job->sc;
    seg_workload *rt = st->rt;
    int64_t t_start = now_ns();
    for (int i = 0; i < st->n; i++) {
        cot_err e;
        int served_by = -1;
        for (int j = 0; j < i; j++)
            if (scenario_target_of(sc, st->idx[i]) == st->idx[j]) served_by = j;
        if (served_by >= 0 && (!rt[served_by].spawned || rt[served_by].not_ready[0])) {
            snprintf(rt[i].spawn_error, sizeof rt[i].spawn_error, "not started: its server '%s' did not come up",
                     rt[served_by].w->name);
            continue;
        }
        if (rt[i].spawn_error[0]) continue;
        if (seg_workload_open_logs(&rt[i], &e) != 0 ||
            st->ex->ops->start(st->ex, &st->xs, i, rt[i].dir, &rt[i].proc, &rt[i].cg, &e) != 0) {
            snprintf(rt[i].spawn_error, sizeof rt[i].spawn_error, "%s", e.msg);
            continue;
        }
        rt[i].spawned = true;
        st->xs.proc[i] = &rt[i].proc;
        /* a container's processes are not in our process tree */
        seg_telemetry_add(st->telem, rt[i].w->name, st->ex->ops->via_agent ? 0 : rt[i].proc.pid);
        wait_ready(st, i, t_start);
    }
    st->pr.t0_ns = now_ns();
    st->deadline = st->pr.t0_ns + (int64_t)(scenario_segment_budget_s(sc, st->has_wall) * 1e9);
    st->startup_limit = st->pr.t0_ns + (int64_t)(sc->startup_timeout_s * 1e9);
}

/* Waits for anything to read (50 ms at most), reads it, and counts who is
 * still running. Returns the remote nodes' clock offset (ours minus theirs). */
static int64_t read_all(seg_state *st)
{
    struct pollfd pfd[3 * SCENARIO_MAX_WORKLOADS];
    int np = 0;
    for (int i = 0; i < st->n; i++) {
        if (!st->rt[i].spawned) continue;
        const int fds[3] = {st->rt[i].proc.events_fd, st->rt[i].proc.stdout_fd, st->rt[i].proc.stderr_fd};
        for (int k = 0; k < 3; k++)
            if (fds[k] >= 0) pfd[np++] = (struct pollfd){.fd = fds[k], .events = POLLIN};
    }
    if (poll(pfd, (nfds_t)np, 50) < 0 && errno != EINTR) cot_warn("poll: %s", strerror(errno));
    int64_t offset = INT64_MAX;
    for (int i = 0; i < st->n; i++)
        if (st->rt[i].remote && st->rt[i].clock_offset_ns < offset) offset = st->rt[i].clock_offset_ns;
    if (offset == INT64_MAX) offset = 0;
    st->offset = offset;
    st->pr.running = 0;
    for (int i = 0; i < st->n; i++) {
        seg_workload *r = &st->rt[i];
        if (!r->spawned) continue;
        seg_workload_read_events(r);
        seg_workload_read_output(r);
        if (!proc_poll(&r->proc)) st->pr.running++;
        else if (r->w->measure == MEASURE_WALL_TIME && !st->first_wall_exit)
            st->first_wall_exit = (r->agent_ended ? r->agent_ended_ns : r->proc.ended_ns) - offset;
    }
    return offset;
}

/* The window's inputs: who counts, and their first and latest steps. */
static void members(const seg_state *st, window_member *m)
{
    const seg_workload *rt = st->rt;
    for (int i = 0; i < st->n; i++)
        m[i] = (window_member){.counts = rt[i].spawned && rt[i].w->measure == MEASURE_EVENTS && rt[i].proc.running,
                               .first_step_ns = rt[i].first_step_ns, .last_step_ns = rt[i].last_step_ns};
}

/* The window's rules are segment_window.c's; here, their inputs. Windows
 * are kept on the workloads' clock (their events'); now is ours. */
static void update_window(seg_state *st, int64_t now, int64_t offset)
{
    seg_workload *rt = st->rt;
    if (!st->win.start_ns) {
        window_member m[SCENARIO_MAX_WORKLOADS];
        members(st, m);
        st->wrules.t0_ns = st->pr.t0_ns - offset;
        if (segment_window_tick(&st->win, &st->wrules, m, st->n, now - offset, now >= st->startup_limit))
            for (int i = 0; i < st->n; i++)
                if (rt[i].spawned && rt[i].w->measure == MEASURE_EVENTS && !rt[i].first_step_ns)
                    warn(st, json_sprintf("%s sent no step within the startup timeout of %.0f s; the window opened "
                                          "without it", rt[i].w->name, st->job->sc->startup_timeout_s));
        for (int i = 0; st->win.start_ns && i < st->n; i++) rt[i].watch_from_ns = st->win.start_ns;
    }
    segment_window_wall_exit(&st->win, &st->wrules, st->first_wall_exit);
    st->pr.window_start_ns = st->win.start_ns, st->pr.window_end_ns = st->win.end_ns;
}

/* The window closed: each workload gets until its first step after the end
 * (at most the grace period) before it is stopped, so that the step that
 * straddles the end is known to the analysis. */
static bool tail_pending(seg_state *st, int64_t now)
{
    window_member m[SCENARIO_MAX_WORKLOADS];
    members(st, m);
    if (segment_window_tail_seen(&st->win, m, st->n)) return false;
    if (!st->tail_until) st->tail_until = now + (int64_t)(st->job->sc->grace_s * 1e9);
    return now < st->tail_until;
}

/* Why the segment stops now, or NULL. */
static const char *stop_reason(seg_state *st, int64_t now, int64_t offset)
{
    bool all_wall_done = st->has_wall;
    for (int i = 0; i < st->n; i++)
        if (st->rt[i].spawned && st->rt[i].w->measure == MEASURE_WALL_TIME && st->rt[i].proc.running) all_wall_done = false;
    if (stop_requested(st->job, 1)) {
        st->interrupted = true;
        return "interrupted";
    }
    if (segment_window_over(&st->win, &st->wrules, now - offset) && !tail_pending(st, now)) return "window closed";
    if (all_wall_done) return "wall-time workloads finished";
    if (now >= st->deadline) {
        warn(st, json_sprintf("the segment hit its time limit of %.0f s", (double)(st->deadline - st->pr.t0_ns) / 1e9));
        return "time limit";
    }
    return NULL;
}

/* SIGTERM when the segment is over; SIGKILL after the grace period (or a
 * second Ctrl-C). */
static void stop_or_kill(seg_state *st, int64_t now, int64_t offset)
{
    cot_err e;
    if (!st->stop_at) {
        if (!stop_reason(st, now, offset)) return;
        st->stop_at = now - offset;
        st->kill_at = now + (int64_t)(st->job->sc->grace_s * 1e9);
        for (int i = 0; i < st->n; i++)
            if (st->rt[i].spawned && st->rt[i].proc.running) st->rt[i].stop_sent = true, st->rt[i].stop_sent_ns = now;
        if (st->ex->ops->stop(st->ex, &st->xs, -1, false, &e) != 0)
            warn(st, json_sprintf("stopping the workloads: %s", e.msg));
    } else if (now >= st->kill_at || stop_requested(st->job, 2)) {
        if (st->ex->ops->stop(st->ex, &st->xs, -1, true, &e) != 0)
            warn(st, json_sprintf("killing the workloads: %s", e.msg));
        for (int i = 0; i < st->n; i++)
            if (st->rt[i].spawned && st->rt[i].proc.running) {
                st->rt[i].killed = true;
                proc_wait_or_kill(&st->rt[i].proc, st->ex->ops->via_agent ? FOLLOWER_EXIT_WAIT_NS : 0);
            }
    }
}

/* Ticks until no workload runs. */
static void watch(seg_state *st)
{
    for (int i = 0; i < st->n; i++) st->rt[i].read_each_tick = true;
    for (;;) {
        int64_t offset = read_all(st);
        int64_t now = now_ns();
        update_window(st, now, offset);
        if (st->job->on_tick) st->job->on_tick(st->job->tick_arg, &st->pr);
        if (st->pr.running == 0) return;
        stop_or_kill(st, now, offset);
    }
}

/* What the node's sampler said about itself, as warnings. */
static void node_telemetry_warnings(seg_state *st, json_t *info)
{
    if (info && json_integer_value(json_object_get(info, "samples")) == 0)
        warn(st, json_sprintf("no GPU telemetry in this segment: the sampler on the node sent no samples (its follower: "
                              "%s); see telemetry-follow.log and telemetry.log",
                              json_string_value(json_object_get(info, "follower"))));
    const char *chosen_by = json_string_value(json_object_get(info, "gpu_chosen_by"));
    if (chosen_by && strcmp(chosen_by, NODE_TELEMETRY_BY_LABEL) != 0)
        warn(st, json_sprintf("the node has %d GPUs and no GPU process was seen as this segment's: telemetry.csv keeps "
                              "GPU %d, the one with %s, which may not be the workloads'; per-workload GPU figures are "
                              "empty (docs/containers.md says why processes go unlabelled)",
                              (int)json_integer_value(json_object_get(info, "gpus_sampled")),
                              (int)json_integer_value(json_object_get(info, "gpu")), chosen_by));
}

/* The rest of the pipes, the samplers stopped, the project down, and what
 * escaped the workloads' groups killed. */
static void finish(seg_state *st)
{
    for (int i = 0; i < st->n; i++) seg_workload_finish(&st->rt[i]);
    st->telem_info = st->node_telem ? node_telemetry_stop(st->node_telem) : NULL;
    st->node_telem = NULL;
    node_telemetry_warnings(st, st->telem_info);
    if (st->project_up) st->ex->ops->segment_down(st->ex, &st->xs);
    st->project_up = false;
    if (!st->telem_info) st->telem_info = seg_telemetry_stop(st->telem);
    st->telem = NULL;
    if (json_is_string(json_object_get(st->telem_info, "write_error")))
        warn(st, json_sprintf("telemetry.csv is incomplete: %s",
                              json_string_value(json_object_get(st->telem_info, "write_error"))));
    int nstray = 0;
    for (int i = 0; i < st->n; i++) {
        nstray += proc_cgroup_kill(&st->rt[i].cg);
        proc_cgroup_remove(&st->rt[i].cg);
    }
    nstray += proc_kill_strays(st->job->mode->keep_pids, st->job->mode->nkeep);
    if (nstray > 0)
        warn(st, json_sprintf("%d process%s that escaped the workloads' process groups %s killed", nstray,
                              nstray == 1 ? "" : "es", nstray == 1 ? "was" : "were"));
}

/* What a segment that could not run leaves open, and its workloads. */
static void release(seg_state *st)
{
    for (int i = 0; i < st->ninit; i++) seg_workload_free(&st->rt[i]);
    json_decref(st->warnings);
    json_decref(st->telem_info);
    free(st);
}

int segment_run(const segment_job *job, segment_outcome *out, cot_err *err)
{
    memset(out, 0, sizeof *out);
    out->failed = json_array();
    seg_state *st = calloc(1, sizeof *st);
    if (!st) return cot_errf(err, "out of memory");
    st->job = job;
    st->ex = job->ex;
    if (setup(st, err) != 0) {
        release(st);
        return -1;
    }
    start_sampling(st);
    assign_ports(st);
    project_up(st);
    start_workloads(st);
    watch(st);
    finish(st);
    /* The window is what was actually measured: if the segment stopped early, it ends there. */
    segment_record_in rec = {.job = job, .w = st->rt, .n = st->n, .t0_ns = st->pr.t0_ns,
                             .window_start_ns = st->pr.window_start_ns,
                             .window_end_ns = segment_window_measured_end(&st->win, st->stop_at),
                             .interrupted = st->interrupted, .telemetry = st->telem_info, .warnings = st->warnings,
                             .tmp_dir = st->tmp_dir, .seg_root = st->seg_root, .clock_offset_ns = st->offset};
    st->telem_info = st->warnings = NULL; /* the record's now */
    int rc = segment_record(&rec, out, err);
    release(st);
    return rc;
}
