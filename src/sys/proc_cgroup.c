#include "sys/proc_cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/fs.h"

/* cotenant's own path in the hierarchy whose /proc/self/cgroup line
 * starts with prefix ("0::" for v2, or ":pids:" inside a v1 line). */
static int own_path(const char *v1_controller, char *out, size_t cap)
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f) return -1;
    char line[PATH_MAX + 64];
    int rc = -1;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *p = NULL;
        if (!v1_controller && !strncmp(line, "0::", 3)) {
            p = line + 3;
        } else if (v1_controller) {
            char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
            if (c1 && c2) {
                *c2 = 0;
                /* the controllers field may list several: "cpu,cpuacct" */
                char *list = c1 + 1, *tok, *save;
                for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
                    if (!strcmp(tok, v1_controller)) p = c2 + 1;
            }
        }
        if (p) {
            snprintf(out, cap, "%s", p);
            rc = 0;
            break;
        }
    }
    fclose(f);
    return rc;
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int make_group(const char *dir, bool v2, proc_cgroup *g, cot_err *why)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) return cot_errno(why, "cannot create the cgroup %s", dir);
    snprintf(g->dir, sizeof g->dir, "%s", dir);
    snprintf(g->procs, sizeof g->procs, "%s/cgroup.procs", dir);
    g->v2 = v2;
    if (access(g->procs, W_OK) != 0) {
        cot_errno(why, "cannot write %s", g->procs);
        rmdir(dir);
        g->dir[0] = 0;
        return -1;
    }
    return 0;
}

int proc_cgroup_create_base(const char *name, proc_cgroup *base, cot_err *why)
{
    memset(base, 0, sizeof *base);
    static const char *const v2_mounts[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
    char own[PATH_MAX], dir[PATH_MAX + 64], probe[PATH_MAX + 64];
    cot_err e2 = {.msg = "no cgroup v2 hierarchy is mounted"};
    if (own_path(NULL, own, sizeof own) == 0) {
        for (size_t i = 0; i < sizeof v2_mounts / sizeof v2_mounts[0]; i++) {
            snprintf(probe, sizeof probe, "%s/cgroup.controllers", v2_mounts[i]);
            if (!is_file(probe)) continue;
            snprintf(dir, sizeof dir, "%s%s/%s", v2_mounts[i], strcmp(own, "/") ? own : "", name);
            if (make_group(dir, true, base, &e2) == 0) return 0;
        }
    }
    cot_err e1 = {.msg = "no cgroup v1 pids hierarchy is mounted"};
    snprintf(probe, sizeof probe, "/sys/fs/cgroup/pids/cgroup.procs");
    if (is_file(probe) && own_path("pids", own, sizeof own) == 0) {
        snprintf(dir, sizeof dir, "/sys/fs/cgroup/pids%s/%s", strcmp(own, "/") ? own : "", name);
        if (make_group(dir, false, base, &e1) == 0) return 0;
    }
    return cot_errf(why, "%s; %s", e2.msg, e1.msg);
}

int proc_cgroup_create_child(const proc_cgroup *base, const char *name, proc_cgroup *g, cot_err *why)
{
    memset(g, 0, sizeof *g);
    if (!base->dir[0]) return cot_errf(why, "no cgroup for the run");
    char dir[PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s/%s", base->dir, name);
    return make_group(dir, base->v2, g, why);
}

/* What cgroup.procs of dir lists: counted, and killed if kill_them. */
static int listed(const char *dir, bool kill_them)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    FILE *f = fopen(path, "re");
    if (!f) return 0;
    int n = 0;
    long pid;
    while (fscanf(f, "%ld", &pid) == 1) {
        if (pid <= 1 || pid == getpid()) continue;
        n++;
        if (kill_them) kill((pid_t)pid, SIGKILL);
    }
    fclose(f);
    return n;
}

static int kill_listed(const char *dir) { return listed(dir, true); }
static int count_listed(const char *dir) { return listed(dir, false); }

/* Applies fn to dir and every group below it, deepest first. */
static int each_group(const char *dir, int (*fn)(const char *))
{
    int n = 0;
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
            char sub[PATH_MAX + 256];
            snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
            n += each_group(sub, fn);
        }
        closedir(d);
    }
    return n + fn(dir);
}

int proc_cgroup_kill(const proc_cgroup *g)
{
    if (!g->dir[0]) return 0;
    int seen = each_group(g->dir, count_listed);
    if (seen == 0) return 0;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/cgroup.kill", g->dir);
    int fd = g->v2 ? open(path, O_WRONLY | O_CLOEXEC) : -1;
    if (fd >= 0) { /* v2 since Linux 5.14: the whole subtree, at once */
        fs_write_best_effort(fd, "1", 1); /* the passes below are the fallback */
        close(fd);
    }
    /* until empty: a process forking as it is killed needs another pass */
    for (int pass = 0; pass < 200 && each_group(g->dir, count_listed) > 0; pass++) {
        each_group(g->dir, kill_listed);
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return seen;
}

static int remove_one(const char *dir)
{
    rmdir(dir);
    return 0;
}

void proc_cgroup_remove(proc_cgroup *g)
{
    if (!g->dir[0]) return;
    proc_cgroup_kill(g);
    each_group(g->dir, remove_one);
    g->dir[0] = 0;
}

const char *proc_cgroup_kind(const proc_cgroup *g) { return g->v2 ? "cgroup v2" : "cgroup v1 (pids)"; }
