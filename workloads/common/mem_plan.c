#include "mem_plan.h"

#include <stdlib.h>

static size_t align_up(size_t x, size_t a) { return (x + a - 1) & ~(a - 1); }

static int touched(const mem_plan_tensor *t) { return t->first <= t->last; }

static int live_together(const mem_plan_tensor *a, const mem_plan_tensor *b)
{
    return touched(a) && touched(b) && a->first <= b->last && b->first <= a->last;
}

int mem_plan_init(mem_plan *p, int n, const size_t *bytes, size_t align)
{
    p->t = (mem_plan_tensor *)calloc((size_t)(n > 0 ? n : 1), sizeof *p->t);
    if (!p->t) return -1;
    p->n = n;
    p->clock = 0;
    p->align = align ? align : 1;
    for (int i = 0; i < n; i++) {
        p->t[i].bytes = bytes[i];
        p->t[i].first = 1;
        p->t[i].last = 0;
    }
    return 0;
}

void mem_plan_free(mem_plan *p)
{
    free(p->t);
    p->t = NULL;
    p->n = 0;
}

void mem_plan_next_op(mem_plan *p) { p->clock++; }

void mem_plan_touch(mem_plan *p, int id)
{
    mem_plan_tensor *t = &p->t[id];
    if (!touched(t)) t->first = t->last = p->clock;
    if (p->clock < t->first) t->first = p->clock;
    if (p->clock > t->last) t->last = p->clock;
}

static const mem_plan *sort_plan;

/* largest first; ties by the earlier first use, then id, for a stable plan */
static int by_size(const void *x, const void *y)
{
    int i = *(const int *)x, j = *(const int *)y;
    const mem_plan_tensor *a = &sort_plan->t[i], *b = &sort_plan->t[j];
    if (a->bytes != b->bytes) return a->bytes > b->bytes ? -1 : 1;
    if (a->first != b->first) return a->first < b->first ? -1 : 1;
    return i - j;
}

static int by_offset(const void *x, const void *y)
{
    int i = *(const int *)x, j = *(const int *)y;
    const mem_plan_tensor *a = &sort_plan->t[i], *b = &sort_plan->t[j];
    if (a->offset != b->offset) return a->offset < b->offset ? -1 : 1;
    return i - j;
}

size_t mem_plan_place(mem_plan *p)
{
    int *order = (int *)malloc((size_t)(p->n > 0 ? p->n : 1) * sizeof *order);
    int *near = (int *)malloc((size_t)(p->n > 0 ? p->n : 1) * sizeof *near);
    if (!order || !near) abort();
    for (int i = 0; i < p->n; i++) order[i] = i;
    sort_plan = p;
    qsort(order, (size_t)p->n, sizeof *order, by_size);
    size_t total = 0;
    int placed = 0;
    for (int k = 0; k < p->n; k++) {
        mem_plan_tensor *t = &p->t[order[k]];
        t->offset = 0;
        if (!touched(t) || !t->bytes) continue;
        /* the placed tensors alive at the same time, lowest offset first */
        int m = 0;
        for (int j = 0; j < placed; j++)
            if (live_together(t, &p->t[order[j]])) near[m++] = order[j];
        qsort(near, (size_t)m, sizeof *near, by_offset);
        size_t at = 0;
        for (int j = 0; j < m; j++) {
            const mem_plan_tensor *o = &p->t[near[j]];
            if (at + t->bytes <= o->offset) break;
            size_t end = align_up(o->offset + o->bytes, p->align);
            if (end > at) at = end;
        }
        t->offset = at;
        if (at + t->bytes > total) total = at + t->bytes;
        order[placed++] = order[k];
    }
    free(order);
    free(near);
    return align_up(total, p->align);
}

size_t mem_plan_peak_live(const mem_plan *p)
{
    size_t peak = 0;
    for (int i = 0; i < p->n; i++) {
        if (!touched(&p->t[i])) continue;
        /* the live set only grows at a first use: check those instants */
        long at = p->t[i].first;
        size_t sum = 0;
        for (int j = 0; j < p->n; j++)
            if (touched(&p->t[j]) && p->t[j].first <= at && at <= p->t[j].last) sum += p->t[j].bytes;
        if (sum > peak) peak = sum;
    }
    return peak;
}

int mem_plan_conflicts(const mem_plan *p, int *a, int *b)
{
    for (int i = 0; i < p->n; i++)
        for (int j = i + 1; j < p->n; j++) {
            const mem_plan_tensor *x = &p->t[i], *y = &p->t[j];
            if (!x->bytes || !y->bytes || !live_together(x, y)) continue;
            if (x->offset < y->offset + y->bytes && y->offset < x->offset + x->bytes) {
                if (a) *a = i;
                if (b) *b = j;
                return 1;
            }
        }
    return 0;
}
