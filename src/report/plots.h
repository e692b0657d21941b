/* plots.h - the gnuplot plots of a report. Each plot is written as NAME.dat
 * and NAME.gp in plots/, then rendered to NAME.png by gnuplot when it is
 * installed (a missing gnuplot is a warning: the .gp files still work). */
#ifndef COTENANT_PLOTS_H
#define COTENANT_PLOTS_H

#include <jansson.h>
#include <stdbool.h>

#include "util/err.h"

#define PLOTS_MAX 24

typedef struct {
    char names[PLOTS_MAX][96];   /* the PNGs made (relative to plots/) */
    char titles[PLOTS_MAX][128];
    int n;
    bool gnuplot_missing;
} plot_list;

/* metrics: metrics.json; run: run.json. */
int plots_make(const char *dir, const json_t *metrics, const json_t *run, plot_list *out, cot_err *err);

#endif
