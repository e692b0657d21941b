/* fs.h - files written so that a crash never leaves half of one.
 *
 * Every result file goes through fs_write_file_atomic: the bytes go to a
 * temporary file in the same folder, are flushed to disk, and the temporary
 * is renamed over the final name, so a reader sees the old file or the new
 * one, never a torn one. */
#ifndef COTENANT_FS_H
#define COTENANT_FS_H

#include <stddef.h>
#include <jansson.h>

#include "util/err.h"

int fs_write_file_atomic(const char *path, const void *data, size_t len, cot_err *err);
/* The whole buffer, through short writes and EINTR; 0, or -1 with errno. */
int fs_write_all(int fd, const void *data, size_t len);
/* One write whose failure has nobody to tell (a reader gone, a child's
 * last word); async-signal-safe. */
void fs_write_best_effort(int fd, const void *data, size_t len);
int fs_write_json_atomic(const char *path, const json_t *doc, cot_err *err);
/* Reads a whole file of at most max_bytes; the result is NUL-terminated. */
int fs_read_file_limited(const char *path, size_t max_bytes, char **out, size_t *len, cot_err *err);
json_t *fs_read_json_file(const char *path, size_t max_bytes, cot_err *err);
int fs_mkdir_p(const char *path, cot_err *err);
int fs_path_exists(const char *path);
int fs_dir_is_empty_or_missing(const char *path);
/* Removes a folder and everything below it (no symlinks followed). */
int fs_remove_tree(const char *path);
/* snprintf into a PATH_MAX buffer, failing loudly instead of truncating. */
int fs_path_join(char *out, size_t cap, const char *a, const char *b, cot_err *err);
/* The last `max_bytes` of a file, as a NUL-terminated string ("" if none). */
char *fs_file_tail(const char *path, size_t max_bytes);

#endif
