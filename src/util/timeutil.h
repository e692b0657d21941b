/* timeutil.h - clocks and durations.
 *
 * Inside cotenant every instant is CLOCK_MONOTONIC nanoseconds, the clock the
 * event protocol uses, so a workload's timestamps and cotenant's compare
 * directly. Wall-clock time appears only in run.json, for people. */
#ifndef COTENANT_TIMEUTIL_H
#define COTENANT_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#define NS_PER_S 1000000000LL
#define NS_PER_MS 1000000LL

int64_t now_ns(void);
/* Current wall-clock time as ISO 8601 UTC ("2026-11-24T10:00:00Z"). */
void wall_time_iso(char *out, size_t cap);
/* Unix-epoch nanoseconds as RFC 3339 UTC with milliseconds
 * ("2026-11-24T10:00:00.250Z"). */
void rfc3339_of_unix_ns(int64_t unix_ns, char *out, size_t cap);
/* A CLOCK_MONOTONIC instant (now_ns's clock) as RFC 3339 wall-clock time:
 * the instant plus the wall clock's offset from the monotonic one now, so
 * stamps written after NTP steps the wall clock follow the step. */
void rfc3339_of_monotonic_ns(int64_t mono_ns, char *out, size_t cap);
/* Same, compact, for folder names ("20261124-100000"). */
void wall_time_compact(char *out, size_t cap);
/* "90", "90s", "1.5m", "250ms", "2h" -> seconds; -1 and *why set on error. */
double parse_duration_s(const char *text, const char **why);
/* 75.2 -> "1m15s"; for progress lines. */
void format_duration(double seconds, char *out, size_t cap);
void sleep_ns(int64_t ns);

#endif
