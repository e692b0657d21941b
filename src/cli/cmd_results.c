/* cotenant analyze / report / modes: the later stages on an existing
 * results folder, and what this machine can run. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "analysis/analyze.h"
#include "cli/commands.h"
#include "host/host.h"
#include "mode/mode.h"
#include "report/report.h"
#include "util/fs.h"
#include "util/signal_hold.h"

/* Both commands take exactly one folder and --help. */
static int one_dir(int argc, char **argv, const char *usage, const char **dir)
{
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        fputs(usage, stdout);
        return -1;
    }
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "cotenant %s: expected one results folder\n\n%s", argv[0], usage);
        return EXIT_USAGE;
    }
    *dir = argv[1];
    return EXIT_OK;
}

int cmd_analyze(int argc, char **argv)
{
    const char *dir;
    int rc = one_dir(argc, argv, usage_analyze, &dir);
    if (rc != EXIT_OK) return rc < 0 ? EXIT_OK : rc;
    cot_err err;
    signal_hold_start();
    if (analyze_run(dir, &err) != 0) {
        fprintf(stderr, "cotenant: %s\n", err.msg);
        return EXIT_RUN_FAILED;
    }
    printf("%s/metrics.json\n%s/summary.csv\n", dir, dir);
    return signal_hold_count() ? EXIT_RUN_FAILED : EXIT_OK;
}

int cmd_report(int argc, char **argv)
{
    const char *dir;
    int rc = one_dir(argc, argv, usage_report, &dir);
    if (rc != EXIT_OK) return rc < 0 ? EXIT_OK : rc;
    cot_err err;
    signal_hold_start();
    char metrics[PATH_MAX];
    snprintf(metrics, sizeof metrics, "%s/metrics.json", dir);
    if (!fs_path_exists(metrics) && analyze_run(dir, &err) != 0) {
        fprintf(stderr, "cotenant: %s\n", err.msg);
        return EXIT_RUN_FAILED;
    }
    if (report_run(dir, &err) != 0) {
        fprintf(stderr, "cotenant: %s\n", err.msg);
        return EXIT_RUN_FAILED;
    }
    printf("%s/report.md\n", dir);
    if (signal_hold_count()) {
        cot_warn("interrupted: the report was finished before stopping");
        return EXIT_RUN_FAILED;
    }
    return EXIT_OK;
}

int cmd_modes(int argc, char **argv)
{
    static const struct option longs[] = {{"gpu", required_argument, 0, 'g'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *gpu = "0";
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "g:h", longs, NULL)) != -1) {
        if (c == 'g') gpu = optarg;
        else if (c == 'h') {
            fputs(usage_modes, stdout);
            return EXIT_OK;
        } else {
            fprintf(stderr, "cotenant modes: unknown option '%s'\n\n%s", argv[optind - 1], usage_modes);
            return EXIT_USAGE;
        }
    }
    host_info host;
    host_probe(&host, gpu);
    scenario sc;
    scenario_init_defaults(&sc);
    sc.gpu = (char *)gpu;
    if (host.gpu_found) printf("GPU %d: %s (%s), driver %s\n\n", host.gpu_index, host.gpu_name, host.gpu_uuid, host.driver_version);
    int ok_count = 0;
    for (int i = 0; i < mode_count(); i++) {
        const mode_ops *m = mode_at(i);
        cot_err why;
        int ok = m->check(&sc, &host, &why) == 0;
        ok_count += ok;
        printf("%-10s %s\n           %s%s\n", m->name, mode_desc_of(m)->summary, ok ? "can run here" : "cannot run here: ", ok ? "" : why.msg);
    }
    return ok_count ? EXIT_OK : EXIT_RUN_FAILED;
}
