/* setting_check.h - the checks a workload's sharing setting passes,
 * whether it comes from the workload's own keys or from a sweep's point:
 * one rule for each kind of value, so both accept the same. */
#ifndef COTENANT_SETTING_CHECK_H
#define COTENANT_SETTING_CHECK_H

#include <stdbool.h>

/* NULL when s is a memory size cotenant accepts (512M, 8G, at most 1 PiB);
 * otherwise what is wrong, as a phrase to follow "'key' is 'S'; ". */
const char *setting_mem_size_problem(const char *s);
/* Whether s reads as a MIG profile name: 1g.10gb, 3g.40gb, 1g.10gb+me. */
bool setting_mig_profile_ok(const char *s);

#endif
