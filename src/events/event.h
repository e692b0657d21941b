/* event.h - the event protocol, workload -> cotenant (DESIGN.md, docs/protocol.md).
 *
 * One JSON object a line on the file descriptor named by COTENANT_EVENTS_FD:
 *   {"ev":"start","t":T,"unit":"images"}
 *   {"ev":"step","t":T,"n":128}              n samples finished
 *   {"ev":"step","t":T,"n":1,"stream":"io"}  the same, from one of several
 *                                            step streams (a thread's own)
 *   {"ev":"latency","t":T,"ns":D,"ok":true}   one request or cell
 *   {"ev":"end","t":T}
 * T is CLOCK_MONOTONIC nanoseconds. Unknown keys are allowed (a loss, say),
 * and so are unknown "ev" names (kept, not counted), so workloads can say
 * more than this version reads. Everything else is rejected with a reason. */
#ifndef COTENANT_EVENT_H
#define COTENANT_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* No honest diagnostic line comes near it; still a bound on what one line
 * may make cotenant hold. */
#define EVENT_LINE_MAX 65536
#define EVENT_UNIT_MAX 32
#define EVENT_STREAM_MAX 32

typedef enum { EV_START, EV_STEP, EV_LATENCY, EV_END, EV_OTHER } event_type;

typedef struct {
    event_type type;
    int64_t t_ns;
    int64_t n;          /* step */
    int64_t latency_ns; /* latency */
    bool ok;            /* latency; true when absent */
    char unit[EVENT_UNIT_MAX];
    char stream[EVENT_STREAM_MAX]; /* step: its stream's name; "" the workload's one stream */
} event;

/* Parses one line (without its newline). Returns 0, or -1 with why set. */
int event_parse(const char *line, size_t len, event *ev, char *why, size_t why_cap);

#endif
