/* env_owner.h - which workload a GPU process belongs to, read from its
 * environment.
 *
 * A workload started in a container is not in cotenant's process tree, so
 * the tree cannot say whose it is. Its environment can: the container
 * executors give every workload COTENANT_SEGMENT (the run and segment it
 * belongs to) beside COTENANT_WORKLOAD (its name), and its children inherit
 * both. A sampler that can read /proc/PID/environ (the same user, and the
 * processes' PID namespace: the host's, or hostPID in a pod) labels each
 * process whose COTENANT_SEGMENT is the one it is told. */
#ifndef COTENANT_ENV_OWNER_H
#define COTENANT_ENV_OWNER_H

#include <stddef.h>

#define ENV_OWNER_SEGMENT_VAR "COTENANT_SEGMENT"
#define ENV_OWNER_WORKLOAD_VAR "COTENANT_WORKLOAD"
/* More of a process's environment than this is not read. */
#define ENV_OWNER_ENVIRON_MAX (256 * 1024)
#define ENV_OWNER_CACHE 128

typedef struct {
    unsigned pid;
    char name[64]; /* "" for none */
} env_owner_entry;

typedef struct {
    char segment[128]; /* the COTENANT_SEGMENT value that marks ours */
    int n, next;       /* entries, and the next to reuse once full */
    env_owner_entry cache[ENV_OWNER_CACHE];
} env_owner;

/* segment: "RUN/SEGMENT" as the executors set it. */
void env_owner_init(env_owner *o, const char *segment);
/* The workload pid belongs to, or "" (not ours, gone, or unreadable).
 * Each pid is read once; the answer is kept for its later samples. */
const char *env_owner_of(env_owner *o, unsigned pid);

/* A process's environment as /proc/PID/environ gives it, up to
 * ENV_OWNER_ENVIRON_MAX bytes: a malloc'd block the caller frees, its
 * length in *len; NULL when gone, another user's, or out of memory. */
char *environ_of_pid(unsigned pid, size_t *len);

/* The value of key in a NUL-separated environment block (as
 * /proc/PID/environ holds it) of len bytes, copied into out; -1 where it
 * is absent or longer than out. */
int environ_value(const char *block, size_t len, const char *key, char *out, size_t cap);

#endif
