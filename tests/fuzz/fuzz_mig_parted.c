/* `cotenant mig import FILE`: a mig-parted config parsed, each entry's
 * layout rebuilt and planned on an H100, and whatever parses written back
 * and read again. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mig/mig_parted.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    migparted_file f;
    cot_err e;
    if (migparted_parse("fuzz", (const char *)data, size, &f, &e)) return 0;
    const mig_gpu *g = mig_gpu_by_model("H100-80GB");
    for (int c = 0; c < f.nconfigs; c++)
        for (int i = 0; i < f.configs[c].nentries; i++) {
            char layout[1024], err[512];
            int has_ci;
            migparted_layout_text(&f.configs[c].entries[i], layout, sizeof layout, &has_ci);
            const mig_profile *req[MIG_MAX_INSTANCES];
            int n;
            if (!layout[0] || mig_layout_parse(g, layout, req, &n, err, sizeof err)) continue;
            mig_plan plan;
            mig_plan_layout(g, req, n, &plan);
            if (!plan.fits) continue;
            char *buf = NULL;
            size_t len = 0;
            FILE *out = open_memstream(&buf, &len);
            if (!out) continue;
            cot_err we;
            if (migparted_write(out, "again", json_string("all"), &plan, &we) != 0) abort();
            fclose(out);
            migparted_file back;
            if (migparted_parse("written", buf, len, &back, &e)) abort(); /* what we write must read */
            migparted_free(&back);
            free(buf);
        }
    migparted_free(&f);
    return 0;
}
