#include "util/strvec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static int push_owned(strvec *sv, char *s)
{
    if (!s) return -1;
    if (sv->n + 2 > sv->cap) {
        int cap = sv->cap ? sv->cap * 2 : 16;
        char **nv = realloc(sv->v, (size_t)cap * sizeof *nv);
        if (!nv) {
            free(s);
            return -1;
        }
        sv->v = nv;
        sv->cap = cap;
    }
    sv->v[sv->n++] = s;
    sv->v[sv->n] = NULL;
    return 0;
}

int strvec_push(strvec *sv, const char *s)
{
    return push_owned(sv, strdup(s));
}

int strvec_pushf(strvec *sv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int rc = vasprintf(&s, fmt, ap);
    va_end(ap);
    return rc < 0 ? -1 : push_owned(sv, s);
}

static int find_key(const strvec *sv, const char *key)
{
    size_t klen = strlen(key);
    for (int i = 0; i < sv->n; i++)
        if (!strncmp(sv->v[i], key, klen) && sv->v[i][klen] == '=') return i;
    return -1;
}

int strvec_setenv(strvec *sv, const char *key, const char *value)
{
    char *entry = NULL;
    if (asprintf(&entry, "%s=%s", key, value) < 0) return -1;
    int i = find_key(sv, key);
    if (i >= 0) {
        free(sv->v[i]);
        sv->v[i] = entry;
        return 0;
    }
    return push_owned(sv, entry);
}

void strvec_unsetenv(strvec *sv, const char *key)
{
    int i = find_key(sv, key);
    if (i < 0) return;
    free(sv->v[i]);
    memmove(&sv->v[i], &sv->v[i + 1], (size_t)(sv->n - i) * sizeof *sv->v);
    sv->n--;
}

const char *strvec_getenv(const strvec *sv, const char *key)
{
    int i = find_key(sv, key);
    return i < 0 ? NULL : sv->v[i] + strlen(key) + 1;
}

int strvec_from_environ(strvec *sv)
{
    for (char **e = environ; e && *e; e++)
        if (strvec_push(sv, *e) != 0) return -1;
    return 0;
}

void strvec_free(strvec *sv)
{
    for (int i = 0; i < sv->n; i++) free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = sv->cap = 0;
}
