#include "events.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int fd = -1;

void events_open(void)
{
    const char *s = getenv("COTENANT_EVENTS_FD");
    if (!s || !*s) return;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < 0 || v > 65535) {
        fprintf(stderr, "warning: COTENANT_EVENTS_FD='%s' is not a descriptor number; no events will be sent\n", s);
        return;
    }
    fd = (int)v;
}

int64_t events_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void emit(const char *line, int len)
{
    if (fd < 0 || len <= 0) return;
    while (write(fd, line, (size_t)len) < 0) {
        if (errno == EINTR) continue;
        fd = -1; /* the reader is gone: carry on without events */
        return;
    }
}

void events_start(const char *unit)
{
    char line[128];
    emit(line, snprintf(line, sizeof line, "{\"ev\":\"start\",\"t\":%lld,\"unit\":\"%s\"}\n", (long long)events_now_ns(), unit));
}

void events_step(int64_t samples)
{
    char line[96];
    emit(line, snprintf(line, sizeof line, "{\"ev\":\"step\",\"t\":%lld,\"n\":%lld}\n", (long long)events_now_ns(),
                        (long long)samples));
}

void events_step_loss(int64_t samples, float loss)
{
    char line[128];
    if (isfinite(loss))
        emit(line, snprintf(line, sizeof line, "{\"ev\":\"step\",\"t\":%lld,\"n\":%lld,\"loss\":%.6g}\n",
                            (long long)events_now_ns(), (long long)samples, (double)loss));
    else
        emit(line, snprintf(line, sizeof line, "{\"ev\":\"step\",\"t\":%lld,\"n\":%lld,\"loss\":null}\n",
                            (long long)events_now_ns(), (long long)samples));
}

void events_latency(int64_t ns, int ok)
{
    char line[128];
    emit(line, snprintf(line, sizeof line, "{\"ev\":\"latency\",\"t\":%lld,\"ns\":%lld,\"ok\":%s}\n",
                        (long long)events_now_ns(), (long long)ns, ok ? "true" : "false"));
}

void events_end(void)
{
    char line[64];
    emit(line, snprintf(line, sizeof line, "{\"ev\":\"end\",\"t\":%lld}\n", (long long)events_now_ns()));
}
