#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/json_text.h"

int fs_write_file_atomic(const char *path, const void *data, size_t len, cot_err *err)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return cot_errf(err, "path too long: %s", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return cot_errno(err, "cannot create %s", tmp);
    if (fs_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        cot_errno(err, "cannot write %s", tmp);
        close(fd);
        unlink(tmp);
        return -1;
    }
    if (close(fd) != 0) {
        cot_errno(err, "cannot close %s", tmp);
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        cot_errno(err, "cannot rename %s to %s", tmp, path);
        unlink(tmp);
        return -1;
    }
    return 0;
}

int fs_write_json_atomic(const char *path, const json_t *doc, cot_err *err)
{
    char *text = json_text_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!text) return cot_errf(err, "cannot serialise JSON for %s (out of memory?)", path);
    size_t len = strlen(text);
    /* A trailing newline keeps the files friendly to cat and diff. */
    char *with_nl = realloc(text, len + 2);
    if (!with_nl) {
        free(text);
        return cot_errf(err, "out of memory writing %s", path);
    }
    with_nl[len] = '\n';
    with_nl[len + 1] = '\0';
    int rc = fs_write_file_atomic(path, with_nl, len + 1, err);
    free(with_nl);
    return rc;
}

int fs_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = EIO;
            return -1;
        }
        p += n, len -= (size_t)n;
    }
    return 0;
}

void fs_write_best_effort(int fd, const void *data, size_t len)
{
    ssize_t n = write(fd, data, len);
    (void)n;
}

int fs_read_file_limited(const char *path, size_t max_bytes, char **out, size_t *len, cot_err *err)
{
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
     * writer, for ever; the type is checked before anything is read. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return cot_errno(err, "cannot open %s", path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return cot_errno(err, "cannot stat %s", path);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return cot_errf(err, "%s is %s, not a regular file; give the path of a file", path,
                        S_ISDIR(st.st_mode) ? "a folder" : S_ISFIFO(st.st_mode) ? "a FIFO (named pipe)"
                        : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device" : S_ISSOCK(st.st_mode) ? "a socket"
                        : "something else");
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    if ((size_t)st.st_size > max_bytes) {
        close(fd);
        return cot_errf(err, "%s is %lld bytes, over the limit of %zu bytes", path,
                        (long long)st.st_size, max_bytes);
    }
    size_t cap = (size_t)st.st_size + 1, used = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return cot_errf(err, "out of memory reading %s", path);
    }
    for (;;) {
        if (used + 1 >= cap) {
            if (cap > max_bytes + 1) {
                free(buf);
                close(fd);
                return cot_errf(err, "%s grew over the limit of %zu bytes while being read", path,
                                max_bytes);
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                close(fd);
                return cot_errf(err, "out of memory reading %s", path);
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + used, cap - 1 - used);
        if (n < 0) {
            if (errno == EINTR) continue;
            free(buf);
            close(fd);
            return cot_errno(err, "cannot read %s", path);
        }
        if (n == 0) break;
        used += (size_t)n;
    }
    close(fd);
    if (used > max_bytes) {
        free(buf);
        return cot_errf(err, "%s is over the limit of %zu bytes", path, max_bytes);
    }
    buf[used] = '\0';
    *out = buf;
    if (len) *len = used;
    return 0;
}

json_t *fs_read_json_file(const char *path, size_t max_bytes, cot_err *err)
{
    char *text;
    size_t len;
    if (fs_read_file_limited(path, max_bytes, &text, &len, err) != 0) return NULL;
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, 0, &jerr);
    free(text);
    if (!doc)
        cot_errf(err, "%s:%d:%d: invalid JSON: %s", path, jerr.line, jerr.column, jerr.text);
    return doc;
}

int fs_mkdir_p(const char *path, cot_err *err)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return cot_errf(err, "path too long: %s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return cot_errno(err, "cannot create folder %s", buf);
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return cot_errno(err, "cannot create folder %s", buf);
    return 0;
}

int fs_path_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int fs_dir_is_empty_or_missing(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return errno == ENOENT;
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            empty = 0;
            break;
        }
    }
    closedir(d);
    return empty;
}

int fs_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode)) return unlink(path);
    DIR *d = opendir(path);
    if (!d) return -1;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char child[PATH_MAX];
        if (snprintf(child, sizeof child, "%s/%s", path, e->d_name) >= (int)sizeof child) {
            rc = -1;
            continue;
        }
        if (fs_remove_tree(child) != 0) rc = -1;
    }
    closedir(d);
    if (rmdir(path) != 0) rc = -1;
    return rc;
}

int fs_path_join(char *out, size_t cap, const char *a, const char *b, cot_err *err)
{
    if (snprintf(out, cap, "%s/%s", a, b) >= (int)cap)
        return cot_errf(err, "path too long: %s/%s", a, b);
    return 0;
}

char *fs_file_tail(const char *path, size_t max_bytes)
{
    FILE *f = fopen(path, "rb");
    char *buf = calloc(max_bytes + 1, 1);
    if (!buf) {
        if (f) fclose(f);
        return NULL;
    }
    if (!f) return buf;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        long start = size > (long)max_bytes ? size - (long)max_bytes : 0;
        if (fseek(f, start, SEEK_SET) == 0) {
            size_t n = fread(buf, 1, max_bytes, f);
            buf[n] = '\0';
            /* Start at a line boundary when we cut into the middle of one. */
            if (start > 0) {
                char *nl = strchr(buf, '\n');
                if (nl && nl[1]) memmove(buf, nl + 1, strlen(nl + 1) + 1);
            }
        }
    }
    fclose(f);
    return buf;
}
