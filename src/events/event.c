#include "events/event.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Integers may arrive as JSON reals from some writers (1.7e18); accept them
 * only where they are whole and in range. */
static int get_int64(json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (isfinite(d) && d == floor(d) && fabs(d) < 9.0e18) {
            *out = (int64_t)d;
            return 0;
        }
    }
    return -1;
}

int event_parse(const char *line, size_t len, event *ev, char *why, size_t why_cap)
{
    memset(ev, 0, sizeof *ev);
    ev->ok = true;
    if (len > EVENT_LINE_MAX) {
        snprintf(why, why_cap, "line of %zu bytes is over the %d-byte limit", len, EVENT_LINE_MAX);
        return -1;
    }
    json_error_t jerr;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o) {
        snprintf(why, why_cap, "not JSON (%s at column %d)", jerr.text, jerr.column);
        return -1;
    }
    int rc = -1;
    if (!json_is_object(o)) {
        snprintf(why, why_cap, "not a JSON object");
        goto out;
    }
    const char *name = json_string_value(json_object_get(o, "ev"));
    if (!name) {
        snprintf(why, why_cap, "no \"ev\" string");
        goto out;
    }
    if (get_int64(json_object_get(o, "t"), &ev->t_ns) != 0 || ev->t_ns < 0) {
        snprintf(why, why_cap, "\"t\" must be CLOCK_MONOTONIC nanoseconds (a whole number >= 0)");
        goto out;
    }
    if (!strcmp(name, "start")) {
        ev->type = EV_START;
        json_t *unit = json_object_get(o, "unit");
        if (unit && (!json_is_string(unit) || json_string_length(unit) == 0 ||
                     json_string_length(unit) >= EVENT_UNIT_MAX)) {
            snprintf(why, why_cap, "\"unit\" must be a short non-empty string");
            goto out;
        }
        snprintf(ev->unit, sizeof ev->unit, "%s", unit ? json_string_value(unit) : "samples");
    } else if (!strcmp(name, "step")) {
        ev->type = EV_STEP;
        if (get_int64(json_object_get(o, "n"), &ev->n) != 0 || ev->n < 0 || ev->n > (int64_t)1e15) {
            snprintf(why, why_cap, "a step needs \"n\", the samples it finished (a whole number >= 0)");
            goto out;
        }
        json_t *stream = json_object_get(o, "stream");
        if (stream && (!json_is_string(stream) || json_string_length(stream) == 0 ||
                       json_string_length(stream) >= EVENT_STREAM_MAX)) {
            snprintf(why, why_cap, "\"stream\" must be a short non-empty string (under %d bytes)", EVENT_STREAM_MAX);
            goto out;
        }
        if (stream) snprintf(ev->stream, sizeof ev->stream, "%s", json_string_value(stream));
    } else if (!strcmp(name, "latency")) {
        ev->type = EV_LATENCY;
        if (get_int64(json_object_get(o, "ns"), &ev->latency_ns) != 0 || ev->latency_ns < 0) {
            snprintf(why, why_cap, "a latency needs \"ns\", nanoseconds (a whole number >= 0)");
            goto out;
        }
        json_t *ok = json_object_get(o, "ok");
        if (ok && !json_is_boolean(ok)) {
            snprintf(why, why_cap, "\"ok\" must be true or false");
            goto out;
        }
        ev->ok = !ok || json_is_true(ok);
    } else if (!strcmp(name, "end")) {
        ev->type = EV_END;
    } else {
        ev->type = EV_OTHER;
    }
    rc = 0;
out:
    json_decref(o);
    return rc;
}
