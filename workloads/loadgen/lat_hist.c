#include "lat_hist.h"

#include <stdlib.h>

/* Values below 2^SUB_BITS get a bucket each; above, the bucket is the
 * position of the top bit and the SUB_BITS bits below it. */
static int index_of(int64_t v)
{
    if (v < 0) v = 0;
    uint64_t u = (uint64_t)v;
    if (u < (1u << LAT_SUB_BITS)) return (int)u;
    int top = 63 - __builtin_clzll(u);
    int e = top - LAT_SUB_BITS + 1;
    if (e > LAT_EXPONENTS) return LAT_BUCKETS - 1;
    return (e << LAT_SUB_BITS) + (int)((u >> (e - 1)) - (1u << LAT_SUB_BITS));
}

/* The smallest value of bucket i, and the bucket's width. */
static void bucket_range(int i, int64_t *lo, int64_t *width)
{
    int e = i >> LAT_SUB_BITS, m = i & ((1 << LAT_SUB_BITS) - 1);
    if (e == 0) {
        *lo = m, *width = 1;
        return;
    }
    *lo = (int64_t)((uint64_t)((1u << LAT_SUB_BITS) | (unsigned)m) << (e - 1));
    *width = (int64_t)1 << (e - 1);
}

int lat_hist_init(lat_hist *h)
{
    h->count = 0, h->min = INT64_MAX, h->max = 0, h->sum = 0;
    h->buckets = calloc(LAT_BUCKETS, sizeof *h->buckets);
    return h->buckets ? 0 : -1;
}

void lat_hist_free(lat_hist *h)
{
    free(h->buckets);
    h->buckets = NULL;
}

void lat_hist_record(lat_hist *h, int64_t ns)
{
    h->buckets[index_of(ns)]++;
    h->count++;
    h->sum += (double)ns;
    if (ns < h->min) h->min = ns;
    if (ns > h->max) h->max = ns;
}

void lat_hist_merge(lat_hist *into, const lat_hist *from)
{
    for (int i = 0; i < LAT_BUCKETS; i++) into->buckets[i] += from->buckets[i];
    into->count += from->count;
    into->sum += from->sum;
    if (from->count && from->min < into->min) into->min = from->min;
    if (from->count && from->max > into->max) into->max = from->max;
}

int64_t lat_hist_quantile(const lat_hist *h, double q)
{
    if (!h->count) return 0;
    if (q <= 0) return h->min;
    if (q >= 1) return h->max;
    /* the rank of the value asked for, 1-based, as the nearest-rank method */
    uint64_t rank = (uint64_t)(q * (double)h->count);
    if ((double)rank < q * (double)h->count) rank++;
    if (rank == 0) rank = 1;
    uint64_t seen = 0;
    for (int i = 0; i < LAT_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            int64_t lo, w;
            bucket_range(i, &lo, &w);
            int64_t v = lo + (w - 1) / 2;
            return v < h->min ? h->min : v > h->max ? h->max : v;
        }
    }
    return h->max;
}

double lat_hist_fraction_le(const lat_hist *h, int64_t limit_ns)
{
    if (!h->count) return 0;
    uint64_t n = 0;
    int last = index_of(limit_ns);
    for (int i = 0; i <= last; i++) n += h->buckets[i];
    return (double)n / (double)h->count;
}
