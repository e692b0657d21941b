/* The GPU backend of cotenant-bert is not part of this build yet: --device
 * cuda says so, and how to run the reference instead. */
#include <stdio.h>

#include "bert_backend.h"

bert_backend *bert_backend_gpu(const bert_run_config *c, const float *params)
{
    (void)params;
    fprintf(stderr, "%s: this build has no GPU backend for BERT; run the plain-C reference with --device cpu "
                    "(a small model: --layers 2 --hidden 64 --heads 4 --seq 32)\n", c->prog);
    return NULL;
}
