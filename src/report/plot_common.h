/* plot_common.h - what every plot of a report shares: text made safe for
 * gnuplot, file names, the script's head, writing and rendering. */
#ifndef COTENANT_PLOT_COMMON_H
#define COTENANT_PLOT_COMMON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "report/plots.h"
#include "util/err.h"

/* Names in a results folder come from files anyone may have edited, and
 * gnuplot runs commands and expands macros: no text from data reaches a
 * .gp script or a .dat label except through gp_text (plot_common.c). */
#define GP_TEXT_MAX 96

const char *gp_text(char *dst, const char *s);
/* A plot's file name made from a mode's name: the id alphabet only. */
void plot_name(char *dst, size_t cap, const char *prefix, const char *mode);
/* The head of every .gp: printf it with the plot's name twice. */
extern const char *const GP_HEAD;
int plot_write(const char *plots, const char *name, const char *ext, const char *text, size_t len, cot_err *err);
/* Runs gnuplot on NAME.gp into NAME.png; a missing gnuplot sets *missing. */
int plot_render(const char *plots, const char *name, bool *missing, cot_err *err);
double plot_num(const json_t *o, const char *k);
/* Mean, low, high of a summary; the mean stands in for a missing interval. */
void plot_triple(const json_t *s, double *m, double *lo, double *hi);
/* NAME.dat and NAME.gp written (both freed), rendered, and listed with its title. */
int plot_emit(const char *plots, const char *name, const char *title, char *dat, size_t dlen, char *gp, size_t glen,
              plot_list *pl, cot_err *err);

#endif
