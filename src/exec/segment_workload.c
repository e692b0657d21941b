/* Reading a segment's workload: events checked, counted and appended to
 * events.jsonl one line at a time; a remote workload's stream split into
 * its events, its stdout, and its agent's exit line. */
#include "exec/segment_workload.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events/event.h"
#include "exec/agent.h"
#include "util/array.h"
#include "util/fs.h"
#include "util/timeutil.h"

#define MAX_INVALID_SAMPLES 5
/* Invalid lines whose arrival is kept (to count those in the window); the
 * rest count as in it. */
#define INVALID_TIMES_MAX (1 << 20)

static void write_line(capped_log *l, const char *line, size_t len)
{
    capped_log_write(l, line, len);
    capped_log_write(l, "\n", 1);
}

/* A line of a remote workload's stream that is not an event: its stdout,
 * the agent's exit line, or anything else (stderr, the agent's own words).
 * Returns true when it was one of those, false for an event line. */
static bool remote_line(seg_workload *r, const char **line, size_t *len)
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
    seg_workload *r = arg;
    char why[256];
    event ev;
    if (r->remote && st == LINE_OK && remote_line(r, &line, &len)) return;
    if (st == LINE_TOO_LONG)
        snprintf(why, sizeof why, "line over the %d-byte limit", EVENT_LINE_MAX);
    else if (st == LINE_TORN)
        snprintf(why, sizeof why, "torn line: the stream ended before its newline");
    if (st != LINE_OK || event_parse(line, len, &ev, why, sizeof why) != 0) {
        r->n_invalid++;
        if (r->ninvalid_at < INVALID_TIMES_MAX &&
            array_grow((void **)&r->invalid_at, &r->invalid_at_cap, r->ninvalid_at + 1, sizeof *r->invalid_at) == 0)
            r->invalid_at[r->ninvalid_at++] = now_ns();
        if (json_array_size(r->invalid_samples) < MAX_INVALID_SAMPLES) {
            char snippet[161];
            snprintf(snippet, sizeof snippet, "%.*s", (int)(len < 160 ? len : 160), line);
            json_array_append_new(r->invalid_samples, json_pack("{s:s, s:s}", "line", snippet, "why", why));
        }
        return;
    }
    r->n_events++;
    /* No event is stamped after it arrived: the smallest lag seen bounds the
     * offset between the workload's clock and ours (a remote one's is its
     * node's), to within the fastest delivery. */
    int64_t lag = now_ns() - ev.t_ns;
    if (lag < r->clock_offset_ns) r->clock_offset_ns = lag;
    /* the offset before the window and in it, for the drift check: only
     * while every workload is read each tick (not while the start-up waited
     * on a server, when lines could sit in a pipe) */
    int64_t *phase_lag = r->watch_from_ns ? &r->lag_in_window_ns : &r->lag_before_window_ns;
    if (r->read_each_tick && lag < *phase_lag) *phase_lag = lag;
    int64_t t = seg_workload_time(r, ev.t_ns);
    /* a server, load generator or notebook makes progress one request at a time */
    if (ev.type == EV_STEP || ev.type == EV_LATENCY) {
        r->n_steps++;
        if (!r->first_step_ns) r->first_step_ns = t;
        if (r->watch_from_ns && t >= r->watch_from_ns) {
            int64_t from = r->last_step_ns > r->watch_from_ns ? r->last_step_ns : r->watch_from_ns;
            if (t - from > r->gap_ns) r->gap_ns = t - from, r->gap_from_ns = from;
            r->steps_watched++;
        }
        if (t > r->last_step_ns) r->last_step_ns = t;
    }
    /* The line as the workload wrote it: analysis re-parses it from here.
     * A line that cannot be written is counted: the segment's figures
     * would be short by it, so the workload fails (workload_result). */
    char *copy = malloc(len + 1);
    int wrc = -1;
    if (copy) {
        memcpy(copy, line, len);
        copy[len] = '\n';
        wrc = fs_write_all(r->events_fd, copy, len + 1); /* one write: a line is never cut between two */
        free(copy);
    }
    if (wrc != 0) {
        if (!r->unwritten_errno) r->unwritten_errno = copy ? errno : ENOMEM;
        r->n_unwritten++;
    }
}

void seg_workload_read_events(seg_workload *r)
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
void seg_workload_read_output(seg_workload *r)
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

int64_t seg_workload_clock_correction(const seg_workload *r)
{
    if (r->remote || r->clock_offset_ns == INT64_MAX) return 0;
    return llabs(r->clock_offset_ns) > SEG_CLOCK_SKEW_BOUND_NS ? r->clock_offset_ns : 0;
}

int64_t seg_workload_time(const seg_workload *r, int64_t t)
{
    return t + seg_workload_clock_correction(r);
}

int64_t seg_workload_clock_drift(const seg_workload *r)
{
    if (r->remote || r->lag_before_window_ns == INT64_MAX || r->lag_in_window_ns == INT64_MAX) return 0;
    return r->lag_in_window_ns - r->lag_before_window_ns;
}

int64_t seg_workload_invalid_between(const seg_workload *r, int64_t from, int64_t to)
{
    int64_t n = 0;
    for (int i = 0; i < r->ninvalid_at; i++) n += r->invalid_at[i] >= from && r->invalid_at[i] <= to;
    return n + (r->n_invalid - r->ninvalid_at); /* those whose arrival was not kept */
}

int seg_workload_init(seg_workload *r, const workload_spec *w, bool remote, const char *seg_dir, cot_err *err)
{
    memset(r, 0, sizeof *r);
    r->w = w;
    r->events_fd = r->out_log.fd = r->err_log.fd = -1;
    r->proc.events_fd = r->proc.stdout_fd = r->proc.stderr_fd = -1;
    r->remote = remote;
    r->addr.resolve = !remote;
    r->clock_offset_ns = r->lag_before_window_ns = r->lag_in_window_ns = INT64_MAX;
    r->invalid_samples = json_array();
    line_reader_init(&r->lr, EVENT_LINE_MAX + (remote ? AGENT_TAG_ROOM : 0)); /* a remote line carries its tag */
    return fs_path_join(r->dir, sizeof r->dir, seg_dir, w->name, err) || fs_mkdir_p(r->dir, err) ? -1 : 0;
}

int seg_workload_open_logs(seg_workload *r, cot_err *err)
{
    char out_path[PATH_MAX], err_path[PATH_MAX], ev_path[PATH_MAX];
    if (fs_path_join(out_path, sizeof out_path, r->dir, "stdout.log", err) ||
        fs_path_join(err_path, sizeof err_path, r->dir, "stderr.log", err) ||
        fs_path_join(ev_path, sizeof ev_path, r->dir, "events.jsonl", err))
        return -1;
    r->events_fd = open(ev_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (r->events_fd < 0) return cot_errno(err, "cannot create %s", ev_path);
    if (capped_log_open(&r->out_log, out_path, CAPPED_LOG_HEAD_BYTES, CAPPED_LOG_TAIL_BYTES, err) ||
        capped_log_open(&r->err_log, err_path, CAPPED_LOG_HEAD_BYTES, CAPPED_LOG_TAIL_BYTES, err))
        return -1;
    return 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

void seg_workload_finish(seg_workload *r)
{
    if (r->spawned) {
        proc_signal_group(&r->proc, SIGKILL); /* leftovers of the group */
        for (int k = 0; k < 100 && r->proc.events_fd >= 0; k++) {
            seg_workload_read_events(r);
            if (r->proc.events_fd >= 0) sleep_ns(2 * NS_PER_MS);
        }
        if (r->proc.events_fd >= 0) {
            line_reader_finish(&r->lr, on_line, r);
            close_fd(&r->proc.events_fd);
        }
        /* output until its end, or a moment if a leftover still holds it */
        for (int k = 0; k < 100 && (r->proc.stdout_fd >= 0 || r->proc.stderr_fd >= 0); k++) {
            seg_workload_read_output(r);
            if (r->proc.stdout_fd >= 0 || r->proc.stderr_fd >= 0) sleep_ns(2 * NS_PER_MS);
        }
        close_fd(&r->proc.stdout_fd);
        close_fd(&r->proc.stderr_fd);
    }
    /* before the results: a failure quotes stderr.log's tail */
    capped_log_close(&r->out_log);
    capped_log_close(&r->err_log);
}

void seg_workload_free(seg_workload *r)
{
    close_fd(&r->events_fd);
    close_fd(&r->proc.events_fd);
    close_fd(&r->proc.stdout_fd);
    close_fd(&r->proc.stderr_fd);
    capped_log_close(&r->out_log);
    capped_log_close(&r->err_log);
    line_reader_free(&r->lr);
    json_decref(r->invalid_samples);
    r->invalid_samples = NULL;
    free(r->invalid_at);
    r->invalid_at = NULL;
}
