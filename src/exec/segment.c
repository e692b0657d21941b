#include "exec/segment.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events/event.h"
#include "events/line_reader.h"
#include "exec/agent.h"
#include "exec/keeper.h"
#include "exec/capped_log.h"
#include "sys/proc.h"
#include "exec/node_telemetry.h"
#include "exec/segment_telemetry.h"
#include "exec/segment_window.h"
#include "exec/served.h"
#include "workload/workload_cmd.h"
#include "util/fsutil.h"
#include "util/results_files.h"
#include "util/strvec.h"
#include "util/timeutil.h"

#define MAX_INVALID_SAMPLES 5
#define STDERR_TAIL_BYTES 2000
/* An event whose clock is this far from ours was not written on CLOCK_MONOTONIC. */
#define CLOCK_SKEW_LIMIT_NS (60 * NS_PER_S)

typedef struct {
    const workload_spec *w;
    child_proc proc;
    bool spawned;
    char spawn_error[2048];
    char dir[PATH_MAX];
    line_reader lr;
    int events_fd;              /* events.jsonl, appended line by line */
    int64_t first_step_ns;
    int64_t n_events, n_invalid, n_steps;
    bool clock_suspect;
    json_t *invalid_samples;
    bool stop_sent, killed;
    int64_t stop_sent_ns;
    /* events that could not be written to events.jsonl (a full disk) */
    int64_t n_unwritten;
    int unwritten_errno;
    int64_t events_eof_ns;      /* when the event pipe's writers all closed it; 0: not yet */
    /* the longest stretch without progress since watch_from_ns (the window's start) */
    int64_t watch_from_ns, last_step_ns, gap_ns, gap_from_ns, steps_watched;
    workload_addr addr;         /* a server's port, a load generator's server */
    char not_ready[512];        /* a server that never answered ready: why */
    /* Run by an executor: proc follows the workload's tagged log stream. */
    bool remote;
    proc_cgroup cg;             /* a local workload's own cgroup, where the machine gives one */
    capped_log out_log, err_log; /* stdout.log and stderr.log: from pipes, or from the stream */
    bool agent_ended;           /* the agent's exit line arrived */
    int agent_status;           /* how the workload ended, encoded as waitpid would */
    int64_t agent_ended_ns;
    int64_t clock_offset_ns;    /* our clock minus the workload's, at least (INT64_MAX: no event yet) */
} wl_rt;

static void write_line(capped_log *l, const char *line, size_t len)
{
    capped_log_write(l, line, len);
    capped_log_write(l, "\n", 1);
}

/* A line of a remote workload's stream that is not an event: its stdout,
 * the agent's exit line, or anything else (stderr, the agent's own words).
 * Returns true when it was one of those, false for an event line. */
static bool remote_line(wl_rt *r, const char **line, size_t *len)
{
    size_t n;
    if ((n = agent_tag_len(*line, *len, AGENT_TAG_EVENT)) > 0) {
        *line += n;
        *len -= n;
        return false;
    }
    if ((n = agent_tag_len(*line, *len, AGENT_TAG_OUT)) > 0) {
        write_line(&r->out_log, *line + n, *len - n);
    } else if ((n = agent_tag_len(*line, *len, AGENT_TAG_EXIT)) > 0) {
        if (agent_exit_parse(*line + n, *len - n, &r->agent_status) == 0) {
            r->agent_ended = true;
            r->agent_ended_ns = now_ns();
        }
    } else {
        write_line(&r->err_log, *line, *len);
    }
    return true;
}

static void on_line(void *arg, const char *line, size_t len, line_status st)
{
    wl_rt *r = arg;
    char why[256];
    event ev;
    if (r->remote && st == LINE_OK && remote_line(r, &line, &len)) return;
    if (st == LINE_TOO_LONG)
        snprintf(why, sizeof why, "line over the %d-byte limit", EVENT_LINE_MAX);
    else if (st == LINE_TORN)
        snprintf(why, sizeof why, "torn line: the stream ended before its newline");
    if (st != LINE_OK || event_parse(line, len, &ev, why, sizeof why) != 0) {
        r->n_invalid++;
        if (json_array_size(r->invalid_samples) < MAX_INVALID_SAMPLES) {
            char snippet[161];
            snprintf(snippet, sizeof snippet, "%.*s", (int)(len < 160 ? len : 160), line);
            json_array_append_new(r->invalid_samples, json_pack("{s:s, s:s}", "line", snippet, "why", why));
        }
        return;
    }
    r->n_events++;
    int64_t now = now_ns();
    /* A remote workload's clock is its node's: the smallest lag seen is our
     * best bound on the offset between the two. */
    if (r->remote && now - ev.t_ns < r->clock_offset_ns) r->clock_offset_ns = now - ev.t_ns;
    if (!r->remote && (ev.t_ns > now + CLOCK_SKEW_LIMIT_NS || ev.t_ns < now - 24 * 3600 * NS_PER_S)) r->clock_suspect = true;
    /* a server, load generator or notebook makes progress one request at a time */
    if (ev.type == EV_STEP || ev.type == EV_LATENCY) {
        r->n_steps++;
        if (!r->first_step_ns) r->first_step_ns = ev.t_ns;
        if (r->watch_from_ns && ev.t_ns >= r->watch_from_ns) {
            int64_t from = r->last_step_ns > r->watch_from_ns ? r->last_step_ns : r->watch_from_ns;
            if (ev.t_ns - from > r->gap_ns) r->gap_ns = ev.t_ns - from, r->gap_from_ns = from;
            r->steps_watched++;
        }
        if (ev.t_ns > r->last_step_ns) r->last_step_ns = ev.t_ns;
    }
    /* The line as the workload wrote it: analysis re-parses it from here.
     * A line that cannot be written is counted: the segment's figures
     * would be short by it, so the workload fails (workload_result). */
    char *copy = malloc(len + 1);
    int wrc = -1;
    if (copy) {
        memcpy(copy, line, len);
        copy[len] = '\n';
        wrc = write_all(r->events_fd, copy, len + 1); /* one write: a line is never cut between two */
        free(copy);
    }
    if (wrc != 0) {
        if (!r->unwritten_errno) r->unwritten_errno = copy ? errno : ENOMEM;
        r->n_unwritten++;
    }
}

static void drain(wl_rt *r)
{
    if (r->proc.events_fd < 0) return;
    char buf[16384];
    for (;;) {
        ssize_t n = read(r->proc.events_fd, buf, sizeof buf);
        if (n > 0) {
            line_reader_feed(&r->lr, buf, (size_t)n, on_line, r);
            continue;
        }
        if (n == 0) { /* every writer closed it */
            r->events_eof_ns = now_ns();
            line_reader_finish(&r->lr, on_line, r);
            close(r->proc.events_fd);
            r->proc.events_fd = -1;
        }
        return; /* EAGAIN, or an error: try again later */
    }
}

/* A local workload's stdout and stderr, from their pipes into the logs. */
static void drain_output(wl_rt *r)
{
    int *fds[2] = {&r->proc.stdout_fd, &r->proc.stderr_fd};
    capped_log *logs[2] = {&r->out_log, &r->err_log};
    char buf[65536];
    for (int k = 0; k < 2; k++) {
        /* a bounded amount a call, so one chatty workload cannot starve
         * the loop that reads everyone's events */
        for (int rounds = 0; *fds[k] >= 0 && rounds < 64; rounds++) {
            ssize_t n = read(*fds[k], buf, sizeof buf);
            if (n > 0) {
                capped_log_write(logs[k], buf, (size_t)n);
                continue;
            }
            if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                close(*fds[k]);
                *fds[k] = -1;
            }
            break;
        }
    }
}

static int build_argv(const wl_rt *r, strvec *argv, cot_err *err)
{
    return workload_argv(r->w, &r->addr, argv, err);
}

/* A remote workload: a follower of its log stream, whose stdout we read
 * as we would read a local workload's events. */
static int start_remote(const segment_job *job, const exec_segment *s, int i, wl_rt *r, cot_err *err)
{
    strvec argv = {0};
    char out_path[PATH_MAX], err_path[PATH_MAX], follow_path[PATH_MAX], ev_path[PATH_MAX];
    int rc = -1;
    if (path_join(out_path, sizeof out_path, r->dir, "stdout.log", err) || path_join(err_path, sizeof err_path, r->dir, "stderr.log", err) ||
        path_join(follow_path, sizeof follow_path, r->dir, "follow.log", err) ||
        path_join(ev_path, sizeof ev_path, r->dir, "events.jsonl", err))
        return -1;
    const int flags = O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC;
    if (capped_log_open(&r->out_log, out_path, CAPPED_LOG_HEAD_BYTES, CAPPED_LOG_TAIL_BYTES, err) ||
        capped_log_open(&r->err_log, err_path, CAPPED_LOG_HEAD_BYTES, CAPPED_LOG_TAIL_BYTES, err))
        return -1;
    r->events_fd = open(ev_path, flags, 0644);
    if (r->events_fd < 0) return cot_errno(err, "cannot create the logs in %s", r->dir);
    if (job->ex->follow_argv(job->ex, s, i, &argv) != 0 || !argv.v) {
        cot_errf(err, "out of memory");
        goto out;
    }
    spawn_opts o = {.argv = argv.v, .envp = environ, .stderr_path = follow_path, .stdout_pipe = true};
    if ((rc = proc_spawn(&o, &r->proc, err)) == 0) {
        r->proc.events_fd = r->proc.stdout_fd; /* drain() reads the stream from there */
        r->proc.stdout_fd = -1;
    }
out:
    strvec_free(&argv);
    return rc;
}

static int start_workload(const segment_job *job, wl_rt *r, cot_err *err)
{
    strvec argv = {0}, env = {0};
    int rc = -1;
    char out_path[PATH_MAX], err_path[PATH_MAX], ev_path[PATH_MAX];
    if (path_join(out_path, sizeof out_path, r->dir, "stdout.log", err) || path_join(err_path, sizeof err_path, r->dir, "stderr.log", err) ||
        path_join(ev_path, sizeof ev_path, r->dir, "events.jsonl", err))
        goto out;
    r->events_fd = open(ev_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (r->events_fd < 0) {
        cot_errno(err, "cannot create %s", ev_path);
        goto out;
    }
    if (capped_log_open(&r->out_log, out_path, CAPPED_LOG_HEAD_BYTES, CAPPED_LOG_TAIL_BYTES, err) ||
        capped_log_open(&r->err_log, err_path, CAPPED_LOG_HEAD_BYTES, CAPPED_LOG_TAIL_BYTES, err))
        goto out;
    if (build_argv(r, &argv, err) != 0 || strvec_from_environ(&env) != 0) goto out;
    if (job->mode->ops->env_for(job->mode, r->w, &env, err) != 0) goto out;
    if (workload_env(job->sc, r->w, job->mode->ops->name, job->seg->repeat, &r->addr, &env) != 0) {
        cot_errf(err, "out of memory");
        goto out;
    }
    char fd_text[8];
    snprintf(fd_text, sizeof fd_text, "%d", PROC_EVENTS_FD);
    strvec_setenv(&env, "COTENANT_EVENTS_FD", fd_text);
    char group[SCENARIO_NAME_MAX + 16];
    snprintf(group, sizeof group, "%d-%s", job->seg->index, r->w->name);
    keeper_workload_group(group, &r->cg); /* none: the subreaper and the run's mark still find what escapes */
    /* output through pipes, so that cotenant keeps each log bounded */
    spawn_opts o = {.argv = argv.v, .envp = env.v, .stdout_pipe = true, .stderr_pipe = true, .events_pipe = true,
                    .cgroup_procs = r->cg.dir[0] ? r->cg.procs : NULL};
    rc = proc_spawn(&o, &r->proc, err);
out:
    strvec_free(&argv);
    strvec_free(&env);
    return rc;
}

static bool stop_requested(const segment_job *job, int level)
{
    return job->stop_requests && *job->stop_requests >= level;
}

static json_t *argv_json(const wl_rt *r)
{
    strvec argv = {0};
    json_t *a = json_array();
    if (build_argv(r, &argv, NULL) == 0)
        for (int i = 0; i < argv.n; i++) json_array_append_new(a, json_string(argv.v[i]));
    strvec_free(&argv);
    return a;
}

/* A stretch without progress this much longer than the window's mean gap
 * between events, and at least STALL_MIN_NS, is a stall worth a flag: a
 * notebook's think times stay well under it, a hung step does not. */
#define STALL_FACTOR 10
#define STALL_MIN_NS (1 * NS_PER_S)

/* What makes an ok workload's figures doubtful: each a sentence, added to
 * flags. Returns a reason to fail it instead, or NULL. */
static const char *flag_doubts(const segment_job *job, const wl_rt *r, int64_t ws, int64_t we, json_t *flags,
                               char *why, size_t cap)
{
    if (r->killed)
        json_array_append_new(flags, json_sprintf("it ignored SIGTERM and was killed with SIGKILL after the grace period of "
                                                  "%g s: it may not have flushed or reported its last work",
                                                  job->sc->grace_s));
    if (r->w->measure != MEASURE_EVENTS || !ws || we <= ws) return NULL;
    int64_t stopped = r->stop_sent ? r->stop_sent_ns : r->proc.ended_ns;
    if (r->events_eof_ns && r->events_eof_ns + 100 * NS_PER_MS < stopped) {
        double at = (double)(r->events_eof_ns - ws) / 1e9;
        if (r->events_eof_ns < we) {
            snprintf(why, cap, "closed its event descriptor %.2f s into the measured window while still running: its "
                               "progress after that is unknown, so its throughput would come out short", at);
            return why;
        }
        json_array_append_new(flags, json_sprintf("closed its event descriptor while still running (%.2f s after the "
                                                  "window opened, after it closed)", at));
    }
    /* the stretch from the last event to the window's end counts too */
    int64_t gap = r->gap_ns, from = r->gap_from_ns;
    int64_t last = r->last_step_ns > ws ? r->last_step_ns : ws;
    if (last < we && we - last > gap) gap = we - last, from = last;
    int64_t mean = (we - ws) / (r->steps_watched + 1);
    if (gap >= STALL_MIN_NS && gap > STALL_FACTOR * mean)
        json_array_append_new(flags, json_sprintf("reported no progress for %.2f s of the %.2f s window (from %.2f s into "
                                                  "it), %.0fx its mean gap between events: it may have stalled or hung, "
                                                  "and its throughput includes the stall",
                                                  (double)gap / 1e9, (double)(we - ws) / 1e9, (double)(from - ws) / 1e9,
                                                  (double)gap / (double)(mean > 0 ? mean : 1)));
    return NULL;
}

/* How a workload's run ended, for segment.json; adds to out->failed. */
static json_t *workload_result(const segment_job *job, wl_rt *r, int64_t ws, int64_t we, bool interrupted,
                               segment_outcome *out)
{
    const int64_t window_end = we;
    json_t *o = json_object(), *flags = json_array();
    const char *status = "ok";
    char reason[4096] = "", how[160] = "";
    if (r->remote && r->spawned && r->agent_ended) {
        /* how the workload in the container ended, not how its follower did */
        r->proc.wait_status = r->agent_status;
        r->proc.ended_ns = r->agent_ended_ns;
    }
    if (!r->spawned) {
        status = "failed";
        snprintf(reason, sizeof reason, "%s", r->spawn_error);
    } else if (r->remote && !r->agent_ended && !r->not_ready[0]) {
        status = "failed";
        proc_describe_status(r->proc.wait_status, how, sizeof how);
        snprintf(reason, sizeof reason, "its log stream ended (follower: %s) without the agent's exit line: the container "
                                        "never started, or was removed; see follow.log and stderr.log", how);
    } else if (r->not_ready[0]) {
        status = "failed";
        snprintf(reason, sizeof reason, "%s", r->not_ready);
        proc_describe_status(r->proc.wait_status, how, sizeof how);
    } else {
        proc_describe_status(r->proc.wait_status, how, sizeof how);
        bool clean = WIFEXITED(r->proc.wait_status) && WEXITSTATUS(r->proc.wait_status) == 0;
        bool ended_own = !r->stop_sent;
        if (ended_own && !clean) {
            status = "failed";
            snprintf(reason, sizeof reason, "%s while running", how);
        } else if (ended_own && r->w->measure == MEASURE_EVENTS && (!window_end || r->proc.ended_ns < window_end) &&
                   !interrupted) {
            status = "failed";
            snprintf(reason, sizeof reason,
                     "ended (%s) before the measured window closed; a workload measured by events must run until "
                     "cotenant stops it (or use measure: wall_time for one that runs to completion)", how);
        } else if (r->stop_sent && r->w->measure == MEASURE_WALL_TIME && !interrupted) {
            status = "failed";
            snprintf(reason, sizeof reason, "did not finish within the segment's time limit of %.0f s (scenario 'timeout')",
                     scenario_segment_budget_s(job->sc, true));
        } else if (interrupted) {
            status = "interrupted";
        }
        if (!strcmp(status, "ok") && r->w->measure == MEASURE_EVENTS && r->n_steps == 0) {
            status = "failed";
            snprintf(reason, sizeof reason, "sent no step or latency events; does it write to the descriptor in COTENANT_EVENTS_FD? "
                                            "(docs/protocol.md; or use measure: wall_time)");
        }
        const char *fail_why;
        if (!strcmp(status, "ok") && r->n_unwritten > 0) {
            status = "failed";
            snprintf(reason, sizeof reason, "%lld of its %lld events could not be written to events.jsonl (%s): its "
                                            "figures would come out short; is the results folder's disk full?",
                     (long long)r->n_unwritten, (long long)r->n_events, strerror(r->unwritten_errno));
        } else if (!strcmp(status, "ok") &&
                   (fail_why = flag_doubts(job, r, ws, we, flags, reason, sizeof reason)) != NULL) {
            status = "failed";
        } else if (!strcmp(status, "ok") && json_array_size(flags) > 0) {
            status = "flagged"; /* its figures count, with the flags beside them */
        }
        json_object_set_new(o, "pid", json_integer(r->proc.pid));
        json_object_set_new(o, "exit", json_string(how));
        if (WIFEXITED(r->proc.wait_status))
            json_object_set_new(o, "exit_code", json_integer(WEXITSTATUS(r->proc.wait_status)));
        if (WIFSIGNALED(r->proc.wait_status))
            json_object_set_new(o, "signal", json_integer(WTERMSIG(r->proc.wait_status)));
        json_object_set_new(o, "started_ns", json_integer(r->proc.started_ns));
        json_object_set_new(o, "ended_ns", json_integer(r->proc.ended_ns));
        json_object_set_new(o, "wall_s", json_real((double)(r->proc.ended_ns - r->proc.started_ns) / 1e9));
        json_object_set_new(o, "stopped_by_cotenant", json_boolean(r->stop_sent));
        json_object_set_new(o, "killed_after_grace", json_boolean(r->killed));
    }
    if (!strcmp(status, "failed")) {
        char path[PATH_MAX], *tail;
        snprintf(path, sizeof path, "%s/stderr.log", r->dir);
        tail = file_tail(path, STDERR_TAIL_BYTES);
        json_object_set_new(o, "stderr_tail", json_string(tail ? tail : ""));
        free(tail);
        out->failures++;
        json_array_append_new(out->failed, json_pack("{s:s, s:s, s:s}", "segment", job->seg->id, "workload",
                                                     r->w->name, "reason", reason));
    }
    json_object_set_new(o, "status", json_string(status));
    if (reason[0]) json_object_set_new(o, "reason", json_string(reason));
    if (json_array_size(flags)) json_object_set_new(o, "flags", flags);
    else json_decref(flags);
    const capped_log *logs[2] = {&r->out_log, &r->err_log};
    const char *log_names[2] = {"stdout", "stderr"};
    for (int k = 0; k < 2; k++) {
        if (capped_log_dropped(logs[k]) == 0 && logs[k]->unwritten == 0) continue;
        json_t *lo = json_object_get(o, "logs");
        if (!lo) json_object_set_new(o, "logs", lo = json_object());
        json_object_set_new(lo, log_names[k], json_pack("{s:I, s:I, s:I}", "bytes", (json_int_t)logs[k]->total,
                                                        "dropped", (json_int_t)capped_log_dropped(logs[k]),
                                                        "unwritten", (json_int_t)logs[k]->unwritten));
    }
    json_object_set_new(o, "measure", json_string(r->w->measure == MEASURE_WALL_TIME ? "wall_time" : "events"));
    json_object_set_new(o, "argv", argv_json(r));
    json_object_set_new(o, "events", json_integer(r->n_events));
    json_object_set_new(o, "steps", json_integer(r->n_steps));
    json_object_set_new(o, "invalid_events", json_integer(r->n_invalid));
    json_object_set_new(o, "invalid_samples", json_incref(r->invalid_samples));
    json_object_set_new(o, "clock_suspect", json_boolean(r->clock_suspect));
    if (r->first_step_ns) json_object_set_new(o, "first_step_ns", json_integer(r->first_step_ns));
    return o;
}

typedef struct {
    wl_rt *r;
    const segment_job *job;
} ready_wait;

/* While waiting for a server: has it exited, or has the user asked to stop? */
static bool server_gone(void *arg)
{
    ready_wait *rw = arg;
    drain(rw->r);
    return proc_poll(&rw->r->proc) || stop_requested(rw->job, 1);
}

int segment_run(const segment_job *job, segment_outcome *out, cot_err *err)
{
    const scenario *sc = job->sc;
    memset(out, 0, sizeof *out);
    out->failed = json_array();
    int idx[SCENARIO_MAX_WORKLOADS];
    int n = plan_segment_workloads(sc, job->seg, idx);
    wl_rt rt[SCENARIO_MAX_WORKLOADS];
    memset(rt, 0, sizeof rt);

    char seg_root[PATH_MAX], tmp_dir[PATH_MAX], name[PATH_MAX];
    if (path_join(seg_root, sizeof seg_root, job->run_dir, "segments", err)) return -1;
    snprintf(name, sizeof name, ".%s.partial", job->seg->id);
    if (path_join(tmp_dir, sizeof tmp_dir, seg_root, name, err)) return -1;
    remove_tree(tmp_dir);
    if (mkdir_p(tmp_dir, err) != 0) return -1;

    bool has_wall = false, has_events = false;
    for (int i = 0; i < n; i++) {
        wl_rt *r = &rt[i];
        r->w = &sc->workloads[idx[i]];
        r->events_fd = r->out_log.fd = r->err_log.fd = -1;
        r->proc.events_fd = -1;
        r->remote = job->ex != NULL;
        r->addr.resolve = !r->remote;
        r->clock_offset_ns = INT64_MAX;
        r->invalid_samples = json_array();
        line_reader_init(&r->lr, EVENT_LINE_MAX);
        has_wall |= r->w->measure == MEASURE_WALL_TIME;
        has_events |= r->w->measure == MEASURE_EVENTS;
        if (path_join(r->dir, sizeof r->dir, tmp_dir, r->w->name, err) || mkdir_p(r->dir, err)) return -1;
    }
    json_t *warnings = json_array();
    /* Sampling starts before the workloads, so their start-up (where most
     * memory is taken) is in the record. A GPU that cannot be sampled costs
     * the segment its telemetry, not its run. */
    seg_telemetry *telem = NULL;
    node_telemetry *node_telem = NULL;
    char tag[160] = ""; /* a container executor's workloads carry it as COTENANT_SEGMENT */
    if (job->ex) workload_segment_tag(job->ex->run_id, job->seg->id, tag, sizeof tag);
    if (job->gpu && (!job->ex || job->ex->same_host)) {
        char csv[PATH_MAX];
        cot_err e;
        if (path_join(csv, sizeof csv, tmp_dir, SEGMENT_TELEMETRY_FILE, &e) == 0)
            telem = seg_telemetry_start(job->gpu, (int64_t)(sc->telemetry_interval_s * 1e9), csv, job->ex ? tag : NULL, &e);
        if (!telem) json_array_append_new(warnings, json_sprintf("no GPU telemetry in this segment: %s", e.msg));
    }
    /* Servers get a port; their load generators, its address. */
    for (int i = 0; i < n; i++) {
        if (scenario_driver_of(sc, idx[i]) < 0) continue;
        cot_err e;
        uint32_t addr;
        int own = 0;
        char why[160];
        /* a --listen of the user's is kept, and waited for on loopback */
        if (workload_user_listen(rt[i].w, &addr, &own, why, sizeof why) != 1 || own == 0) own = 0;
        rt[i].addr.listen_port = own > 0 ? own : served_free_port(&e);
        if (rt[i].addr.listen_port < 0) snprintf(rt[i].spawn_error, sizeof rt[i].spawn_error, "no port for the server: %s", e.msg);
        for (int j = 0; j < n; j++)
            if (scenario_target_of(sc, idx[j]) == idx[i])
                rt[j].addr.target_port = rt[i].addr.listen_port, rt[j].addr.target_model = served_model_name(rt[i].w);
    }
    /* An executor writes the segment's project and starts it; then each
     * workload's stream is followed. A project that does not start fails
     * every workload of the segment, with the executor's reason. */
    exec_segment xs = {.sc = sc, .seg = job->seg, .mode = job->mode, .run_dir = job->run_dir, .n = n,
                       .stop_after_s = scenario_segment_budget_s(sc, has_wall) + sc->grace_s};
    bool project_up = false;
    if (job->ex) {
        char ddir[PATH_MAX], dname[PATH_MAX];
        cot_err e;
        for (int i = 0; i < n; i++) xs.idx[i] = idx[i], xs.addr[i] = rt[i].addr;
        snprintf(dname, sizeof dname, "deploy/%s", job->seg->id);
        int up = path_join(ddir, sizeof ddir, job->run_dir, dname, &e) || mkdir_p(ddir, &e);
        if (up == 0) {
            project_up = true; /* down also after a failed up: it may have started part of it */
            up = job->ex->segment_up(job->ex, &xs, ddir, &e);
        }
        for (int i = 0; up != 0 && i < n; i++)
            if (!rt[i].spawn_error[0]) snprintf(rt[i].spawn_error, sizeof rt[i].spawn_error, "%s", e.msg);
        /* The GPU is elsewhere: follow the sampler that went up with the workloads. */
        strvec targv = {0};
        if (up == 0 && job->ex->telemetry_argv && sc->device == DEVICE_GPU && sc->telemetry_interval_s > 0 &&
            job->ex->telemetry_argv(job->ex, &xs, &targv) == 0 && targv.v) {
            node_telem = node_telemetry_start(targv.v, tmp_dir, &e);
            if (!node_telem) json_array_append_new(warnings, json_sprintf("no GPU telemetry in this segment: %s", e.msg));
        }
        strvec_free(&targv);
    }
    /* Start them back to back, servers first and each waited for: a
     * workload that cannot start is a failure of that workload, and the
     * others still run. */
    int64_t t_start = now_ns();
    for (int i = 0; i < n; i++) {
        cot_err e;
        int served_by = -1;
        for (int j = 0; j < i; j++)
            if (scenario_target_of(sc, idx[i]) == idx[j]) served_by = j;
        if (served_by >= 0 && (!rt[served_by].spawned || rt[served_by].not_ready[0])) {
            snprintf(rt[i].spawn_error, sizeof rt[i].spawn_error, "not started: its server '%s' did not come up",
                     rt[served_by].w->name);
            continue;
        }
        if (rt[i].spawn_error[0]) continue;
        if ((job->ex ? start_remote(job, &xs, i, &rt[i], &e) : start_workload(job, &rt[i], &e)) != 0) {
            snprintf(rt[i].spawn_error, sizeof rt[i].spawn_error, "%s", e.msg);
            continue;
        }
        rt[i].spawned = true;
        /* a container's processes are not in our process tree */
        seg_telemetry_add(telem, rt[i].w->name, job->ex ? 0 : rt[i].proc.pid);
        /* elsewhere, the load generator's agent waits for its server */
        if (rt[i].addr.listen_port > 0 && (!job->ex || job->ex->same_host)) {
            ready_wait rw = {.r = &rt[i], .job = job};
            char why[400];
            int64_t limit = t_start + (int64_t)(sc->startup_timeout_s * 1e9);
            if (served_wait_ready(rt[i].addr.listen_port, limit, server_gone, &rw, why, sizeof why) != 0) {
                snprintf(rt[i].not_ready, sizeof rt[i].not_ready,
                         "the server did not answer ready on 127.0.0.1:%d within the startup timeout of %.0f s: %s",
                         rt[i].addr.listen_port, sc->startup_timeout_s, why);
                rt[i].stop_sent = true;
                if (!job->ex) proc_signal_group(&rt[i].proc, SIGTERM);
            }
        }
    }
    segment_progress pr = {.t0_ns = now_ns()};
    const int64_t deadline = pr.t0_ns + (int64_t)(scenario_segment_budget_s(sc, has_wall) * 1e9);
    const int64_t startup_limit = pr.t0_ns + (int64_t)(sc->startup_timeout_s * 1e9);
    int64_t stop_at = 0, kill_at = 0, first_wall_exit = 0;
    window_rules wrules = {.warmup_ns = (int64_t)(sc->warmup_s * 1e9), .duration_ns = (int64_t)(sc->duration_s * 1e9),
                           .has_events = has_events, .has_wall = has_wall};
    window_span win = {0};
    bool interrupted = false;

    for (;;) {
        struct pollfd pfd[3 * SCENARIO_MAX_WORKLOADS];
        int np = 0;
        for (int i = 0; i < n; i++) {
            if (!rt[i].spawned) continue;
            const int fds[3] = {rt[i].proc.events_fd, rt[i].proc.stdout_fd, rt[i].proc.stderr_fd};
            for (int k = 0; k < 3; k++)
                if (fds[k] >= 0) pfd[np++] = (struct pollfd){.fd = fds[k], .events = POLLIN};
        }
        if (poll(pfd, (nfds_t)np, 50) < 0 && errno != EINTR) cot_warn("poll: %s", strerror(errno));
        int64_t now = now_ns();
        /* Windows are kept on the workloads' clock (their events'); `now`
         * is ours. A remote node's clock is ours minus offset. */
        int64_t offset = INT64_MAX;
        for (int i = 0; i < n; i++)
            if (rt[i].remote && rt[i].clock_offset_ns < offset) offset = rt[i].clock_offset_ns;
        if (offset == INT64_MAX) offset = 0;
        pr.running = 0;
        for (int i = 0; i < n; i++) {
            if (!rt[i].spawned) continue;
            drain(&rt[i]);
            drain_output(&rt[i]);
            if (!proc_poll(&rt[i].proc)) {
                pr.running++;
            } else if (rt[i].w->measure == MEASURE_WALL_TIME && !first_wall_exit) {
                first_wall_exit = (rt[i].agent_ended ? rt[i].agent_ended_ns : rt[i].proc.ended_ns) - offset;
            }
        }
        /* the window's rules are segment_window.c's; here, their inputs */
        if (!win.start_ns) {
            window_member m[SCENARIO_MAX_WORKLOADS];
            for (int i = 0; i < n; i++)
                m[i] = (window_member){.counts = rt[i].spawned && rt[i].w->measure == MEASURE_EVENTS && rt[i].proc.running,
                                       .first_step_ns = rt[i].first_step_ns};
            wrules.t0_ns = pr.t0_ns - offset;
            if (window_tick(&win, &wrules, m, n, now - offset, now >= startup_limit))
                for (int i = 0; i < n; i++)
                    if (rt[i].spawned && rt[i].w->measure == MEASURE_EVENTS && !rt[i].first_step_ns)
                        json_array_append_new(warnings, json_sprintf("%s sent no step within the startup timeout of %.0f s; "
                                                                     "the window opened without it",
                                                                     rt[i].w->name, sc->startup_timeout_s));
            for (int i = 0; win.start_ns && i < n; i++) rt[i].watch_from_ns = win.start_ns;
        }
        window_wall_exit(&win, &wrules, first_wall_exit);
        pr.window_start_ns = win.start_ns, pr.window_end_ns = win.end_ns;
        if (job->on_tick) job->on_tick(job->tick_arg, &pr);

        bool all_wall_done = has_wall;
        for (int i = 0; i < n; i++)
            if (rt[i].spawned && rt[i].w->measure == MEASURE_WALL_TIME && rt[i].proc.running) all_wall_done = false;
        if (pr.running == 0) break;
        if (!stop_at) {
            const char *why = NULL;
            if (stop_requested(job, 1)) {
                interrupted = true;
                why = "interrupted";
            } else if (window_over(&win, &wrules, now - offset)) {
                why = "window closed";
            } else if (all_wall_done) {
                why = "wall-time workloads finished";
            } else if (now >= deadline) {
                why = "time limit";
                json_array_append_new(warnings, json_sprintf("the segment hit its time limit of %.0f s",
                                                             (double)(deadline - pr.t0_ns) / 1e9));
            }
            if (why) {
                stop_at = now - offset;
                kill_at = now + (int64_t)(sc->grace_s * 1e9);
                for (int i = 0; i < n; i++)
                    if (rt[i].spawned && rt[i].proc.running) {
                        rt[i].stop_sent = true;
                        rt[i].stop_sent_ns = now;
                        if (!job->ex) proc_signal_group(&rt[i].proc, SIGTERM);
                    }
                cot_err e;
                if (job->ex && job->ex->stop(job->ex, &xs, false, &e) != 0)
                    json_array_append_new(warnings, json_sprintf("stopping the workloads: %s", e.msg));
            }
        } else if (now >= kill_at || stop_requested(job, 2)) {
            cot_err e;
            if (job->ex && job->ex->stop(job->ex, &xs, true, &e) != 0)
                json_array_append_new(warnings, json_sprintf("killing the workloads: %s", e.msg));
            for (int i = 0; i < n; i++)
                if (rt[i].spawned && rt[i].proc.running) {
                    rt[i].killed = true;
                    /* a follower gets a moment to pass on the exit line */
                    proc_wait_or_kill(&rt[i].proc, job->ex ? 5 * NS_PER_S : 0);
                }
        }
    }
    /* Whatever is still in the pipes arrived before the exit: keep it. */
    for (int i = 0; i < n; i++) {
        if (!rt[i].spawned) continue;
        proc_signal_group(&rt[i].proc, SIGKILL); /* leftovers of the group */
        for (int k = 0; k < 100 && rt[i].proc.events_fd >= 0; k++) {
            drain(&rt[i]);
            if (rt[i].proc.events_fd >= 0) sleep_ns(2 * NS_PER_MS);
        }
        if (rt[i].proc.events_fd >= 0) {
            line_reader_finish(&rt[i].lr, on_line, &rt[i]);
            close(rt[i].proc.events_fd);
        }
        /* output until its end, or a moment if a leftover still holds it */
        for (int k = 0; k < 100 && (rt[i].proc.stdout_fd >= 0 || rt[i].proc.stderr_fd >= 0); k++) {
            drain_output(&rt[i]);
            if (rt[i].proc.stdout_fd >= 0 || rt[i].proc.stderr_fd >= 0) sleep_ns(2 * NS_PER_MS);
        }
        if (rt[i].proc.stdout_fd >= 0) close(rt[i].proc.stdout_fd);
        if (rt[i].proc.stderr_fd >= 0) close(rt[i].proc.stderr_fd);
        rt[i].proc.stdout_fd = rt[i].proc.stderr_fd = -1;
    }
    for (int i = 0; i < n; i++) { /* before the results: a failure quotes stderr.log's tail */
        capped_log_close(&rt[i].out_log);
        capped_log_close(&rt[i].err_log);
    }
    json_t *telem_info = node_telem ? node_telemetry_stop(node_telem) : NULL;
    if (telem_info && json_integer_value(json_object_get(telem_info, "samples")) == 0)
        json_array_append_new(warnings, json_sprintf("no GPU telemetry in this segment: the sampler on the node sent no "
                                                     "samples (its follower: %s); see telemetry-follow.log and "
                                                     "telemetry.log",
                                                     json_string_value(json_object_get(telem_info, "follower"))));
    const char *chosen_by = json_string_value(json_object_get(telem_info, "gpu_chosen_by"));
    if (chosen_by && strcmp(chosen_by, NODE_TELEMETRY_BY_LABEL) != 0)
        json_array_append_new(warnings,
                              json_sprintf("the node has %d GPUs and no GPU process was seen as this segment's: "
                                           "telemetry.csv keeps GPU %d, the one with %s, which may not be the "
                                           "workloads'; per-workload GPU figures are empty (docs/containers.md says "
                                           "why processes go unlabelled)",
                                           (int)json_integer_value(json_object_get(telem_info, "gpus_sampled")),
                                           (int)json_integer_value(json_object_get(telem_info, "gpu")), chosen_by));
    if (project_up) job->ex->segment_down(job->ex, &xs);
    if (!telem_info) telem_info = seg_telemetry_stop(telem);
    if (json_is_string(json_object_get(telem_info, "write_error")))
        json_array_append_new(warnings, json_sprintf("telemetry.csv is incomplete: %s",
                                                     json_string_value(json_object_get(telem_info, "write_error"))));
    /* what a workload left running in its cgroup, however it got away */
    int nstray = 0;
    for (int i = 0; i < n; i++) {
        nstray += cgroup_kill(&rt[i].cg);
        cgroup_remove(&rt[i].cg);
    }
    nstray += proc_kill_strays(job->mode->keep_pids, job->mode->nkeep);
    if (nstray > 0)
        json_array_append_new(warnings, json_sprintf("%d process%s that escaped the workloads' process groups %s killed",
                                                     nstray, nstray == 1 ? "" : "es", nstray == 1 ? "was" : "were"));

    json_t *seg = json_object();
    json_object_set_new(seg, "id", json_string(job->seg->id));
    json_object_set_new(seg, "index", json_integer(job->seg->index));
    json_object_set_new(seg, "repeat", json_integer(job->seg->repeat));
    json_object_set_new(seg, "mode", json_string(sc->modes[job->seg->mode]));
    json_object_set_new(seg, "kind", json_string(segment_kind_name(job->seg->kind)));
    json_t *names = json_array(), *results = json_object();
    /* The window is what was actually measured: if the segment stopped early, it ends there. */
    int64_t wend = window_measured_end(&win, stop_at);
    for (int i = 0; i < n; i++) {
        json_array_append_new(names, json_string(rt[i].w->name));
        json_object_set_new(results, rt[i].w->name, workload_result(job, &rt[i], pr.window_start_ns, wend, interrupted, out));
        if (rt[i].events_fd >= 0) close(rt[i].events_fd);
        capped_log_close(&rt[i].out_log); /* an early return's */
        capped_log_close(&rt[i].err_log);
        line_reader_free(&rt[i].lr);
        json_decref(rt[i].invalid_samples);
    }
    json_object_set_new(seg, "workloads", names);
    json_object_set_new(seg, "results", results);
    json_object_set_new(seg, "t0_ns", json_integer(pr.t0_ns));
    json_object_set_new(seg, "ended_ns", json_integer(now_ns()));
    if (pr.window_start_ns && wend > pr.window_start_ns)
        json_object_set_new(seg, "window", json_pack("{s:I, s:I, s:f}", "start_ns", (json_int_t)pr.window_start_ns, "end_ns",
                                                     (json_int_t)wend, "seconds", (double)(wend - pr.window_start_ns) / 1e9));
    else
        json_object_set_new(seg, "window", json_null());
    json_object_set_new(seg, "mode_info", json_deep_copy(job->mode->info));
    json_object_set_new(seg, "telemetry", telem_info);
    json_object_set_new(seg, "warnings", warnings);
    json_object_set_new(seg, "status", json_string(interrupted ? "interrupted" : "complete"));
    json_object_set_new(seg, "failures", json_integer(out->failures));

    char seg_json[PATH_MAX];
    int rc = 0;
    if (path_join(seg_json, sizeof seg_json, tmp_dir, RESULTS_SEGMENT_JSON, err) || write_json_atomic(seg_json, seg, err)) rc = -1;
    json_decref(seg);
    snprintf(name, sizeof name, "%s%s", job->seg->id, interrupted ? ".interrupted" : "");
    if (rc == 0 && path_join(out->dir, sizeof out->dir, seg_root, name, err) == 0) {
        remove_tree(out->dir);
        if (rename(tmp_dir, out->dir) != 0) rc = cot_errno(err, "cannot rename %s to %s", tmp_dir, out->dir);
    }
    out->interrupted = interrupted;
    return rc;
}
