#include "analysis/system_figures.h"

#include <math.h>

#include "analysis/stats.h"

double figure_np(double shared, double alone)
{
    return isfinite(shared) && isfinite(alone) && alone > 0 ? shared / alone : NAN;
}

int figures_of_repeat(const double *np, const bool *is_unit, int n, system_figures *out)
{
    double sum = 0, inv = 0, unit_np[64];
    int nu = 0;
    for (int i = 0; i < n; i++) {
        if (!is_unit[i]) continue;
        if (!isfinite(np[i]) || nu == (int)(sizeof unit_np / sizeof unit_np[0])) return -1;
        unit_np[nu++] = np[i];
        sum += np[i];
        inv += np[i] > 0 ? 1.0 / np[i] : INFINITY;
    }
    if (nu == 0) return -1;
    out->stp = sum;
    out->antt = inv / nu;
    out->jain = stats_jain(unit_np, nu);
    return 0;
}
