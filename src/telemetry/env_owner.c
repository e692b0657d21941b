#include "telemetry/env_owner.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int environ_value(const char *block, size_t len, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    for (size_t at = 0; at < len;) {
        const char *entry = block + at;
        const char *end = memchr(entry, 0, len - at);
        size_t elen = end ? (size_t)(end - entry) : len - at; /* the last entry may be cut at the read limit */
        if (end && elen > klen && entry[klen] == '=' && !memcmp(entry, key, klen)) {
            size_t vlen = elen - klen - 1;
            if (vlen >= cap) return -1;
            memcpy(out, entry + klen + 1, vlen);
            out[vlen] = 0;
            return 0;
        }
        at += elen + 1;
    }
    return -1;
}

void env_owner_init(env_owner *o, const char *segment)
{
    memset(o, 0, sizeof *o);
    snprintf(o->segment, sizeof o->segment, "%s", segment);
}

char *environ_of_pid(unsigned pid, size_t *len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%u/environ", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL; /* gone, or another user's */
    char *block = malloc(ENV_OWNER_ENVIRON_MAX);
    *len = 0;
    ssize_t got;
    while (block && *len < ENV_OWNER_ENVIRON_MAX && (got = read(fd, block + *len, ENV_OWNER_ENVIRON_MAX - *len)) > 0)
        *len += (size_t)got;
    close(fd);
    return block;
}

/* The process's workload, read from its environment; "" for none. */
static void read_owner(const char *segment, unsigned pid, char *name, size_t cap)
{
    name[0] = 0;
    size_t len;
    char *block = environ_of_pid(pid, &len);
    char tag[sizeof ((env_owner *)0)->segment];
    if (block && environ_value(block, len, ENV_OWNER_SEGMENT_VAR, tag, sizeof tag) == 0 && !strcmp(tag, segment) &&
        environ_value(block, len, ENV_OWNER_WORKLOAD_VAR, name, cap) != 0)
        name[0] = 0;
    free(block);
}

const char *env_owner_of(env_owner *o, unsigned pid)
{
    for (int i = 0; i < o->n; i++)
        if (o->cache[i].pid == pid) return o->cache[i].name;
    env_owner_entry *e;
    if (o->n < ENV_OWNER_CACHE) {
        e = &o->cache[o->n++];
    } else {
        e = &o->cache[o->next];
        o->next = (o->next + 1) % ENV_OWNER_CACHE;
    }
    e->pid = pid;
    read_owner(o->segment, pid, e->name, sizeof e->name);
    return e->name;
}
