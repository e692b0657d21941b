/* signal_hold.h - SIGINT and SIGTERM noted, not obeyed, while the last
 * files of a command are written.
 *
 * After the measuring is over, cotenant still restores GPU settings and
 * writes metrics.json, summary.csv, plots and report.md: a signal that
 * killed it there would leave .tmp files, no report, and perhaps a GPU
 * setting changed. So from then on a signal is only counted; the command
 * finishes its files, then says it was interrupted and exits with 1. */
#ifndef COTENANT_SIGNAL_HOLD_H
#define COTENANT_SIGNAL_HOLD_H

#include <stdbool.h>

/* Installs the counting handler for SIGINT and SIGTERM (the first one
 * also prints a line saying the files are being finished). */
void signal_hold_start(void);
/* Installs fn for SIGINT and SIGTERM (and SIGHUP if asked): the one way
 * cotenant's commands take the signals that ask them to stop. restart:
 * interrupted system calls resume (SA_RESTART) rather than fail with EINTR,
 * for code that does not look at the signal between calls. */
void signal_handle_stops(void (*fn)(int), bool with_hup, bool restart);
/* Signals received since signal_hold_start. */
int signal_hold_count(void);

#endif
