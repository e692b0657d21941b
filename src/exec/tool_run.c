#include "exec/tool_run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sys/proc.h"
#include "util/timeutil.h"

#define TOOL_STDERR_KEEP 1500

static void append_log(const char *log_path, char *const *argv, const char *how, const char *errtext)
{
    if (!log_path) return;
    FILE *f = fopen(log_path, "a");
    if (!f) return;
    char when[64];
    wall_time_iso(when, sizeof when);
    fprintf(f, "%s", when);
    for (int i = 0; argv[i]; i++) fprintf(f, " %s", argv[i]);
    fprintf(f, "  => %s\n", how);
    if (errtext && *errtext) fprintf(f, "    %s\n", errtext);
    fclose(f);
}

/* Appends what is readable on fd to buf (cut at cap - 1); -1 at EOF. */
static int collect(int fd, char *buf, size_t cap, size_t *len)
{
    char tmp[4096];
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n == 0) return -1;
    if (n < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
    size_t take = *len + (size_t)n < cap - 1 ? (size_t)n : cap - 1 - *len;
    memcpy(buf + *len, tmp, take);
    *len += take;
    buf[*len] = 0;
    return 0;
}

int tool_run(char *const *argv, const char *log_path, double timeout_s, char *out, size_t outcap, cot_err *err)
{
    char errbuf[TOOL_STDERR_KEEP + 1] = "", outbuf_local[1];
    size_t elen = 0, olen = 0;
    if (!out) out = outbuf_local, outcap = sizeof outbuf_local;
    out[0] = 0;
    child_proc c;
    spawn_opts o = {.argv = argv, .envp = environ, .stdout_pipe = true, .stderr_pipe = true};
    if (proc_spawn(&o, &c, err) != 0) {
        append_log(log_path, argv, "could not start", err->msg);
        return cot_errf(err, "%s (is it installed and on PATH?)", err->msg);
    }
    int fds[2] = {c.stdout_fd, c.stderr_fd};
    int64_t deadline = now_ns() + (int64_t)(timeout_s * 1e9);
    bool timed_out = false;
    while (fds[0] >= 0 || fds[1] >= 0 || !proc_poll(&c)) {
        struct pollfd pfd[2];
        int np = 0;
        for (int k = 0; k < 2; k++)
            if (fds[k] >= 0) pfd[np++] = (struct pollfd){.fd = fds[k], .events = POLLIN};
        poll(pfd, (nfds_t)np, np ? 100 : 20);
        for (int k = 0; k < 2; k++)
            if (fds[k] >= 0 && (k == 0 ? collect(fds[k], out, outcap, &olen) : collect(fds[k], errbuf, sizeof errbuf, &elen)) < 0) {
                close(fds[k]);
                fds[k] = -1;
            }
        if (now_ns() > deadline) {
            timed_out = true;
            proc_wait_or_kill(&c, 0);
            break;
        }
    }
    for (int k = 0; k < 2; k++)
        if (fds[k] >= 0) close(fds[k]);
    char how[160];
    if (timed_out) snprintf(how, sizeof how, "no answer within %.0f s, killed", timeout_s);
    else proc_describe_status(c.wait_status, how, sizeof how);
    /* one line for the log and the message */
    for (char *p = errbuf; *p; p++)
        if (*p == '\n') *p = ' ';
    append_log(log_path, argv, how, errbuf);
    if (!timed_out && WIFEXITED(c.wait_status) && WEXITSTATUS(c.wait_status) == 0) return 0;
    char cmd[512];
    size_t k = 0;
    for (int i = 0; argv[i] && k < sizeof cmd; i++) k += (size_t)snprintf(cmd + k, sizeof cmd - k, "%s%s", i ? " " : "", argv[i]);
    return cot_errf(err, "`%s` failed (%s)%s%s", cmd, how, errbuf[0] ? ": " : "", errbuf);
}

void tool_argv(strvec *argv, const char *env_var, const char *const *defaults)
{
    const char *v = getenv(env_var);
    if (v && *v) {
        char *copy = strdup(v), *save = NULL;
        for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) strvec_push(argv, w);
        free(copy);
        if (argv->n > 0) return;
    }
    for (int i = 0; defaults[i]; i++) strvec_push(argv, defaults[i]);
}
