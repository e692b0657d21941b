/* segment_workload.h - one workload of a running segment, as the segment
 * sees it: its process (or its log stream's follower), what it has said
 * (events counted, checked and appended to events.jsonl; stdout and stderr
 * into bounded logs), and how it stopped. */
#ifndef COTENANT_SEGMENT_WORKLOAD_H
#define COTENANT_SEGMENT_WORKLOAD_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "events/line_reader.h"
#include "exec/capped_log.h"
#include "scenario/scenario.h"
#include "sys/proc.h"
#include "sys/proc_cgroup.h"
#include "util/err.h"
#include "util/timeutil.h"
#include "workload/workload_cmd.h"

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
    /* Run under `cotenant agent`: proc follows the workload's tagged log stream. */
    bool remote;
    proc_cgroup cg;             /* a local workload's own cgroup, where the machine gives one */
    capped_log out_log, err_log; /* stdout.log and stderr.log: from pipes, or from the stream */
    bool agent_ended;           /* the agent's exit line arrived */
    int agent_status;           /* how the workload ended, encoded as waitpid would */
    int64_t agent_ended_ns;
    int64_t clock_offset_ns;    /* our clock minus the workload's, at least (INT64_MAX: no event yet) */
    int64_t lag_before_window_ns, lag_in_window_ns; /* the same, before the window opened and after */
    bool read_each_tick;        /* the segment reads it every tick now (its watch loop) */
    int64_t *invalid_at;        /* when each invalid line arrived (our clock) */
    int ninvalid_at, invalid_at_cap;
} seg_workload;

/* A local workload's clock this far from cotenant's CLOCK_MONOTONIC is not
 * CLOCK_MONOTONIC: its times are corrected by the offset seen. A healthy
 * stream delivers within a few ms. */
#define SEG_CLOCK_SKEW_BOUND_NS (50 * NS_PER_MS)

/* What to add to a local workload's event times to put them on cotenant's
 * clock: the offset seen, where it is beyond the bound; else 0. */
int64_t seg_workload_clock_correction(const seg_workload *r);
/* An event time on the clock the segment keeps (corrected, as above). */
int64_t seg_workload_time(const seg_workload *r, int64_t t);
/* How far the offset moved between before the window and in it (a clock
 * that runs at another rate); 0 where unknown. */
int64_t seg_workload_clock_drift(const seg_workload *r);
/* Invalid lines that arrived between from and to (our clock). */
int64_t seg_workload_invalid_between(const seg_workload *r, int64_t from, int64_t to);
/* Ready to start: nothing open, its folder dir made. */
int seg_workload_init(seg_workload *r, const workload_spec *w, bool remote, const char *seg_dir, cot_err *err);
/* Creates stdout.log, stderr.log and events.jsonl in its folder. */
int seg_workload_open_logs(seg_workload *r, cot_err *err);
/* Reads what its event pipe (or stream) holds now. */
void seg_workload_read_events(seg_workload *r);
/* Reads what its stdout and stderr pipes hold now, a bounded amount. */
void seg_workload_read_output(seg_workload *r);
/* After it ended: whatever is still in the pipes arrived before the exit,
 * and is kept; then the pipes and logs are closed. */
void seg_workload_finish(seg_workload *r);
/* Closes and frees what is left; safe after any step above. */
void seg_workload_free(seg_workload *r);

#endif
