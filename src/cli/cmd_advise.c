/* cotenant advise: the recommendation of a results folder again, for the
 * scenario's objective and constraints or others given here; nothing runs
 * and nothing in the folder changes. */
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/advise.h"
#include "analysis/analyze.h"
#include "cli/commands.h"
#include "scenario/objective.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/json_text.h"

#define METRICS_MAX_BYTES (256 << 20)

typedef struct {
    const char *objective;
    const char *slo[SCENARIO_MAX_SLOS], *min_np[SCENARIO_MAX_WORKLOADS];
    int nslo, nmin;
    bool no_constraints, json;
} advise_opts;

static int usage_error(const char *fmt, const char *a)
{
    fprintf(stderr, "cotenant advise: ");
    fprintf(stderr, fmt, a);
    fprintf(stderr, "\n\n%s", usage_advise);
    return EXIT_USAGE;
}

static int parse_opts(int argc, char **argv, advise_opts *o, const char **dir)
{
    static const struct option longs[] = {{"objective", required_argument, 0, 'o'}, {"slo", required_argument, 0, 's'},
                                          {"min-np", required_argument, 0, 'n'},    {"no-constraints", no_argument, 0, 'x'},
                                          {"json", no_argument, 0, 'j'},            {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case 'o': o->objective = optarg; break;
        case 's':
            if (o->nslo == SCENARIO_MAX_SLOS) return usage_error("more than %s --slo", "16");
            o->slo[o->nslo++] = optarg;
            break;
        case 'n':
            if (o->nmin == SCENARIO_MAX_WORKLOADS) return usage_error("more than %s --min-np", "16");
            o->min_np[o->nmin++] = optarg;
            break;
        case 'x': o->no_constraints = true; break;
        case 'j': o->json = true; break;
        case 'h': fputs(usage_advise, stdout); return -1;
        default: fprintf(stderr, "\n%s", usage_advise); return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) return usage_error("%s", "expected one results folder");
    *dir = argv[optind];
    return EXIT_OK;
}

/* The scenario's objective, then the options in its place. */
static int objective_of(const advise_opts *o, const scenario *sc, objective_spec *out)
{
    char why[256];
    *out = sc->objective;
    if (o->objective && objective_parse_kind(sc, o->objective, out, why, sizeof why) != 0)
        return usage_error("--objective: %s", why);
    if (o->no_constraints || o->nslo || o->nmin) {
        out->nslo = 0;
        memset(out->min_np, 0, sizeof out->min_np);
    }
    for (int i = 0; i < o->nslo; i++) {
        slo_constraint *c = &out->slo[out->nslo];
        if (objective_parse_slo(sc, o->slo[i], c, why, sizeof why) != 0) return usage_error("--slo %s", why);
        const workload_spec *w = &sc->workloads[c->workload];
        if (c->attainment > 0 && !(fabs(w->slo_ms - c->limit_ms) < 1e-9)) {
            fprintf(stderr, "cotenant advise: --slo %s: the run counted %s's requests against %s, not %g ms; an "
                            "attainment within another latency needs the run with that slo (give the percentile alone "
                            "to judge by it)\n", o->slo[i], w->name, w->slo_ms > 0 ? "its slo" : "no slo", c->limit_ms);
            return EXIT_USAGE;
        }
        out->nslo++;
    }
    for (int i = 0; i < o->nmin; i++)
        if (objective_parse_min_np(sc, o->min_np[i], out, why, sizeof why) != 0) return usage_error("--min-np %s", why);
    return EXIT_OK;
}

int cmd_advise(int argc, char **argv)
{
    advise_opts o;
    const char *dir;
    int rc = parse_opts(argc, argv, &o, &dir);
    if (rc != EXIT_OK) return rc < 0 ? EXIT_OK : rc;
    char path[PATH_MAX], why[256];
    cot_err err;
    json_t *run = NULL, *metrics = NULL;
    scenario sc;
    scenario_init_defaults(&sc);
    if (fs_path_join(path, sizeof path, dir, "run.json", &err) || !(run = fs_read_json_file(path, RUN_JSON_MAX_BYTES, &err))) {
        fprintf(stderr, "cotenant advise: %s: %s is not a cotenant results folder\n", err.msg, dir);
        return EXIT_RUN_FAILED;
    }
    if (scenario_from_json(json_object_get(run, "scenario"), &sc, why, sizeof why) != 0) {
        fprintf(stderr, "cotenant advise: %s: the scenario in run.json is damaged: %s\n", path, why);
        rc = EXIT_RUN_FAILED;
    } else if (fs_path_join(path, sizeof path, dir, "metrics.json", &err) ||
               !(metrics = fs_read_json_file(path, METRICS_MAX_BYTES, &err))) {
        fprintf(stderr, "cotenant advise: %s; run `cotenant analyze %s` first\n", err.msg, dir);
        rc = EXIT_RUN_FAILED;
    } else {
        objective_spec obj;
        rc = objective_of(&o, &sc, &obj);
        if (rc == EXIT_OK) {
            json_t *rec = advise(metrics, &sc, &obj);
            if (o.json) {
                char *text = json_text_dumps(rec, JSON_INDENT(2));
                if (text) puts(text);
                free(text);
            } else {
                advise_print(stdout, rec, "");
            }
            const char *verdict = json_string_value(json_object_get(rec, "verdict"));
            rc = verdict && (!strcmp(verdict, "none_meets") || !strcmp(verdict, "no_figures")) ? EXIT_RUN_FAILED : EXIT_OK;
            json_decref(rec);
        }
    }
    json_decref(metrics);
    json_decref(run);
    scenario_free(&sc);
    return rc;
}
