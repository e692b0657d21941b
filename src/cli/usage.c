/* The usage texts, in one place so they read as one manual. */
#include "cli/commands.h"

const char usage_run[] =
    "Usage: cotenant run [SCENARIO.yaml] [OPTIONS]\n"
    "\n"
    "Measures how the scenario's workloads behave when they share one GPU. For\n"
    "each repeat and each mode, every workload runs alone (its baseline), then\n"
    "all run together; then the results are analysed and a report is written.\n"
    "\n"
    "Without SCENARIO the built-in default runs: two GPU workloads under\n"
    "timeslice and mps where an NVIDIA GPU is found; otherwise CPU workloads\n"
    "contending for cores, labelled as such in the report.\n"
    "\n"
    "Options:\n"
    "  -o, --out DIR        results folder; must be new or empty\n"
    "                       (default: results/NAME-YYYYMMDD-HHMMSS)\n"
    "  -m, --modes LIST     modes to compare, comma-separated, replacing the\n"
    "                       scenario's: exclusive, timeslice, mps\n"
    "  -d, --duration TIME  length of the measured window of each segment\n"
    "                       (e.g. 30s, 2m, 500ms; a bare number is seconds)\n"
    "  -w, --warmup TIME    time between the last workload's first step and\n"
    "                       the start of the measured window\n"
    "  -r, --repeats N      repeats of the whole plan (1-100)\n"
    "      --shuffle        shuffle modes and segments within each repeat\n"
    "      --seed N         seed for --shuffle (default 1)\n"
    "      --plan           check the modes, print the plan, run nothing\n"
    "  -q, --quiet          no progress line, only warnings and errors\n"
    "  -h, --help           show this text\n"
    "\n"
    "Results (docs/results.md): run.json, segments/ID/ (segment.json and per\n"
    "workload events.jsonl, stdout.log, stderr.log), metrics.json,\n"
    "summary.csv, report.md, plots/ (PNG with their .dat and .gp).\n"
    "\n"
    "Ctrl-C stops every workload, restores the GPU, and keeps every finished\n"
    "segment; the folder is marked interrupted.\n"
    "\n"
    "Exit status: 0 all segments ran and no workload failed; 1 the run had\n"
    "failures or was interrupted; 2 bad usage or an invalid scenario, in\n"
    "which case nothing is written.\n";

const char usage_analyze[] =
    "Usage: cotenant analyze DIR\n"
    "\n"
    "Recomputes DIR/metrics.json and DIR/summary.csv from the raw records of\n"
    "a results folder (run.json and segments/), e.g. after a cotenant update\n"
    "or an interrupted run. Definitions: docs/metrics.md.\n"
    "\n"
    "Exit status: 0 done; 1 the folder could not be analysed; 2 bad usage.\n";

const char usage_report[] =
    "Usage: cotenant report DIR\n"
    "\n"
    "Rewrites DIR/report.md and DIR/plots/ from DIR/metrics.json (analysing\n"
    "first if there is none). Plots need gnuplot; without it the .dat and .gp\n"
    "files are still written.\n"
    "\n"
    "Exit status: 0 done; 1 the report could not be written; 2 bad usage.\n";

const char usage_modes[] =
    "Usage: cotenant modes [--gpu ID]\n"
    "\n"
    "Lists the sharing modes and whether each can run on this machine, and\n"
    "if not, why. ID is a GPU index or UUID (default 0).\n";
