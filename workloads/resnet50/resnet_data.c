#include "resnet_backend.h"
#include "wl_bf16.h"
#include "wl_rng.h"

int rn_data_batches(const rn_config *c)
{
    return c->data == RN_DATA_LEARNABLE ? RN_LEARNABLE_BATCHES : 1;
}

void rn_data_fill(const rn_config *c, int index, float *x, int *labels)
{
    size_t pixels = (size_t)c->arch.image * c->arch.image * 3;
    int classes = c->data == RN_DATA_LEARNABLE && c->arch.classes > RN_LEARNABLE_CLASSES ? RN_LEARNABLE_CLASSES
                                                                                         : c->arch.classes;
    for (int n = 0; n < c->batch; n++) {
        uint64_t sample = (uint64_t)index * (uint64_t)c->batch + (uint64_t)n;
        int label = (int)(wl_hash(c->seed, 10, sample) % (uint64_t)classes);
        labels[n] = label;
        float *img = x + (size_t)n * pixels;
        if (c->data == RN_DATA_LEARNABLE) {
            for (size_t i = 0; i < pixels; i++)
                img[i] = wl_normal(c->seed, 12, (uint64_t)label * pixels + i) + 0.5f * wl_normal(c->seed, 13, sample * pixels + i);
        } else {
            for (size_t i = 0; i < pixels; i++) img[i] = wl_normal(c->seed, 11, sample * pixels + i);
        }
        /* bf16 data is bf16 on both backends: the GPU's conversion is then exact. */
        if (c->precision == WL_BF16)
            for (size_t i = 0; i < pixels; i++) img[i] = wl_round_bf16(img[i]);
    }
}
