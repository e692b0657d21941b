/* yaml_read.h - reading YAML that comes from outside (scenario files,
 * mig-parted configs), with one set of defences and one style of error.
 *
 * yaml_read_one loads exactly one document: flow collections ([ ], { })
 * nested deeper than YAML_READ_MAX_FLOW_DEPTH are refused before libyaml
 * sees them (its scanner's cost grows with the depth for every token:
 * 100,000 levels took 67 s), and a second document is an error rather than
 * silently ignored. The helpers below report every problem as
 * file:line:column. */
#ifndef COTENANT_YAML_READ_H
#define COTENANT_YAML_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "util/err.h"

#define YAML_READ_MAX_FLOW_DEPTH 64

/* what: the kind of file, for messages ("a scenario file"). On success doc
 * holds the document (its root NULL for an empty file) and the caller
 * deletes it; -1 with err set otherwise. */
int yaml_read_one(const char *name, const char *what, const char *text, size_t len, yaml_document_t *doc,
                  cot_err *err);

/* A document being read, and where its errors go. */
typedef struct {
    yaml_document_t *doc;
    const char *file;
    cot_err *err;
} yaml_src;

/* Sets err to "file:line:col: message" (n NULL: "file: message"); -1. */
int yaml_fail(const yaml_src *s, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
yaml_node_t *yaml_node_at(const yaml_src *s, int id);
/* The scalar's text, or NULL when n is no scalar. */
const char *yaml_scalar_of(const yaml_node_t *n);
/* A plain `key:` with no value, or `~`/`null`: YAML's null. */
bool yaml_is_null(const yaml_node_t *n);
/* "a scalar", "a list", "a mapping", for messages. */
const char *yaml_kind_of(const yaml_node_t *n);

#endif
