#include "analysis/ranking.h"

#include <math.h>

bool ranked_has_interval(const ranked *r)
{
    return isfinite(r->lo) && isfinite(r->hi);
}

/* a's interval lies wholly on the better side of b's */
static bool separates(const ranked *a, const ranked *b, bool lower_better)
{
    return ranked_has_interval(a) && ranked_has_interval(b) && (lower_better ? a->hi < b->lo : a->lo > b->hi);
}

static bool near(const ranked *a, const ranked *b)
{
    return fabs(a->v - b->v) <= 1e-3 * fmax(fabs(a->v), fabs(b->v));
}

rank_verdict ranking_judge(const ranked *r, int n, bool lower_better, int *ntied, bool *within)
{
    *ntied = 1, *within = false;
    if (n < 2) return RANK_ONLY;
    bool tie = near(&r[0], &r[1]);
    if (!tie && separates(&r[0], &r[1], lower_better)) return RANK_BEST;
    if (!tie && (!ranked_has_interval(&r[0]) || !ranked_has_interval(&r[1]))) return RANK_UNTESTED;
    int k = 1;
    bool all = true;
    for (; k < n; k++) {
        bool nk = near(&r[0], &r[k]);
        if (!nk && separates(&r[0], &r[k], lower_better)) break;
        all &= nk;
    }
    *ntied = k, *within = all;
    return RANK_TIED;
}
