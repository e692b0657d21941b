/* agent.h - `cotenant agent`: runs one workload inside a container the way
 * the local executor would (the event pipe on COTENANT_EVENTS_FD, SIGTERM
 * to stop, SIGKILL after the grace period, its own time limit), and turns
 * everything into one log stream that docker or kubectl hands back:
 *
 *   @cotenant:ev {"ev":"step",...}      an event line, as the workload wrote it
 *   @cotenant:out TEXT                  a line of the workload's stdout
 *   @cotenant:exit {"exit_code":0}      how it ended ({"signal":N} when killed)
 *   anything else                       the workload's stderr, as is
 *
 * With --results DIR it also writes events.jsonl, stdout.log, stderr.log and
 * exit.json there: the record on a mounted volume when nothing follows the
 * stream. A workload's own line that starts with a tag is the workload's
 * problem: stdout and events are always tagged, stderr never is. */
#ifndef COTENANT_AGENT_H
#define COTENANT_AGENT_H

#include <stddef.h>

#define AGENT_TAG_EVENT "@cotenant:ev "
#define AGENT_TAG_OUT "@cotenant:out "
#define AGENT_TAG_EXIT "@cotenant:exit "
/* Room for any tag in front of a line. */
#define AGENT_TAG_ROOM 32

/* The length of tag when line starts with it, else 0. */
size_t agent_tag_len(const char *line, size_t len, const char *tag);

/* An exit line's JSON as a waitpid status. 0, or -1 when it is not one. */
int agent_exit_parse(const char *json, size_t len, int *wait_status);

#endif
