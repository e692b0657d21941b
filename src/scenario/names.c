#include "scenario/names.h"

#include <string.h>

#include "scenario/scenario.h"
#include "util/results_files.h"

#define NAMES_STR_(x) #x
#define NAMES_STR(x) NAMES_STR_(x)

static bool safe_alphabet(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max || s[0] == '.' || s[0] == '-') return false;
    for (const char *c = s; *c; c++) {
        unsigned char u = (unsigned char)*c;
        bool ok = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' ||
                  u == '-' || u == '.';
        if (!ok) return false;
    }
    return true;
}

const char *name_problem(const char *s)
{
    if (!s || !safe_alphabet(s, SCENARIO_NAME_MAX))
        return "must be 1-" NAMES_STR(SCENARIO_NAME_MAX) " letters, digits, '_', '-' or '.', not starting with '.' or '-'";
    static const char *const reserved[] = RESULTS_SEGMENT_FILES;
    for (int i = 0; reserved[i]; i++)
        if (!strcmp(s, reserved[i]))
            return "is reserved: a segment's folder holds a file of that name (also reserved: segment.json, "
                   "telemetry.csv, telemetry.log, telemetry-follow.log)";
    return NULL;
}

bool name_is_safe_id(const char *s, size_t max)
{
    return s && safe_alphabet(s, max);
}

void name_printable(char *dst, size_t cap, const char *s)
{
    if (cap == 0) return;
    size_t n = 0;
    if (!s) s = "(none)";
    for (; *s && n + 1 < cap; s++) dst[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
    dst[n] = '\0';
    if (*s && cap >= 4) memcpy(dst + cap - 4, "...", 4);
}
