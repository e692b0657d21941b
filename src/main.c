/* cotenant - measure how ML workloads behave when they share one GPU.
 * The command table below is the whole CLI; each command lives in src/cli/. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "sys/proc.h"
#include "util/err.h"
#include "version.h"

typedef struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"run", cmd_run, "run a scenario and write results, metrics and a report"},
    {"analyze", cmd_analyze, "recompute metrics.json and summary.csv of a results folder"},
    {"report", cmd_report, "rewrite report.md and plots of a results folder"},
    {"advise", cmd_advise, "recommend a configuration of a results folder for an objective and SLOs"},
    {"modes", cmd_modes, "list the sharing modes and whether each can run here"},
    {"monitor", cmd_monitor, "watch the GPUs: live, to CSV or JSON Lines, or as Prometheus metrics"},
    {"mig", cmd_mig, "MIG: profiles, plans, status; apply a layout and restore what was there"},
    {"mode", cmd_mode, "compute mode and timeslice (read, set, restore); a standing MPS daemon"},
    {"deploy", cmd_deploy, "write a scenario as a Docker Compose project or Kubernetes manifests"},
    {"agent", cmd_agent, "run one workload inside a container (what deploy's containers run)"},
};

static void usage(FILE *f)
{
    fprintf(f, "Usage: cotenant COMMAND [OPTIONS]\n\n"
               "cotenant measures how ML workloads behave when they share one NVIDIA GPU\n"
               "(time slicing, MPS, MIG) and tells which way to share it.\n\nCommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nOptions:\n  -h, --help     show this text; `cotenant COMMAND --help` for a command\n"
               "  -V, --version  show the version and git revision\n\n"
               "Start with `cotenant run`: with no scenario it runs the built-in default.\n"
               "Scenario files: docs/scenario.md; workloads' event protocol: docs/protocol.md.\n");
}

int main(int argc, char **argv)
{
    proc_global_init();
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
        printf("cotenant %s (git %s)\n", COTENANT_VERSION, COTENANT_GIT_REV);
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "cotenant: unknown command '%s'; try cotenant --help\n", argv[1]);
    return EXIT_USAGE;
}
