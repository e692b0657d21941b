#include "util/yaml_emit.h"

#include <ctype.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/fs.h"

/* Would a YAML 1.1 or 1.2 reader take this plain scalar for something other
 * than a string? (numbers, booleans, null, and what looks like them) */
static int needs_quotes(const char *s)
{
    static const char *const words[] = {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", NULL};
    if (!*s) return 1;
    for (int i = 0; words[i]; i++)
        if (!strcasecmp(s, words[i])) return 1;
    const char *p = s;
    if (*p == '+' || *p == '-' || *p == '.') p++;
    return isdigit((unsigned char)*p) || (p > s && *p == '.'); /* 0, -1, 1e3, .5, 0x1f, 1:20 */
}

static int emit(yaml_emitter_t *em, yaml_event_t *ev)
{
    return yaml_emitter_emit(em, ev) ? 0 : -1;
}

static int emit_scalar(yaml_emitter_t *em, const char *text, yaml_scalar_style_t style)
{
    yaml_event_t ev;
    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)strlen(text), 1, 1, style)) return -1;
    return emit(em, &ev);
}

static int emit_value(yaml_emitter_t *em, json_t *v)
{
    yaml_event_t ev;
    char num[64];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) || emit(em, &ev)) return -1;
        const char *k;
        json_t *item;
        json_object_foreach(v, k, item) {
            if (emit_scalar(em, k, needs_quotes(k) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE) ||
                emit_value(em, item))
                return -1;
        }
        if (!yaml_mapping_end_event_initialize(&ev)) return -1;
        return emit(em, &ev);
    }
    case JSON_ARRAY: {
        if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE) || emit(em, &ev)) return -1;
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) if (emit_value(em, item)) return -1;
        if (!yaml_sequence_end_event_initialize(&ev)) return -1;
        return emit(em, &ev);
    }
    case JSON_STRING: {
        const char *s = json_string_value(v);
        yaml_scalar_style_t style = strchr(s, '\n')  ? YAML_LITERAL_SCALAR_STYLE
                                    : needs_quotes(s) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
                                                      : YAML_ANY_SCALAR_STYLE;
        return emit_scalar(em, s, style);
    }
    case JSON_INTEGER: snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v)); return emit_scalar(em, num, YAML_PLAIN_SCALAR_STYLE);
    case JSON_REAL: snprintf(num, sizeof num, "%.17g", json_real_value(v)); return emit_scalar(em, num, YAML_PLAIN_SCALAR_STYLE);
    case JSON_TRUE: return emit_scalar(em, "true", YAML_PLAIN_SCALAR_STYLE);
    case JSON_FALSE: return emit_scalar(em, "false", YAML_PLAIN_SCALAR_STYLE);
    default: return emit_scalar(em, "null", YAML_PLAIN_SCALAR_STYLE);
    }
}

typedef struct {
    char *buf;
    size_t len, cap;
} membuf;

static int to_membuf(void *data, unsigned char *text, size_t n)
{
    membuf *m = data;
    if (m->len + n + 1 > m->cap) {
        size_t cap = (m->len + n + 1) * 2;
        char *b = realloc(m->buf, cap);
        if (!b) return 0;
        m->buf = b, m->cap = cap;
    }
    memcpy(m->buf + m->len, text, n);
    m->len += n;
    m->buf[m->len] = 0;
    return 1;
}

static int to_file(void *data, unsigned char *text, size_t n)
{
    return fwrite(text, 1, n, data) == n;
}

/* The stream: each value a document; implicit markers for a single
 * value written as a string. */
static int emit_stream(yaml_write_handler_t *out, void *data, json_t *docs, int markers, cot_err *err)
{
    yaml_emitter_t em;
    yaml_event_t ev;
    if (!yaml_emitter_initialize(&em)) return cot_errf(err, "cannot initialise the YAML emitter");
    yaml_emitter_set_output(&em, out, data);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, 120);
    yaml_emitter_set_indent(&em, 2);
    int rc = -1;
    size_t i;
    json_t *doc;
    if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) || emit(&em, &ev)) goto out;
    json_array_foreach(docs, i, doc) {
        if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, !markers || i == 0) || emit(&em, &ev) ||
            emit_value(&em, doc) || !yaml_document_end_event_initialize(&ev, 1) || emit(&em, &ev))
            goto out;
    }
    if (!yaml_stream_end_event_initialize(&ev) || emit(&em, &ev) || !yaml_emitter_flush(&em)) goto out;
    rc = 0;
out:
    if (rc) cot_errf(err, "cannot write YAML: %s", em.problem ? em.problem : "write failed");
    yaml_emitter_delete(&em);
    return rc;
}

int yaml_emit_docs(FILE *f, json_t *docs, cot_err *err)
{
    return emit_stream(to_file, f, docs, 1, err);
}

char *yaml_emit_string(json_t *value, cot_err *err)
{
    membuf m = {0};
    json_t *one = json_pack("[O]", value);
    int rc = emit_stream(to_membuf, &m, one, 0, err);
    json_decref(one);
    if (rc) {
        free(m.buf);
        return NULL;
    }
    return m.buf ? m.buf : strdup("");
}

int yaml_write_file(const char *path, const char *header, json_t *docs, cot_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return cot_errno(err, "cannot write %s", path);
    if (header) fputs(header, f);
    int rc = yaml_emit_docs(f, docs, err);
    if (fclose(f) != 0 && rc == 0) rc = cot_errno(err, "cannot write %s", path);
    if (rc == 0) rc = fs_write_file_atomic(path, buf, len, err);
    free(buf);
    return rc;
}
