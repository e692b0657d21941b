/* yaml_emit.h - JSON values (jansson) written as YAML through libyaml.
 *
 * Generated files (Compose projects, Kubernetes manifests, device plugin
 * configs) are built as jansson trees, which keep their keys in insertion
 * order, and emitted here: block style, a string that YAML would read as
 * something else ("0", "true", "1e3", "") double-quoted, a string with
 * newlines as a literal block. */
#ifndef COTENANT_YAML_EMIT_H
#define COTENANT_YAML_EMIT_H

#include <jansson.h>
#include <stdio.h>

#include "util/err.h"

/* Every element of docs (an array) as one YAML document, separated by
 * "---". 0, or -1 with err. */
int yaml_emit_docs(FILE *f, json_t *docs, cot_err *err);
/* One value as a YAML text (malloc'd), without document markers; NULL with err. */
char *yaml_emit_string(json_t *value, cot_err *err);

/* docs written to path atomically, after header (comment lines, or NULL). */
int yaml_write_file(const char *path, const char *header, json_t *docs, cot_err *err);

#endif
