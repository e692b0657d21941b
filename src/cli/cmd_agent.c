/* cotenant agent: runs one workload inside a container and turns it into
 * one tagged log stream (exec/agent.h describes the stream, which the
 * container executors read back). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/commands.h"
#include "events/event.h"
#include "events/line_reader.h"
#include "exec/agent.h"
#include "exec/served.h"
#include "sys/proc.h"
#include "util/fs.h"
#include "util/signal_hold.h"
#include "util/strvec.h"
#include "util/timeutil.h"

/* Longest stdout/stderr line passed on whole; longer ones are dropped
 * with a note (as event lines over EVENT_LINE_MAX are). */
#define AGENT_TEXT_LINE_MAX (64 * 1024)

static volatile sig_atomic_t stop_requests;

static void on_signal(int sig)
{
    (void)sig;
    stop_requests++;
}

static bool stop_asked(void *arg)
{
    (void)arg;
    return stop_requests > 0;
}

typedef struct {
    const char *tag;  /* NULL: passed on as is, to our stderr */
    int out_fd;       /* our stdout or stderr */
    int file_fd;      /* the copy under --results, or -1 */
    line_reader lr;
    int src_fd;       /* the child's end we read, or -1 once closed */
} agent_stream;

/* One write per line, so that lines from the three streams never mix. */
static void emit(agent_stream *s, const char *line, size_t len)
{
    size_t tl = s->tag ? strlen(s->tag) : 0;
    char *buf = malloc(tl + len + 1);
    if (!buf) return;
    memcpy(buf, s->tag ? s->tag : "", tl);
    memcpy(buf + tl, line, len);
    buf[tl + len] = '\n';
    fs_write_best_effort(s->out_fd, buf, tl + len + 1); /* nobody reads the log any more: the file still gets it */
    if (s->file_fd >= 0) fs_write_best_effort(s->file_fd, buf + tl, len + 1);
    free(buf);
}

static void on_line(void *arg, const char *line, size_t len, line_status st)
{
    agent_stream *s = arg;
    if (st == LINE_TOO_LONG) {
        char note[96];
        int n = snprintf(note, sizeof note, "cotenant agent: a line over %zu bytes was dropped", s->lr.max);
        agent_stream note_to = {.tag = NULL, .out_fd = 2, .file_fd = -1};
        emit(&note_to, note, (size_t)n);
        return;
    }
    emit(s, line, len); /* a torn last line is still the workload's last words */
}

static void pump(agent_stream *s)
{
    char buf[16384];
    while (s->src_fd >= 0) {
        ssize_t n = read(s->src_fd, buf, sizeof buf);
        if (n > 0) {
            line_reader_feed(&s->lr, buf, (size_t)n, on_line, s);
        } else if (n == 0) {
            line_reader_finish(&s->lr, on_line, s);
            close(s->src_fd);
            s->src_fd = -1;
        } else {
            return; /* EAGAIN: later */
        }
    }
}

static int open_copy(const char *dir, const char *name)
{
    if (!dir) return -1;
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) cot_warn("cannot write %s: %s", path, strerror(errno));
    return fd;
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "cotenant agent: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry: cotenant agent --help\n");
    return EXIT_USAGE;
}

/* What must hold before the workload starts, within --ready-timeout: its
 * server answering ready (a load generator in its server's pod), and under
 * MPS (CUDA_MPS_PIPE_DIRECTORY set) the control daemon's pipe, without
 * which CUDA would run the workload as a plain client, silently not under
 * MPS. 0, or -1 with the sentence in msg. */
static int before_start(long ready_port, double ready_timeout, const char *program, char *msg, size_t cap)
{
    const int64_t deadline = now_ns() + (int64_t)(ready_timeout * 1e9);
    char why[300];
    if (ready_port && served_wait_ready((int)ready_port, deadline, stop_asked, NULL, why, sizeof why) != 0) {
        snprintf(msg, cap, "cotenant agent: the server on 127.0.0.1:%ld %s (%s), so %s was not started", ready_port,
                 stop_requests ? "was not ready when the stop came" : "did not answer ready within --ready-timeout", why,
                 program);
        return -1;
    }
    const char *pipe_dir = getenv("CUDA_MPS_PIPE_DIRECTORY");
    if (!pipe_dir || !*pipe_dir) return 0;
    char control[PATH_MAX];
    snprintf(control, sizeof control, "%s/control", pipe_dir);
    struct stat sb;
    while (stat(control, &sb) != 0 || S_ISDIR(sb.st_mode)) {
        if (stop_requests || now_ns() >= deadline) {
            snprintf(msg, cap, "cotenant agent: the MPS control daemon's pipe %s %s, so %s was not started: it would "
                               "have run without MPS (is the daemon running, and sharing that folder?)",
                     control, stop_requests ? "had not appeared when the stop came" : "did not appear within --ready-timeout",
                     program);
            return -1;
        }
        usleep(100 * 1000);
    }
    return 0;
}

int cmd_agent(int argc, char **argv)
{
    static const struct option longs[] = {
        {"results", required_argument, 0, 'r'}, {"stop-after", required_argument, 0, 's'},
        {"grace", required_argument, 0, 'g'},   {"wait-ready", required_argument, 0, 'w'},
        {"ready-timeout", required_argument, 0, 't'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *results = NULL, *why;
    double stop_after = 0, grace = 10, ready_timeout = 120;
    long ready_port = 0;
    char *end;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+:h", longs, NULL)) != -1) {
        switch (c) {
        case 'r': results = optarg; break;
        case 's':
        case 'g':
        case 't': {
            double v = parse_duration_s(optarg, &why);
            if (v < 0) return usage_error("expected a duration (30s, 2m, 500ms), got '%s'", optarg);
            *(c == 's' ? &stop_after : c == 'g' ? &grace : &ready_timeout) = v;
            break;
        }
        case 'w':
            ready_port = strtol(optarg, &end, 10);
            if (*end || ready_port < 1 || ready_port > 65535)
                return usage_error("--wait-ready '%s': expected the server's port on 127.0.0.1 (1-65535)", optarg);
            break;
        case 'h': fputs(usage_agent, stdout); return EXIT_OK;
        case ':': return usage_error("%s needs a value", argv[optind - 1]);
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc) return usage_error("%s", "expected the workload's command after the options (-- PROGRAM ARGS...)");
    cot_err err;
    if (results && fs_mkdir_p(results, &err) != 0) {
        fprintf(stderr, "cotenant agent: %s\n", err.msg);
        return EXIT_USAGE;
    }

    signal_handle_stops(on_signal, false, false);
    proc_global_init();

    strvec env = {0};
    char fd_text[8];
    snprintf(fd_text, sizeof fd_text, "%d", PROC_EVENTS_FD);
    if (strvec_from_environ(&env) != 0 || strvec_setenv(&env, "COTENANT_EVENTS_FD", fd_text) != 0) {
        fprintf(stderr, "cotenant agent: out of memory\n");
        return EXIT_RUN_FAILED;
    }
    agent_stream st[3] = {
        {.tag = AGENT_TAG_EVENT, .out_fd = 1, .file_fd = open_copy(results, "events.jsonl")},
        {.tag = AGENT_TAG_OUT, .out_fd = 1, .file_fd = open_copy(results, "stdout.log")},
        {.tag = NULL, .out_fd = 2, .file_fd = open_copy(results, "stderr.log")},
    };
    line_reader_init(&st[0].lr, EVENT_LINE_MAX);
    line_reader_init(&st[1].lr, AGENT_TEXT_LINE_MAX);
    line_reader_init(&st[2].lr, AGENT_TEXT_LINE_MAX);
    child_proc child;
    int status = 127 << 8, rc = -1;
    char not_started[768];
    if (before_start(ready_port, ready_timeout, argv[optind], not_started, sizeof not_started) != 0) {
        emit(&st[2], not_started, strlen(not_started));
        status = 1 << 8;
    } else {
        spawn_opts o = {.argv = argv + optind, .envp = env.v, .events_pipe = true, .stdout_pipe = true, .stderr_pipe = true};
        rc = proc_spawn(&o, &child, &err);
        if (rc != 0) fprintf(stderr, "cotenant agent: %s\n", err.msg);
    }
    strvec_free(&env);
    if (rc == 0) {
        st[0].src_fd = child.events_fd, st[1].src_fd = child.stdout_fd, st[2].src_fd = child.stderr_fd;
        int64_t limit = stop_after > 0 ? child.started_ns + (int64_t)(stop_after * 1e9) : 0, kill_at = 0, drain_until = 0;
        for (;;) {
            struct pollfd pfd[3];
            int np = 0;
            for (int i = 0; i < 3; i++)
                if (st[i].src_fd >= 0) pfd[np++] = (struct pollfd){.fd = st[i].src_fd, .events = POLLIN};
            if (poll(pfd, (nfds_t)np, 100) < 0 && errno != EINTR) break;
            for (int i = 0; i < 3; i++) pump(&st[i]);
            int64_t now = now_ns();
            if (proc_poll(&child)) {
                /* what a grandchild still holds open must not keep us here */
                if (!drain_until) drain_until = now + NS_PER_S;
                if (np == 0 || now >= drain_until) break;
                continue;
            }
            if (!kill_at && (stop_requests || (limit && now >= limit))) {
                proc_signal_group(&child, SIGTERM);
                kill_at = now + (int64_t)(grace * 1e9);
            } else if (kill_at && (now >= kill_at || stop_requests > 1)) {
                proc_signal_group(&child, SIGKILL);
            }
        }
        proc_signal_group(&child, SIGKILL); /* leftovers of its group */
        status = child.wait_status;
    }
    char exit_json[64];
    int code;
    if (WIFSIGNALED(status)) {
        snprintf(exit_json, sizeof exit_json, "{\"signal\":%d}", WTERMSIG(status));
        code = 128 + WTERMSIG(status);
    } else {
        code = WEXITSTATUS(status);
        snprintf(exit_json, sizeof exit_json, "{\"exit_code\":%d}", code);
    }
    for (int i = 0; i < 3; i++) {
        if (st[i].src_fd >= 0) close(st[i].src_fd);
        if (st[i].file_fd >= 0) close(st[i].file_fd);
        line_reader_free(&st[i].lr);
    }
    agent_stream exit_line = {.tag = AGENT_TAG_EXIT, .out_fd = 1, .file_fd = -1};
    emit(&exit_line, exit_json, strlen(exit_json));
    if (results) {
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/exit.json", results) < (int)sizeof path)
            fs_write_file_atomic(path, exit_json, strlen(exit_json), NULL);
    }
    return code;
}
