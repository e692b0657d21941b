/* validity_synth - a workload whose true rate is known exactly, for
 * the validity suite (tests/validity/test_validity.py).
 *
 * Each stream finishes N samples every PERIOD seconds, on a schedule kept
 * on CLOCK_MONOTONIC (absolute sleeps, so no drift), and reports each step
 * through the event protocol. The period is ALONE's while it is the only
 * synth registered in --peers, SHARED's once another live one is there:
 * so alone and shared rates, and their ratio (the true normalized
 * progress), are set by the test.
 *
 *   --stream NAME:N:ALONE[:SHARED]   a stream (a thread); NAME "-" names none
 *   --peers DIR          where synths register (one file a pid)
 *   --on-term exit|finish   on SIGTERM: exit at once (Python's default), or
 *                        finish the step under way first (default)
 *   --clock mono|raw     the clock events are stamped with (default mono)
 *   --clock-offset S     added to every stamp (seconds, may be negative)
 *   --clock-rate R       stamps run R times as fast as CLOCK_MONOTONIC (a
 *                        clock that drifts; 1.01 gains 10 ms a second)
 *   --oversize-every K[:BYTES]   every K-th step line is padded to about BYTES
 *                        (default 70000: over cotenant's 65536-byte limit)
 *   --alone-in MODE:S    alone under sharing mode MODE (COTENANT_MODE), the
 *                        period is S instead of ALONE: a mode that throttles
 *                        a workload even alone (MPS limits, a MIG slice) */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_STREAMS 8
#define PAD_BYTES 70000

typedef struct {
    char name[32];
    long n;
    double alone_s, shared_s;
    pthread_t thread;
} stream;

static stream streams[MAX_STREAMS];
static int nstreams, events_fd = -1, oversize_every, pad_bytes = PAD_BYTES, finish_on_term = 1;
static clockid_t stamp_clock = CLOCK_MONOTONIC;
static int64_t stamp_offset_ns, stamp_from_ns;
static double stamp_rate = 1;
static const char *peers;
static double mode_alone_s; /* > 0: --alone-in applies to this run */
static atomic_int stop, lines;
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t clock_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static char pad[PAD_BYTES + 1];

/* An event: start or end (n < 0, named by ev), or a step of n samples. */
static void emit(const char *ev, const char *stream_name, long n)
{
    if (events_fd < 0) return;
    char line[256];
    int64_t now = clock_ns(stamp_clock);
    int64_t t = now + stamp_offset_ns + (int64_t)((double)(now - stamp_from_ns) * (stamp_rate - 1));
    int k = n >= 0 ? atomic_fetch_add(&lines, 1) + 1 : 0;
    const char *p = oversize_every > 0 && k > 0 && k % oversize_every == 0 ? pad : "";
    int len;
    if (n < 0)
        len = snprintf(line, sizeof line, "{\"ev\":\"%s\",\"t\":%lld}\n", ev, (long long)t);
    else if (stream_name[0])
        len = snprintf(line, sizeof line, "{\"ev\":\"step\",\"t\":%lld,\"n\":%ld,\"stream\":\"%s\"", (long long)t, n,
                       stream_name);
    else
        len = snprintf(line, sizeof line, "{\"ev\":\"step\",\"t\":%lld,\"n\":%ld", (long long)t, n);
    pthread_mutex_lock(&write_lock);
    if (n < 0) {
        if (write(events_fd, line, (size_t)len) < 0) perror("synth: write");
    } else {
        /* the step, its padding if any, and the end of the object: one line */
        size_t plen = strlen(p);
        char *whole = malloc((size_t)len + plen + 16);
        if (whole) {
            int m = snprintf(whole, (size_t)len + plen + 16, "%s%s%s%s}\n", line, plen ? ",\"pad\":\"" : "", p,
                             plen ? "\"" : "");
            if (write(events_fd, whole, (size_t)m) < 0) perror("synth: write");
            free(whole);
        }
    }
    pthread_mutex_unlock(&write_lock);
}

/* Another live synth registered beside this one. */
static int has_peer(void)
{
    if (!peers) return 0;
    DIR *d = opendir(peers);
    if (!d) return 0;
    int others = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        long pid = strtol(e->d_name, NULL, 10);
        if (pid > 0 && pid != (long)getpid() && (kill((pid_t)pid, 0) == 0 || errno == EPERM)) others++;
    }
    closedir(d);
    return others > 0;
}

static void *run_stream(void *arg)
{
    stream *s = arg;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!atomic_load(&stop)) {
        double period = has_peer() ? s->shared_s : mode_alone_s > 0 ? mode_alone_s : s->alone_s;
        int64_t ns = next.tv_nsec + (int64_t)(period * 1e9);
        next.tv_sec += ns / 1000000000;
        next.tv_nsec = ns % 1000000000;
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {
        }
        if (atomic_load(&stop) && !finish_on_term) break;
        emit(NULL, s->name, s->n);
    }
    return NULL;
}

static void on_term(int sig)
{
    (void)sig;
    if (!finish_on_term) _exit(0);
    atomic_store(&stop, 1);
}

static void unregister(void)
{
    if (!peers) return;
    char path[4096];
    snprintf(path, sizeof path, "%s/%ld", peers, (long)getpid());
    unlink(path);
}

static int usage(const char *why)
{
    fprintf(stderr, "validity_synth: %s\nusage: validity_synth --stream NAME:N:ALONE[:SHARED] ... [--peers DIR] "
                    "[--on-term exit|finish] [--clock mono|raw] [--clock-offset S] [--oversize-every K]\n", why);
    return 2;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) return usage("an option lacks its value");
        if (!strcmp(argv[i], "--stream") && nstreams < MAX_STREAMS) {
            stream *s = &streams[nstreams++];
            char name[32];
            int got = sscanf(v, "%31[^:]:%ld:%lf:%lf", name, &s->n, &s->alone_s, &s->shared_s);
            if (got < 3 || s->n < 0 || s->alone_s <= 0) return usage("--stream NAME:N:ALONE[:SHARED]");
            if (got == 3) s->shared_s = s->alone_s;
            snprintf(s->name, sizeof s->name, "%s", strcmp(name, "-") ? name : "");
        } else if (!strcmp(argv[i], "--peers")) {
            peers = v;
        } else if (!strcmp(argv[i], "--on-term")) {
            finish_on_term = strcmp(v, "exit") != 0;
        } else if (!strcmp(argv[i], "--clock")) {
            stamp_clock = strcmp(v, "raw") ? CLOCK_MONOTONIC : CLOCK_MONOTONIC_RAW;
        } else if (!strcmp(argv[i], "--clock-offset")) {
            stamp_offset_ns = (int64_t)(atof(v) * 1e9);
        } else if (!strcmp(argv[i], "--alone-in")) {
            char mode[64];
            double s;
            const char *cur = getenv("COTENANT_MODE");
            if (sscanf(v, "%63[^:]:%lf", mode, &s) != 2 || s <= 0) return usage("--alone-in MODE:SECONDS");
            if (cur && !strcmp(cur, mode)) mode_alone_s = s;
        } else if (!strcmp(argv[i], "--clock-rate")) {
            stamp_rate = atof(v);
        } else if (!strcmp(argv[i], "--oversize-every")) {
            if (sscanf(v, "%d:%d", &oversize_every, &pad_bytes) < 1 || pad_bytes < 1 || pad_bytes > PAD_BYTES)
                return usage("--oversize-every K[:BYTES], BYTES at most 70000");
        } else {
            return usage("unknown option");
        }
        i++;
    }
    if (nstreams == 0) return usage("no --stream");
    memset(pad, 'x', (size_t)pad_bytes);
    stamp_from_ns = clock_ns(stamp_clock);
    const char *fd = getenv("COTENANT_EVENTS_FD");
    if (fd) events_fd = atoi(fd);
    if (peers) {
        char path[4096];
        mkdir(peers, 0755);
        snprintf(path, sizeof path, "%s/%ld", peers, (long)getpid());
        FILE *f = fopen(path, "w");
        if (f) fclose(f);
        atexit(unregister);
    }
    struct sigaction sa = {.sa_handler = on_term};
    sigaction(SIGTERM, &sa, NULL);
    emit("start", "", -1);
    for (int i = 0; i < nstreams; i++) pthread_create(&streams[i].thread, NULL, run_stream, &streams[i]);
    for (int i = 0; i < nstreams; i++) pthread_join(streams[i].thread, NULL);
    emit("end", "", -1);
    return 0;
}
