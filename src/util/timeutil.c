#include "util/timeutil.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

void wall_time_iso(char *out, size_t cap)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void rfc3339_of_unix_ns(int64_t unix_ns, char *out, size_t cap)
{
    int64_t sec = unix_ns / NS_PER_S, rem = unix_ns % NS_PER_S;
    if (rem < 0) sec--, rem += NS_PER_S; /* before 1970: floor, so the milliseconds count forward */
    time_t t = (time_t)sec;
    struct tm tm;
    char whole[32];
    if (!gmtime_r(&t, &tm) || !strftime(whole, sizeof whole, "%Y-%m-%dT%H:%M:%S", &tm)) {
        snprintf(out, cap, "%s", "");
        return;
    }
    snprintf(out, cap, "%s.%03dZ", whole, (int)(rem / NS_PER_MS));
}

void rfc3339_of_monotonic_ns(int64_t mono_ns, char *out, size_t cap)
{
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    int64_t offset = (int64_t)wall.tv_sec * NS_PER_S + wall.tv_nsec - now_ns();
    rfc3339_of_unix_ns(mono_ns + offset, out, cap);
}

void wall_time_compact(char *out, size_t cap)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, cap, "%Y%m%d-%H%M%S", &tm);
}

double parse_duration_s(const char *text, const char **why)
{
    static const struct {
        const char *suffix;
        double scale;
    } units[] = {{"ms", 1e-3}, {"s", 1}, {"m", 60}, {"min", 60}, {"h", 3600}, {"", 1}};
    if (!text || !*text) {
        *why = "an empty duration";
        return -1;
    }
    errno = 0;
    char *end;
    double v = strtod(text, &end);
    if (end == text || errno == ERANGE || !isfinite(v)) {
        *why = "a number of seconds or a number with a unit (500ms, 30s, 2m, 1h)";
        return -1;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].suffix) == 0) {
            if (v < 0) {
                *why = "a duration that is not negative";
                return -1;
            }
            return v * units[i].scale;
        }
    }
    *why = "a unit of ms, s, m or h after the number (500ms, 30s, 2m, 1h)";
    return -1;
}

void format_duration(double seconds, char *out, size_t cap)
{
    if (seconds < 0) seconds = 0;
    long s = lround(seconds);
    if (s >= 3600)
        snprintf(out, cap, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
    else if (s >= 60)
        snprintf(out, cap, "%ldm%02lds", s / 60, s % 60);
    else
        snprintf(out, cap, "%lds", s);
}

void sleep_ns(int64_t ns)
{
    struct timespec ts = {.tv_sec = ns / NS_PER_S, .tv_nsec = ns % NS_PER_S};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}
