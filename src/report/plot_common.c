#include "report/plot_common.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sys/proc.h"
#include "util/fs.h"
#include "util/timeutil.h"

/* Names in a results folder (workloads, modes, segments) come from files
 * anyone may have edited, and gnuplot runs commands (`!cmd`, system(),
 * backquotes) and expands macros (@x). So no text from data reaches a .gp
 * script or a .dat label except through gp_text, which keeps a small
 * alphabet with no quote, backslash, backquote, '@', '$', '!' or newline:
 * inside gnuplot's single or double quotes it can only be text. The
 * terminal is noenhanced so that '_' in a name is not a subscript. */
const char *gp_text(char *dst, const char *s)
{
    size_t n = 0;
    for (; s && *s && n < GP_TEXT_MAX - 1; s++) {
        unsigned char c = (unsigned char)*s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  (c && strchr(" _.,:+-/()%=", c));
        dst[n++] = ok ? (char)c : '?';
    }
    dst[n] = '\0';
    return dst;
}

/* A plot's file name made from a mode's name: the id alphabet only. */
void plot_name(char *dst, size_t cap, const char *prefix, const char *mode)
{
    int n = snprintf(dst, cap, "%s", prefix);
    for (const char *c = mode ? mode : ""; *c && n >= 0 && (size_t)n + 1 < cap && n < 40; c++) {
        unsigned char u = (unsigned char)*c;
        dst[n++] = (char)(((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '-' ||
                           u == '_') ? u : '_');
    }
    dst[n] = '\0';
}

const char *const GP_HEAD = "# Made by cotenant report; edit freely and run: gnuplot %s.gp\n"
                             "if (!exists(\"outfile\")) outfile = '%s.png'\n"
                             "set terminal pngcairo size 960,540 noenhanced font 'Sans,10'\n"
                             "set output outfile\n"
                             "set grid ytics lc rgb '#dddddd'\n"
                             "set key outside right top\n";

int plot_write(const char *plots, const char *name, const char *ext, const char *text, size_t len, cot_err *err)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s.%s", plots, name, ext) >= (int)sizeof path)
        return cot_errf(err, "path too long");
    return fs_write_file_atomic(path, text, len, err);
}

/* Runs gnuplot on NAME.gp, rendering to a temporary file renamed into place. */
int plot_render(const char *plots, const char *name, bool *missing, cot_err *err)
{
    char exe[PATH_MAX];
    if (proc_find_executable("gnuplot", exe, sizeof exe) != 0) {
        *missing = true;
        return 0;
    }
    /* gnuplot starts in plots/ rather than being told to cd there: the
     * folder's path (a name from a shared archive, perhaps) is never code. */
    char out[PATH_MAX + 32], gp[PATH_MAX + 64], png[PATH_MAX + 64], tmp[PATH_MAX + 64], log[PATH_MAX + 64];
    snprintf(tmp, sizeof tmp, "%s/%s.png.tmp", plots, name);
    snprintf(out, sizeof out, "outfile='%s.png.tmp'", name); /* name: plot_name's alphabet */
    snprintf(gp, sizeof gp, "%s.gp", name);
    snprintf(png, sizeof png, "%s/%s.png", plots, name);
    snprintf(log, sizeof log, "%s/.gnuplot.log", plots);
    char *argv[] = {exe, "-e", out, gp, NULL};
    extern char **environ;
    spawn_opts o = {.argv = argv, .envp = environ, .stderr_path = log, .cwd = plots};
    child_proc c;
    if (proc_spawn(&o, &c, err) != 0) return -1;
    proc_wait_or_kill(&c, 60 * NS_PER_S);
    if (!WIFEXITED(c.wait_status) || WEXITSTATUS(c.wait_status) != 0) {
        char *tail = fs_file_tail(log, 600);
        cot_errf(err, "gnuplot failed on %s/%s: %s", plots, gp, tail && *tail ? tail : "no message");
        free(tail);
        unlink(tmp);
        return -1;
    }
    unlink(log);
    if (rename(tmp, png) != 0) return cot_errno(err, "cannot rename %s", tmp);
    return 0;
}

double plot_num(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : 0.0 / 0.0;
}

/* Mean, low, high of a summary; the mean stands in for a missing interval. */
void plot_triple(const json_t *s, double *m, double *lo, double *hi)
{
    *m = plot_num(s, "mean");
    *lo = plot_num(s, "ci95_low");
    *hi = plot_num(s, "ci95_high");
    if (*lo != *lo) *lo = *m;
    if (*hi != *hi) *hi = *m;
}


int plot_emit(const char *plots, const char *name, const char *title, char *dat, size_t dlen, char *gp, size_t glen,
              plot_list *pl, cot_err *err)
{
    int rc = plot_write(plots, name, "dat", dat, dlen, err);
    if (rc == 0) rc = plot_write(plots, name, "gp", gp, glen, err);
    free(dat);
    free(gp);
    if (rc == 0 && (rc = plot_render(plots, name, &pl->gnuplot_missing, err)) == 0 && pl->n < PLOTS_MAX) {
        snprintf(pl->names[pl->n], sizeof pl->names[0], "%s.png", name);
        snprintf(pl->titles[pl->n++], sizeof pl->titles[0], "%s", title);
    }
    return rc;
}
