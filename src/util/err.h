/* err.h - an error message carried back to whoever can report it.
 *
 * Functions that can fail take a `cot_err *` and fill it with one sentence
 * saying what failed, where, and what to do; the caller decides whether to
 * print it, add context, or carry on. Exit codes follow one rule everywhere:
 * 0 success, 1 a run with failures, 2 bad usage or input. */
#ifndef COTENANT_ERR_H
#define COTENANT_ERR_H

#include <stddef.h>

enum { EXIT_OK = 0, EXIT_RUN_FAILED = 1, EXIT_USAGE = 2 };

typedef struct cot_err {
    char msg[2048];
} cot_err;

/* Sets the message; always returns -1 so callers can `return cot_errf(...)`. */
int cot_errf(cot_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, appending ": strerror(errno)". */
int cot_errno(cot_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Puts "context: " before the existing message. */
int cot_err_prefix(cot_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Messages to the user, on stderr, prefixed with "cotenant: ". */
void cot_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cot_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Set by --quiet: cot_info prints nothing. */
extern int cot_quiet;

#endif
