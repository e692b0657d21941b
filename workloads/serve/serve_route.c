#include "serve_route.h"

#include <string.h>

/* Matches "/models/M[/versions/V]" at p against the model; *rest gets what
 * follows. 1: this model; 0: a model path for another model or version; -1:
 * not a model path. */
static int match_model(const char *p, const char *model, const char *version, const char **rest)
{
    if (strncmp(p, "/models/", 8)) return -1;
    p += 8;
    size_t n = strcspn(p, "/");
    if (n == 0) return -1;
    int same = n == strlen(model) && !strncmp(p, model, n);
    p += n;
    if (!strncmp(p, "/versions/", 10)) {
        p += 10;
        size_t v = strcspn(p, "/");
        if (v == 0) return -1;
        same = same && v == strlen(version) && !strncmp(p, version, v);
        p += v;
    }
    *rest = p;
    return same;
}

serve_route serve_route_of(const char *method, const char *url, const char *model, const char *version)
{
    if (!method || !url) return RT_NOT_FOUND;
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST");
    serve_route r;
    if (!strcmp(url, "/metrics")) r = RT_METRICS;
    else if (!strcmp(url, "/v2") || !strcmp(url, "/v2/")) r = RT_SERVER_META;
    else if (!strcmp(url, "/v2/health/live")) r = RT_LIVE;
    else if (!strcmp(url, "/v2/health/ready")) r = RT_READY;
    else if (!strncmp(url, "/v2/", 3 + 1)) {
        const char *rest;
        int m = match_model(url + 3, model, version, &rest);
        if (m < 0) return RT_NOT_FOUND;
        if (!strcmp(rest, "") || !strcmp(rest, "/")) r = RT_MODEL_META;
        else if (!strcmp(rest, "/ready")) r = RT_MODEL_READY;
        else if (!strcmp(rest, "/config")) r = RT_MODEL_CONFIG;
        else if (!strcmp(rest, "/infer")) r = RT_INFER;
        else return RT_NOT_FOUND;
        if (!m) return (r == RT_INFER ? post : get) ? RT_UNKNOWN_MODEL : RT_BAD_METHOD;
    } else {
        return RT_NOT_FOUND;
    }
    return (r == RT_INFER ? post : get) ? r : RT_BAD_METHOD;
}
