#include "util/yaml_read.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* One pass over the text: flow nesting depth, outside quoted scalars and
 * comments. */
static int check_flow_depth(const char *name, const char *what, const char *text, size_t len, cot_err *err)
{
    int depth = 0;
    size_t line = 1, col = 0;
    char quote = 0, prev = '\n';
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        col++;
        if (c == '\n') line++, col = 0;
        if (quote) {
            if (quote == '"' && c == '\\') i++, col++;
            else if (c == quote) quote = 0;
        } else if (c == '#' && (prev == ' ' || prev == '\t' || prev == '\n')) {
            while (i + 1 < len && text[i + 1] != '\n') i++;
        } else if ((c == '\'' || c == '"') && strchr(" \t\n[{,:-", prev)) {
            quote = c; /* a quote that starts a scalar; inside a plain one (it's) it is text */
        } else if (c == '[' || c == '{') {
            if (++depth > YAML_READ_MAX_FLOW_DEPTH)
                return cot_errf(err, "%s:%zu:%zu: lists and mappings are nested more than %d deep; %s needs a few levels",
                                name, line, col, YAML_READ_MAX_FLOW_DEPTH, what);
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
        prev = c;
    }
    return 0;
}

int yaml_read_one(const char *name, const char *what, const char *text, size_t len, yaml_document_t *doc,
                  cot_err *err)
{
    if (check_flow_depth(name, what, text, len, err) != 0) return -1;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) return cot_errf(err, "%s: cannot initialise the YAML parser", name);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, doc)) {
        const yaml_mark_t *m = &parser.problem_mark;
        cot_errf(err, "%s:%zu:%zu: invalid YAML: %s%s%s", name, m->line + 1, m->column + 1,
                 parser.problem ? parser.problem : "syntax error", parser.context ? " " : "",
                 parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return -1;
    }
    int rc = 0;
    yaml_document_t second;
    if (yaml_document_get_root_node(doc) && yaml_parser_load(&parser, &second)) {
        const yaml_node_t *r2 = yaml_document_get_root_node(&second);
        if (r2)
            rc = cot_errf(err, "%s:%zu:%zu: a second YAML document (after '---'); %s holds one", name,
                          r2->start_mark.line + 1, r2->start_mark.column + 1, what);
        yaml_document_delete(&second);
    } else if (parser.error != YAML_NO_ERROR) {
        const yaml_mark_t *m = &parser.problem_mark;
        rc = cot_errf(err, "%s:%zu:%zu: invalid YAML after the first document: %s", name, m->line + 1, m->column + 1,
                      parser.problem ? parser.problem : "syntax error");
    }
    yaml_parser_delete(&parser);
    if (rc) yaml_document_delete(doc);
    return rc;
}

int yaml_fail(const yaml_src *s, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n) return cot_errf(s->err, "%s:%zu:%zu: %s", s->file, n->start_mark.line + 1, n->start_mark.column + 1, msg);
    return cot_errf(s->err, "%s: %s", s->file, msg);
}

yaml_node_t *yaml_node_at(const yaml_src *s, int id) { return yaml_document_get_node(s->doc, id); }

const char *yaml_scalar_of(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

bool yaml_is_null(const yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
    const char *s = yaml_scalar_of(n);
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

const char *yaml_kind_of(const yaml_node_t *n)
{
    switch (n ? n->type : YAML_NO_NODE) {
    case YAML_SCALAR_NODE: return "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}
