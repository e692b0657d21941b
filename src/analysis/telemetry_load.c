#include "analysis/telemetry_load.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"

/* Columns are found by name (telemetry/telemetry_csv.h): a file with more
 * of them, or in another order, still reads. */
#define MAX_FIELDS 64

/* Splits one CSV line in place (RFC 4180 quoting); returns the field count,
 * or -1 for a quote left open. */
static int split(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max) return n;
        if (*p == '"') {
            char *o = ++p;
            f[n++] = o;
            for (;;) {
                if (!*p) return -1;
                if (*p == '"' && p[1] == '"') *o++ = '"', p += 2;
                else if (*p == '"') break;
                else *o++ = *p++;
            }
            p++;
            *o = '\0'; /* o trails p, so this never cuts a field yet to read */
            if (*p && *p != ',') return -1;
        } else {
            f[n++] = p;
            p += strcspn(p, ",");
        }
        if (!*p) return n;
        *p++ = '\0';
    }
}

static double number(const char *s)
{
    if (!s || !*s) return NAN;
    char *end;
    double v = strtod(s, &end);
    return *end || !isfinite(v) ? NAN : v;
}

static const char *field(char **f, int nf, const int *col, int c)
{
    return col[c] >= 0 && col[c] < nf ? f[col[c]] : NULL;
}

int telem_series_read(FILE *in, const char *name, const char *const *workloads, int nw, telem_series *s, cot_err *err)
{
    memset(s, 0, sizeof *s);
    char *line = malloc(TELEM_LINE_MAX + 2), *f[MAX_FIELDS];
    int col[TCOL_COUNT], rc = 0;
    long lineno = 0, gpu = -1;
    if (!line) return cot_errf(err, "out of memory");
    while (fgets(line, TELEM_LINE_MAX + 2, in)) {
        lineno++;
        size_t len = strlen(line);
        bool whole = len > 0 && line[len - 1] == '\n';
        if (len == TELEM_LINE_MAX + 1 && !whole) {
            rc = cot_errf(err, "%s:%ld: the line is longer than %d bytes; this is not a cotenant telemetry file", name,
                          lineno, TELEM_LINE_MAX);
            break;
        }
        if (!whole && lineno > 1) { /* the last line of a file cut short by a crash: its figures may be cut too */
            s->bad_rows++;
            continue;
        }
        line[strcspn(line, "\r\n")] = '\0';
        int nf = split(line, f, MAX_FIELDS);
        if (lineno == 1) {
            for (int c = 0; c < TCOL_COUNT; c++) {
                col[c] = -1;
                for (int k = 0; k < nf; k++)
                    if (telemetry_csv_header_names(f[k], (telemetry_csv_col)c)) col[c] = k;
            }
            if (col[TCOL_T_NS] < 0 || col[TCOL_GPU] < 0 || col[TCOL_RECORD] < 0) {
                rc = cot_errf(err, "%s:1: the header lacks t_ns, gpu or record; this is not a cotenant telemetry file", name);
                break;
            }
            continue;
        }
        if (lineno > TELEM_FILE_MAX_ROWS) {
            rc = cot_errf(err, "%s: over %ld rows; this is not a cotenant telemetry file", name, TELEM_FILE_MAX_ROWS);
            break;
        }
        const char *rec = field(f, nf, col, TCOL_RECORD), *t = field(f, nf, col, TCOL_T_NS), *g = field(f, nf, col, TCOL_GPU);
        char *end;
        long long tv = t ? strtoll(t, &end, 10) : 0;
        long gv = g ? strtol(g, &end, 10) : -1;
        if (nf < 0 || !rec || !t || !*t || tv <= 0 || gv < 0) {
            s->bad_rows++;
            continue;
        }
        if (gpu < 0) gpu = gv;
        if (gv != gpu) continue;
        if (!strcmp(rec, TELEMETRY_RECORD_GPU)) {
            if (s->nticks && tv <= s->ticks[s->nticks - 1].t_ns) { /* time runs forward in a file we wrote */
                s->bad_rows++;
                continue;
            }
            if (array_grow((void **)&s->ticks, &s->ticks_cap, s->nticks + 1, sizeof *s->ticks)) {
                rc = cot_errf(err, "out of memory reading %s", name);
                break;
            }
            s->ticks[s->nticks++] = (telem_tick){
                .t_ns = tv,
                .util_gpu = number(field(f, nf, col, TCOL_UTIL_GPU)),
                .util_mem = number(field(f, nf, col, TCOL_UTIL_MEM)),
                .mem_used_mib = number(field(f, nf, col, TCOL_MEM_USED_MIB)),
                .power_w = number(field(f, nf, col, TCOL_POWER_W)),
                .energy_j = number(field(f, nf, col, TCOL_ENERGY_J)),
                .sm_active = number(field(f, nf, col, TCOL_SM_ACTIVE)),
                .sm_clock_mhz = number(field(f, nf, col, TCOL_SM_CLOCK_MHZ)),
                .temp_c = number(field(f, nf, col, TCOL_TEMP_C)),
                .throttle = number(field(f, nf, col, TCOL_THROTTLE_REASONS)),
                .first_proc = s->nprocs,
            };
        } else if (!strcmp(rec, TELEMETRY_RECORD_PROCESS)) {
            /* a process row belongs to the GPU row of its tick, written just before it */
            if (!s->nticks || s->ticks[s->nticks - 1].t_ns != tv) {
                s->bad_rows++;
                continue;
            }
            if (array_grow((void **)&s->procs, &s->procs_cap, s->nprocs + 1, sizeof *s->procs)) {
                rc = cot_errf(err, "out of memory reading %s", name);
                break;
            }
            const char *wl = field(f, nf, col, TCOL_WORKLOAD);
            int w = -1;
            for (int k = 0; wl && *wl && k < nw; k++)
                if (!strcmp(wl, workloads[k])) w = k;
            telem_proc *p = &s->procs[s->nprocs++];
            *p = (telem_proc){w, number(field(f, nf, col, TCOL_PROC_MEM_MIB)), number(field(f, nf, col, TCOL_PROC_SM_UTIL)), 0,
                              -1, ""};
            const char *mps = field(f, nf, col, TCOL_MPS_CLIENT);
            if (mps && (!strcmp(mps, "0") || !strcmp(mps, "1"))) p->mps_client = mps[0] - '0';
            const char *pid = field(f, nf, col, TCOL_PID), *pname = field(f, nf, col, TCOL_PROCESS);
            long pv = pid && *pid ? strtol(pid, &end, 10) : 0;
            if (pv > 0 && pv <= 0x7fffffff && !*end) p->pid = (unsigned)pv;
            if (pname) snprintf(p->name, sizeof p->name, "%s", pname);
            s->ticks[s->nticks - 1].nprocs++;
        }
    }
    free(line);
    if (rc == 0 && lineno == 0) rc = cot_errf(err, "%s is empty", name);
    if (rc != 0) telem_series_free(s);
    return rc;
}

int telem_series_load(const char *path, const char *const *workloads, int nw, telem_series *out, cot_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f) return cot_errno(err, "cannot open %s", path);
    int rc = telem_series_read(f, path, workloads, nw, out, err);
    fclose(f);
    return rc;
}

void telem_series_free(telem_series *s)
{
    free(s->ticks);
    free(s->procs);
    memset(s, 0, sizeof *s);
}
