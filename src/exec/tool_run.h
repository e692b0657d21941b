/* tool_run.h - runs docker or kubectl to completion for an executor, never
 * through a shell: every command line and how it ended appended to a log
 * (the run's deploy/commands.log), its stdout captured for the caller. */
#ifndef COTENANT_TOOL_RUN_H
#define COTENANT_TOOL_RUN_H

#include <stddef.h>

#include "util/err.h"
#include "util/strvec.h"

/* 0 when it exited 0; -1 with err naming the command, how it ended and the
 * end of its stderr. out (may be NULL) gets stdout, cut at outcap - 1. */
int tool_run(char *const *argv, const char *log_path, double timeout_s, char *out, size_t outcap, cot_err *err);

/* argv from an environment variable holding a command (split on spaces,
 * e.g. COTENANT_COMPOSE="docker-compose"), else from the default words. */
void tool_argv(strvec *argv, const char *env_var, const char *const *defaults);

#endif
