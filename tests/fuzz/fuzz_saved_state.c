/* What cotenant reads back that a person or another program may have
 * written: a saved MIG state file (first byte odd), checked and, when
 * accepted, written out and read again to the same state; and nvidia-smi
 * compute-policy -l's table (first byte even), whose answer must be a
 * timeslice level or -1. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gpuset/gpu_policy.h"
#include "mig/mig_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536) return 0;
    if (data[0] % 2 == 0) {
        char *text = malloc(size);
        if (!text) return 0;
        memcpy(text, data + 1, size - 1);
        text[size - 1] = 0;
        int level = gpu_timeslice_from_smi(text, data[0] % 4);
        if (level < -1 || level >= GPU_TIMESLICE_LEVELS) abort();
        free(text);
        return 0;
    }
    json_t *j = json_loadb((const char *)data + 1, size - 1, 0, NULL);
    if (!j) return 0;
    mig_state s, again;
    cot_err err;
    if (mig_state_from_json(j, &s, &err) == 0) {
        json_t *out = mig_state_to_json(&s);
        if (mig_state_from_json(out, &again, &err) != 0 || again.ngi != s.ngi || again.mode_current != s.mode_current)
            abort();
        for (int i = 0; i < s.ngi; i++)
            if (again.gi[i].start != s.gi[i].start || again.gi[i].nci != s.gi[i].nci) abort();
        json_decref(out);
    }
    json_decref(j);
    return 0;
}
