/* `cotenant mig plan LAYOUT`: the layout parsed against each GPU's
 * profiles (the first byte picks the GPU) and, when it parses, planned; a
 * plan that fits must place every instance inside the 8 memory slices
 * without overlap. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mig/mig_plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096) return 0;
    const mig_gpu *g = mig_gpu_at(data[0] % mig_gpu_count());
    char *text = malloc(size);
    if (!text) return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;
    const mig_profile *req[MIG_MAX_INSTANCES];
    int n;
    char err[512];
    if (mig_layout_parse(g, text, req, &n, err, sizeof err) == 0) {
        mig_plan p;
        mig_plan_layout(g, req, n, &p);
        int used = 0;
        for (int i = 0; p.fits && i < p.n; i++) {
            int span = ((1 << p.inst[i].profile->memory_slices) - 1) << p.inst[i].start;
            if (p.inst[i].start < 0 || (used & span) || (span >> MIG_MEMORY_SLICES)) abort();
            used |= span;
        }
    }
    free(text);
    return 0;
}
