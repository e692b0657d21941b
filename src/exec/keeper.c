#include "exec/keeper.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sys/proc.h"
#include "telemetry/env_owner.h"
#include "util/fs.h"

static int keeper_fd = -1; /* write end of the pipe to the keeper */
static pid_t keeper_pid = -1;
static proc_cgroup run_group; /* dir "" when the machine gives none */
static char tracking[400] = "the environment mark (the keeper was not started)";

static bool carries(pid_t pid, const char *token)
{
    size_t len;
    char *block = environ_of_pid((unsigned)pid, &len), value[64];
    bool yes = block && environ_value(block, len, KEEPER_MARK_VAR, value, sizeof value) == 0 && !strcmp(value, token);
    free(block);
    return yes;
}

/* Kills every process carrying this run's mark but the caller and spare;
 * returns how many. */
static int keeper_kill_marked(const char *token, pid_t spare)
{
    int n = 0;
    DIR *d = opendir("/proc");
    if (!d) return 0;
    struct dirent *e;
    pid_t self = getpid();
    while ((e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 1 || pid == self || pid == spare) continue;
        if (carries((pid_t)pid, token) && kill((pid_t)pid, SIGKILL) == 0) n++;
    }
    closedir(d);
    return n;
}

/* The keeper itself: nothing of cotenant's open, no terminal signals. */
static void keeper_main(int rfd, const char *token, pid_t parent)
{
    setsid();
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    int null = open("/dev/null", O_RDWR);
    for (int fd = 0; fd < 3; fd++) dup2(null, fd);
    /* close everything else, or a pipe cotenant was given (a shell's $(...))
     * would stay open until the keeper ends */
    for (int fd = 3; fd < 1024; fd++)
        if (fd != rfd) close(fd);
    char word = 0;
    ssize_t got;
    while ((got = read(rfd, &word, 1)) < 0 && errno == EINTR) {
    }
    if (got == 1 && word == 'd') _exit(0);
    /* cotenant is gone: what it started goes too. A killed parent hands its
     * children on, so pass until two passes in a row find nothing. */
    proc_cgroup_remove(&run_group);
    int quiet = 0;
    for (int pass = 0; pass < 100 && quiet < 2; pass++) {
        quiet = keeper_kill_marked(token, parent) ? 0 : quiet + 1;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    _exit(0);
}

int keeper_start(cot_err *err)
{
    unsigned rnd = 0;
    if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) rnd = (unsigned)time(NULL);
    char token[48];
    snprintf(token, sizeof token, "%d-%08x", (int)getpid(), rnd);
    char group[96];
    snprintf(group, sizeof group, "cotenant-%s", token);
    cot_err why;
    if (proc_cgroup_create_base(group, &run_group, &why) == 0)
        snprintf(tracking, sizeof tracking, "%s", proc_cgroup_kind(&run_group));
    else
        snprintf(tracking, sizeof tracking, "the environment mark %s (no cgroup: %s)", KEEPER_MARK_VAR, why.msg);
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return cot_errno(err, "cannot create the pipe to the run's keeper");
    pid_t self = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]), close(p[1]);
        return cot_errno(err, "cannot fork the run's keeper");
    }
    if (pid == 0) {
        close(p[1]);
        keeper_main(p[0], token, self);
    }
    close(p[0]);
    keeper_fd = p[1];
    keeper_pid = pid;
    proc_spare(pid); /* cotenant's child, but never a stray */
    if (setenv(KEEPER_MARK_VAR, token, 1) != 0) return cot_errno(err, "cannot set %s", KEEPER_MARK_VAR);
    return 0;
}

const char *keeper_tracking(void) { return tracking; }

int keeper_workload_group(const char *name, proc_cgroup *g)
{
    cot_err why;
    memset(g, 0, sizeof *g);
    return run_group.dir[0] ? proc_cgroup_create_child(&run_group, name, g, &why) : -1;
}

void keeper_release(void)
{
    proc_cgroup_remove(&run_group); /* every segment's groups are empty by now */
    if (keeper_fd < 0) return;
    fs_write_best_effort(keeper_fd, "d", 1); /* if the keeper is gone, there is nobody to tell */
    close(keeper_fd);
    keeper_fd = -1;
    while (waitpid(keeper_pid, NULL, 0) < 0 && errno == EINTR) {
    }
    keeper_pid = -1;
}
