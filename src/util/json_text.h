/* json_text.h - JSON text as cotenant writes it: every real number in the
 * shortest form that reads back as the same double (19.62, not jansson's
 * 19.620000000000001, nor a fixed precision that loses digits). */
#ifndef COTENANT_JSON_TEXT_H
#define COTENANT_JSON_TEXT_H

#include <jansson.h>
#include <stddef.h>

/* json_dumps with flags (their JSON_REAL_PRECISION is ignored), reals
 * shortened; malloc'd, or NULL when out of memory. */
char *json_text_dumps(const json_t *doc, size_t flags);

#endif
