/* scenario.h - what a user asks cotenant to measure.
 *
 * A scenario names the workloads, the sharing modes to compare and how long
 * to measure. It comes from a YAML file (scenario_parse.c) or is built in
 * (scenario_default.c); either way it is validated once, then read-only. */
#ifndef COTENANT_SCENARIO_H
#define COTENANT_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#define SCENARIO_MAX_BYTES (1 << 20)
#define SCENARIO_MAX_WORKLOADS 16
#define SCENARIO_MAX_MODES 32
#define SCENARIO_MAX_ARGV 128
#define SCENARIO_MAX_ENV 64
#define SCENARIO_MAX_REPEATS 100
#define SCENARIO_NAME_MAX 64
#define SCENARIO_TELEMETRY_MIN_S 0.01
#define SCENARIO_ADAPTIVE_MIN_REPEATS 3  /* repeats: auto decides from this many on */
#define SCENARIO_ADAPTIVE_MAX_REPEATS 10 /* its cap unless max_repeats says */
#define SCENARIO_ADAPTIVE_PRECISION 0.02 /* the half-width of every NP's 95% interval it aims at */

typedef enum { MEASURE_EVENTS, MEASURE_WALL_TIME } measure_kind;
typedef enum { DEVICE_GPU, DEVICE_CPU } device_kind;

typedef struct {
    char *key, *value;
} env_pair;

typedef struct {
    char *name;
    char *kind;         /* built-in kind (scenario/kinds.c), or NULL for a command */
    char **command;     /* argv of an external command, NULL-terminated; NULL with a kind */
    char **args;        /* extra arguments appended to the kind's or command's argv */
    int nargs;
    env_pair *env;
    int nenv;
    measure_kind measure;
    double slo_ms;                 /* latency SLO; 0 = none */
    int mps_active_thread_pct;     /* 1..100; 0 = not set */
    char *mps_pinned_mem_limit;    /* e.g. "8G"; NULL = not set */
    char *mig_profile;             /* e.g. "3g.40gb"; NULL = not set */
    int cpu_pct;                   /* a sweep's: the share of cotenant's CPUs it runs on, 1..100; 0 = all */
    int nice;                      /* a sweep's: its scheduling niceness, where nice_set */
    bool nice_set;
    char *target;                  /* loadgen: the serve workload it drives; NULL = none */
    int program_line, program_col; /* where its kind or command was given, 1-based; 0 = not from a file */
    int args_line, args_col;       /* where its args were given; 0 = none, or not from a file */
} workload_spec;

/* A configuration of a mode: the settings a sweep gives some workloads
 * (docs/scenario.md, "Sweeps"). Each of the scenario's modes is one; a
 * mode listed in `modes` is a configuration of itself, with no settings. */
typedef struct {
    char *kind;                            /* the mode it configures; NULL: its name is the mode */
    char axes[96];                         /* its sweep's axes, comma-separated, in the order of its name's parts */
    int mps_pct[SCENARIO_MAX_WORKLOADS];   /* MPS active-thread percentage; 0: the workload's own */
    char *mps_mem[SCENARIO_MAX_WORKLOADS]; /* MPS pinned device memory limit; NULL: the workload's own */
    int cpu_pct[SCENARIO_MAX_WORKLOADS];   /* share of the CPUs (sched_setaffinity); 0: all */
    int nice[SCENARIO_MAX_WORKLOADS];      /* niceness (setpriority), where nice_set */
    bool nice_set[SCENARIO_MAX_WORKLOADS];
    char *mig_profile[SCENARIO_MAX_WORKLOADS]; /* its MIG instance's profile (a layout); NULL: the workload's own */
    /* Settings of the whole GPU, set before the configuration's segments
     * and put back after them, only where the run allows it
     * (--allow-gpu-settings): */
    int timeslice;    /* the driver's timeslice (GPU_TIMESLICE_*), where timeslice_set */
    bool timeslice_set;
    int compute_mode; /* the NVML compute mode, where compute_mode_set */
    bool compute_mode_set;
} mode_config;

/* What the recommendation optimises, and what every configuration it may
 * name must meet (docs/scenario.md, "Objective and constraints"). */
typedef enum { OBJECTIVE_STP, OBJECTIVE_FAIRNESS, OBJECTIVE_THROUGHPUT } objective_kind;
#define SCENARIO_MAX_SLOS SCENARIO_MAX_WORKLOADS
typedef struct {
    int workload;      /* scenario index */
    int pct;           /* which percentile: an index into latency_pct_names (p50, p95, p99, p99_9) */
    double limit_ms;   /* the shared run's percentile must be at most this */
    double attainment; /* and this fraction of its requests ok within limit_ms; 0: not asked */
} slo_constraint;
typedef struct {
    objective_kind kind;
    int workload;                          /* OBJECTIVE_THROUGHPUT: whose shared throughput; -1 otherwise */
    slo_constraint slo[SCENARIO_MAX_SLOS];
    int nslo;
    double min_np[SCENARIO_MAX_WORKLOADS]; /* NP against the whole GPU at least this; 0: no constraint */
} objective_spec;

typedef struct {
    char *source;       /* file it came from, or "built-in ..." */
    char *name;
    char *gpu;          /* index ("0") or UUID ("GPU-...") */
    device_kind device;
    bool builtin_default;
    bool baseline_added; /* the common baseline's mode was added to those named (scenario_add_baseline) */
    char *modes[SCENARIO_MAX_MODES];      /* each configuration's name, as every output shows it */
    mode_config configs[SCENARIO_MAX_MODES]; /* beside each name, what it is (scenario/mode_config.h) */
    int nmodes;
    double duration_s, warmup_s, startup_timeout_s, grace_s, timeout_s;
    double telemetry_interval_s; /* GPU sampling in every segment; 0 = off */
    int repeats;                 /* with adaptive: the cap */
    bool adaptive;               /* repeats: auto (docs/metrics.md, "Adaptive repeats") */
    double precision;            /* adaptive: the target half-width of each NP's 95% interval */
    bool shuffle;
    bool common_baseline_only;   /* own_baselines: false: sharing modes run no alone segments of their own */
    uint64_t seed;
    workload_spec workloads[SCENARIO_MAX_WORKLOADS];
    int nworkloads;
    objective_spec objective;
} scenario;

void scenario_init_defaults(scenario *sc);
void scenario_free(scenario *sc);
/* Sets the modes a scenario that names none compares, for its device
 * (mode/desc/mode_desc.h says which). */
void scenario_default_modes(scenario *sc);
/* A scenario that compares modes (two or more, one of them sharing) also
 * measures each workload alone on the whole GPU, once a repeat: the common
 * baseline every mode's figures are also taken against (docs/metrics.md).
 * Appends the baseline's mode where none of those named is it. */
void scenario_add_baseline(scenario *sc);
/* The scenario as resolved (defaults and overrides applied), for run.json. */
json_t *scenario_to_json(const scenario *sc);
/* The inverse, for `cotenant analyze/report` on an existing results folder. */
int scenario_from_json(const json_t *doc, scenario *sc, char *why, size_t why_cap);
int scenario_workload_index(const scenario *sc, const char *name);
/* A server (a workload another one targets) runs in every segment of the
 * workload that drives it and is started first; it is not a plan unit of its
 * own. Returns the index of the workload that targets w, or -1. */
int scenario_driver_of(const scenario *sc, int w);
/* The index of w's target, or -1. */
int scenario_target_of(const scenario *sc, int w);
/* Workloads that are plan units: those no other workload targets. */
int scenario_units(const scenario *sc);
/* The segment deadline for a segment that holds `wall_time` workloads or not. */
double scenario_segment_budget_s(const scenario *sc, bool has_wall_time);

#endif
