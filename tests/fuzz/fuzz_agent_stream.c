/* Any bytes as a container's log stream, as cotenant reads it back: each
 * line checked for the agent's tags, an exit line parsed into a wait
 * status, and the line classified as a GPU sampler's stream line
 * (node_telemetry). The whole input is also read as a process's
 * environment block. Nothing may crash; a parsed status must be one
 * waitpid could give (an exit code 0-255, or a signal 1-64); a row's GPU
 * index must be in range. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "events/event.h"
#include "events/line_reader.h"
#include "exec/agent.h"
#include "exec/node_telemetry.h"
#include "telemetry/env_owner.h"

static void on_line(void *arg, const char *line, size_t len, line_status st)
{
    (void)arg;
    if (st != LINE_OK) return;
    for (int header = 0; header < 2; header++) {
        nt_line c = node_telemetry_classify(line, len, header);
        if (c.kind == NT_ROW && (c.gpu < 0 || c.gpu >= NODE_TELEMETRY_MAX_GPUS || !header)) abort();
    }
    size_t n = agent_tag_len(line, len, AGENT_TAG_EXIT);
    if (n == 0) {
        agent_tag_len(line, len, AGENT_TAG_EVENT);
        agent_tag_len(line, len, AGENT_TAG_OUT);
        return;
    }
    int status = -1;
    if (agent_exit_parse(line + n, len - n, &status) == 0) {
        int ok = (WIFEXITED(status) && WEXITSTATUS(status) <= 255) ||
                 (WIFSIGNALED(status) && WTERMSIG(status) >= 1 && WTERMSIG(status) <= 64);
        if (!ok) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    line_reader r;
    line_reader_init(&r, EVENT_LINE_MAX);
    line_reader_feed(&r, (const char *)data, size, on_line, NULL);
    line_reader_finish(&r, on_line, NULL);
    line_reader_free(&r);
    char value[64];
    if (environ_value((const char *)data, size, "COTENANT_WORKLOAD", value, sizeof value) == 0 && strlen(value) >= sizeof value)
        abort();
    return 0;
}
