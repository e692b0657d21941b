#include "telemetry/monitor_tui.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

void throttle_reason_names(unsigned long long mask, char *out, size_t cap)
{
    /* NVML's clocks-event reason bits */
    static const struct {
        unsigned long long bit;
        const char *name;
    } reasons[] = {{0x1, "idle"},          {0x2, "app clocks"},    {0x4, "power cap"},  {0x8, "HW slowdown"},
                   {0x10, "sync boost"},   {0x20, "SW thermal"},   {0x40, "HW thermal"}, {0x80, "power brake"},
                   {0x100, "display clock"}};
    out[0] = 0;
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
        if (!(mask & reasons[i].bit)) continue;
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%s", len ? ", " : "", reasons[i].name);
    }
    if (!out[0]) snprintf(out, cap, "none");
}

void tui_start(void)
{
    initscr();
    cbreak();
    noecho();
    curs_set(0);
    keypad(stdscr, TRUE);
}

void tui_end(void) { endwin(); }

int tui_key(int timeout_ms)
{
    timeout(timeout_ms);
    int c = getch();
    return c == ERR ? -1 : c;
}

/* "  97%" or "    -" where not available */
static void pct(char *out, size_t cap, double v)
{
    if (isfinite(v)) snprintf(out, cap, "%4.0f%%", v);
    else snprintf(out, cap, "    -");
}

static void num(char *out, size_t cap, double v, const char *fmt)
{
    if (isfinite(v)) snprintf(out, cap, fmt, v);
    else snprintf(out, cap, "-");
}

void tui_draw(const gpu_reader *r, const gpu_sample *s, int n, double interval_s, double elapsed_s)
{
    erase();
    int row = 0, cols = COLS;
    mvprintw(row++, 0, "cotenant monitor   every %.0f ms   %.0f s   q quits", interval_s * 1e3, elapsed_s);
    for (int i = 0; i < n && row < LINES - 1; i++) {
        const gpu_sample *g = &s[i];
        char u[16], m[16], p[32], e[32], clk[48], t[16], sm[16], occ[16], ten[16], dram[16], thr[160];
        pct(u, sizeof u, g->util_gpu), pct(m, sizeof m, g->util_mem);
        num(p, sizeof p, g->power_w, "%.0f W");
        num(e, sizeof e, g->energy_j / 1000, "%.1f kJ");
        if (isfinite(g->sm_clock_mhz) && isfinite(g->mem_clock_mhz))
            snprintf(clk, sizeof clk, "%.0f/%.0f MHz", g->sm_clock_mhz, g->mem_clock_mhz);
        else snprintf(clk, sizeof clk, "-");
        num(t, sizeof t, g->temp_c, "%.0f C");
        pct(sm, sizeof sm, g->sm_active), pct(occ, sizeof occ, g->sm_occupancy);
        pct(ten, sizeof ten, g->tensor_active), pct(dram, sizeof dram, g->dram_active);
        if (isfinite(g->throttle_reasons)) throttle_reason_names((unsigned long long)g->throttle_reasons, thr, sizeof thr);
        else snprintf(thr, sizeof thr, "-");
        row++;
        attron(A_BOLD);
        mvprintw(row++, 0, "GPU %d  %.*s", g->index, cols > 10 ? cols - 8 : 1, gpu_reader_name(r, i));
        attroff(A_BOLD);
        mvprintw(row++, 2, "util %s  mem util %s  memory %.1f / %.1f GiB  power %s  energy %s  clocks %s  %s", u, m,
                 g->mem_used_mib / 1024, g->mem_total_mib / 1024, p, e, clk, t);
        if (gpu_reader_has_gpm(r, i))
            mvprintw(row++, 2, "SM active %s  SM occupancy %s  tensor %s  DRAM %s  PCIe tx/rx %.0f/%.0f MiB/s", sm, occ,
                     ten, dram, g->pcie_tx_mib_s, g->pcie_rx_mib_s);
        else
            mvprintw(row++, 2, "SM activity: not available (no GPM on this GPU or driver)");
        mvprintw(row++, 2, "throttle: %s", thr);
        for (int k = 0; k < g->nmig && row < LINES - 1; k++) {
            char a[16];
            pct(a, sizeof a, g->mig[k].sm_active);
            mvprintw(row++, 4, "MIG instance %d: memory %.1f / %.1f GiB  SM active %s", g->mig[k].gpu_instance_id,
                     g->mig[k].mem_used_mib / 1024, g->mig[k].mem_total_mib / 1024, a);
        }
        attron(A_UNDERLINE);
        mvprintw(row++, 4, "%8s  %-24s %12s %6s %6s", "PID", "PROCESS", "MEMORY MiB", "SM", "MEM");
        attroff(A_UNDERLINE);
        if (g->nprocs == 0 && row < LINES - 1) mvprintw(row++, 4, "(no compute processes)");
        for (int k = 0; k < g->nprocs && row < LINES - 1; k++) {
            const gpu_proc_sample *q = &g->procs[k];
            char mem[24], su[16], mu[16];
            num(mem, sizeof mem, q->mem_used_mib, "%.0f");
            pct(su, sizeof su, q->sm_util), pct(mu, sizeof mu, q->mem_util);
            mvprintw(row++, 4, "%8u  %-24.24s %12s %6s %6s", q->pid, q->name[0] ? q->name : "?", mem, su, mu);
        }
    }
    refresh();
}
