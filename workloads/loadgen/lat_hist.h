/* lat_hist.h - a latency histogram with bounded relative error, in the
 * manner of HdrHistogram: values (ns) fall into log-linear buckets, 256 per
 * power of two, so any quantile is within 0.4% of the true value whatever
 * the range (1 ns to 18 minutes), in constant memory. One per thread, merged
 * at the end: recording takes no lock. */
#ifndef COTENANT_LAT_HIST_H
#define COTENANT_LAT_HIST_H

#include <stdint.h>

#define LAT_SUB_BITS 8
#define LAT_EXPONENTS 40
#define LAT_BUCKETS ((LAT_EXPONENTS + 1) << LAT_SUB_BITS)

typedef struct {
    uint64_t count;
    int64_t min, max;
    double sum;
    uint64_t *buckets; /* LAT_BUCKETS */
} lat_hist;

int lat_hist_init(lat_hist *h);
void lat_hist_free(lat_hist *h);
void lat_hist_record(lat_hist *h, int64_t ns);
void lat_hist_merge(lat_hist *into, const lat_hist *from);
/* The value at quantile q (0..1): the midpoint of its bucket, clamped to
 * [min, max]; 0 when empty. */
int64_t lat_hist_quantile(const lat_hist *h, double q);
/* The fraction of values <= limit_ns (bucket-exact to 0.4%). */
double lat_hist_fraction_le(const lat_hist *h, int64_t limit_ns);

#endif
