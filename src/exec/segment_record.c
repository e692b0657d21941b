#include "exec/segment_record.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "events/event.h"
#include "util/fs.h"
#include "util/results_files.h"
#include "util/strvec.h"
#include "util/timeutil.h"

#define STDERR_TAIL_BYTES 2000

static json_t *argv_json(const seg_workload *r)
{
    strvec argv = {0};
    json_t *a = json_array();
    if (workload_argv(r->w, &r->addr, &argv, NULL) == 0)
        for (int i = 0; i < argv.n; i++) json_array_append_new(a, json_string(argv.v[i]));
    strvec_free(&argv);
    return a;
}

/* A stretch without progress this much longer than the window's mean gap
 * between events, and at least STALL_MIN_NS, is a stall worth a flag: a
 * notebook's think times stay well under it, a hung step does not. */
#define STALL_FACTOR 10
#define STALL_MIN_NS (1 * NS_PER_S)

/* A workload's flags: a sentence each for people, and beside it a kind code
 * (flag_kinds in segment.json, docs/results.md) that the analysis reads, so
 * no rule depends on a sentence's wording. */
typedef struct {
    json_t *text, *kinds;
} flag_list;

static void flag(flag_list *f, const char *kind, json_t *sentence)
{
    json_array_append_new(f->text, sentence);
    json_array_append_new(f->kinds, json_string(kind));
}

/* What makes an ok workload's figures doubtful: each a sentence, added to
 * flags. Returns a reason to fail it instead, or NULL. */
static const char *flag_doubts(const segment_job *job, const seg_workload *r, int64_t ws, int64_t we, flag_list *flags,
                               char *why, size_t cap)
{
    if (r->killed)
        flag(flags, "killed", json_sprintf("it ignored SIGTERM and was killed with SIGKILL after the grace period of "
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
        flag(flags, "events_closed", json_sprintf("closed its event descriptor while still running (%.2f s after the "
                                                  "window opened, after it closed)", at));
    }
    /* the stretch from the last event to the window's end counts too */
    int64_t gap = r->gap_ns, from = r->gap_from_ns;
    int64_t last = r->last_step_ns > ws ? r->last_step_ns : ws;
    if (last < we && we - last > gap) gap = we - last, from = last;
    int64_t mean = (we - ws) / (r->steps_watched + 1);
    if (gap >= STALL_MIN_NS && gap > STALL_FACTOR * mean)
        flag(flags, "stall", json_sprintf("reported no progress for %.2f s of the %.2f s window (from %.2f s into "
                                                  "it), %.0fx its mean gap between events: it may have stalled or hung, "
                                                  "and its throughput includes the stall",
                                                  (double)gap / 1e9, (double)(we - ws) / 1e9, (double)(from - ws) / 1e9,
                                                  (double)gap / (double)(mean > 0 ? mean : 1)));
    return NULL;
}

/* Invalid lines that arrived in the measured window. */
static int64_t invalid_in_window(const segment_record_in *in, const seg_workload *r)
{
    if (!in->window_start_ns || in->window_end_ns <= in->window_start_ns) return 0;
    return seg_workload_invalid_between(r, in->window_start_ns + in->clock_offset_ns, in->window_end_ns + in->clock_offset_ns);
}

/* A clock that is not cotenant's, and event lines lost in the window: a
 * flag each where the figures can still be trusted; a reason to fail the
 * workload (returned) where they cannot. */
static const char *clock_and_lines(const segment_record_in *in, const seg_workload *r, flag_list *flags, char *why,
                                   size_t cap)
{
    if (r->w->measure != MEASURE_EVENTS) return NULL;
    int64_t drift = seg_workload_clock_drift(r), corr = seg_workload_clock_correction(r);
    if (llabs(drift) > SEG_CLOCK_SKEW_BOUND_NS) {
        snprintf(why, cap, "its event times drift against cotenant's CLOCK_MONOTONIC (their offset moved by %.0f ms "
                           "between the warm-up and the window), so they cannot be corrected: stamp events with "
                           "CLOCK_MONOTONIC (Python: time.monotonic_ns()); docs/protocol.md",
                 (double)drift / 1e6);
        return why;
    }
    if (corr)
        flag(flags, "clock_corrected", json_sprintf("its event times are %.3f s %s cotenant's CLOCK_MONOTONIC (are they "
                                                  "stamped with another clock?); they were corrected by that offset, "
                                                  "measured to within a few ms (docs/protocol.md)",
                                                  fabs((double)corr / 1e9), corr > 0 ? "behind" : "ahead of"));
    int64_t lost = invalid_in_window(in, r);
    if (lost > 0)
        flag(flags, "lost_lines", json_sprintf("%lld event line%s that arrived in the measured window could not be "
                                                  "read (over the %d-byte limit, torn, or not an event; see "
                                                  "invalid_samples): its figures may be short by %s",
                                                  (long long)lost, lost == 1 ? "" : "s", EVENT_LINE_MAX,
                                                  lost == 1 ? "it" : "them"));
    return NULL;
}

/* Whether a workload's figures count: "ok", "flagged" (they count, with
 * the flags beside them), "interrupted" or "failed", with the reason in
 * reason and how its process ended in how. */
static const char *verdict(const segment_record_in *in, seg_workload *r, flag_list *flags, char *reason, size_t cap,
                           char *how, size_t how_cap)
{
    const segment_job *job = in->job;
    const int64_t ws = in->window_start_ns, we = in->window_end_ns;
    const bool interrupted = in->interrupted;
    if (r->remote && r->spawned && r->agent_ended) {
        /* how the workload in the container ended, not how its follower did */
        r->proc.wait_status = r->agent_status;
        r->proc.ended_ns = r->agent_ended_ns;
    }
    if (!r->spawned) {
        snprintf(reason, cap, "%s", r->spawn_error);
        return "failed";
    }
    proc_describe_status(r->proc.wait_status, how, how_cap);
    if (r->remote && !r->agent_ended && !r->not_ready[0]) {
        snprintf(reason, cap, "its log stream ended (follower: %s) without the agent's exit line: the container never "
                              "started, or was removed; see follow.log and stderr.log", how);
        return "failed";
    }
    if (r->not_ready[0]) {
        snprintf(reason, cap, "%s", r->not_ready);
        return "failed";
    }
    bool clean = WIFEXITED(r->proc.wait_status) && WEXITSTATUS(r->proc.wait_status) == 0;
    bool ended_own = !r->stop_sent;
    if (ended_own && !clean) {
        snprintf(reason, cap, "%s while running", how);
        return "failed";
    }
    if (ended_own && r->w->measure == MEASURE_EVENTS && (!we || r->proc.ended_ns < we) && !interrupted) {
        snprintf(reason, cap, "ended (%s) before the measured window closed; a workload measured by events must run "
                              "until cotenant stops it (or use measure: wall_time for one that runs to completion)", how);
        return "failed";
    }
    if (r->stop_sent && r->w->measure == MEASURE_WALL_TIME && !interrupted) {
        snprintf(reason, cap, "did not finish within the segment's time limit of %.0f s (scenario 'timeout')",
                 scenario_segment_budget_s(job->sc, true));
        return "failed";
    }
    if (interrupted) return "interrupted";
    if (r->w->measure == MEASURE_EVENTS && r->n_steps == 0) {
        snprintf(reason, cap, "sent no step or latency events; does it write to the descriptor in COTENANT_EVENTS_FD? "
                              "(docs/protocol.md; or use measure: wall_time)");
        return "failed";
    }
    if (r->n_unwritten > 0) {
        snprintf(reason, cap, "%lld of its %lld events could not be written to events.jsonl (%s): its figures would "
                              "come out short; is the results folder's disk full?",
                 (long long)r->n_unwritten, (long long)r->n_events, strerror(r->unwritten_errno));
        return "failed";
    }
    if (flag_doubts(job, r, ws, we, flags, reason, cap) || clock_and_lines(in, r, flags, reason, cap)) return "failed";
    return json_array_size(flags->text) > 0 ? "flagged" : "ok";
}

/* How its process ran and ended. */
static void process_json(json_t *o, const seg_workload *r, const char *how)
{
    json_object_set_new(o, "pid", json_integer(r->proc.pid));
    json_object_set_new(o, "exit", json_string(how));
    if (WIFEXITED(r->proc.wait_status)) json_object_set_new(o, "exit_code", json_integer(WEXITSTATUS(r->proc.wait_status)));
    if (WIFSIGNALED(r->proc.wait_status)) json_object_set_new(o, "signal", json_integer(WTERMSIG(r->proc.wait_status)));
    json_object_set_new(o, "started_ns", json_integer(r->proc.started_ns));
    json_object_set_new(o, "ended_ns", json_integer(r->proc.ended_ns));
    json_object_set_new(o, "wall_s", json_real((double)(r->proc.ended_ns - r->proc.started_ns) / 1e9));
    json_object_set_new(o, "stopped_by_cotenant", json_boolean(r->stop_sent));
    json_object_set_new(o, "killed_after_grace", json_boolean(r->killed));
}

/* Its logs' sizes, where bytes were dropped or could not be written. */
static void logs_json(json_t *o, const seg_workload *r)
{
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
}

json_t *segment_workload_result(const segment_record_in *in, seg_workload *r, segment_outcome *out)
{
    const segment_job *job = in->job;
    json_t *o = json_object();
    flag_list flags = {json_array(), json_array()};
    char reason[4096] = "", how[160] = "";
    const char *status = verdict(in, r, &flags, reason, sizeof reason, how, sizeof how);
    /* a process that ran and ended on its own terms (not one that never
     * started, never answered ready, or whose stream was cut) */
    if (r->spawned && !r->not_ready[0] && !(r->remote && !r->agent_ended)) process_json(o, r, how);
    if (!strcmp(status, "failed")) {
        char path[PATH_MAX], *tail;
        snprintf(path, sizeof path, "%s/stderr.log", r->dir);
        tail = fs_file_tail(path, STDERR_TAIL_BYTES);
        json_object_set_new(o, "stderr_tail", json_string(tail ? tail : ""));
        free(tail);
        out->failures++;
        json_array_append_new(out->failed, json_pack("{s:s, s:s, s:s}", "segment", job->seg->id, "workload",
                                                     r->w->name, "reason", reason));
    }
    json_object_set_new(o, "status", json_string(status));
    if (reason[0]) json_object_set_new(o, "reason", json_string(reason));
    if (json_array_size(flags.text)) {
        json_object_set_new(o, "flags", flags.text);
        json_object_set_new(o, "flag_kinds", flags.kinds);
    } else {
        json_decref(flags.text);
        json_decref(flags.kinds);
    }
    logs_json(o, r);
    json_object_set_new(o, "measure", json_string(r->w->measure == MEASURE_WALL_TIME ? "wall_time" : "events"));
    json_object_set_new(o, "argv", argv_json(r));
    json_object_set_new(o, "events", json_integer(r->n_events));
    json_object_set_new(o, "steps", json_integer(r->n_steps));
    json_object_set_new(o, "invalid_events", json_integer(r->n_invalid));
    json_object_set_new(o, "invalid_samples", json_incref(r->invalid_samples));
    json_object_set_new(o, "invalid_events_in_window", json_integer(invalid_in_window(in, r)));
    json_object_set_new(o, "clock_correction_ns", json_integer(seg_workload_clock_correction(r)));
    if (r->first_step_ns) json_object_set_new(o, "first_step_ns", json_integer(r->first_step_ns));
    return o;
}


int segment_record(const segment_record_in *in, segment_outcome *out, cot_err *err)
{
    const segment_job *job = in->job;
    json_t *seg = json_object();
    json_object_set_new(seg, "id", json_string(job->seg->id));
    json_object_set_new(seg, "index", json_integer(job->seg->index));
    json_object_set_new(seg, "repeat", json_integer(job->seg->repeat));
    json_object_set_new(seg, "mode", json_string(job->sc->modes[job->seg->mode]));
    json_object_set_new(seg, "kind", json_string(segment_kind_name(job->seg->kind)));
    json_t *names = json_array(), *results = json_object();
    const int64_t ws = in->window_start_ns, we = in->window_end_ns;
    for (int i = 0; i < in->n; i++) {
        json_array_append_new(names, json_string(in->w[i].w->name));
        json_object_set_new(results, in->w[i].w->name, segment_workload_result(in, &in->w[i], out));
    }
    json_object_set_new(seg, "workloads", names);
    json_object_set_new(seg, "results", results);
    json_object_set_new(seg, "t0_ns", json_integer(in->t0_ns));
    json_object_set_new(seg, "ended_ns", json_integer(now_ns()));
    if (ws && we > ws)
        json_object_set_new(seg, "window", json_pack("{s:I, s:I, s:f}", "start_ns", (json_int_t)ws, "end_ns", (json_int_t)we,
                                                     "seconds", (double)(we - ws) / 1e9));
    else
        json_object_set_new(seg, "window", json_null());
    json_object_set_new(seg, "mode_info", json_deep_copy(job->mode->info));
    json_object_set_new(seg, "telemetry", in->telemetry);
    json_object_set_new(seg, "warnings", in->warnings);
    json_object_set_new(seg, "status", json_string(in->interrupted ? "interrupted" : "complete"));
    json_object_set_new(seg, "failures", json_integer(out->failures));

    char seg_json[PATH_MAX], name[PATH_MAX];
    int rc = 0;
    if (fs_path_join(seg_json, sizeof seg_json, in->tmp_dir, RESULTS_SEGMENT_JSON, err) || fs_write_json_atomic(seg_json, seg, err))
        rc = -1;
    json_decref(seg);
    snprintf(name, sizeof name, "%s%s", job->seg->id, in->interrupted ? ".interrupted" : "");
    if (rc == 0 && fs_path_join(out->dir, sizeof out->dir, in->seg_root, name, err) == 0) {
        fs_remove_tree(out->dir);
        if (rename(in->tmp_dir, out->dir) != 0) rc = cot_errno(err, "cannot rename %s to %s", in->tmp_dir, out->dir);
    }
    out->interrupted = in->interrupted;
    return rc;
}
