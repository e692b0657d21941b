/* scenario_parse.h - scenario files: YAML in, a validated scenario out.
 *
 * Every problem is reported as one message "FILE:LINE:COLUMN: what is wrong;
 * what was expected", and unknown keys are errors, so a typo never silently
 * changes what is measured. */
#ifndef COTENANT_SCENARIO_PARSE_H
#define COTENANT_SCENARIO_PARSE_H

#include <stddef.h>

#include "scenario/scenario.h"
#include "util/err.h"

int scenario_parse_file(const char *path, scenario *out, cot_err *err);
/* `name` is what error messages call the input (a file name). */
int scenario_parse_buffer(const char *name, const char *text, size_t len, scenario *out, cot_err *err);

#endif
