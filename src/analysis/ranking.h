/* ranking.h - the one rule by which every recommendation names a winner
 * (docs/metrics.md, "The recommendation"): the best is named only where
 * its 95% interval lies wholly on the better side of the runner-up's, or
 * the runner-up has none (which is said); otherwise the candidates it
 * cannot be told from are named with it: each within 0.1% of it, or whose
 * interval it does not clear. */
#ifndef COTENANT_RANKING_H
#define COTENANT_RANKING_H

#include <stdbool.h>

typedef struct {
    double v, lo, hi; /* lo/hi NAN: no interval */
} ranked;

typedef enum {
    RANK_ONLY,     /* one candidate */
    RANK_BEST,     /* the first's interval clears the second's */
    RANK_UNTESTED, /* first, but one of the two has no interval */
    RANK_TIED,     /* the first ntied cannot be told apart */
} rank_verdict;

bool ranked_has_interval(const ranked *r);
/* r: n >= 1 candidates, best first. *ntied: how many share first place
 * (1 unless RANK_TIED); *within: those are all within 0.1% of the first. */
rank_verdict ranking_judge(const ranked *r, int n, bool lower_better, int *ntied, bool *within);

#endif
