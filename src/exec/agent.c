#include "exec/agent.h"

#include <jansson.h>
#include <string.h>

size_t agent_tag_len(const char *line, size_t len, const char *tag)
{
    size_t n = strlen(tag);
    return len >= n && !memcmp(line, tag, n) ? n : 0;
}

int agent_exit_parse(const char *text, size_t len, int *wait_status)
{
    json_error_t je;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    json_t *code = json_object_get(o, "exit_code"), *sig = json_object_get(o, "signal");
    int rc = -1;
    if (json_is_integer(code) && json_integer_value(code) >= 0 && json_integer_value(code) <= 255) {
        *wait_status = (int)json_integer_value(code) << 8; /* as WEXITSTATUS reads it */
        rc = 0;
    } else if (json_is_integer(sig) && json_integer_value(sig) >= 1 && json_integer_value(sig) < 65) {
        *wait_status = (int)json_integer_value(sig); /* as WTERMSIG reads it */
        rc = 0;
    }
    json_decref(o);
    return rc;
}
