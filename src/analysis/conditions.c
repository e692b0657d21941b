#include "analysis/conditions.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* NVML's clocks event reasons that are the GPU's limits, not the
 * application's or the idle state's. */
static const struct {
    unsigned long long bit;
    const char *name;
} LIMITS[] = {{0x4, "software power cap"}, {0x8, "hardware slowdown"}, {0x20, "software thermal slowdown"},
              {0x40, "hardware thermal slowdown"}, {0x80, "hardware power brake"}};
#define NLIMITS (sizeof LIMITS / sizeof LIMITS[0])

/* Two SM clock means this far apart (relative) are a difference worth saying. */
#define CLOCK_DIFF 0.05

unsigned long long conditions_limit_bits(unsigned long long reasons)
{
    unsigned long long m = 0;
    for (size_t i = 0; i < NLIMITS; i++) m |= reasons & LIMITS[i].bit;
    return m;
}

static size_t limit_names(unsigned long long bits, char *out, size_t cap)
{
    size_t k = 0;
    out[0] = 0;
    for (size_t i = 0; i < NLIMITS; i++)
        if (bits & LIMITS[i].bit)
            k += (size_t)snprintf(out + k, k < cap ? cap - k : 0, "%s%s", k ? ", " : "", LIMITS[i].name);
    return k;
}

/* The limits that come from the GPU's environment rather than its load. */
#define ENVIRONMENT_LIMITS (0x8ull | 0x20ull | 0x40ull | 0x80ull)

const char *conditions_differ(const run_conditions *a, const run_conditions *s, char *why, size_t cap,
                              bool *invalidates)
{
    *invalidates = false;
    if (!a->known || !s->known) return NULL;
    size_t k = 0;
    why[0] = 0;
    if (isfinite(a->sm_clock_mhz) && isfinite(s->sm_clock_mhz) &&
        fabs(a->sm_clock_mhz - s->sm_clock_mhz) > CLOCK_DIFF * fmax(a->sm_clock_mhz, s->sm_clock_mhz))
        k += (size_t)snprintf(why + k, k < cap ? cap - k : 0, "the SM clock averaged %.0f MHz alone and %.0f MHz shared",
                              a->sm_clock_mhz, s->sm_clock_mhz);
    if (a->limits_known && s->limits_known && a->limits != s->limits) {
        *invalidates = ((a->limits ^ s->limits) & ENVIRONMENT_LIMITS) != 0;
        char only_a[160], only_s[160];
        limit_names(a->limits & ~s->limits, only_a, sizeof only_a);
        limit_names(s->limits & ~a->limits, only_s, sizeof only_s);
        if (only_a[0])
            k += (size_t)snprintf(why + k, k < cap ? cap - k : 0, "%sthe GPU hit its %s alone only", k ? "; " : "", only_a);
        if (only_s[0])
            k += (size_t)snprintf(why + k, k < cap ? cap - k : 0, "%sthe GPU hit its %s shared only", k ? "; " : "", only_s);
    }
    return k ? why : NULL;
}

json_t *conditions_json(const run_conditions *c)
{
    char names[400];
    limit_names(c->limits, names, sizeof names);
    return json_pack("{s:o, s:o, s:s}", "sm_clock_mhz", isfinite(c->sm_clock_mhz) ? json_real(c->sm_clock_mhz) : json_null(),
                     "temp_c", isfinite(c->temp_c) ? json_real(c->temp_c) : json_null(), "limits",
                     c->limits_known ? names : "unknown");
}
