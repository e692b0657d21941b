#include "exec/capped_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fs.h"

int capped_log_open(capped_log *l, const char *path, size_t head_max, size_t tail_max, cot_err *err)
{
    memset(l, 0, sizeof *l);
    l->head_max = head_max, l->tail_max = tail_max;
    l->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (l->fd < 0) return cot_errno(err, "cannot create %s", path);
    return 0;
}

static void put(capped_log *l, const void *data, size_t len)
{
    if (fs_write_all(l->fd, data, len) != 0) {
        if (!l->write_errno) l->write_errno = errno ? errno : EIO;
        l->unwritten += len;
    }
}

void capped_log_write(capped_log *l, const void *data, size_t len)
{
    if (l->fd < 0 || len == 0) return;
    const char *p = data;
    if (l->total < l->head_max) { /* the head goes straight to the file */
        size_t n = l->head_max - l->total < len ? (size_t)(l->head_max - l->total) : len;
        put(l, p, n);
        l->total += n, p += n, len -= n;
    }
    if (len == 0) return;
    l->total += len;
    if (!l->tail && !(l->tail = malloc(l->tail_max ? l->tail_max : 1))) return; /* the tail is lost, the count is not */
    if (len >= l->tail_max) { /* only the last tail_max bytes of this write matter */
        p += len - l->tail_max, len = l->tail_max;
    }
    for (size_t i = 0; i < len; i++) {
        l->tail[l->tail_pos] = p[i];
        l->tail_pos = (l->tail_pos + 1) % l->tail_max;
    }
    l->tail_len = l->tail_len + len > l->tail_max ? l->tail_max : l->tail_len + len;
}

uint64_t capped_log_dropped(const capped_log *l)
{
    return l->total > l->head_max + l->tail_len ? l->total - l->head_max - l->tail_len : 0;
}

void capped_log_close(capped_log *l)
{
    if (l->fd < 0) return;
    if (l->tail_len) {
        char line[160];
        int n = snprintf(line, sizeof line, "\n[cotenant: %llu bytes dropped here; this log keeps the first %zu and the last %zu]\n",
                         (unsigned long long)capped_log_dropped(l), l->head_max, l->tail_len);
        put(l, line, (size_t)n);
        size_t start = (l->tail_pos + l->tail_max - l->tail_len) % l->tail_max;
        size_t first = l->tail_max - start < l->tail_len ? l->tail_max - start : l->tail_len;
        put(l, l->tail + start, first);
        put(l, l->tail, l->tail_len - first);
    }
    close(l->fd);
    l->fd = -1;
    free(l->tail);
    l->tail = NULL;
}
