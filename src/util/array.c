#include "util/array.h"

#include <stdlib.h>

int array_grow(void **v, int *cap, int need, size_t elem)
{
    if (need <= *cap) return 0;
    int ncap = *cap ? *cap * 2 : 1024;
    while (ncap < need) ncap *= 2;
    void *nv = realloc(*v, (size_t)ncap * elem);
    if (!nv) return -1;
    *v = nv;
    *cap = ncap;
    return 0;
}
