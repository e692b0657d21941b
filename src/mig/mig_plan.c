#include "mig/mig_plan.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int mig_layout_parse(const mig_gpu *g, const char *text, const mig_profile **out, int *n, char *err, size_t errcap)
{
    *n = 0;
    const char *p = text;
    int entry = 0;
    while (1) {
        entry++;
        while (*p == ' ') p++;
        /* entries end at a comma, or a '+' that does not begin "+me" */
        size_t len = 0;
        while (p[len] && p[len] != ',' &&
               !(p[len] == '+' && strncasecmp(p + len + 1, "me", 2) != 0))
            len++;
        char item[64];
        if (len == 0 || len >= sizeof item) {
            snprintf(err, errcap, "layout '%s', entry %d: expected a profile such as 3g.40gb or 2x1g.10gb", text, entry);
            return -1;
        }
        memcpy(item, p, len);
        item[len] = 0;
        for (size_t e = len; e > 0 && item[e - 1] == ' '; e--) item[e - 1] = 0;
        /* "2x1g.10gb": a count first */
        int count = 1;
        char *name = item, *x = strchr(item, 'x');
        if (x && x > item && isdigit((unsigned char)item[0])) {
            char *end;
            long c = strtol(item, &end, 10);
            if (end == x && c >= 1 && c <= MIG_MAX_INSTANCES) count = (int)c, name = x + 1;
        }
        const mig_profile *pr = mig_profile_by_name(g, name);
        if (!pr) {
            size_t k = (size_t)snprintf(err, errcap, "layout '%s', entry %d: %s has no profile '%s'; its profiles: ", text,
                                        entry, g->model, name);
            for (int i = 0; i < g->nprofiles && k < errcap; i++)
                k += (size_t)snprintf(err + k, errcap - k, "%s%s", i ? ", " : "", g->profiles[i].name);
            return -1;
        }
        for (int c = 0; c < count; c++) {
            if (*n >= MIG_MAX_INSTANCES) {
                snprintf(err, errcap, "layout '%s': more than %d instances; a GPU holds at most %d", text,
                         MIG_MAX_INSTANCES, MIG_MAX_INSTANCES);
                return -1;
            }
            out[(*n)++] = pr;
        }
        p += len;
        if (!*p) break;
        p++;
    }
    return 0;
}

typedef struct {
    const mig_profile *const *req;
    int n, order[MIG_MAX_INSTANCES], start[MIG_MAX_INSTANCES];
    /* the deepest the search got: who could not be placed, and the slices then taken */
    int best_depth, best_start[MIG_MAX_INSTANCES];
} search;

static int place(search *s, int depth, int used)
{
    if (depth > s->best_depth) {
        s->best_depth = depth;
        memcpy(s->best_start, s->start, sizeof s->start);
    }
    if (depth == s->n) return 1;
    int i = s->order[depth];
    const mig_profile *p = s->req[i];
    int span = ((1 << p->memory_slices) - 1);
    for (int k = 0; k < MIG_MEMORY_SLICES; k++) {
        if (!(p->starts & (1 << k)) || (used & (span << k))) continue;
        s->start[i] = k;
        if (place(s, depth + 1, used | (span << k))) return 1;
    }
    s->start[i] = -1;
    return 0;
}

/* Larger instances first, then those with fewer starts: the search fails
 * early where it must. */
static int before(const mig_profile *x, const mig_profile *y)
{
    if (x->memory_slices != y->memory_slices) return x->memory_slices > y->memory_slices;
    return __builtin_popcount((unsigned)x->starts) < __builtin_popcount((unsigned)y->starts);
}

static void order_instances(search *s)
{
    for (int i = 0; i < s->n; i++) s->order[i] = i;
    for (int i = 1; i < s->n; i++) /* insertion sort: stable, and n <= 7 */
        for (int j = i; j > 0 && before(s->req[s->order[j]], s->req[s->order[j - 1]]); j--) {
            int t = s->order[j];
            s->order[j] = s->order[j - 1], s->order[j - 1] = t;
        }
}

static void why_not_placed(const mig_gpu *g, const search *s, mig_plan *plan)
{
    int i = s->order[s->best_depth];
    const mig_profile *p = s->req[i];
    char starts[64];
    size_t k = (size_t)snprintf(plan->why, sizeof plan->why, "%s (instance %d) can start only at memory slices %s;", p->name,
                                i, mig_placements_text(p, starts, sizeof starts));
    int first = 1;
    for (int d = 0; d < s->best_depth && k < sizeof plan->why; d++) {
        int j = s->order[d];
        const mig_profile *q = s->req[j];
        int b = s->best_start[j];
        k += (size_t)snprintf(plan->why + k, sizeof plan->why - k, "%s %s at %d-%d", first ? "" : ",", q->name, b,
                              b + q->memory_slices - 1);
        first = 0;
    }
    if (k < sizeof plan->why)
        snprintf(plan->why + k, sizeof plan->why - k, "%s leave none of them free, and no other arrangement does on %s",
                 first ? " nothing else placed would" : "", g->model);
}

void mig_plan_layout(const mig_gpu *g, const mig_profile *const *req, int n, mig_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    plan->n = n;
    int compute = 0, memory = 0, media = 0;
    for (int i = 0; i < n; i++) {
        plan->inst[i].profile = req[i], plan->inst[i].start = -1;
        compute += req[i]->compute_slices, memory += req[i]->memory_slices, media += req[i]->media;
    }
    for (int i = 0; i < n; i++) {
        int same = 0;
        for (int j = 0; j < n; j++) same += req[j] == req[i];
        if (same > req[i]->max_instances) {
            snprintf(plan->why, sizeof plan->why, "%d instances of %s; %s allows at most %d", same, req[i]->name, g->model,
                     req[i]->max_instances);
            return;
        }
    }
    if (media > 1) {
        snprintf(plan->why, sizeof plan->why, "%d instances with media extensions (+me); a GPU has one set of media engines",
                 media);
        return;
    }
    if (compute > g->compute_slices) {
        snprintf(plan->why, sizeof plan->why, "the layout needs %d compute slices; %s has %d", compute, g->model,
                 g->compute_slices);
        return;
    }
    if (memory > g->memory_slices) {
        snprintf(plan->why, sizeof plan->why, "the layout needs %d memory slices; %s has %d", memory, g->model,
                 g->memory_slices);
        return;
    }
    search s = {.req = req, .n = n, .best_depth = -1};
    for (int i = 0; i < n; i++) s.start[i] = -1;
    order_instances(&s);
    if (!place(&s, 0, 0)) {
        why_not_placed(g, &s, plan);
        return;
    }
    for (int i = 0; i < n; i++) plan->inst[i].start = s.start[i];
    plan->fits = 1, plan->compute_slices = compute, plan->memory_slices = memory;
}
