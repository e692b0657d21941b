/* names.h - the names a scenario gives (itself, its workloads) and the
 * segment ids a plan makes.
 *
 * They become folder names in the results folder and labels in its plots
 * and reports, and results folders are shared between people: a name read
 * back from run.json must be as safe as one read from a scenario file. So
 * every name is checked here, on the way in from YAML and from JSON. */
#ifndef COTENANT_SCENARIO_NAMES_H
#define COTENANT_SCENARIO_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* NULL when s is a valid name: 1-SCENARIO_NAME_MAX letters, digits, '_',
 * '-' or '.', not starting with '.' or '-', and not one of the files a
 * segment's folder holds beside its workloads' folders (segment.json ...).
 * Otherwise what is wrong, as a phrase to follow "the name ... ". */
const char *name_problem(const char *s);

/* The same alphabet for a segment id (no reserved names: ids are folders
 * of their own), up to `max` bytes. */
bool name_is_safe_id(const char *s, size_t max);

/* A copy of s fit to print in a message: at most cap-1 bytes, anything
 * outside printable ASCII as '?', a cut marked with "...". */
void name_printable(char *dst, size_t cap, const char *s);

#endif
